"""Bad input through the CLI: the documented exit code, one `error:` line that names the
cause, a `hint:`, and never a traceback. Unexpected exceptions become "internal error"
with the traceback in a log file under the cache (exit 70)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cmpkg.cli import main

# (command line, exit code, the start of the first stderr line)
BAD_INPUTS: list[tuple[list[str], int, str]] = [
    (
        ["resolve", "mlperf-resnet50[backend=tensorflow]"],
        2,
        "error: variant group `backend` of mlperf-resnet50 has no value `tensorflow`; "
        "values: onnxruntime, pytorch [unknown-variant-value]",
    ),
    (
        ["install", "--dry-run", "mlperf-resnet50[colour=red]"],
        2,
        "error: mlperf-resnet50 has no variant group `colour`; groups: backend, dataset, "
        "device, framework, model [unknown-variant-group]",
    ),
    (["resolve", "nosuch-package"], 2, "error: no package named 'nosuch-package'"),
    (["resolve", "numpy>=9"], 1, "error: cannot install numpy >=9 [unsatisfiable]"),
    (["resolve"], 2, "error: the following arguments are required: REQ"),
    (["instal", "numpy"], 2, "error: unknown command 'instal'"),
    (["--mirror", "./m", "search", "numpy"], 2, "error: --mirror does not apply"),
    (["show", "nosuch"], 2, "error: no package named 'nosuch' [unknown-package]"),
    (["show", "numpy>=9"], 2, "error: no numpy >=9 [no-such-version]"),
    (["target", "show", "--target", "nosuch"], 2, "error: unknown target 'nosuch'"),
    (["env", "nosuch"], 2, "error: no environment named 'nosuch'"),
    (["cache", "info", "nosuch"], 2, "error: no store entry matches 'nosuch'"),
    (["mirror", "verify", "/nonexistent"], 2, "error: /nonexistent is not a cmpkg mirror"),
    (["index", "check", "/nonexistent"], 2, "error: 1 problem found in /nonexistent"),
    (["remove", "nosuch"], 2, "error: cmpkg.toml does not request nosuch"),
    (["add", "nosuch"], 2, "error: no package named 'nosuch'"),
    (["add", "numpy>=9"], 2, "error: numpy has no version >=9; versions: 2.4.6, 2.3.5, 2.2.6"),
    (["add", "mlperf-resnet50[backend=tf]"], 2, "error: variant group `backend`"),
    (["why", "numpy", "onnx"], 2, "error: numpy is not part of this resolution"),
    (["install", "--locked", "numpy"], 2, "error: --locked and --frozen install the lock's"),
    (["install", "numpy", "--with", "bad"], 2, "error: --with bad: expected NAME.path=DIR"),
    (
        ["install", "--dry-run", "onnx", "--with", "onx.path=/tmp"],
        2,
        "error: --with onx.path=/tmp: onx is not part of this resolution [unused-with]",
    ),
    (
        ["install", "--dry-run", "onnx", "--with", "onnx.path=/tmp"],
        2,
        "error: --with onnx.path=/tmp: onnx takes no path [unused-with]",
    ),
    (["env", "rm", "a", "b"], 2, "error: expected `cmpkg env list`"),
    (["env", "rm", "nosuch"], 2, "error: no environment named 'nosuch' (installed: none yet)"),
    (["resolve", "numpy", "--backend", "nosuch"], 2, "error: argument --backend: invalid choice"),
    (["install", "--dry-run", "numpy", "--backend", "x"], 2, "error: argument --backend: invalid"),
    (
        ["install", "numpy", "--target", "cpu-x86_64:python=3.99"],
        1,
        "error: target cpu-x86_64 builds its environment with Python 3.99, and this machine "
        "has none [no-python]",
    ),
]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty project (cmpkg.toml requesting onnx) as the working directory."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CMPKG_HOME", str(tmp_path / "home"))
    assert main(["init", "--target", "cpu"]) == 0
    assert main(["add", "onnx"]) == 0
    return tmp_path


@pytest.mark.parametrize(("argv", "code", "first"), BAD_INPUTS, ids=lambda v: str(v))
def test_bad_input_gives_the_code_a_one_line_error_and_a_hint(
    project: Path,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    code: int,
    first: str,
) -> None:
    before = (project / "cmpkg.toml").read_text()
    capsys.readouterr()
    try:
        got = main(argv)
    except SystemExit as exit_info:  # argparse's usage errors
        got = int(exit_info.code or 0)
    err = capsys.readouterr().err
    assert got == code, err
    lines = err.splitlines()
    assert lines[0].startswith(first), err
    assert any(line.startswith("hint: ") for line in lines), err
    assert "Traceback" not in err
    assert (project / "cmpkg.toml").read_text() == before  # nothing half-done


def test_a_mirror_that_is_down_is_named_in_words_not_a_library_exception(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    with socket.socket() as closed:  # a loopback port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    url = f"http://127.0.0.1:{port}/m"
    assert main(["--mirror", url, "install", "numpy"]) == 1
    err = capsys.readouterr().err
    assert err.splitlines()[0] == (
        f"error: cannot read {url}/mirror.json: connection refused [mirror-unreachable]"
    )
    assert "hint: " in err
    assert "HTTPConnection" not in err and "Errno" not in err and "Traceback" not in err


def test_resolve_for_cuda_without_cuda_names_what_each_gpu_source_said(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CMPKG_OVERRIDE_CUDA", "")  # this machine: no CUDA, whatever it has
    assert main(["resolve", "mlperf-resnet50", "--target", "cuda"]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "error: cannot install mlperf-resnet50 [unsatisfiable]"
    assert "      this target has no __cuda" in lines  # a derivation step, indented
    probed = lines.index("  where this machine was probed for __cuda:")
    assert lines[probed + 1 : probed + 3] == [
        "    nvml: skipped: CMPKG_OVERRIDE_CUDA is empty",
        "    nvidia-smi: skipped: CMPKG_OVERRIDE_CUDA is empty",
    ]


def test_an_unexpected_exception_is_an_internal_error_with_a_log(
    tmp_path: Path,
) -> None:
    """A real bug (a handler raising), in a real process: exit 70, one line, the log."""
    boom = (
        "import sys\n"
        "import cmpkg.cli.install_cmds as c\n"
        "def broken(args): raise RuntimeError('the probe fell over\\nsecond line')\n"
        "c._resolve = broken\n"
        "from cmpkg.cli import main\n"
        "sys.exit(main(['resolve', 'x', '--mirror', 'https://bob:s3cret@h.example/m']))\n"
    )
    env = {**os.environ, "CMPKG_HOME": str(tmp_path / "home")}
    done = subprocess.run(
        [sys.executable, "-c", boom], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 70
    lines = done.stderr.splitlines()
    assert lines[0] == "error: internal error: RuntimeError: the probe fell over"
    assert "Traceback" not in done.stderr
    logs = list((tmp_path / "home" / "logs").glob("internal-error-*.log"))
    assert len(logs) == 1 and str(logs[0]) in lines[1]
    text = logs[0].read_text()
    assert "Traceback" in text and "the probe fell over" in text
    assert "command: cmpkg resolve x --mirror https://***@h.example/m" in text
    assert "s3cret" not in text  # no credential is written anywhere


def test_the_backend_choices_are_the_solver_library_s() -> None:
    from cmpkg.cli.common import BACKENDS
    from solvers.solve import backend_names

    assert sorted(BACKENDS) == sorted(backend_names())


@pytest.mark.parametrize(
    ("argv", "missing"),
    [(["mirror", "create"], "DIR"), (["cache", "info"], "KEY"), (["why"], "NAME, REQ")],
)
def test_a_missing_argument_is_named_as_the_docs_name_it(
    capsys: pytest.CaptureFixture[str], argv: list[str], missing: str
) -> None:
    """`mirror create DIR [REQ...]`: REQ is optional, so only DIR is missing."""
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    first = capsys.readouterr().err.splitlines()[0]
    assert first == f"error: the following arguments are required: {missing}"
