"""Tiny real wheels built by the tests, so uv installs them offline with --find-links."""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from pathlib import Path


def _digest(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def build_wheel(
    directory: Path,
    name: str,
    version: str,
    module: str,
    requires: tuple[str, ...] = (),
    tag: str = "py3-none-any",
    extra: dict[str, bytes] | None = None,
) -> Path:
    """A wheel of `name` holding `<name>.py` with `module` as its source, tagged `tag`
    (a platform tag such as `cp312-cp312-manylinux_2_28_x86_64` only labels the file: the
    content stays pure Python, which is all a resolver and an installer look at). `extra`
    adds dist-info files (`entry_points.txt` for console scripts)."""
    dist = f"{name.replace('-', '_')}-{version}"
    files = {
        f"{name.replace('-', '_')}.py": module.encode(),
        f"{dist}.dist-info/METADATA": (
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
            + "".join(f"Requires-Dist: {r}\n" for r in requires)
        ).encode(),
        f"{dist}.dist-info/WHEEL": (
            f"Wheel-Version: 1.0\nGenerator: cmpkg-tests\nRoot-Is-Purelib: true\nTag: {tag}\n"
        ).encode(),
        **{f"{dist}.dist-info/{name}": data for name, data in (extra or {}).items()},
    }
    record = "".join(f"{path},{_digest(data)},{len(data)}\n" for path, data in files.items())
    files[f"{dist}.dist-info/RECORD"] = (record + f"{dist}.dist-info/RECORD,,\n").encode()
    path = directory / f"{dist}-{tag}.whl"
    with zipfile.ZipFile(path, "w") as wheel:
        for member, data in sorted(files.items()):
            wheel.writestr(zipfile.ZipInfo(member, (2020, 1, 1, 0, 0, 0)), data)
    return path


TEST_INDEX = Path(__file__).parents[1] / "resolve" / "index"


def demo_project(root: Path, versions: tuple[str, ...] = ("2.0", "1.0")) -> Path:
    """A project over the small test index for the `cpu` and `h200-cuda13` targets, with
    `wheels/` holding `rt` and `rt-gpu` at each of `versions` (its app needs one of them)."""
    wheels = root / "wheels"
    wheels.mkdir(parents=True)
    for name in ("rt", "rt-gpu"):
        for version in versions:
            build_wheel(wheels, name, version, f"VERSION = '{version}'\n")
    (root / "cmpkg.toml").write_text(
        "[project]\nname = 'demo'\nrequests = ['app']\n"
        f"targets = ['cpu', 'h200-cuda13']\nindex = [{json.dumps(str(TEST_INDEX))}]\n"
    )
    return root
