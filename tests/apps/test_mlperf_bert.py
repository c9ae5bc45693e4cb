"""mlperf-bert: the synthetic tiny BERT, the synthetic SQuAD set it answers, squad_qa's
features/answers/metric, and the app on the shared harness under the real LoadGen.

Like tests/apps/test_mlperf_resnet50.py, the recipe scripts and the app run in
subprocesses with an interpreter that has their stack (this one, or
$MLPERF_APP_TEST_PYTHON), and skip otherwise. squad_qa's pure parts run in-process.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.apps.test_mlperf_resnet50 import ONNX_GRAPH_ENV, app_python, run_script, seeded_onnx

ROOT = Path(__file__).parents[2]
APP = ROOT / "index" / "apps" / "mlperf-bert"
SQUAD_QA = ROOT / "index" / "libraries" / "squad-qa"
MODEL_GEN = ROOT / "index" / "models" / "bert-synthetic" / "generate.py"
SQUAD_GEN = ROOT / "index" / "datasets" / "squad-synthetic" / "generate.py"
# The submission checker's accuracy.txt pattern for BERT (tools/submission constants).
CHECKER_F1 = re.compile(r"^{[\"\']exact_match[\"\']\:\s*[\d\.]+,\s*[\"\']f1[\"\']\:\s*([\d\.]+)}")
QUESTIONS = 24


@pytest.fixture(scope="module")
def squad_qa() -> Iterator[None]:
    pytest.importorskip("tokenizers")
    sys.path.insert(0, str(SQUAD_QA))
    yield
    sys.path.remove(str(SQUAD_QA))


# --- the official metric and the reference's windowing rules ---------------------------


def test_metric_normalises_like_the_official_script(squad_qa: None) -> None:
    from squad_qa.features import Example
    from squad_qa.metric import evaluate, exact_match, f1_score, normalize_answer

    assert normalize_answer("The  Big, cat!") == "big cat"
    assert exact_match("a big cat", "Big cat.") == 1.0
    assert f1_score("big red cat", "big cat") == pytest.approx(0.8)
    assert f1_score("dog", "cat") == 0.0
    examples = [Example("q1", "?", "", ("cat", "a dog")), Example("q2", "?", "", ("x y",))]
    scores = evaluate(examples, {"q1": "dog", "q2": "x"})
    assert (scores.exact_match, scores.total) == (50.0, 2)
    assert scores.f1 == pytest.approx(100 * (1 + 2 / 3) / 2)


def test_windows_step_by_the_doc_stride_and_each_token_has_one_best_window(
    squad_qa: None,
) -> None:
    from squad_qa.features import _max_context, _windows

    windows = _windows(700, 300)
    assert windows == [(0, 300), (128, 300), (256, 300), (384, 300), (512, 188)]
    for position in range(700):
        assert sum(_max_context(windows, i, position) for i in range(len(windows))) == 1
    assert _windows(10, 300) == [(0, 10)]


# --- generators -------------------------------------------------------------------------


def test_synthetic_bert_is_byte_identical_per_seed_with_the_official_interface(
    tmp_path: Path,
) -> None:
    python = app_python("numpy", "onnx")
    checks = """
ins = [(i.name, dims(i)) for i in m.graph.input]
outs = [(o.name, dims(o)) for o in m.graph.output]
assert ins == [(n, ["N", 384]) for n in ("input_ids", "input_mask", "segment_ids")], ins
assert outs == [(n, ["N", 384]) for n in ("output_start_logits", "output_end_logits")], outs
ops = {n.op_type for n in m.graph.node}
assert {"LayerNormalization", "Softmax", "Erf", "Gather"} <= ops, ops
"""
    seeded_onnx(python, MODEL_GEN, tmp_path, checks)
    vocab = (tmp_path / "a" / "vocab.txt").read_text().split()
    assert vocab[:4] == ["[PAD]", "[UNK]", "[CLS]", "[SEP]"] and len(set(vocab)) == len(vocab)


@pytest.fixture(scope="module")
def bert(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """A synthetic model and a synthetic SQuAD set of QUESTIONS questions answered by it."""
    python = app_python("numpy", "onnx", "onnxruntime", "tokenizers", "mlperf_loadgen", "tqdm")
    root = tmp_path_factory.mktemp("bert")
    run_script(python, MODEL_GEN, "--out", root / "model", env=ONNX_GRAPH_ENV)
    env = {"PYTHONPATH": str(SQUAD_QA)}
    run_script(
        python,
        SQUAD_GEN,
        *("--model", root / "model" / "model.onnx", "--vocab", root / "model" / "vocab.txt"),
        *("--out", root / "squad", "--count", str(QUESTIONS)),
        env=env,
    )
    return python, root


def _app(
    python: str, root: Path, dataset: Path, *args: str | Path
) -> subprocess.CompletedProcess[str]:
    inputs = ["--model", root / "model" / "model.onnx", "--vocab", root / "model" / "vocab.txt"]
    proc = subprocess.run(
        [python, str(APP / "main.py"), *map(str, [*inputs, "--dataset", dataset, *args])],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def test_synthetic_squad_is_shaped_like_squad_and_answered_from_its_contexts(
    bert: tuple[str, Path],
) -> None:
    _, root = bert
    data = json.loads((root / "squad" / "dev-v1.1.json").read_text())
    paragraphs = data["data"][0]["paragraphs"]
    assert data["version"] == "1.1" and len(paragraphs) == QUESTIONS
    for para in paragraphs:
        answer = para["qas"][0]["answers"][0]
        start = answer["answer_start"]
        assert para["context"][start : start + len(answer["text"])] == answer["text"]
    meta = json.loads((root / "squad" / "squad.json").read_text())
    assert meta["features"] > QUESTIONS  # the long contexts need several windows


def test_smoke_run_is_labelled_and_accuracy_gives_f1_100(bert: tuple[str, Path]) -> None:
    python, root = bert
    out = root / "smoke"
    proc = _app(python, root, root / "squad" / "dev-v1.1.json", "--results-dir", out)
    assert "*** SMOKE RUN: short settings, not a valid submission-length run ***" in proc.stdout
    assert f"F1 100.000, exact match 100.000 ({QUESTIONS} questions)" in proc.stdout
    result = json.loads((out / "result.json").read_text())
    assert (result["benchmark"], result["profile"]) == ("bert-99", "smoke")
    assert result["valid"] in (True, False)  # LoadGen's verdict depends on the machine's speed
    assert result["accuracy"]["target"] == pytest.approx(90.874 * 0.99, abs=1e-6)
    assert result["metrics"]["f1"] == 100.0 and result["metrics"]["samples_per_second"] > 0
    line = (out / "accuracy" / "accuracy.txt").read_text().splitlines()[0]
    match = CHECKER_F1.match(line)
    assert match is not None and float(match.group(1)) == 100.0


def test_breaking_one_answer_drops_f1_by_one_question(bert: tuple[str, Path]) -> None:
    python, root = bert
    data = json.loads((root / "squad" / "dev-v1.1.json").read_text())
    data["data"][0]["paragraphs"][0]["qas"][0]["answers"] = [
        {"text": "[nothing]", "answer_start": 0}
    ]
    broken = root / "broken.json"
    broken.write_text(json.dumps(data))
    proc = _app(python, root, broken, "--accuracy", "--level", "99.9", "--results-dir", root / "b")
    expected = 100 * (QUESTIONS - 1) / QUESTIONS
    assert f"F1 {expected:.3f}, exact match {expected:.3f}" in proc.stdout
    result = json.loads((root / "b" / "result.json").read_text())
    assert result["benchmark"] == "bert-99.9" and result["accuracy"]["passed"] is True
    assert result["accuracy"]["target"] == pytest.approx(90.874 * 0.999, abs=1e-6)


@pytest.mark.parametrize("wanted", [True, False])
def test_progress_is_drawn_on_a_terminal_stderr_and_never_on_stdout(
    bert: tuple[str, Path], wanted: bool
) -> None:
    import os

    from tests.support.terminal import on_terminal

    python, root = bert
    inputs = ["--model", root / "model" / "model.onnx", "--vocab", root / "model" / "vocab.txt"]
    args = [*inputs, "--dataset", root / "squad" / "dev-v1.1.json", "--results-dir", root / "tty"]
    quiet = {} if wanted else {"CMPKG_NO_PROGRESS": "1"}
    code, stdout, terminal = on_terminal(
        [python, str(APP / "main.py"), *map(str, args)], {**os.environ, **quiet}
    )
    assert code == 0
    # tqdm's bar: redrawn in place, with the mode as label and the rate in samples/s
    drew = "\r" in terminal and "performance:" in terminal and "sample/s" in terminal
    assert drew is wanted and "estimate:" in terminal
    assert "sample/s" not in stdout and "\r" not in stdout


@pytest.mark.slow
@pytest.mark.parametrize("scenario", ["SingleStream", "MultiStream", "Server"])
def test_every_scenario_runs_on_the_shared_harness(bert: tuple[str, Path], scenario: str) -> None:
    python, root = bert
    out = root / scenario
    args = ("--scenario", scenario, "--mode", "performance", "--count", "16")
    proc = _app(python, root, root / "squad" / "dev-v1.1.json", *args, "--results-dir", out)
    assert f"Scenario : {scenario}" in proc.stdout
    result = json.loads((out / "result.json").read_text())
    perf = result["performance"]
    assert perf["scenario"] == scenario and perf["valid"] in (True, False)
    assert result["metrics"]["samples_per_second"] > 0 and perf["latency_ns"]["p90"] > 0
    if scenario == "SingleStream":  # one sample per query: the rate is the query rate
        qps = perf["extras"]["QPS w/ loadgen overhead"]
        assert result["metrics"]["samples_per_second"] == pytest.approx(qps)
