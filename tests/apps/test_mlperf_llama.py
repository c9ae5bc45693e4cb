"""mlperf-llama3.1-8b: what resolves for which target (vLLM's real pins), the synthetic tiny
Llama and the CNN-DailyMail-shaped set it answers, and the app on the shared harness under
the real LoadGen: token reporting (TTFT/TPOT in Server), ROUGE at its maximum, TEST06.

The resolve tests run in-process. The scripts and the app need torch, transformers,
tokenizers and rouge_score, so, like tests/apps/test_mlperf_resnet50.py, they run in
subprocesses with an interpreter that has them (this one, or $MLPERF_APP_TEST_PYTHON) and
skip otherwise (torch is not a dev dependency).
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from cmpkg.cli import main
from tests.apps.test_mlperf_resnet50 import app_python, run_script

ROOT = Path(__file__).parents[2]
APP = ROOT / "index" / "apps" / "mlperf-llama3-1-8b" / "main.py"
MODEL_GEN = ROOT / "index" / "models" / "llama3-1-8b-synthetic" / "generate.py"
DATA_GEN = ROOT / "index" / "datasets" / "cnn-dailymail-synthetic" / "generate.py"
STACK = ("torch", "transformers", "tokenizers", "safetensors", "rouge_score", "mlperf_loadgen")
STACK += ("numpy", "tqdm")
HARNESS = ROOT / "index" / "libraries" / "mlperf-harness"
SAMPLES = 12


@pytest.fixture(scope="module")
def harness_path() -> Iterator[None]:
    """The shared harness importable in-process."""
    sys.path.insert(0, str(HARNESS))
    yield
    sys.path.remove(str(HARNESS))


def _resolve(capsys: pytest.CaptureFixture[str], request: str, target: str) -> dict[str, object]:
    assert main(["resolve", request, "--target", target, "--json"]) == 0
    document: dict[str, object] = json.loads(capsys.readouterr().out)
    return document


def test_vllm_resolves_for_the_h200_with_its_own_torch_build_and_transformers(
    capsys: pytest.CaptureFixture[str],
) -> None:
    packages = _resolve(capsys, "mlperf-llama3.1-8b[backend=vllm]", "h200-cuda13")["packages"]
    assert isinstance(packages, dict)
    assert packages["vllm"]["version"] == "0.34.0"
    # vllm 0.34.0's METADATA pins torch==2.14.0 (a CUDA 13 build) and transformers <5.23
    assert (packages["torch"]["version"], packages["torch"]["variant"]) == (
        "2.14.0",
        {"compute": "registry"},
    )
    assert packages["transformers"]["version"] == "5.22.2"
    assert packages["mlperf-llama3-1-8b"]["variant"]["device"] == "cuda"


def test_vllm_on_a_cuda_12_2_driver_is_explained_by_the_facts(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["resolve", "mlperf-llama3.1-8b[backend=vllm]", "--target", "a100-cuda12"]) == 1
    err = capsys.readouterr().err
    assert "cannot install mlperf-llama3.1-8b" in err or "cannot install mlperf-llama3-1-8b" in err
    assert "vllm" in err and "__cuda" in err and "12.2" in err
    assert ">=12.8" in err or ">=13.0" in err
    assert "Traceback" not in err


def test_defaults_and_the_edge_variant_resolve_for_the_cpu(
    capsys: pytest.CaptureFixture[str],
) -> None:
    packages = _resolve(capsys, "mlperf-llama3.1-8b", "cpu")["packages"]
    assert isinstance(packages, dict)
    app = packages["mlperf-llama3-1-8b"]["variant"]
    assert (app["backend"], app["device"], app["model"], app["dataset"]) == (
        "transformers",
        "cpu",
        "synthetic",
        "synthetic",
    )
    # the default package index's build: the one wheel source every such machine reaches
    assert packages["torch"]["variant"] == {"compute": "registry"}
    assert app["framework"] == "registry"
    assert {"llama3-1-8b-synthetic", "cnn-dailymail-synthetic", "rouge-score"} <= set(packages)
    edge = _resolve(capsys, "mlperf-llama3.1-8b[category=edge,model=official,dataset=cnndm]", "cpu")
    assert isinstance(edge["packages"], dict)
    assert {"llama3-1-8b-instruct", "cnn-dailymail-llama3-edge"} <= set(edge["packages"])
    assert "cnn-dailymail-llama3" not in edge["packages"]


def test_framework_registry_takes_the_registrys_torch_build(
    capsys: pytest.CaptureFixture[str],
) -> None:
    packages = _resolve(capsys, "mlperf-llama3.1-8b[framework=registry]", "cpu")["packages"]
    assert isinstance(packages, dict)
    assert packages["torch"]["variant"] == {"compute": "registry"}
    assert "__cuda" not in packages["torch"]["facts"]  # it runs on CPU


def test_the_default_install_builds_one_torch_environment(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The dataset's generate step runs in the app's own environment (one key, one store
    entry: one multi-GB torch), the model's in numpy + safetensors + tokenizers."""
    monkeypatch.setenv("CMPKG_HOME", str(tmp_path / "home"))
    argv = ["install", "mlperf-llama3.1-8b", "--dry-run", "--target", "cpu", "--json"]
    assert main(argv) == 0
    keys = {s["name"]: s["key"] for s in json.loads(capsys.readouterr().out)["steps"]}
    assert keys["python-env:cnn-dailymail-synthetic"] == keys["python-env"]
    assert keys["python-env:llama3-1-8b-synthetic"] != keys["python-env"]
    assert main(["resolve", "llama3-1-8b-synthetic", "--target", "cpu", "--json"]) == 0
    model = json.loads(capsys.readouterr().out)["packages"]
    assert {"numpy", "safetensors", "tokenizers"} <= set(model)
    assert not {"torch", "transformers"} & set(model)


def test_off_linux_x86_64_the_default_is_pytorchs_index_and_the_registry_is_explained(
    capsys: pytest.CaptureFixture[str],
) -> None:
    packages = _resolve(capsys, "mlperf-llama3.1-8b", "grace-aarch64")["packages"]
    assert isinstance(packages, dict)
    assert packages["mlperf-llama3-1-8b"]["variant"]["framework"] == "pip"
    assert packages["torch"]["variant"] == {"compute": "cpu"}
    request = "mlperf-llama3.1-8b[framework=registry]"
    assert main(["resolve", request, "--target", "grace-aarch64"]) == 1
    err = capsys.readouterr().err
    assert "need torch [compute=registry]" in err and "__arch aarch64" in err


@pytest.mark.parametrize(
    "request_text", ["llama2-70b-chat-hf", "open-orca-llama2", "deepseek-r1", "deepseek-r1-eval"]
)
def test_the_next_llms_are_recipes(capsys: pytest.CaptureFixture[str], request_text: str) -> None:
    assert request_text in _resolve(capsys, request_text, "h200-cuda13")["packages"]  # type: ignore[operator]


# ------------------------------------------------- the harness's token parts (in-process)


def test_a_token_summary_gives_ttft_and_tpot(harness_path: None) -> None:
    from mlperf_harness.summary import parse_summary

    # captured from LoadGen 6.0.17, Server with use_token_latencies and FirstTokenComplete
    text = (ROOT / "tests" / "apps" / "data" / "summary_server_tokens.txt").read_text()
    tokens = parse_summary(text).tokens()
    assert tokens["tokens_per_second"] == 192.32
    assert set(tokens["ttft_ns"]) == set(tokens["tpot_ns"]) == {  # type: ignore[arg-type]
        "min", "mean", "p50", "p90", "p95", "p97", "p99", "p99.9", "max"
    }  # fmt: skip
    assert parse_summary("Scenario : Offline\nSamples per second: 3\n").tokens() == {}


def _entry(
    data: list[int], first: list[int] | None = None, count: int | None = None
) -> dict[str, object]:
    entry: dict[str, object] = {"qsl_idx": 0, "data": np.asarray(data, "<i4").tobytes().hex()}
    entry["token_count"] = len(data) if count is None else count
    if first is not None:
        entry["token_data"] = np.asarray(first, "<i4").tobytes().hex()
    return entry


def test_test06_checks_first_token_eos_and_length_as_the_official_script(
    harness_path: None,
) -> None:
    from mlperf_harness.test06 import verify

    good = [_entry([5, 6, 7, 2], first=[5]), _entry([2, 2], first=[2])]
    assert verify(good, "Server", eos=2, dtype="int32").passed
    assert verify([_entry([5, 6], first=[6])], "Server", 2, "int32").first_token is False
    assert verify([_entry([5, 6], first=[6])], "Offline", 2, "int32").first_token is None
    assert verify([_entry([5, 2, 2], first=[5])], "Server", 2, "int32").eos is False
    assert verify([_entry([5, 6], first=[5], count=3)], "Server", 2, "int32").sample_length is False
    text = verify([_entry([5, 6], first=[6])], "Server", 2, "int32").text()
    assert text.splitlines() == [
        "First token check pass: False",
        "EOS check pass: True",
        "Sample length check pass: True",
        "TEST06 verification failed",
    ]


# ------------------------------------------------- the model generator (no torch needed)

# The generator run with torch and transformers unimportable: it must not need them.
WITHOUT_TORCH = (
    "import runpy, sys; sys.modules.update(torch=None, transformers=None); "
    "sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')"
)


def _llama_tensors(config: dict[str, int]) -> dict[str, list[int]]:
    """The state dict ``LlamaForCausalLM`` expects for ``config``: names and shapes."""
    hidden, inner, vocab = config["hidden_size"], config["intermediate_size"], config["vocab_size"]
    kv = config["num_key_value_heads"] * config["head_dim"]
    shapes = {"model.embed_tokens.weight": [vocab, hidden], "model.norm.weight": [hidden]}
    shapes["lm_head.weight"] = [vocab, hidden]
    for i in range(config["num_hidden_layers"]):
        layer = {
            "self_attn.q_proj": [config["num_attention_heads"] * config["head_dim"], hidden],
            "self_attn.k_proj": [kv, hidden],
            "self_attn.v_proj": [kv, hidden],
            "self_attn.o_proj": [hidden, config["num_attention_heads"] * config["head_dim"]],
            "mlp.gate_proj": [inner, hidden],
            "mlp.up_proj": [inner, hidden],
            "mlp.down_proj": [hidden, inner],
            "input_layernorm": [hidden],
            "post_attention_layernorm": [hidden],
        }
        shapes |= {f"model.layers.{i}.{name}.weight": shape for name, shape in layer.items()}
    return shapes


def _safetensors_header(path: Path) -> dict[str, dict[str, object]]:
    """The file's JSON header (8-byte little-endian length, then JSON): the format's spec."""
    raw = path.read_bytes()
    size = int.from_bytes(raw[:8], "little")
    header: dict[str, dict[str, object]] = json.loads(raw[8 : 8 + size])
    return header


def test_the_model_generator_needs_no_torch_and_writes_a_llama_checkpoint_per_seed(
    tmp_path: Path,
) -> None:
    python = app_python("numpy", "safetensors", "tokenizers")
    for name, seed in (("a", "0"), ("b", "0"), ("c", "1")):
        run_script(python, "-c", WITHOUT_TORCH, MODEL_GEN, "--out", tmp_path / name, "--seed", seed)
    files = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert {"config.json", "generation_config.json", "model.safetensors", "tokenizer.json"} <= set(
        files
    )
    for name in files:  # the same seed, the same bytes
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    weights = (tmp_path / "a" / "model.safetensors").read_bytes()
    assert weights != (tmp_path / "c" / "model.safetensors").read_bytes()
    config = json.loads((tmp_path / "a" / "config.json").read_text())
    assert (config["architectures"], config["model_type"]) == (["LlamaForCausalLM"], "llama")
    assert config["num_key_value_heads"] < config["num_attention_heads"]  # grouped-query
    header = _safetensors_header(tmp_path / "a" / "model.safetensors")
    assert header.pop("__metadata__") == {"format": "pt"}  # what transformers requires
    assert {k: v["shape"] for k, v in header.items()} == _llama_tensors(config)
    assert {v["dtype"] for v in header.values()} == {"F32"}
    special = json.loads((tmp_path / "a" / "tokenizer.json").read_text())["added_tokens"]
    ids = {t["content"]: t["id"] for t in special}
    assert ids["<|begin_of_text|>"] == config["bos_token_id"]
    assert ids["<|eot_id|>"] == config["eos_token_id"]


# ------------------------------------------------------------------- the runnable path
# Each app run starts torch and LoadGen in a subprocess (tens of seconds on 2 loaded cores).


@pytest.fixture(scope="module")
def llama(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The synthetic model and SAMPLES records it answered, made by the recipes' scripts."""
    python = app_python(*STACK)
    root = tmp_path_factory.mktemp("llama")
    run_script(python, MODEL_GEN, "--out", root / "model", "--seed", "0")
    data = ("--model", root / "model", "--out", root / "data", "--count", str(SAMPLES))
    run_script(python, DATA_GEN, *data, "--max-new-tokens", "16")
    yield python, root


def _app(
    python: str, root: Path, *args: str, env: dict[str, str] | None = None, status: int = 0
) -> dict[str, object]:
    out = root / "runs" / hashlib.sha256(repr(args).encode()).hexdigest()[:12]
    inputs = ("--model", root / "model", "--dataset", root / "data" / "cnn_eval.json")
    run_script(python, APP, *inputs, "--results-dir", out, *args, env=env, status=status)
    result: dict[str, object] = json.loads((out / "result.json").read_text())
    return result


LOAD_AND_GENERATE = """
import sys, torch
from transformers import AutoTokenizer, LlamaForCausalLM
model, info = LlamaForCausalLM.from_pretrained(sys.argv[1], output_loading_info=True)
assert not any(info.values()), info  # no missing, unexpected or mismatched tensor
tok = AutoTokenizer.from_pretrained(sys.argv[1])
assert tok.bos_token_id == model.config.bos_token_id
assert tok.eos_token_id == model.config.eos_token_id
ids = torch.tensor([[tok.bos_token_id, *tok.encode("badu kelo", add_special_tokens=False)]])
out = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=4)
assert out.shape[1] > ids.shape[1]
"""


@pytest.mark.slow
def test_synthetic_model_loads_as_llama_for_causal_lm_and_generates(
    llama: tuple[str, Path],
) -> None:
    python, root = llama
    run_script(python, "-c", LOAD_AND_GENERATE, root / "model")


@pytest.mark.slow
def test_synthetic_set_has_the_rounds_shape_and_the_models_summaries(
    llama: tuple[str, Path],
) -> None:
    _, root = llama
    records = json.loads((root / "data" / "cnn_eval.json").read_text())
    assert len(records) == SAMPLES
    assert all({"input", "tok_input", "output"} <= set(r) and r["output"] for r in records)
    meta = json.loads((root / "data" / "synthetic.json").read_text())
    assert meta["gen_tok_len"] == sum(r["gen_tokens"] for r in records)


@pytest.mark.slow
def test_accuracy_gives_rouge_at_its_maximum_and_the_generation_length(
    llama: tuple[str, Path],
) -> None:
    python, root = llama
    result = _app(python, root, "--accuracy")
    accuracy = result["accuracy"]
    assert isinstance(accuracy, dict)
    assert [accuracy[m] for m in ("rouge1", "rouge2", "rougeL", "rougeLsum")] == [100.0] * 4
    assert accuracy["gen_len_ok"] is True and accuracy["passed"] is True
    text = (Path(accuracy["dir"]) / "accuracy.txt").read_text()
    assert "'rouge1': 100.0" in text and "hash=" in text


@pytest.mark.slow
def test_a_broken_reference_lowers_rouge(llama: tuple[str, Path], tmp_path: Path) -> None:
    python, root = llama
    records = json.loads((root / "data" / "cnn_eval.json").read_text())
    records[0]["output"] = "nothing like it"
    broken = tmp_path / "broken"
    (broken / "data").mkdir(parents=True)
    (broken / "data" / "cnn_eval.json").write_text(json.dumps(records))
    (broken / "data" / "synthetic.json").write_bytes(
        (root / "data" / "synthetic.json").read_bytes()
    )
    (broken / "model").symlink_to(root / "model")
    accuracy = _app(python, broken, "--accuracy")["accuracy"]
    assert isinstance(accuracy, dict)
    assert accuracy["rouge1"] < 100.0


@pytest.mark.slow
def test_server_reports_first_token_and_per_token_latencies(llama: tuple[str, Path]) -> None:
    python, root = llama
    result = _app(python, root, "--scenario", "Server", "--mode", "performance")
    performance = result["performance"]
    assert isinstance(performance, dict)
    tokens = performance["tokens"]
    assert tokens["ttft_ns"]["p99"] > 0 and tokens["tpot_ns"]["p99"] > 0


@pytest.mark.slow
@pytest.mark.parametrize(("scenario", "fault"), [("Server", None), ("Server", "first-token")])
def test_test06_passes_and_catches_an_inconsistent_first_token(
    llama: tuple[str, Path], scenario: str, fault: str | None
) -> None:
    python, root = llama
    env = {"MLPERF_HARNESS_FAULT": fault} if fault else None
    # TEST06's audit.config asks for 100 queries: a target rate this engine nearly keeps up with
    args = ("--scenario", scenario, "--compliance", "TEST06", "--target-qps", "4")
    result = _app(python, root, *args, env=env, status=0 if fault is None else 1)
    check = result["verification"]
    assert isinstance(check, dict)
    assert check["eos"] is True and check["sample_length"] is True
    assert check["first_token"] is (fault is None)
    assert check["passed"] is (fault is None)
    lines = Path(check["file"]).read_text()
    assert ("TEST06 verification complete" in lines) is (fault is None)


@pytest.mark.slow
def test_the_edge_benchmark_refuses_server(llama: tuple[str, Path]) -> None:
    python, root = llama
    with pytest.raises(AssertionError, match="no Server scenario"):
        _app(python, root, "--benchmark", "llama3.1-8b-edge", "--scenario", "Server")
