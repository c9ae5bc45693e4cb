"""Resolving a Python environment's wheels for a target, without installing them.

The I/O edge that asks uv which exact files an environment of `requirements` holds on a
`WheelPlatform`: `uv pip compile --format pylock.toml --only-binary :all:`, with
`--python-platform`/`--python-version` for a declared target (a CPU laptop locks for an
H200) and `--python <detected interpreter>` for a host target, so a lock never holds an
sdist and never the wheels of the interpreter that happens to run cmpkg. Of the files uv
lists per distribution, the one an installer prefers on that platform is locked (`best_wheel`,
pure). uv runs isolated (`cmpkg.installer`) and sees only the `WheelSource` it is given.

A resolution is memoised in `$CMPKG_HOME/wheels-v1/` under the hash of its inputs (the
requirements, the platform, the interpreter's identity and the sources, with a fingerprint
of every local find-links directory): like a lock, an unchanged input answers the same files
without asking an index again; `refresh=True` (`cmpkg lock --upgrade`) asks again.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cmpkg import atomic, installer
from cmpkg.errors import CmpkgError
from cmpkg.lock.model import LockedWheel, WheelSource
from cmpkg.process import run_or_raise
from cmpkg.wheel_errors import missing_wheel, unreachable_index

__all__ = ["LockedWheel", "WheelPlatform", "WheelSource", "resolve_wheels"]

if TYPE_CHECKING:
    from cmpkg.probe import Target

CACHE = "wheels-v1"


@dataclass(frozen=True)
class WheelPlatform:
    """The interpreter and machine a wheel set is chosen for; recorded in the lock.

    `interpreter` is the detected interpreter of a host target (resolution asks it for its
    own markers and tags); a declared target has none and is described by the rest.
    """

    os: str
    arch: str
    libc: str  # "glibc", or "" where the target has none / did not say
    libc_version: str  # "2.39"
    python: str  # "3.12"
    abi: str  # "cp312"
    tags: tuple[str, ...]  # wheel platform tags, most preferred first
    interpreter: str | None = None

    def uv_platform(self) -> str:
        """uv's `--python-platform` for a declared target: the newest manylinux it names at
        or below the target's glibc (uv knows 2_17, 2_28 and 2_31 to 2_40)."""
        if self.os != "linux" or self.libc != "glibc":
            raise CmpkgError(
                "unsupported-platform",
                f"cannot resolve wheels for {self.os}/{self.arch} "
                f"({self.libc or 'no libc'}): only glibc Linux targets are supported",
                hint='declare `platform = "manylinux_2_X_ARCH"` and `glibc` in the profile',
            )
        minor = int(self.libc_version.split(".")[1])
        known = [m for m in (17, 28, *range(31, 41)) if m <= minor]
        if not known:
            raise CmpkgError(
                "unsupported-platform", f"glibc {self.libc_version} is older than manylinux2014"
            )
        return f"{self.arch}-manylinux_2_{known[-1]}"


def target_platform(target: Target, python: str, interpreter: str | None) -> WheelPlatform:
    """A target's wheel platform: `python` is the interpreter version wheels are for (the
    detected one on a host target, whose path is `interpreter`; the profile's otherwise)."""
    tags = target.wheel_tags()
    glibc = target.glibc or _manylinux_glibc(tags)
    return _platform(target.os, target.arch, glibc, python, tags, interpreter)


def host_platform(interpreter: str, python: str) -> WheelPlatform:
    """This machine's wheel platform for the interpreter `interpreter` (version `python`)."""
    import platform

    from cmpkg.probe.system import normalize_arch, read_glibc, read_platform_tags

    machine = (platform.system().lower(), normalize_arch(platform.machine()), read_glibc())
    return _platform(*machine, python, read_platform_tags(), interpreter)


def _platform(
    os_name: str,
    arch: str,
    glibc: str | None,
    python: str,
    tags: tuple[str, ...],
    interpreter: str | None,
) -> WheelPlatform:
    major_minor = ".".join(python.split(".")[:2])
    return WheelPlatform(
        os=os_name,
        arch=arch,
        libc="glibc" if glibc else "",
        libc_version=glibc or "",
        python=major_minor,
        abi="cp" + major_minor.replace(".", ""),
        tags=tags,
        interpreter=interpreter,
    )


def _manylinux_glibc(tags: Sequence[str]) -> str | None:
    from cmpkg.probe.platform_tags import parse_manylinux_tag

    for tag in tags:
        try:
            return parse_manylinux_tag(tag)[0]
        except ValueError:
            continue
    return None


def supported_tags(platform: WheelPlatform) -> list[str]:
    """Every wheel tag an installer accepts on `platform`, most preferred first (packaging's
    order for CPython: the interpreter's ABI, abi3, none; then pure-Python tags)."""
    from packaging import tags

    version = tuple(int(p) for p in platform.python.split(".")[:2])
    found = [
        *tags.cpython_tags(version, [platform.abi], platform.tags),
        *tags.compatible_tags(version, platform.abi, platform.tags),
    ]
    return [str(t) for t in found]


def best_wheel(filenames: Sequence[str], ranking: Mapping[str, int]) -> str | None:
    """The file an installer would pick: the best-ranked tag, then the name (determinism)."""
    from packaging.utils import InvalidWheelFilename, parse_wheel_filename

    best: tuple[int, str] | None = None
    for filename in filenames:
        try:
            wheel_tags = parse_wheel_filename(filename)[3]
        except InvalidWheelFilename:
            continue
        rank = min((ranking.get(str(t), len(ranking)) for t in wheel_tags), default=len(ranking))
        if rank < len(ranking) and (best is None or (rank, filename) < best):
            best = (rank, filename)
    return best[1] if best else None


def parse_pylock(text: str, ranking: Mapping[str, int]) -> tuple[LockedWheel, ...]:
    """uv's PEP 751 output as one locked wheel per package, sorted by name."""
    data = _toml(text)
    chosen = []
    for package in data.get("packages", []):
        name, version = package["name"], package["version"]
        files = {w["url"].rsplit("/", 1)[-1]: w for w in package.get("wheels", [])}
        best = best_wheel(sorted(files), ranking)
        if best is None:
            raise CmpkgError(
                "no-wheel",
                f"{name} {version} has no wheel for this target's Python and platform",
                hint="cmpkg never locks source distributions: pick a version that ships wheels",
            )
        wheel = files[best]
        chosen.append(LockedWheel(name, version, wheel["url"], wheel["hashes"]["sha256"]))
    return tuple(sorted(chosen, key=lambda w: w.name.lower()))


def _toml(text: str) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib  # type: ignore[import-not-found, no-redef, unused-ignore]
    data: dict[str, Any] = tomllib.loads(text)
    return data


def source_args(source: WheelSource, index_urls: Sequence[str] = ()) -> list[str]:
    """uv's flags for exactly these sources (and its default index unless `no_index`)."""
    args = ["--no-index"] if source.no_index else []
    for link in source.find_links:
        args += ["--find-links", link]
    for url in (*source.index_urls, *index_urls):
        args += ["--index", url]
    return args


def platform_args(platform: WheelPlatform) -> list[str]:
    """A host target's interpreter answers for itself; a declared target is described to uv,
    which is still handed an interpreter (this one) so that it does not go searching the
    machine for a Python of that version (seconds with pyenv shims), never building with it
    (`--only-binary :all:`)."""
    if platform.interpreter is not None:
        return ["--python", platform.interpreter]
    return [
        *("--python", sys.executable),
        *("--python-version", platform.python),
        *("--python-platform", platform.uv_platform()),
    ]


def resolve_wheels(
    requirements: Sequence[str],
    index_urls: Sequence[str],
    platform: WheelPlatform,
    source: WheelSource,
    home: Path,
    *,
    refresh: bool = False,
) -> tuple[LockedWheel, ...]:
    """The exact wheels of an environment of `requirements` on `platform`, with sha256."""
    if not requirements:
        return ()
    path = home / CACHE / f"{_key(requirements, index_urls, platform, source)}.json"
    if not refresh:
        hit = _load(path)
        if hit is not None:
            return hit
    wheels = _compile(requirements, index_urls, platform, source, home)
    atomic.write_text(path, json.dumps([asdict(w) for w in wheels], sort_keys=True))
    return wheels


def _compile(
    requirements: Sequence[str],
    index_urls: Sequence[str],
    platform: WheelPlatform,
    source: WheelSource,
    home: Path,
) -> tuple[LockedWheel, ...]:
    argv = installer.uv_command(
        "pip", "compile", "-", "--format", "pylock.toml", "--quiet", "--no-header"
    )
    argv += ["--only-binary", ":all:", "--cache-dir", str(home / installer.UV_CACHE)]
    argv += [*platform_args(platform), *source_args(source, index_urls)]
    try:
        done = run_or_raise(
            argv,
            "wheel-resolution-failed",
            f"uv cannot resolve the Python environment for Python {platform.python} "
            f"on {platform.arch}",
            hint="check the requirements above against this target's Python and platform",
            env=installer.isolated_environment(),
            stdin="".join(r + "\n" for r in requirements),
        )
    except CmpkgError as error:  # an index out of reach, or a wheel no allowed source has
        said = unreachable_index(error, (*source.index_urls, *index_urls))
        raise (missing_wheel(error, source, platform.python) if said is error else said) from None
    ranking = {tag: i for i, tag in enumerate(supported_tags(platform))}
    return parse_pylock(done.stdout, ranking)


def _key(
    requirements: Sequence[str],
    index_urls: Sequence[str],
    platform: WheelPlatform,
    source: WheelSource,
) -> str:
    """Every input that can change the answer; local directories by their listing."""
    inputs = {
        "requirements": sorted(requirements),
        "index_urls": sorted(index_urls),
        "platform": asdict(platform),
        "interpreter": _fingerprint(platform.interpreter) if platform.interpreter else None,
        "source": asdict(source),
        "links": [_listing(link) for link in source.find_links],
    }
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def _fingerprint(path: str) -> list[int] | None:
    try:
        info = Path(path).stat()
    except OSError:
        return None
    return [info.st_size, info.st_mtime_ns, info.st_ino]


def _listing(link: str) -> list[Any] | None:
    """A local find-links directory's files with size and mtime (None for a URL)."""
    directory = Path(link.removeprefix("file://"))
    if "://" in link.removeprefix("file://") or not directory.is_dir():
        return None
    return sorted([e.name, *(_fingerprint(e.path) or [])] for e in os.scandir(directory))


def _load(path: Path) -> tuple[LockedWheel, ...] | None:
    try:
        data = json.loads(path.read_text())
        return tuple(LockedWheel(w["name"], w["version"], w["url"], w["sha256"]) for w in data)
    except (OSError, ValueError, KeyError, TypeError):
        return None  # absent or damaged: resolve again


# --- pip, only for `pip download` (uv has no command that fetches wheels to a directory) ----


def pip_source_args(source: WheelSource, index_urls: Sequence[str]) -> list[str]:
    """pip's flags for exactly these sources; run it with `installer.isolated_environment()`
    too (`--isolated` alone still reads the global pip.conf)."""
    args = ["--isolated", *(["--no-index"] if source.no_index else [])]
    for link in source.find_links:
        args += ["--find-links", link]
    for url in (*source.index_urls, *index_urls):
        args += ["--extra-index-url", url]
    return args


def target_args(python: str, platforms: Sequence[str]) -> list[str]:
    """pip flags that make it choose files for another interpreter and platform."""
    if not platforms:
        return []
    args = ["--python-version", python, "--only-binary=:all:", "--implementation", "cp"]
    for tag in platforms:
        args += ["--platform", tag]
    return args
