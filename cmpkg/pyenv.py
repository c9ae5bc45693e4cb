"""Isolated Python environments: one venv per environment, ONE installer call for all of it.

Owns creating the venv (`uv venv`, from the detected interpreter, never touching the system
one), the single hash-checked `uv pip install` of every wheel (so every conflict is seen at
once: CM's "last pip install wins" cannot happen), the record of what was installed with each
file's URL and sha256 (for the lockfile and the store entry), and making the venv valid at its
final store path after the store renames the build directory into place.

The wheels are always resolved first (`cmpkg.wheels`, for this interpreter) and installed
as exact pins with `--require-hashes --no-deps`: an install gets precisely the files listed,
whether they come from a lock or from a fresh resolution. The venv holds no pip (uv does
not seed one); files are hard-linked from uv's cache in `$CMPKG_HOME` (copied where that
cache is on another file system) and byte-compiled.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cmpkg import installer, status
from cmpkg.console import plural
from cmpkg.process import run_or_raise
from cmpkg.wheels import LockedWheel, WheelSource, source_args

__all__ = ["VENV", "WheelSource", "create", "install", "link_mode", "relocate", "venv_python"]

VENV = "venv"

#: uv's own hard links from its cache in `$CMPKG_HOME` (docs/store.md, "Python
#: environments"): every environment holding a wheel shares its files' inodes with uv's
#: cache, so the second environment holding a 5 GB torch costs no bytes and no copying.
#: The store's reuse check reads the ctime that a new link elsewhere moves as "maybe
#: edited", re-hashes those files once and records the verified stamps. Copies only where a
#: link cannot be made: the cache and the build directory on different file systems.
LINK_MODE = "hardlink"
COPY = "copy"


def link_mode(cache: Path, build: Path) -> tuple[str, str]:
    """(uv's `--link-mode` for installing into `build` from `cache`, why). A hard link
    cannot cross file systems; uv would then warn and copy anyway (from its first failed
    link), so the choice is made here, where it can be recorded in the entry."""
    here, there = _device(build), _device(cache)
    if here is None or there is None or here == there:
        return LINK_MODE, "the uv cache and the store are on one file system"
    return COPY, f"the uv cache ({cache}) is on another file system than the store"


def _device(path: Path) -> int | None:
    """The file system of `path`, or of its nearest existing parent (uv's cache is made
    by its first use)."""
    for candidate in (path, *path.parents):
        try:
            return candidate.stat().st_dev
        except OSError:
            continue
    return None


def venv_python(root: Path) -> Path:
    return root / VENV / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def create(dest: Path, python: str, *, system_site: bool = False) -> None:
    """A fresh venv at `dest/venv` for interpreter `python`.

    `system_site` lets the venv see the interpreter's own packages: how a recipe reuses a
    framework installed system-wide (an HPC image's CUDA PyTorch) instead of downloading it.
    """
    argv = installer.uv_command("venv", str(dest / VENV), "--python", python, "--quiet")
    run_or_raise(
        [*argv, "--system-site-packages"] if system_site else argv,
        "venv-failed",
        f"cannot create a virtual environment with {python}",
        hint="check that this interpreter runs: `cmpkg target show` lists the one detected",
        env=installer.isolated_environment(),
    )
    if system_site:
        _see_interpreter_site(dest, python)


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


def install_command(
    root: Path, wheels: Sequence[LockedWheel], source: WheelSource, home: Path, mode: str
) -> tuple[list[str], str]:
    """One `uv pip install` of exactly `wheels` (argv, and the pins it reads on stdin).

    `--no-deps`: the wheel set is complete. `--require-hashes`: each file must have its
    locked sha256, whichever source serves it (an index, find-links, a mirror).
    """
    argv = installer.uv_command("pip", "install", "--python", str(venv_python(root)))
    argv += ["--quiet", "--require-hashes", "--no-deps", "--only-binary", ":all:"]
    # Byte-compiled at install: entries are read-only afterwards, so Python could not
    # cache bytecode at run time and would recompile every module on every run. The
    # bytecode is the venv's own file, never a link: uv writes it after linking.
    argv += ["--link-mode", mode, "--compile-bytecode"]
    argv += ["--cache-dir", str(home / installer.UV_CACHE), *source_args(source), "-r", "-"]
    return argv, "".join(w.requirement() + "\n" for w in wheels)


def install(
    root: Path, wheels: Sequence[LockedWheel], source: WheelSource, home: Path
) -> dict[str, Any]:
    """Install every wheel in one uv call; what was installed (with hashes), and how the
    files got there (`link-mode` and its reason), to record in the entry."""
    mode, why = link_mode(home / installer.UV_CACHE, root)
    argv, pins = install_command(root, wheels, source, home, mode)
    with status.activity(f"installing {plural(len(wheels), 'wheel')} into {root.name}"):
        _install(argv, pins, len(wheels))
    installed = [
        {"name": w.name, "version": w.version, "url": w.url, "sha256": w.sha256}
        for w in sorted(wheels, key=lambda w: w.name.lower())
    ]
    return {"installed": installed, "link-mode": mode, "link-mode-reason": why}


def _install(argv: list[str], pins: str, count: int) -> None:
    run_or_raise(
        argv,
        "install-failed",
        f"uv could not install the environment ({plural(count, 'wheel')})",
        hint="every wheel is installed at once with its sha256: a mismatch above means a "
        "tampered or stale source",
        env=installer.isolated_environment(),
        stdin=pins,
    )


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
            _replace(path, data.replace(old.encode(), new.encode()))
    cfg = tmp / VENV / "pyvenv.cfg"
    if cfg.exists():
        _replace(cfg, cfg.read_bytes().replace(old.encode(), new.encode()))


def _replace(path: Path, data: bytes) -> None:
    """Write a new file over `path` instead of editing the installed one in place."""
    fresh = path.with_name(path.name + ".cmpkg-new")
    fresh.write_bytes(data)
    fresh.chmod(path.stat().st_mode & 0o7777)
    fresh.replace(path)
