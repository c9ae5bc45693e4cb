#!/usr/bin/env sh
# The must-show sweep of docs/results.md#measured, by hand: mlperf-resnet50 x {Offline,
# SingleStream} x {onnxruntime, pytorch} on the local Slurm cluster, then the report.
#
#   tools/sweep-demo.sh DIR [WHEELS]     # DIR: a new project dir; CMPKG_HOME is DIR/home
#
# WHEELS (default /opt/wheels) must hold a torch CPU wheel for this Python: PyTorch's own
# index, which the shipped torch recipes name, is not reachable from this machine, so the
# project stacks a one-recipe overlay for that wheel (not part of the shipped index).
set -eu
DIR=$1
WHEELS=${2:-/opt/wheels}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CMPKG="$ROOT/.venv/bin/cmpkg"
TORCH=$(ls "$WHEELS"/torch-*+cpu-*.whl | head -n 1)
VERSION=$(basename "$TORCH" | cut -d- -f2 | cut -d+ -f1)

mkdir -p "$DIR/overlay/torch"
cat >"$DIR/overlay/torch/$VERSION.toml" <<EOF
# Demo overlay (tools/sweep-demo.sh): the torch CPU wheel in $WHEELS.
name = "torch"
version = "$VERSION"
kind = "library"
tags = ["get", "python-lib", "torch", "pytorch", "ml-engine"]
summary = "PyTorch (demo overlay: a local CPU wheel)"
license = "BSD-3-Clause"
homepage = "https://pytorch.org"
depends = ["python >=3.10"]

[provide]
method = "python"

[variants.compute]
default = "cpu"

[variants.compute.cpu]
python = ["torch==$VERSION+cpu"]
EOF
cat >"$DIR/cmpkg.toml" <<'EOF'
[project]
name = "resnet50-sweep"
requests = []
targets = ["cpu"]
index = ["overlay"]

[sweep]
benchmarks = ["mlperf-resnet50"]
scenarios = ["Offline", "SingleStream"]
targets = ["cpu"]
variants = { backend = ["onnxruntime", "pytorch"] }
profile = ""
args = ["--count", "64", "--min-duration", "2000"]
EOF

export CMPKG_HOME="$DIR/home"
eval "$(sh "$ROOT/tools/slurm-local.sh" start)"
cd "$DIR"
"$CMPKG" sweep plan --find-links "$WHEELS"
time "$CMPKG" sweep run --executor slurm --wait --find-links "$WHEELS"
"$CMPKG" sweep status --find-links "$WHEELS"
"$CMPKG" results list
"$CMPKG" results report --out "$DIR/report"
