"""The code the mlperf-resnet50 recipes run: generators, preprocessing and the harness.

The scripts run in environments cmpkg builds, not in the dev venv, so the tests that need
numpy, Pillow, onnx, onnxruntime, torch or mlperf_loadgen run them in subprocesses with
an interpreter that has them: ``sys.executable`` when it does, else the one named by
``MLPERF_APP_TEST_PYTHON`` (e.g. a scratch venv); otherwise they skip, saying which
module is missing. The harness's parsers (summary, accuracy log, report) and the
preprocessing geometry are standard-library code and always run.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import os
import re
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).parents[2]
APP = ROOT / "index" / "apps" / "mlperf-resnet50"
HARNESS = ROOT / "index" / "libraries" / "mlperf-harness"
# The ONNX generators of bert-, unet3d- and yolo-synthetic import it, as their recipes do.
ONNX_GRAPH_ENV = {"PYTHONPATH": str(ROOT / "index" / "libraries" / "onnx-graph")}
LABEL = ROOT / "index" / "datasets" / "imagenet-synthetic-labels" / "label.py"
MODEL_GEN = ROOT / "index" / "models" / "resnet50-synthetic" / "generate.py"
IMAGES_GEN = ROOT / "index" / "datasets" / "imagenet-synthetic" / "generate.py"
PREPROCESS = ROOT / "index" / "datasets" / "imagenet-preprocessed" / "preprocess.py"
DATA = Path(__file__).parent / "data"
PYTHON_ENV = "MLPERF_APP_TEST_PYTHON"


def _load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while it executes
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def harness() -> Iterator[None]:
    """The app and the shared harness importable in-process."""
    sys.path[:0] = [str(APP), str(HARNESS)]
    yield
    sys.path.remove(str(APP))
    sys.path.remove(str(HARNESS))


@functools.cache
def _has_modules(python: str, modules: tuple[str, ...]) -> bool:
    code = "import importlib.util, sys; sys.exit(any(importlib.util.find_spec(m) is None "
    code += f"for m in {list(modules)!r}))"
    try:
        return subprocess.run([python, "-c", code], capture_output=True).returncode == 0
    except OSError:  # no such interpreter
        return False


def app_python(*modules: str) -> str:
    """An interpreter with ``modules``: this one, else $MLPERF_APP_TEST_PYTHON; or skip."""
    candidates = [sys.executable, os.environ.get(PYTHON_ENV, "")]
    for python in filter(None, candidates):
        if _has_modules(python, modules):
            return python
    pytest.skip(f"needs {', '.join(modules)} in {sys.executable} or ${PYTHON_ENV}")


def run_script(
    python: str, *args: str | Path, env: dict[str, str] | None = None, status: int = 0
) -> str:
    proc = subprocess.run(
        [python, *map(str, args)],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=240,
    )
    assert proc.returncode == status, proc.stdout + proc.stderr
    return proc.stdout


ONNX_CHECK = """
import sys, onnx
m = onnx.load(sys.argv[1]); onnx.checker.check_model(m)
def dims(v):
    return [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]
"""


def seeded_onnx(python: str, generator: Path, out: Path, checks: str) -> bytes:
    """Run an ONNX model generator with seeds 0, 0 and 1 (into out/a, b, c): one seed gives
    the same bytes, another seed others. Then ``checks`` (Python over the loaded model ``m``
    and ``dims``) must hold for out/a/model.onnx, whose bytes are returned."""
    for name, seed in (("a", "0"), ("b", "0"), ("c", "1")):
        run_script(python, generator, "--out", out / name, "--seed", seed, env=ONNX_GRAPH_ENV)
    a, b, c = ((out / n / "model.onnx").read_bytes() for n in "abc")
    assert a == b and a != c
    run_script(python, "-c", ONNX_CHECK + checks, out / "a" / "model.onnx")
    return a


def tree_digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


# --- LoadGen summary parser (captured summaries from loadgen 6.0.17) --------------------


def test_offline_summary_gives_samples_per_second_and_validity(harness: None) -> None:
    from mlperf_harness.summary import parse_summary

    summary = parse_summary((DATA / "summary_offline.txt").read_text())
    assert (summary.scenario, summary.mode, summary.valid) == ("Offline", "PerformanceOnly", True)
    assert summary.metric() == ("Samples per second", 12.6762)
    assert summary.latencies_ns()["Min latency"] == 5048724278
    assert summary.fields["samples_per_query"] == "64"


def test_singlestream_summary_gives_the_90th_percentile_and_invalid(harness: None) -> None:
    from mlperf_harness.summary import parse_summary

    summary = parse_summary((DATA / "summary_singlestream.txt").read_text())
    assert summary.valid is False
    assert summary.metric() == ("90.0th percentile latency (ns)", 79550732.0)
    assert summary.extras()["QPS w/o loadgen overhead"] == 14.91


def test_server_summary_gives_completed_and_scheduled_rates(harness: None) -> None:
    from mlperf_harness.summary import parse_summary

    summary = parse_summary((DATA / "summary_server.txt").read_text())
    assert summary.metric() == ("Completed samples per second", 5.67)
    assert summary.extras()["Scheduled samples per second"] == 5.92
    assert summary.latencies_ns()["99.00 percentile latency"] == 231676119


def test_accuracy_run_summary_has_no_validity(harness: None) -> None:
    from mlperf_harness.summary import parse_summary

    summary = parse_summary("\nNo warnings encountered during test.\n")
    assert summary.valid is None and summary.metric() is None


# --- accuracy log and report -------------------------------------------------------------


def _entry(idx: int, label: float) -> dict[str, object]:
    return {"seq_id": idx, "qsl_idx": idx, "data": struct.pack("<f", label).hex().upper()}


def test_top1_counts_each_sample_once_and_reads_float32_labels(harness: None) -> None:
    from mlperf_harness.accuracy_log import unique_by_sample
    from mlperf_resnet50.accuracy import score

    labels = [5, 7, 0, 999]
    entries = [_entry(0, 5), _entry(1, 6), _entry(2, 0), _entry(0, 5), _entry(3, 999)]
    result = score(unique_by_sample(entries), labels)
    assert (result.details["good"], result.details["total"]) == (3, 4)
    assert result.value == 75.0
    assert result.lines == ["accuracy=75.000%, good=3, total=4"]


def test_int64_labels_are_read_too(harness: None) -> None:
    from mlperf_resnet50.accuracy import decode_label, score

    assert decode_label(struct.pack("<q", 412)) == 412
    assert score({}, [1]).value == 0.0


def test_result_json_and_summary_carry_metric_validity_and_top1(
    harness: None, tmp_path: Path
) -> None:
    from mlperf_harness.report import (
        accuracy_section,
        build_result,
        human_summary,
        performance_section,
    )
    from mlperf_harness.summary import parse_summary, results_block
    from mlperf_resnet50.accuracy import score

    text = (DATA / "summary_offline.txt").read_text()
    perf = performance_section(parse_summary(text), 1, tmp_path)
    acc = accuracy_section(score({0: struct.pack("<f", 3)}, [3]), 75.6954, tmp_path)
    head = {"benchmark": "resnet50", "scenario": "Offline", "profile": "smoke"}
    head |= {"label": "SMOKE RUN: not a submission"}
    context: dict[str, object] = {"lock": {"packages": []}}
    result = build_result(head, perf, acc, {"run_context": context})
    assert result["valid"] is True and result["metrics"]["samples_per_second"] == 12.6762
    assert result["metrics"]["latency_ns"]["p90"] == 5048843155
    assert result["accuracy"]["value"] == 100.0 and result["accuracy"]["passed"] is True
    assert result["run_context"] == context and result["schema"] == 2
    summary = human_summary(result, results_block(text))
    assert "*** SMOKE RUN: not a submission ***" in summary
    assert "Result is : VALID" in summary and "Samples per second: 12.6762" in summary
    assert "top-1: 100.000% (1/1)" in summary and "PASS" in summary


# --- harness flags and environment -------------------------------------------------------


def test_flags_default_from_the_recipe_environment(
    harness: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from mlperf_resnet50 import cli

    monkeypatch.setenv("CMPKG_RESNET50_MODEL", str(tmp_path / "m.onnx"))
    monkeypatch.setenv("CMPKG_IMAGENET_PREPROCESSED", str(tmp_path / "pre"))
    monkeypatch.setenv("CMPKG_MLPERF_BACKEND", "pytorch")
    monkeypatch.setenv("CMPKG_MLPERF_DEVICE", "cuda")
    args = cli.parser().parse_args([])
    assert args.model == tmp_path / "m.onnx" and args.dataset == tmp_path / "pre"
    assert (args.backend, args.device) == ("pytorch", "cuda")
    assert cli.parser().parse_args(["--device", "cpu"]).device == "cpu"


def test_missing_model_is_a_usage_error_with_a_hint(
    harness: None, capsys: pytest.CaptureFixture[str]
) -> None:
    from mlperf_resnet50 import cli

    assert cli.main(["--dataset", "/nonexistent"]) == 2
    assert "hint: pass --model or set CMPKG_RESNET50_MODEL" in capsys.readouterr().err


def test_count_sets_the_minimum_query_count_in_performance_mode(
    harness: None, tmp_path: Path
) -> None:
    from mlperf_harness import cli as harness_cli
    from mlperf_resnet50 import cli

    (tmp_path / "m.onnx").write_bytes(b"")
    (tmp_path / "val_map.txt").write_text("a.JPEG 1\n")
    base = ["--model", str(tmp_path / "m.onnx"), "--dataset", str(tmp_path), "--count", "8"]
    args = cli.parser().parse_args([*base, "--time", "3"])
    harness_cli.check_args(args)
    cli.check_args(args)
    options = harness_cli.options_from(args, ("performance",))
    assert (args.backend, options.min_query_count, options.min_duration_ms) == (
        "onnxruntime",
        8,
        3000,
    )
    args = cli.parser().parse_args([*base, "--accuracy"])
    assert harness_cli.options_from(args, ("accuracy",)).min_query_count is None
    assert args.mode == "accuracy" and args.profile == "smoke"


# --- preprocessing geometry (the reference's resize_with_aspectratio and center_crop) ---


def test_resize_keeps_aspect_with_shorter_side_256() -> None:
    pre = _load(PREPROCESS, "preprocess_under_test")
    assert pre.resized_size(500, 375) == (341, 256)
    assert pre.resized_size(375, 500) == (256, 341)
    assert pre.resized_size(256, 256) == (256, 256)
    assert pre.crop_box(341, 256) == (58, 16, 282, 240)


# --- generators and preprocessing (numpy, Pillow) ----------------------------------------


def test_image_generator_is_deterministic_per_seed(tmp_path: Path) -> None:
    python = app_python("numpy", "PIL")
    for name, seed in (("a", "3"), ("b", "3"), ("c", "4")):
        run_script(python, IMAGES_GEN, "--out", tmp_path / name, "--seed", seed, "--count", "5")
    a, b, c = (tree_digest(tmp_path / n) for n in "abc")
    assert a == b and a != c
    lines = (tmp_path / "a" / "val_map.txt").read_text().splitlines()
    assert lines[0].startswith("ILSVRC2012_val_00000001.JPEG ") and len(lines) == 5
    assert all(0 <= int(line.split()[1]) < 1000 for line in lines)


def test_preprocessing_matches_the_reference_arithmetic(tmp_path: Path) -> None:
    python = app_python("numpy", "PIL")
    script = f"""
import sys, numpy as np
from pathlib import Path
from PIL import Image
d = Path(sys.argv[1]); d.mkdir()
Image.new("RGB", (500, 375), (200, 100, 50)).save(d / "ILSVRC2012_val_00000001.JPEG",
                                                  quality=100, subsampling=0)
Image.new("RGB", (300, 420), (0, 255, 0)).save(d / "ILSVRC2012_val_00000002.JPEG",
                                               quality=100, subsampling=0)
(d / "val_map.txt").write_text("ILSVRC2012_val_00000001.JPEG 3\\nILSVRC2012_val_00000002.JPEG 9\\n")
for layout in ("NCHW", "NHWC"):
    assert __import__("subprocess").run([sys.executable, {str(PREPROCESS)!r}, "--images", str(d),
        "--out", str(d.parent / layout), "--layout", layout, "--jobs", "1"]).returncode == 0
a = np.load(d.parent / "NCHW" / "ILSVRC2012_val_00000001.JPEG.npy")
b = np.load(d.parent / "NHWC" / "ILSVRC2012_val_00000001.JPEG.npy")
assert a.shape == (3, 224, 224) and a.dtype == np.float32 and b.shape == (224, 224, 3)
assert np.array_equal(a, b.transpose(2, 0, 1))
expected = np.array([200, 100, 50], np.float32) - np.array([123.68, 116.78, 103.94], np.float32)
assert np.abs(a.mean(axis=(1, 2)) - expected).max() < 1.5, a.mean(axis=(1, 2))
c = np.load(d.parent / "NCHW" / "ILSVRC2012_val_00000002.JPEG.npy")
assert abs(float(c[1].mean()) - (255 - 116.78)) < 1.5
assert (d.parent / "NCHW" / "val_map.txt").read_text() == (d / "val_map.txt").read_text()
"""
    run_script(python, "-c", script, tmp_path / "img")
    run_script(
        python,
        PREPROCESS,
        "--images",
        tmp_path / "img",
        "--out",
        tmp_path / "one",
        "--count",
        "1",
        "--jobs",
        "1",
    )
    assert sorted(p.name for p in (tmp_path / "one").iterdir()) == [
        "ILSVRC2012_val_00000001.JPEG.npy",
        "preprocess.json",
        "val_map.txt",
    ]


def test_pytorch_weights_are_byte_identical_per_seed_and_described(tmp_path: Path) -> None:
    python = app_python("numpy")
    for name in ("a", "b"):
        run_script(python, MODEL_GEN, "--out", tmp_path / name, "--format", "pytorch")
    data = (tmp_path / "a" / "model.npz").read_bytes()
    assert data == (tmp_path / "b" / "model.npz").read_bytes()
    meta = json.loads((tmp_path / "a" / "model.json").read_text())
    assert meta["sha256"] == hashlib.sha256(data).hexdigest()
    assert (meta["format"], meta["classes"], meta["label_offset"]) == ("pytorch", 1000, 0)


def test_onnx_model_is_byte_identical_per_seed_and_has_the_official_interface(
    tmp_path: Path,
) -> None:
    python = app_python("numpy", "onnx")
    for name in ("a", "b"):
        run_script(python, MODEL_GEN, "--out", tmp_path / name, "--seed", "7")
    assert (tmp_path / "a" / "model.onnx").read_bytes() == (
        tmp_path / "b" / "model.onnx"
    ).read_bytes()
    script = """
import sys, onnx
m = onnx.load(sys.argv[1]); onnx.checker.check_model(m)
def dims(v):
    return [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]
ins = [(i.name, dims(i)) for i in m.graph.input]
outs = {o.name: dims(o) for o in m.graph.output}
assert ins == [("input_tensor:0", ["N", 3, 224, 224])], ins
assert outs == {"ArgMax:0": ["N"], "softmax_tensor:0": ["N", 1001]}, outs
assert sum(n.op_type == "BatchNormalization" for n in m.graph.node) == 53
assert sum(n.op_type == "Conv" for n in m.graph.node) == 53
"""
    run_script(python, "-c", script, tmp_path / "a" / "model.onnx")


# --- the harness end to end under the real LoadGen ---------------------------------------

# The submission checker's accuracy.txt pattern for ResNet-50 (tools/submission constants).
CHECKER_ACC = re.compile(r"^accuracy=([\d\.]+).*")


@pytest.fixture(scope="module")
def e2e(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """An interpreter with the stack, and a dir with a synthetic ONNX model, 12
    preprocessed images and labels.txt holding the model's own predictions (label.py, the
    imagenet-synthetic-labels recipe's script)."""
    python = app_python("numpy", "PIL", "onnx", "onnxruntime", "mlperf_loadgen", "tqdm")
    root = tmp_path_factory.mktemp("e2e")
    run_script(python, MODEL_GEN, "--out", root / "onnx")
    run_script(python, IMAGES_GEN, "--out", root / "img", "--count", "12")
    run_script(python, PREPROCESS, "--images", root / "img", "--out", root / "pre", "--jobs", "1")
    model = root / "onnx" / "model.onnx"
    run_script(python, LABEL, "--model", model, "--dataset", root / "pre", "--out", root / "lab")
    return python, root


def _app(python: str, root: Path, *args: str | Path, env: dict[str, str] | None = None) -> str:
    inputs = ["--model", root / "onnx" / "model.onnx", "--dataset", root / "pre"]
    return run_script(python, APP / "main.py", *inputs, *args, env=env)


def test_the_default_smoke_run_does_performance_then_accuracy_labelled_as_smoke(
    e2e: tuple[str, Path],
) -> None:
    python, root = e2e
    out = root / "smoke"
    context = root / "context.json"
    context.write_text(json.dumps({"lock": "abc", "target": {"__cuda": None}}))
    env = {
        "CMPKG_RUN_CONTEXT": str(context),
        "CMPKG_IMAGENET_LABELS": str(root / "lab" / "val_map.txt"),
    }
    stdout = _app(python, root, "--max-batchsize", "4", "--results-dir", out, env=env)
    lines = stdout.strip().splitlines()
    assert lines[-1] == str(out.resolve())
    assert "*** SMOKE RUN: short settings, not a valid submission-length run ***" in lines
    # VALID or INVALID depends on the machine's speed during the run: only its presence
    assert re.search(r"Result is : (VALID|INVALID)", stdout) and "top-1: 100.000% (12/12)" in stdout
    result = json.loads((out / "result.json").read_text())
    assert (result["profile"], result["submission_length"]) == ("smoke", False)
    assert result["label"].startswith("SMOKE RUN") and result["modes"] == [
        "performance",
        "accuracy",
    ]
    assert result["valid"] in (True, False) and result["metrics"]["samples_per_second"] > 0
    assert result["metrics"]["top1"] == 100.0 and result["accuracy"]["passed"] is True
    assert result["run_context"] == json.loads(context.read_text())
    assert result["run"]["label_offset"] == -1 and len(result["run"]["model"]["sha256"]) == 64
    assert result["versions"]["mlperf_loadgen"]["version"] and result["start"] <= result["end"]
    assert result["loadgen"]["settings_overrides"]["min_query_count"] == 12
    perf = out / "performance" / "run_1"
    assert (perf / "mlperf_log_summary.txt").is_file() and (
        perf / "mlperf_log_detail.txt"
    ).is_file()
    acc_lines = (out / "accuracy" / "accuracy.txt").read_text().splitlines()
    match = CHECKER_ACC.match(acc_lines[0])
    assert match is not None and float(match.group(1)) == 100.0
    log = (out / "accuracy" / "mlperf_log_accuracy.json").read_bytes()
    assert acc_lines[-1] == f"hash={hashlib.sha256(log).hexdigest()}"
    assert (out / "user.conf").is_file()
    # cmpkg's results database reads the same file (its schema-1 `result` section)
    from cmpkg.results.record import RunFacts, build

    facts = RunFacts(
        run_id="r", env="e", started=0.0, ended=1.0, exit_code=0, host="h", result_dir=str(out)
    )
    row = build(facts, result, None, None)
    assert row.samples_per_s == result["metrics"]["samples_per_second"]
    assert row.valid == int(result["valid"])
    assert row.accuracy == 100.0 and row.profile == "smoke" and row.scenario == "Offline"
    assert row.latency_p90_ns == result["metrics"]["latency_ns"]["p90"]


def test_breaking_one_label_drops_top1_by_one_sample(e2e: tuple[str, Path]) -> None:
    python, root = e2e
    lines = (root / "lab" / "val_map.txt").read_text().splitlines()
    name, label = lines[0].split()
    broken = root / "broken.txt"
    broken.write_text("\n".join([f"{name} {(int(label) + 1) % 1000}", *lines[1:]]) + "\n")
    stdout = _app(python, root, "--accuracy", "--labels", broken, "--results-dir", root / "b")
    assert "top-1: 91.667% (11/12)" in stdout


def test_full_profile_prints_its_estimate_before_running_with_the_rules(
    e2e: tuple[str, Path],
) -> None:
    python, root = e2e
    out = root / "full"
    proc = subprocess.run(
        [
            *(python, str(APP / "main.py")),
            *("--model", str(root / "onnx" / "model.onnx"), "--dataset", str(root / "pre")),
            *("--profile", "full", "--min-query-count", "24", "--min-duration", "300"),
            *("--results-dir", str(out), "--max-batchsize", "4"),
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr
    assert "estimate: Offline performance run needs about 24 samples in" in proc.stderr
    assert "SMOKE" not in proc.stdout
    result = json.loads((out / "result.json").read_text())
    assert (result["profile"], result["submission_length"], result["label"]) == ("full", True, None)
    assert result["modes"] == ["performance"] and result["accuracy"] is None
    assert result["loadgen"]["settings_overrides"] == {
        "min_query_count": 24,
        "min_duration_ms": 300,
    }


def test_a_test01_compliance_run_reads_the_audit_config_it_places(e2e: tuple[str, Path]) -> None:
    python, root = e2e
    out = root / "t01"
    _app(python, root, "--compliance", "TEST01", "--results-dir", out, "--max-batchsize", "4")
    audit = out / "TEST01" / "audit.config"
    assert "*.*.accuracy_log_sampling_target = 64" in audit.read_text()
    run = out / "TEST01" / "performance" / "run_1"
    # TEST01 makes LoadGen log responses in a performance run: proof it read the file
    assert json.loads((run / "mlperf_log_accuracy.json").read_text())
    assert json.loads((out / "result.json").read_text())["loadgen"]["audit_config"] == str(audit)


def test_pytorch_backend_agrees_with_onnx_after_label_offsets(e2e: tuple[str, Path]) -> None:
    python, root = e2e
    if not _has_modules(python, ("torch",)):
        pytest.skip(f"needs torch in {python}")
    run_script(python, MODEL_GEN, "--out", root / "pt", "--format", "pytorch")
    stdout = run_script(
        python,
        APP / "main.py",
        "--model",
        root / "pt" / "model.npz",
        "--dataset",
        root / "pre",
        "--labels",
        root / "lab" / "val_map.txt",
        "--accuracy",
        "--scenario",
        "SingleStream",
        "--results-dir",
        root / "acc-pt",
    )
    assert "top-1: 100.000% (12/12)" in stdout


def test_versions_flag_reports_the_stack(e2e: tuple[str, Path]) -> None:
    python, _ = e2e
    stdout = run_script(python, APP / "main.py", "--versions")
    assert "mlperf_loadgen" in stdout and "CPUExecutionProvider" in stdout


# --- the user-supplied ImageNet directory check (standard library) ----------------------

IMAGENET_CHECK = ROOT / "index" / "datasets" / "imagenet-val" / "check.py"


def test_imagenet_check_reports_missing_images_and_bad_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    check = _load(IMAGENET_CHECK, "imagenet_check_under_test")
    (tmp_path / "ILSVRC2012_val_00000001.JPEG").write_bytes(b"")
    (tmp_path / "val_map.txt").write_text(
        "ILSVRC2012_val_00000001.JPEG 65\nILSVRC2012_val_00000002.JPEG 3\nbroken 1000\n"
    )
    assert check.main(["--images", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "missing image ILSVRC2012_val_00000002.JPEG" in out and "bad line" in out
    (tmp_path / "val_map.txt").write_text("ILSVRC2012_val_00000001.JPEG 65\n")
    assert check.main(["--images", str(tmp_path), "--expect-count", "1"]) == 0
    assert check.main(["--images", str(tmp_path / "nowhere")]) == 1


def test_cv2_resizer_follows_the_reference_path(tmp_path: Path) -> None:
    python = app_python("numpy", "PIL", "cv2")
    run_script(python, IMAGES_GEN, "--out", tmp_path / "img", "--count", "2")
    for resizer in ("cv2", "pillow"):
        run_script(
            python,
            PREPROCESS,
            "--images",
            tmp_path / "img",
            "--out",
            tmp_path / resizer,
            "--resizer",
            resizer,
            "--jobs",
            "1",
        )
    script = """
import sys, numpy as np
a, b = (np.load(f"{d}/ILSVRC2012_val_00000001.JPEG.npy") for d in sys.argv[1:])
assert a.shape == b.shape == (3, 224, 224) and np.abs(a - b).mean() < 2.0
"""
    run_script(python, "-c", script, tmp_path / "cv2", tmp_path / "pillow")
