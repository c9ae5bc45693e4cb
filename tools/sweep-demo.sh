#!/usr/bin/env sh
# The must-show sweep of docs/results.md#measured, by hand: mlperf-resnet50 x {Offline,
# SingleStream} x {onnxruntime, pytorch} (smoke) on the local Slurm cluster, a cancelled
# task rerun alone, the same matrix with the local executor, then the report.
#
#   tools/sweep-demo.sh DIR      # DIR: a new project dir; CMPKG_HOME is DIR/home
#
# PyTorch comes from the default package index (`framework = "registry"`: its torch 2.9.1
# build, CUDA 12.8 on Linux x86_64, which runs on CPU; a few GB with its nvidia-* wheels),
# because PyTorch's own index, which `framework = "pip"` names, may be unreachable. Each
# step prints its wall time and exit code on stderr.
set -eu
DIR=$1
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CMPKG="$ROOT/.venv/bin/cmpkg"
mkdir -p "$DIR"
manifest() {  # $1: repeats
    cat >"$DIR/cmpkg.toml" <<EOF
[project]
name = "resnet50-sweep"
requests = []
targets = ["cpu"]

[sweep]
benchmarks = ["mlperf-resnet50"]
scenarios = ["Offline", "SingleStream"]
targets = ["cpu"]
variants = { backend = ["onnxruntime", "pytorch"], framework = ["registry"] }
profile = "smoke"
repeats = $1
EOF
}
timed() {
    start=$(date +%s)
    rc=0
    "$@" || rc=$?
    echo "[$(($(date +%s) - start)) s, exit $rc] cmpkg ${*#"$CMPKG"}" >&2
    return 0
}
cell_state() {  # $1: cell, prints its state (running, done, ...) or nothing
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["state"])' \
        "$DIR/sweep/cells/$1/state.json" 2>/dev/null || true
}

export CMPKG_HOME="$DIR/home" CMPKG_SLURM_DIR="$DIR/slurm"
eval "$(sh "$ROOT/tools/slurm-local.sh" start)"
trap 'sh "$ROOT/tools/slurm-local.sh" stop' EXIT
cd "$DIR"
manifest 1
timed "$CMPKG" sweep plan
timed "$CMPKG" sweep run --executor slurm --wait
timed "$CMPKG" sweep status
timed "$CMPKG" results list

# Four more cells (r2); cancel the task of one of them while it runs, then resume.
manifest 2
"$CMPKG" sweep run --executor slurm
victim=mlperf-resnet50.SingleStream.cpu.backend-onnxruntime.framework-registry.r2
job=$(python3 -c 'import json,glob; print(max((json.load(open(p)) for p in glob.glob("sweep/submissions/*.json")), key=lambda s: s["number"])["job"])')
task=$(python3 -c 'import json,sys; print(next(c["index"] for c in json.load(open("sweep/plan.json"))["cells"] if c["id"] == sys.argv[1]))' "$victim")
until [ "$(cell_state "$victim")" = running ]; do sleep 1; done
timed scancel "${job}_$task"
while squeue -h -j "$job" | grep -q .; do sleep 2; done
timed "$CMPKG" sweep status
timed "$CMPKG" sweep run --executor slurm --wait
timed "$CMPKG" sweep status

# The same matrix (repeats 1) with the local executor: a second project dir, same store.
mkdir -p "$DIR/local"
sed 's/^repeats = 2$/repeats = 1/' "$DIR/cmpkg.toml" >"$DIR/local/cmpkg.toml"
cd "$DIR/local"
timed "$CMPKG" sweep run --executor local
timed "$CMPKG" results list
cd "$DIR"
timed "$CMPKG" results report --out "$DIR/report"
