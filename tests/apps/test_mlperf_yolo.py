"""mlperf-yolo: the synthetic detector, the synthetic COCO set it labels, coco_detection's
letterbox/NMS/records/mAP, and the app on the shared harness under the real LoadGen.

Like tests/apps/test_mlperf_bert.py, the recipe scripts and the app run in subprocesses
with an interpreter that has their stack (this one, or $MLPERF_APP_TEST_PYTHON), and skip
otherwise; coco_detection's numpy parts run in-process. One opt-in test installs the app
from a mirror made by `cmpkg mirror create` ($MLPERF_APP_TEST_MIRROR) into a fresh
CMPKG_HOME, offline, and runs it.
"""

from __future__ import annotations

import collections
import hashlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.apps.test_mlperf_resnet50 import ONNX_GRAPH_ENV, app_python, run_script, seeded_onnx

ROOT = Path(__file__).parents[2]
APP = ROOT / "index" / "apps" / "mlperf-yolo"
COCO_DETECTION = ROOT / "index" / "libraries" / "coco-detection"
HARNESS = ROOT / "index" / "libraries" / "mlperf-harness"
MODEL_GEN = ROOT / "index" / "models" / "yolo-synthetic" / "generate.py"
COCO_GEN = ROOT / "index" / "datasets" / "coco-synthetic" / "generate.py"
# The submission checker's accuracy.txt pattern for mAP (tools/submission constants).
CHECKER_MAP = re.compile(r".*(?:mAP=|'Total':)\s*([\d.]+)")
IMAGES = 16
# A COCO category id no model of the 80 classes can predict (COCO leaves 12 unused).
UNPREDICTABLE = 12
MIRROR_ENV = "MLPERF_APP_TEST_MIRROR"


@pytest.fixture(scope="module")
def coco_detection() -> Iterator[None]:
    pytest.importorskip("numpy")
    sys.path.insert(0, str(COCO_DETECTION))
    yield
    sys.path.remove(str(COCO_DETECTION))


# --- letterbox, postprocessing, records ---------------------------------------------------


def test_letterbox_geometry_centres_the_scaled_image_and_inverts(coco_detection: None) -> None:
    import numpy as np
    from coco_detection.letterbox import Geometry, to_image

    wide = Geometry(height=480, width=640)
    assert (wide.gain, wide.resized, wide.offset) == (1.0, (640, 480), (0, 80))
    small = Geometry(height=300, width=500)
    assert (small.gain, small.resized, small.offset) == (1.28, (640, 384), (0, 128))
    odd = Geometry(height=641, width=640)  # 639 wide: the odd pixel of padding goes right
    assert odd.resized == (639, 640) and odd.offset == (0, 0)
    on_input = np.array([[64.0, 128.0, 320.0, 512.0], [-10.0, 100.0, 700.0, 130.0]])
    back = to_image(on_input, small)
    assert back[0] == pytest.approx([50.0, 0.0, 250.0, 300.0])
    assert back[1] == pytest.approx([0.0, 0.0, 500.0, 2.0 / 1.28])  # clipped to the image


def _output(rows: list[tuple[float, float, float, float, int, float]]) -> object:
    """An [84, A] output with one anchor per row: cx, cy, w, h, class, score."""
    import numpy as np

    out = np.zeros((84, len(rows)), np.float32)
    for i, (cx, cy, w, h, cls, score) in enumerate(rows):
        out[:4, i] = (cx, cy, w, h)
        out[4 + cls, i] = score
    return out


def test_nms_suppresses_overlaps_of_one_class_only(coco_detection: None) -> None:
    from coco_detection.postprocess import detect

    found = detect(
        _output(  # type: ignore[arg-type]
            [
                (100, 100, 50, 50, 3, 0.9),
                (102, 100, 50, 50, 3, 0.8),  # IoU 0.92 with the first: suppressed
                (102, 100, 50, 50, 7, 0.7),  # another class: kept
                (300, 300, 40, 40, 3, 0.6),  # no overlap: kept
                (400, 400, 40, 40, 3, 0.0005),  # under conf 0.001: dropped
            ]
        )
    )
    assert found.classes.tolist() == [3, 7, 3]
    assert found.scores.tolist() == pytest.approx([0.9, 0.7, 0.6])
    assert found.boxes[0].tolist() == [75, 75, 125, 125]
    assert len(detect(_output([(1, 1, 1, 1, 0, 0.8)] * 400), iou=1.0, max_det=300)) == 300  # type: ignore[arg-type]


def test_records_are_the_references_seven_floats_normalised_to_the_image(
    coco_detection: None,
) -> None:
    import numpy as np
    from coco_detection.letterbox import Geometry
    from coco_detection.postprocess import Detections
    from coco_detection.record import decode, encode

    found = Detections(
        boxes=np.array([[64, 128, 320, 512]], np.float32),
        scores=np.array([0.5], np.float32),
        classes=np.array([11], np.int64),  # the model's class 11 is COCO's "stop sign", 13
    )
    records = encode(7, found, Geometry(height=300, width=500))
    assert records.dtype == np.float32 and records.shape == (1, 7)
    assert records[0].tolist() == pytest.approx([7, 0.0, 0.1, 1.0, 0.5, 0.5, 13])
    assert (decode(records.tobytes()) == records).all()
    assert decode(b"").shape == (0, 7)


# --- generators ---------------------------------------------------------------------------


def test_synthetic_yolo_is_byte_identical_per_seed_with_the_export_layout(
    tmp_path: Path,
) -> None:
    python = app_python("numpy", "onnx")
    checks = """
assert [(i.name, dims(i)) for i in m.graph.input] == [("images", ["N", 3, 640, 640])]
assert [(o.name, dims(o)) for o in m.graph.output] == [("output0", ["N", 84, 8400])]
ops = [n.op_type for n in m.graph.node]
assert ops.count("Conv") == 5 + 3 * 2, ops  # backbone + box and class convs per level
assert {"Softmax", "ReduceSum", "Sigmoid", "InstanceNormalization"} <= set(ops), ops
"""
    a = seeded_onnx(python, MODEL_GEN, tmp_path, checks)
    assert json.loads((tmp_path / "a" / "model.json").read_text())["sha256"] == (
        hashlib.sha256(a).hexdigest()
    )


@pytest.fixture(scope="module")
def yolo(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """A synthetic model and IMAGES synthetic COCO images labelled by it."""
    modules = ("numpy", "onnx", "onnxruntime", "PIL", "pycocotools", "mlperf_loadgen", "tqdm")
    python = app_python(*modules)
    root = tmp_path_factory.mktemp("yolo")
    run_script(python, MODEL_GEN, "--out", root / "model", env=ONNX_GRAPH_ENV)
    run_script(
        python,
        COCO_GEN,
        *("--model", root / "model" / "model.onnx", "--out", root / "coco"),
        *("--count", str(IMAGES)),
        env={"PYTHONPATH": str(COCO_DETECTION)},
    )
    return python, root


def _annotations(root: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads(
        (root / "coco" / "annotations" / "instances_val2017.json").read_text()
    )
    return data


def _app(
    python: str, root: Path, annotations: Path, *args: str | Path
) -> subprocess.CompletedProcess[str]:
    inputs = ["--model", root / "model" / "model.onnx", "--dataset", root / "coco" / "val2017"]
    proc = subprocess.run(
        [python, str(APP / "main.py"), *map(str, [*inputs, "--annotations", annotations, *args])],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def test_synthetic_coco_is_coco_shaped_with_boxes_inside_their_images(
    yolo: tuple[str, Path],
) -> None:
    _, root = yolo
    data = _annotations(root)
    images = {i["id"]: i for i in data["images"]}  # type: ignore[attr-defined]
    assert len(images) == IMAGES
    assert [c["id"] for c in data["categories"]][:12] == [*range(1, 12), 13]  # type: ignore[attr-defined]
    boxes = data["annotations"]
    assert boxes and len({a["id"] for a in boxes}) == len(boxes)  # type: ignore[attr-defined]
    for a in boxes:  # type: ignore[attr-defined]
        image = images[a["image_id"]]
        assert (root / "coco" / "val2017" / image["file_name"]).is_file()
        x, y, w, h = a["bbox"]
        assert w > 0 and h > 0 and a["area"] == pytest.approx(w * h) and a["iscrowd"] == 0
        assert x >= 0 and y >= 0 and x + w <= image["width"] + 1e-6
        assert y + h <= image["height"] + 1e-6


def test_smoke_run_is_labelled_and_accuracy_gives_map_100(yolo: tuple[str, Path]) -> None:
    python, root = yolo
    out = root / "smoke"
    annotations = root / "coco" / "annotations" / "instances_val2017.json"
    proc = _app(python, root, annotations, "--results-dir", out)
    assert "*** SMOKE RUN: short settings, not a valid submission-length run ***" in proc.stdout
    assert f"mAP 100.000% ({IMAGES} images," in proc.stdout
    assert "Average Precision" not in proc.stdout  # pycocotools' table goes to stderr
    result = json.loads((out / "result.json").read_text())
    assert (result["benchmark"], result["profile"]) == ("yolo-99", "smoke")
    assert result["valid"] in (True, False)  # LoadGen's verdict depends on the machine's speed
    assert result["accuracy"]["target"] == pytest.approx(53.4 * 0.99, abs=1e-6)
    assert result["metrics"]["mAP"] == 100.0 and result["metrics"]["samples_per_second"] > 0
    assert result["accuracy"]["mismatched_indices"] == 0
    lines = (out / "accuracy" / "accuracy.txt").read_text().splitlines()
    match = CHECKER_MAP.match(lines[0])
    assert lines[0] == "mAP=100.000%" and match is not None and float(match.group(1)) == 100.0
    log = (out / "accuracy" / "mlperf_log_accuracy.json").read_bytes()
    assert lines[1] == f"hash={hashlib.sha256(log).hexdigest()}"
    # every response is whole 7-float records whose first float is LoadGen's sample index
    for entry in json.loads(log):
        raw = bytes.fromhex(entry["data"])
        assert len(raw) % 28 == 0 and len(raw) > 0
        assert int(struct_first_float(raw)) == entry["qsl_idx"]


def struct_first_float(raw: bytes) -> float:
    import struct

    return float(struct.unpack_from("<f", raw)[0])


def test_a_box_no_detection_can_match_drops_map_by_one_category(yolo: tuple[str, Path]) -> None:
    """COCO mAP is the mean AP over the categories that have ground truth. Moving the one
    box of a single-box category to a category the model can never predict empties the
    first (no longer counted) and gives the second AP 0, every other category keeping AP
    1: mAP falls from 100 to exactly 100 (K - 1) / K, K the categories with boxes."""
    python, root = yolo
    data = _annotations(root)
    boxes: list[dict[str, object]] = data["annotations"]  # type: ignore[assignment]
    counts = collections.Counter(a["category_id"] for a in boxes)
    single = next(a for a in boxes if counts[a["category_id"]] == 1)
    single["category_id"] = UNPREDICTABLE
    data["categories"].append({"id": UNPREDICTABLE, "name": "street sign"})  # type: ignore[attr-defined]
    broken = root / "broken.json"
    broken.write_text(json.dumps(data))
    proc = _app(python, root, broken, "--accuracy", "--level", "95", "--results-dir", root / "b")
    expected = 100 * (len(counts) - 1) / len(counts)
    assert f"mAP {expected:.3f}%" in proc.stdout
    result = json.loads((root / "b" / "result.json").read_text())
    assert result["benchmark"] == "yolo-95" and result["accuracy"]["passed"] is True
    assert result["accuracy"]["target"] == pytest.approx(53.4 * 0.95, abs=1e-6)
    assert result["accuracy"]["value"] == pytest.approx(expected, abs=1e-3)


def test_images_missing_from_the_dataset_are_a_usage_error(yolo: tuple[str, Path]) -> None:
    python, root = yolo
    args = ["--model", root / "model" / "model.onnx", "--dataset", root / "model"]
    args += ["--annotations", root / "coco" / "annotations" / "instances_val2017.json"]
    proc = subprocess.run(
        [python, str(APP / "main.py"), *map(str, args)], capture_output=True, text=True
    )
    assert proc.returncode == 2, proc.stderr
    assert f"{IMAGES} images of" in proc.stderr and "hint: point --dataset" in proc.stderr


# --- the harness's responses of any size ---------------------------------------------------

VARIABLE_SUT = """
import json, sys
from pathlib import Path
import numpy as np
import mlperf_loadgen as lg
from mlperf_harness.sut import Done, Qsl, Sut, run_test

class Data:
    count = 4
    def read(self, i):
        return np.array([i], np.int64)

class Engine:
    def load(self, samples): self.samples = samples
    def unload(self): pass
    def warmup(self, batch): pass
    def describe(self): return {}
    def launch(self, positions):  # sample i answers i float32 values, sample 0 none
        return Done([np.full(int(self.samples[p][0]), p, np.float32) for p in positions])

out = Path(sys.argv[1])
settings = lg.TestSettings()
settings.scenario = lg.TestScenario.Offline
settings.mode = lg.TestMode.AccuracyOnly
log = lg.LogSettings()
log.log_output.outdir = str(out)
qsl = Qsl(Data(), Engine())
sut = Sut(qsl.backend, qsl, 3, lambda n: None)
run_test(sut, qsl, 4, settings, log, str(out / "audit.config"))
sut.stop()
"""


def test_the_sut_answers_each_sample_with_its_own_number_of_bytes(tmp_path: Path) -> None:
    python = app_python("numpy", "mlperf_loadgen")
    run_script(python, "-c", VARIABLE_SUT, tmp_path, env={"PYTHONPATH": str(HARNESS)})
    entries = json.loads((tmp_path / "mlperf_log_accuracy.json").read_text())
    sizes = {e["qsl_idx"]: len(bytes.fromhex(e["data"])) for e in entries}
    assert sizes == {0: 0, 1: 4, 2: 8, 3: 12}


# --- the recipes, through cmpkg -------------------------------------------------------------


def test_show_lists_the_variants_and_search_finds_the_app(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from cmpkg.cli import main

    assert main(["show", "mlperf-yolo", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    (version,) = shown["versions"]
    groups = {g["name"]: g for g in version["variants"]}
    assert [v["value"] for v in groups["level"]["values"]] == ["95", "99"]
    assert groups["level"]["default"] == "99" and groups["backend"]["default"] == "onnxruntime"
    assert {v["value"] for v in groups["backend"]["values"]} == {"onnxruntime", "ultralytics"}
    assert main(["search", "mlperf"]) == 0
    assert "mlperf-yolo" in capsys.readouterr().out


def test_default_variants_need_no_host_and_never_pull_in_ultralytics() -> None:
    from tests.index.test_index_shipped import INDEX, closure

    (app,) = INDEX.get("mlperf-yolo")
    default = closure(INDEX, app, ())
    names = {name for name, _ in default}
    assert not {"download", "user-path"} & {method for _, method in default}
    assert {"yolo-synthetic", "coco-synthetic", "pycocotools", "onnxruntime"} <= names
    assert not {"ultralytics", "torch"} & names  # AGPL-3.0 and a network user: opt-in only
    pins = (("backend", "ultralytics"), ("model", "official"), ("dataset", "coco"))
    reference = {name for name, _ in closure(INDEX, app, pins)}
    assert {"ultralytics", "torch", "torchvision", "yolo11-mlperf-pytorch"} <= reference
    assert "coco2017-filtered-local" in reference and "onnxruntime" not in reference


@pytest.mark.parametrize(
    ("request_text", "target"),
    [
        ("mlperf-yolo", "cpu"),
        ("mlperf-yolo[device=cuda]", "h200-cuda13"),
        ("mlperf-yolo[backend=ultralytics,model=official,dataset=coco]", "cpu"),
        ("mlperf-yolo[backend=ultralytics,device=cuda,model=official,dataset=coco]", "h200-cuda13"),
    ],
)
def test_resolves_for_cpu_and_the_h200(
    request_text: str, target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from cmpkg.cli import main

    assert main(["resolve", request_text, "--target", target]) == 0
    out = capsys.readouterr().out
    engine = "ultralytics 8.4.190" if "ultralytics" in request_text else "onnxruntime"
    assert engine in out and "pycocotools 2.0.11" in out
    assert ("onnxruntime-gpu" in out) == (target != "cpu" and engine == "onnxruntime")


@pytest.mark.slow
def test_install_from_a_mirror_into_a_fresh_home_then_smoke_run(tmp_path: Path) -> None:
    """`cmpkg install mlperf-yolo` offline from a `cmpkg mirror create` directory, then
    `cmpkg run mlperf-yolo` (smoke) and `-- --accuracy`: opt-in, since making the mirror
    needs the package registry (docs/mlperf.md has the commands and timings)."""
    mirror = os.environ.get(MIRROR_ENV)
    if not mirror:
        pytest.skip(f"set ${MIRROR_ENV} to a `cmpkg mirror create ... mlperf-yolo` directory")
    env = {"CMPKG_HOME": str(tmp_path / "home"), "PATH": os.environ["PATH"], "NO_COLOR": "1"}
    cmpkg = [sys.executable, "-m", "cmpkg"]

    def cmpkg_run(*args: str) -> str:
        proc = subprocess.run(
            [*cmpkg, *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=900
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc.stdout

    cmpkg_run("--mirror", mirror, "install", "--offline", "mlperf-yolo")
    assert "*** SMOKE RUN" in cmpkg_run("run", "mlperf-yolo")
    assert "mAP 100.000%" in cmpkg_run("run", "mlperf-yolo", "--", "--accuracy")
