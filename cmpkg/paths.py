"""The one checked join: turning a name that arrived from outside into a path (RELIABILITY 37).

Every name that comes from a mirror manifest, a lock, a recipe or a registry and becomes a
path on disk goes through `safe_join(base, name)`. The name is a relative POSIX path
(`index/00/tools/python.toml`, `model.onnx`) and must stay inside `base` on every OS cmpkg
may share a store or a mirror with, so the rules are the union of POSIX and Windows rules:

- not empty, no empty part (`a//b`, a trailing `/`), no `.` or `..` part;
- not absolute (`/x`), no backslash (a separator on Windows), no drive or stream (`C:`, `a:b`);
- no NUL or other control character;
- no Windows device name as a part (`con`, `nul.txt`, `COM1.tar.gz`), nor a part ending in a
  dot or a space (Windows strips them, so `a.` would alias `a`);
- each part at most 255 bytes.

The check is lexical (no file system access), so it is cheap and safe to run before anything
is looked at on disk. It does not follow symlinks: callers write only into directories they
created themselves.
"""

from __future__ import annotations

from pathlib import Path

from cmpkg.errors import UsageError

#: Windows device names: `nul.txt` opens the NUL device there, whatever the extension.
DEVICE_NAMES = frozenset(
    {"con", "prn", "aux", "nul", "conin$", "conout$"}
    | {f"{p}{i}" for p in ("com", "lpt") for i in (*range(10), "¹", "²", "³")}
)
_MAX_PART_BYTES = 255


def part_problem(part: str) -> str | None:
    """Why `part` cannot be one component of a path, or None."""
    if part == "":
        return "has an empty part"
    if part in (".", ".."):
        return f"has a {part!r} part"
    if "\\" in part:
        return "contains a backslash"
    if ":" in part:
        return "contains a ':' (a drive or stream on Windows)"
    if any(ord(c) < 32 or ord(c) == 127 for c in part):
        return "contains a NUL or control character"
    if part.split(".")[0].rstrip(" ").lower() in DEVICE_NAMES:
        return f"has the Windows device name {part!r}"
    if part.endswith((".", " ")):
        return "has a part ending in a dot or a space"
    if len(part.encode("utf-8", "surrogatepass")) > _MAX_PART_BYTES:
        return f"has a part longer than {_MAX_PART_BYTES} bytes"
    return None


def path_problem(name: str) -> str | None:
    """Why the relative path `name` could leave its base directory (or is unportable), or None."""
    if not name:
        return "is empty"
    if name.startswith("/"):
        return "is absolute"
    for part in name.split("/"):
        problem = part_problem(part)
        if problem is not None:
            return problem
    return None


class UnsafePathError(UsageError):
    """A name from outside that would not stay inside its directory."""

    def __init__(self, name: str, problem: str, where: str) -> None:
        super().__init__(
            "unsafe-path",
            f"{where}: {name!r} {problem}; refused",
            hint="names from mirrors, locks and recipes must be plain relative paths "
            "(no '..', not absolute, no backslash, drive or device name)",
        )
        self.name = name


def check_path(name: str, where: str) -> str:
    """`name` itself, or UnsafePathError naming `where` it came from (`mirror.json: files`)."""
    problem = path_problem(name)
    if problem is not None:
        raise UnsafePathError(name, problem, where)
    return name


def check_part(name: str, where: str) -> str:
    """`name` as one plain file name (no `/` at all), or UnsafePathError."""
    problem = "contains a '/'" if "/" in name else part_problem(name)
    if problem is not None:
        raise UnsafePathError(name, problem, where)
    return name


def safe_join(base: Path, name: str, where: str) -> Path:
    """`base / name`, after checking that `name` stays inside `base` (see the module doc)."""
    return base.joinpath(*check_path(name, where).split("/"))
