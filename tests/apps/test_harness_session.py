"""The harness's one ONNX Runtime session setup (``mlperf_harness.onnxruntime_session``),
which the ResNet-50, BERT, YOLO and 3D-UNet backends each had a copy of, and the harness
importing without onnxruntime."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.apps.test_mlperf_resnet50 import app_python

ROOT = Path(__file__).parents[2]
HARNESS = ROOT / "index" / "libraries" / "mlperf-harness"
APPS = ROOT / "index" / "apps"
# Every module of the harness, and every app module whose onnxruntime backend opens its
# session through it, imported with onnxruntime made unimportable.
WITHOUT_ONNXRUNTIME = """
import importlib, pkgutil, sys
sys.modules["onnxruntime"] = None  # `import onnxruntime` now raises ImportError
import mlperf_harness
for module in pkgutil.iter_modules(mlperf_harness.__path__):
    importlib.import_module("mlperf_harness." + module.name)
for app in sys.argv[1:]:
    importlib.import_module(app + ".backends")
print("imported")
"""


@pytest.fixture(scope="module")
def session_module() -> Iterator[None]:
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    sys.path.insert(0, str(HARNESS))
    yield
    sys.path.remove(str(HARNESS))


def _identity_model(path: Path) -> Path:
    from onnx import TensorProto, helper, save

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g", [x], [y])
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


def test_a_cpu_session_has_the_shared_options(session_module: None, tmp_path: Path) -> None:
    import onnxruntime as ort
    from mlperf_harness.onnxruntime_session import open_session

    session = open_session(_identity_model(tmp_path / "m.onnx"), "cpu", 2)
    assert session.get_providers() == ["CPUExecutionProvider"]
    options = session.get_session_options()
    assert options.intra_op_num_threads == 2
    assert options.graph_optimization_level == ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    default = open_session(tmp_path / "m.onnx", "cpu", None).get_session_options()
    assert default.intra_op_num_threads == ort.SessionOptions().intra_op_num_threads


@pytest.mark.filterwarnings("ignore:Specified provider")
def test_cuda_without_its_provider_is_refused_not_run_on_the_cpu(
    session_module: None, tmp_path: Path
) -> None:
    import onnxruntime as ort
    from mlperf_harness.onnxruntime_session import SessionError, open_session

    if "CUDAExecutionProvider" in ort.get_available_providers():
        pytest.skip("this onnxruntime has CUDA")
    with pytest.raises(SessionError, match=r"CUDAExecutionProvider is not available.*hint: "):
        open_session(_identity_model(tmp_path / "m.onnx"), "cuda", None)


def test_the_harness_and_the_backends_import_without_onnxruntime() -> None:
    python = app_python("numpy", "mlperf_loadgen", "tqdm")
    folders = [HARNESS, APPS / "mlperf-resnet50", APPS / "mlperf-bert"]
    env = {"PYTHONPATH": ":".join(map(str, folders)), "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [python, "-c", WITHOUT_ONNXRUNTIME, "mlperf_resnet50", "mlperf_bert"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "imported"
