"""`cmpkg index check`, `cmpkg search`, `cmpkg show`, in-process and as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cmpkg.cli import main
from tests.index.conftest import WriteRecipe
from tests.index.recipes import recipe_text

REPO = Path(__file__).resolve().parents[2]
#: Three different mistakes: an unknown key, a bad version, a default that is no value.
THREE_MISTAKES = recipe_text(name="broken", version="1.0.0-final!", extra='colour = "red"') + (
    '[variants.device]\ndefault = "tpu"\n[variants.device.cpu]\n'
)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def problem_lines(err: str, path: Path) -> list[str]:
    return [line.strip() for line in err.splitlines() if line.strip().startswith(f"{path}: ")]


def test_check_shipped_index(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "index", "check")
    assert code == 0
    assert out.strip().endswith("packages: ok")
    count = int(out.split()[0])
    assert count >= 30


def test_check_three_mistakes_in_process(
    capsys: pytest.CaptureFixture[str], write_recipe: WriteRecipe
) -> None:
    path = write_recipe("broken.toml", text=THREE_MISTAKES)
    code, out, err = run(capsys, "index", "check", str(path.parent))
    assert code == 2
    assert out == ""
    lines = problem_lines(err, path)
    assert sorted(lines) == sorted(
        [
            f"{path}: colour: unknown key",
            f"{path}: version: invalid version '1.0.0-final!' (PEP 440)",
            f"{path}: variants.device.default: 'tpu' is not one of the values (cpu)",
        ]
    )
    assert f"error: 3 problems found in {path} [invalid-input]" in err
    assert "hint:" in err


def test_check_three_mistakes_subprocess(write_recipe: WriteRecipe) -> None:
    path = write_recipe("broken.toml", text=THREE_MISTAKES)
    env = {k: v for k, v in os.environ.items() if k != "CMPKG_INDEX"} | {"NO_COLOR": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "cmpkg", "index", "check", str(path)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        check=False,
        timeout=60,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert len(problem_lines(done.stderr, path)) == 3


def test_check_bad_toml_is_no_traceback(
    capsys: pytest.CaptureFixture[str], write_recipe: WriteRecipe
) -> None:
    path = write_recipe("bad.toml", text="name = [\n")
    code, _, err = run(capsys, "index", "check", str(path))
    assert code == 2
    assert len(problem_lines(err, path)) == 1


def test_check_missing_path(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "index", "check", str(tmp_path / "nope"))
    assert code == 2
    assert "index directory does not exist" in err


def test_a_missing_index_directory_is_not_sent_to_fix_recipes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, write_recipe: WriteRecipe
) -> None:
    code, _, err = run(capsys, "--index", str(tmp_path / "nope"), "resolve", "numpy")
    assert code == 2 and "hint: check the directory given with --index" in err
    bad = write_recipe("bad.toml", text="name = [\n")
    code, _, err = run(capsys, "--index", str(bad.parent), "resolve", "numpy")
    assert code == 2 and "hint: fix the recipes above" in err


def test_check_reads_cmpkg_index(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    write_recipe: WriteRecipe,
    index_dir: Path,
) -> None:
    write_recipe("broken.toml", text=THREE_MISTAKES)
    monkeypatch.setenv("CMPKG_INDEX", os.pathsep.join([str(index_dir), str(index_dir / "x")]))
    code, _, err = run(capsys, "index", "check")
    assert code == 2
    assert "error: 4 problems found" in err  # three mistakes and the missing directory


def test_check_counts_an_overlay(
    capsys: pytest.CaptureFixture[str], write_recipe: WriteRecipe, index_dir: Path
) -> None:
    _, shipped, _ = run(capsys, "index", "check")
    write_recipe("extra.toml", name="extra-package", extra='depends = ["numpy"]')
    code, out, _ = run(capsys, "index", "check", "--index", str(index_dir))
    assert code == 0
    assert int(out.split()[0]) == int(shipped.split()[0]) + 1


def test_search_tags_json_lists_resnet50_models(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "search", "get,ml-model,resnet50", "--json")
    assert code == 0
    rows = json.loads(out)
    names = [row["name"] for row in rows]
    assert names == ["resnet50-onnx", "resnet50-pytorch", "resnet50-synthetic"]
    assert all(row["kind"] == "model" for row in rows)
    assert all({"get", "ml-model", "resnet50"} <= set(row["tags"]) for row in rows)


def test_search_tag_exclusion(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "search", "get,ml-model,resnet50,-synthetic", "--json")
    assert [row["name"] for row in json.loads(out)] == ["resnet50-onnx", "resnet50-pytorch"]


def test_search_name_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "search", "onnxruntime")
    assert code == 0
    header, *rows = out.splitlines()
    assert header.split() == ["name", "version", "kind", "tags", "summary"]
    assert {row.split()[0] for row in rows} >= {"onnxruntime", "onnxruntime-gpu"}


def test_search_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "search", "no-such-thing-anywhere")
    assert code == 0
    assert out == ""
    assert "no package matches" in err


def test_show_json(capsys: pytest.CaptureFixture[str]) -> None:
    # 2.9.1: a release with a CPU build and CUDA builds (the newest, 2.14.0, ships cu130 only)
    code, out, _ = run(capsys, "show", "torch==2.9.1", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["name"] == "torch"
    newest = data["versions"][0]
    assert newest["version"] == "2.9.1"
    assert newest["kind"] == "library"
    (compute,) = newest["variants"]
    assert compute["name"] == "compute" and compute["default"] == "cpu"
    values = {v["value"]: v for v in compute["values"]}
    assert values["cpu"]["index_url"].endswith("/whl/cpu")
    hardware = {(h["requirement"], tuple(h["when"].items())) for h in newest["hardware"]}
    assert any(req.startswith("__cuda >=") for req, _ in hardware)
    assert all(when and when[0][0] == "compute" for _, when in hardware)


def test_show_sources_carry_verified_notes(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "show", "resnet50-pytorch", "--json")
    assert code == 0
    (source,) = json.loads(out)["versions"][0]["sources"]
    assert source["md5"] and source["verified"]
    _, text, _ = run(capsys, "show", "resnet50-pytorch")
    assert "verified: " in text and "url: https://zenodo.org/" in text


def test_show_version_range(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "show", "torch==2.8.0", "--json")
    assert code == 0
    assert [v["version"] for v in json.loads(out)["versions"]] == ["2.8.0"]


def test_show_detected_tool(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "show", "python")
    assert code == 0
    assert out.startswith("python detect >=3.10  (tool)")


def test_show_unknown_package_suggests(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "show", "resnet50-onx")
    assert code == 2  # bad input, as docs/cli.md says
    assert out == ""
    assert "no package named 'resnet50-onx' [unknown-package]" in err
    assert "hint: did you mean resnet50-onnx" in err


def test_show_unknown_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "show", "torch==0.1")
    assert code == 2
    assert "[no-such-version]" in err


def test_show_bad_name_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "show", "tags:get,ml-model")
    assert code == 2
    assert "hint: try `cmpkg search" in err
