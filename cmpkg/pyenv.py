"""Isolated Python environments: one venv per environment, ONE installer call for all of it.

Owns creating the venv (virtualenv, from the detected interpreter, never touching the system
one), the single `pip install` of every requirement (so pip sees every conflict: CM's "last
pip install wins" cannot happen), the record of what pip installed with each file's URL and
sha256 (from pip's `--report`, for the lockfile), and making the venv valid at its final store
path after the store renames the build directory into place.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cmpkg.errors import CmpkgError
from cmpkg.process import run_or_raise

VENV = "venv"


@dataclass(frozen=True)
class WheelSource:
    """Where pip may take distributions from (a mirror, test wheels, extra indexes)."""

    find_links: tuple[str, ...] = ()
    index_urls: tuple[str, ...] = ()  # extra indexes asked for by variants (torch cu128 ...)
    no_index: bool = False  # offline or mirror-only: never a remote index
    require_hashes: bool = False


def venv_python(root: Path) -> Path:
    return root / VENV / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def create(dest: Path, python: str, *, system_site: bool = False) -> None:
    """A fresh venv at `dest/venv` for interpreter `python`, with pip seeded offline.

    `system_site` lets the venv see the interpreter's own packages: how a recipe reuses a
    framework installed system-wide (an HPC image's CUDA PyTorch) instead of downloading it.
    """
    from virtualenv import cli_run

    argv = [str(dest / VENV), "--python", python, "--no-setuptools", "--quiet"]
    try:
        cli_run([*argv, "--system-site-packages"] if system_site else argv, setup_logging=False)
        if system_site:
            _see_interpreter_site(dest, python)
    except Exception as error:  # virtualenv raises many kinds; all mean the same to a user
        raise CmpkgError(
            "venv-failed", f"cannot create a virtual environment with {python}: {error}"
        ) from None


_SITE_DIRS = (
    "import site, sys; print(sys.prefix != sys.base_prefix); "
    "print('\\n'.join(site.getsitepackages()))"
)


def _see_interpreter_site(dest: Path, python: str) -> None:
    """Make the interpreter's own site-packages visible when it is itself a venv.

    `--system-site-packages` exposes the *base* interpreter's packages; an image whose
    framework lives in a venv (`/opt/torch/.venv/bin/python3`) needs that venv's instead.
    A `.pth` file appends them after the new venv's own packages, which keep precedence.
    """
    done = subprocess.run([python, "-c", _SITE_DIRS], capture_output=True, text=True, check=False)
    lines = done.stdout.split("\n")
    if done.returncode != 0 or lines[0] != "True":
        return
    inner = subprocess.run(
        [str(venv_python(dest)), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    )
    pth = Path(inner.stdout.strip()) / "_cmpkg_interpreter_site.pth"
    pth.write_text("".join(line + "\n" for line in lines[1:] if line))


def pip_command(
    root: Path, requirements: Sequence[str], source: WheelSource, report: Path
) -> list[str]:
    """One `pip install` of everything. Hash-pinned requirements (from a lock) go through a
    requirements file, the only place pip accepts `--hash`, with `--no-deps`: the lock
    already lists every distribution."""
    argv = [str(venv_python(root)), "-m", "pip", "install", "--disable-pip-version-check"]
    argv += ["--no-input", "--progress-bar", "off", "--report", str(report)]
    if source.no_index:
        argv.append("--no-index")
    for link in source.find_links:
        argv += ["--find-links", link]
    for url in source.index_urls:
        argv += ["--extra-index-url", url]
    if source.require_hashes:
        pinned = report.with_name("requirements.txt")
        pinned.write_text("".join(r + "\n" for r in requirements))
        return [*argv, "--require-hashes", "--no-deps", "-r", str(pinned)]
    return [*argv, *requirements]


def install(
    root: Path, requirements: Sequence[str], source: WheelSource, env: dict[str, str]
) -> list[dict[str, Any]]:
    """Install every requirement in one pip call; return what was installed, with hashes."""
    report = root / "pip-report.json"
    run_or_raise(
        pip_command(root, requirements, source, report),
        "pip-failed",
        f"pip could not install the environment ({len(requirements)} requirements)",
        hint="pip sees every requirement at once: a conflict above is a real one",
        env=env,
    )
    installed = parse_report(json.loads(report.read_text()))
    report.unlink()
    report.with_name("requirements.txt").unlink(missing_ok=True)
    return installed


def parse_report(report: dict[str, Any]) -> list[dict[str, Any]]:
    """pip's installation report as sorted records {name, version, url, sha256}."""
    records = []
    for item in report.get("install", []):
        info = item.get("download_info", {})
        hashes = info.get("archive_info", {}).get("hashes", {})
        meta = item.get("metadata", {})
        records.append(
            {
                "name": meta.get("name", ""),
                "version": meta.get("version", ""),
                "url": info.get("url", ""),
                "sha256": hashes.get("sha256", ""),
            }
        )
    return sorted(records, key=lambda r: str(r["name"]).lower())


def relocate(tmp: Path, final: Path) -> None:
    """Point the venv's scripts at the path the store will rename it to.

    A venv records its own location in script shebangs and activation scripts; the store
    builds in a temp dir and renames, so the text is rewritten before the rename.
    """
    old, new = str(tmp / VENV), str(final / VENV)
    bin_dir = tmp / VENV / "bin"
    for path in bin_dir.iterdir() if bin_dir.is_dir() else []:
        if path.is_symlink() or not path.is_file():
            continue
        data = path.read_bytes()
        if old.encode() in data[:4096] and b"\0" not in data[:1024]:
            path.write_bytes(data.replace(old.encode(), new.encode()))
    cfg = tmp / VENV / "pyvenv.cfg"
    if cfg.exists():
        cfg.write_text(cfg.read_text().replace(old, new))
