"""Builders for test archives, malicious ones included (tar with any member type, raw zips)."""

from __future__ import annotations

import io
import stat
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class M:
    """One tar member: `M("a/b", b"data")`, `M("l", kind=tarfile.SYMTYPE, link="../x")`."""

    name: str
    data: bytes = b""
    kind: bytes = tarfile.REGTYPE
    link: str = ""
    mode: int = 0o644
    size: int | None = None  # declared size if it must differ from len(data)


def make_tar(path: Path, members: list[M], compression: str = "") -> Path:
    """Write a tar (compression "", "gz", "bz2", "xz" or "zst"); names are taken verbatim
    (PAX)."""
    if compression == "zst":
        plain = make_tar(path.with_name(path.name + ".plain"), members)
        import zstandard

        path.write_bytes(zstandard.ZstdCompressor().compress(plain.read_bytes()))
        plain.unlink()
        return path
    with tarfile.open(path, f"w:{compression}", format=tarfile.PAX_FORMAT) as tar:
        for member in members:
            info = tarfile.TarInfo(member.name)
            info.type = member.kind
            info.linkname = member.link
            info.mode = member.mode
            info.size = len(member.data) if member.kind == tarfile.REGTYPE else 0
            if member.kind == tarfile.REGTYPE:
                tar.addfile(info, io.BytesIO(member.data))
            else:
                tar.addfile(info)
    return path


def make_zip(
    path: Path, members: list[tuple[str, bytes]], symlinks: dict[str, str] | None = None
) -> Path:
    """Write a zip of (name, data) members plus `symlinks` {name: target}."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data)
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    return path


def tree(root: Path) -> dict[str, bytes | str]:
    """Every path under root: file bytes, 'dir', or 'link->target' (for 'nothing changed')."""
    found: dict[str, bytes | str] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            found[rel] = f"link->{path.readlink()}"
        elif path.is_dir():
            found[rel] = "dir"
        else:
            found[rel] = path.read_bytes()
    return found
