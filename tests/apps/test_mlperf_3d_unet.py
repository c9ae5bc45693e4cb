"""mlperf-3d-unet: the synthetic 3D-UNet, the synthetic KiTS19 set it segments, kits19_seg's
preprocessing / sliding window / DICE, and the app on the shared harness under LoadGen.

Like tests/apps/test_mlperf_bert.py, the recipe scripts and the app run in subprocesses
with an interpreter that has their stack (this one, or $MLPERF_APP_TEST_PYTHON), and skip
otherwise. kits19_seg's pure parts run in-process (numpy, nibabel).
"""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.apps.test_mlperf_resnet50 import (
    ONNX_GRAPH_ENV,
    app_python,
    run_script,
    seeded_onnx,
    tree_digest,
)
from tests.support.cli import run_cmpkg

ROOT = Path(__file__).parents[2]
APP = ROOT / "index" / "apps" / "mlperf-3d-unet"
KITS = ROOT / "index" / "libraries" / "kits19-seg"
MODEL_GEN = ROOT / "index" / "models" / "unet3d-synthetic" / "generate.py"
DATA_GEN = ROOT / "index" / "datasets" / "kits19-synthetic" / "generate.py"
# The submission checker's accuracy.txt pattern for 3D-UNet (ACC_PATTERN["DICE"]).
CHECKER_DICE = re.compile(r"Accuracy\:\s*mean\s*=\s*([\d\.]+).*")
CASES = 3
STACK = ("numpy", "nibabel", "onnx", "onnxruntime", "mlperf_loadgen", "tqdm")


@pytest.fixture(scope="module")
def kits() -> Iterator[None]:
    pytest.importorskip("numpy")
    pytest.importorskip("nibabel")
    sys.path.insert(0, str(KITS))
    yield
    sys.path.remove(str(KITS))


# --- the reference's rules ----------------------------------------------------------------


def test_importance_patch_is_the_cube_root_of_three_gaussians_of_sigma_roi_over_8(
    kits: None,
) -> None:
    from kits19_seg.sliding_window import importance

    patch = importance((32, 32, 32))
    assert patch.shape == (32, 32, 32) and patch.dtype.name == "float32"
    assert patch.max() == pytest.approx(1.0)
    # scipy.signal's gaussian(32, 4) at k is exp(-((k - 15.5) / 4)^2 / 2); the cube root of
    # the product of three equal factors is the factor itself, relative to the centre's.
    g = [math.exp(-0.5 * ((k - 15.5) / 4) ** 2) for k in range(32)]
    assert patch[0, 0, 0] == pytest.approx(g[0] / g[15], rel=1e-5)
    expected = (g[3] * g[15] * g[28]) ** (1 / 3) / g[15]
    assert patch[3, 15, 28] == pytest.approx(expected, rel=1e-5)
    assert (patch == patch[::-1, ::-1, ::-1]).all()


def test_the_reference_cases_are_43_the_last_read_from_case_00185_when_absent(
    kits: None, tmp_path: Path
) -> None:
    """The reference has run 43 samples since v2.1: KiTS19's 42 and case_00400, which its
    Makefile copies from case_00185 (KiTS19 has no case_00400)."""
    import numpy as np
    from kits19_seg import cases

    assert len(set(cases.REFERENCE_CASES)) == len(cases.REFERENCE_CASES) == 43
    assert cases.REFERENCE_CASES[-1] == "case_00400"
    assert cases.COPIES == {"case_00400": "case_00185"}
    # A KiTS19 directory as its download script leaves it: the 42 cases, no case_00400.
    for name in cases.REFERENCE_CASES[:-1]:
        (tmp_path / name).mkdir()
        for file in cases.FILES:
            (tmp_path / name / file).touch()
    volume = np.arange(4 * 5 * 6, dtype=np.int16).reshape(4, 5, 6)
    cases.write(tmp_path, "case_00185", volume, (volume % 3).astype(np.uint8), (1.6, 1.2, 1.2))
    cases.check(tmp_path, cases.case_names(tmp_path))
    copy, original = cases.read(tmp_path, "case_00400"), cases.read(tmp_path, "case_00185")
    assert copy.case == "case_00400"
    assert np.array_equal(copy.image, original.image) and np.array_equal(copy.label, original.label)
    # A case_00400 folder of its own (the reference's Makefile made it) is read as it is.
    cases.write(tmp_path, "case_00400", volume + 1, volume.astype(np.uint8) % 2, (1.6, 1.2, 1.2))
    assert np.array_equal(cases.read(tmp_path, "case_00400").image, volume + 1)
    # Without either, the check names the files of the case it would have read.
    shutil.rmtree(tmp_path / "case_00400")
    shutil.rmtree(tmp_path / "case_00185")
    with pytest.raises(cases.CaseError) as raised:
        cases.check(tmp_path, list(cases.REFERENCE_CASES))
    assert str(raised.value).endswith(
        "lacks case_00185/imaging.nii.gz, case_00185/segmentation.nii.gz"
    )


def test_windows_start_every_half_roi_depth_first(kits: None) -> None:
    from kits19_seg.preprocess import Geometry
    from kits19_seg.sliding_window import starts

    corners = list(starts((48, 64, 80), Geometry(roi=(32, 32, 32))))
    assert len(corners) == 2 * 3 * 4
    assert corners[:2] == [(0, 0, 0), (0, 0, 16)] and corners[-1] == (16, 32, 48)


def test_preprocessing_crops_small_remainders_pads_large_ones_and_normalises(kits: None) -> None:
    import numpy as np
    from kits19_seg import preprocess

    geometry = preprocess.Geometry(roi=(32, 32, 32))
    hu = np.full((69, 40, 20), 101.0, np.float32)
    hu[10, 10, 10] = 2000.0  # clipped to 304
    label = np.ones((69, 40, 20), np.uint8)
    image, kept = preprocess.preprocess(hu, label, preprocess.TARGET_SPACING, geometry)
    # 69 = 4 x 16 + 5: 5 < 8 is cut (2 before, 3 after); 40 = 2 x 16 + 8 is padded to 48
    # with -2.2; 20 is first padded to the 32-voxel window by edge values
    assert image.shape == (1, 64, 48, 32) and kept.shape == (64, 48, 32)
    assert image[0, 10, 4, 10] == pytest.approx(0.0)  # (101 - 101) / 76.9
    assert image[0, 10, 0, 10] == pytest.approx(-2.2) and kept[10, 0, 10] == 0
    assert kept[10, 4, 0] == 1  # the edge padding repeats the label
    # voxel (10, 10, 10) moves by the crop (-2), the stride padding (+4), the ROI padding (+6)
    assert image[0, 8, 14, 16] == pytest.approx((304 - 101) / 76.9, rel=1e-6)
    assert preprocess.crop_bounds((69, 40, 32), (16, 16, 16)) == [(2, 66), (0, 40), (0, 32)]


def test_dice_per_class_with_the_reference_smoothing(kits: None) -> None:
    import numpy as np
    from kits19_seg import dice

    truth = np.zeros((4, 4, 4), np.uint8)
    truth[0] = 1  # 16 kidney voxels
    pred = truth.copy()
    pred[0, 0] = 2  # 4 of them predicted as tumour
    case = dice.case_dice("c", pred, truth)
    assert case.kidney == pytest.approx((2 * 12 + 1e-6) / (12 + 16 + 1e-6))
    assert case.tumour == pytest.approx(1e-6 / (4 + 1e-6))  # no tumour in the truth
    perfect = dice.case_dice("d", truth, truth)
    assert (perfect.kidney, perfect.tumour) == (1.0, 1.0)  # absent in both: 1
    scores = dice.Scores((case, perfect))
    assert scores.mean == pytest.approx((case.composite + 1.0) / 2)


def test_sliding_window_divides_by_the_map_and_takes_the_argmax(kits: None) -> None:
    import numpy as np
    from kits19_seg.preprocess import Geometry
    from kits19_seg.sliding_window import segment

    image = np.zeros((1, 16, 16, 8), np.float32)
    image[0, :, 8:] = 1.0

    def infer(window: np.ndarray) -> np.ndarray:  # class 2 where the image is 1, else 0
        return np.stack([1 - window[0, 0], 0 * window[0, 0], 2 * window[0, 0]])[np.newaxis]

    labels = segment(image, Geometry(roi=(8, 8, 8)), infer)
    assert labels.dtype.name == "uint8" and labels.shape == (16, 16, 8)
    assert (labels[:, 8:] == 2).all() and (labels[:, :8] == 0).all()


# --- generators -------------------------------------------------------------------------


def test_synthetic_unet_is_byte_identical_per_seed_with_the_official_interface(
    tmp_path: Path,
) -> None:
    python = app_python("numpy", "onnx")
    checks = """
assert [(i.name, dims(i)) for i in m.graph.input] == [("input", ["N", 1, 32, 32, 32])]
assert [(o.name, dims(o)) for o in m.graph.output] == [("output", ["N", 3, 32, 32, 32])]
ops = {n.op_type for n in m.graph.node}
assert {"Conv", "InstanceNormalization", "LeakyRelu", "ConvTranspose", "Concat"} <= ops, ops
assert sum(n.op_type == "Concat" for n in m.graph.node) == 2  # a skip per decoder level
"""
    seeded_onnx(python, MODEL_GEN, tmp_path, checks)
    meta = json.loads((tmp_path / "a" / "model.json").read_text())
    assert meta["roi"] == [32, 32, 32] and meta["widths"] == [4, 8, 16]


@pytest.fixture(scope="module")
def unet(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """A synthetic model and a synthetic KiTS19 set of CASES cases segmented by it."""
    python = app_python(*STACK)
    root = tmp_path_factory.mktemp("unet")
    run_script(python, MODEL_GEN, "--out", root / "model", env=ONNX_GRAPH_ENV)
    run_script(
        python,
        DATA_GEN,
        *("--model", root / "model" / "model.onnx", "--out", root / "kits"),
        *("--count", str(CASES)),
        env={"PYTHONPATH": str(KITS)},
    )
    return python, root


def _app(
    python: str, root: Path, dataset: Path, *args: str | Path
) -> subprocess.CompletedProcess[str]:
    proc = _app_raw(python, root, dataset, *args)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def _app_raw(
    python: str, root: Path, dataset: Path, *args: str | Path
) -> subprocess.CompletedProcess[str]:
    inputs = ["--model", root / "model" / "model.onnx", "--dataset", dataset]
    return subprocess.run(
        [python, str(APP / "main.py"), *map(str, [*inputs, *args])],
        capture_output=True,
        text=True,
        timeout=240,
    )


def test_synthetic_set_is_kits19_shaped_nifti_and_reproducible(
    unet: tuple[str, Path], tmp_path: Path
) -> None:
    python, root = unet
    kits = root / "kits"
    names = json.loads((kits / "inference_cases.json").read_text())
    assert names == [f"case_{i:05d}" for i in range(CASES)]
    script = """
import sys, nibabel, numpy as np
image = nibabel.load(sys.argv[1] + "/imaging.nii.gz")
label = nibabel.load(sys.argv[1] + "/segmentation.nii.gz")
assert image.shape == label.shape and image.get_data_dtype() == np.int16
assert label.get_data_dtype() == np.uint8 and set(np.unique(label.get_fdata())) <= {0, 1, 2}
assert np.allclose(image.header["pixdim"][1:4], (1.6, 1.2, 1.2))
print(*image.shape)
"""
    shape = [int(n) for n in run_script(python, "-c", script, kits / "case_00000").split()]
    assert all(48 <= n < 72 for n in shape)
    meta = json.loads((kits / "kits19.json").read_text())
    voxels = meta["cases"][0]["voxels"]
    assert min(voxels.values()) > 0  # every class appears: the score means something
    run_script(
        python,
        DATA_GEN,
        *("--model", root / "model" / "model.onnx", "--out", tmp_path / "again"),
        *("--count", "1"),
        env={"PYTHONPATH": str(KITS)},
    )
    again = tree_digest(tmp_path / "again" / "case_00000")
    assert again == tree_digest(kits / "case_00000")


# --- the app ------------------------------------------------------------------------------


def test_smoke_run_is_labelled_and_accuracy_gives_mean_dice_1(unet: tuple[str, Path]) -> None:
    python, root = unet
    out = root / "smoke"
    proc = _app(python, root, root / "kits", "--results-dir", out)
    assert "*** SMOKE RUN: short settings, not a valid submission-length run ***" in proc.stdout
    assert f"mean DICE 1.00000 (kidney 1.0000, tumour 1.0000; {CASES} cases)" in proc.stdout
    result = json.loads((out / "result.json").read_text())
    assert (result["benchmark"], result["profile"]) == ("3d-unet-99", "smoke")
    assert result["valid"] in (True, False)  # LoadGen's verdict depends on the machine's speed
    assert result["accuracy"]["target"] == pytest.approx(0.8617 * 0.99, abs=1e-6)
    assert result["metrics"]["dice"] == 1.0 and result["metrics"]["samples_per_second"] > 0
    line = (out / "accuracy" / "accuracy.txt").read_text().splitlines()[0]
    match = CHECKER_DICE.match(line)
    assert match is not None and float(match.group(1)) == 1.0
    assert result["run"]["engine"]["roi"] == [32, 32, 32]


def test_breaking_one_label_region_drops_the_mean_dice_by_the_computed_amount(
    unet: tuple[str, Path],
) -> None:
    python, root = unet
    broken = root / "broken"
    shutil.copytree(root / "kits", broken)
    # case_00000's tumour relabelled as kidney: its kidney DICE becomes 2K / (2K + T), its
    # tumour DICE (1e-6) / (T + 1e-6); the other cases stay at 1
    script = """
import sys, nibabel, numpy as np
path = sys.argv[1] + "/case_00000/segmentation.nii.gz"
seg = nibabel.load(path)
label = np.asarray(seg.get_fdata(), dtype=np.uint8)
print(int((label == 1).sum()), int((label == 2).sum()))
label[label == 2] = 1
nibabel.save(nibabel.Nifti1Image(label, seg.affine), path)
"""
    kidney, tumour = (int(n) for n in run_script(python, "-c", script, broken).split())
    proc = _app(python, root, broken, "--accuracy", "--level", "99.9", "--results-dir", root / "b")
    k = (2 * kidney + 1e-6) / (2 * kidney + tumour + 1e-6)
    t = 1e-6 / (tumour + 1e-6)
    expected = (CASES - 1 + (k + t) / 2) / CASES
    result = json.loads((root / "b" / "result.json").read_text())
    assert result["benchmark"] == "3d-unet-99.9"
    assert result["accuracy"]["value"] == pytest.approx(expected, abs=1e-4)
    assert result["accuracy"]["passed"] is (expected >= 0.8617 * 0.999)
    assert f"mean DICE {expected:.5f}" in proc.stdout


def test_a_missing_case_file_is_a_usage_error_naming_it(unet: tuple[str, Path]) -> None:
    python, root = unet
    partial = root / "partial"
    shutil.copytree(root / "kits", partial)
    (partial / "case_00001" / "segmentation.nii.gz").unlink()
    proc = _app_raw(python, root, partial, "--accuracy", "--results-dir", root / "p")
    assert proc.returncode == 2
    assert "case_00001/segmentation.nii.gz" in proc.stderr and "hint:" in proc.stderr


@pytest.mark.slow
def test_singlestream_runs_and_reports_the_query_rate(unet: tuple[str, Path]) -> None:
    python, root = unet
    out = root / "SingleStream"
    args = ("--scenario", "SingleStream", "--mode", "performance")
    proc = _app(python, root, root / "kits", *args, "--results-dir", out)
    assert "Scenario : SingleStream" in proc.stdout
    result = json.loads((out / "result.json").read_text())
    perf = result["performance"]
    assert perf["scenario"] == "SingleStream" and perf["valid"] in (True, False)
    qps = perf["extras"]["QPS w/ loadgen overhead"]
    assert result["metrics"]["samples_per_second"] == pytest.approx(qps)
    # equal-issue mode (mlperf.conf's 3d-unet sample_concatenate_permutation) sizes the
    # run from the expected latency the smoke profile measured: whole passes over the set
    summary = (out / "performance" / "run_1" / "mlperf_log_summary.txt").read_text()
    queries = int(re.search(r"min_query_count : (\d+)", summary).group(1))  # type: ignore[union-attr]
    assert queries % CASES == 0 and queries < 20 * CASES


# --- the recipes --------------------------------------------------------------------------


def test_cmpkg_search_lists_the_app_and_show_lists_its_variants(tmp_path: Path) -> None:
    found = run_cmpkg(tmp_path, tmp_path / "home", "search", "mlperf")
    assert found.returncode == 0, found.stderr
    assert "mlperf-3d-unet" in found.stdout
    shown = run_cmpkg(tmp_path, tmp_path / "home", "show", "mlperf-3d-unet")
    assert shown.returncode == 0, shown.stderr
    for line in (
        "level = 99, 99.9  (default 99)",
        "backend = onnxruntime, pytorch  (default onnxruntime)",
        "device = cpu, cuda  (default cpu)",
        "model = official, synthetic  (default synthetic)",
        "dataset = kits19, synthetic  (default synthetic)",
    ):
        assert line in shown.stdout, shown.stdout


def test_cuda_variant_resolves_to_onnxruntime_gpu_alone_for_h200(tmp_path: Path) -> None:
    resolved = run_cmpkg(
        tmp_path,
        tmp_path / "home",
        *("resolve", "mlperf-3d-unet[device=cuda]", "--target", "h200-cuda13", "--json"),
    )
    assert resolved.returncode == 0, resolved.stderr
    packages = json.loads(resolved.stdout)["packages"]
    assert "onnxruntime-gpu" in packages and "onnxruntime" not in packages
    assert packages["kits19-synthetic"]["variant"] == {"runtime": "cuda"}
