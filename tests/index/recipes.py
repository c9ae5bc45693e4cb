"""Recipe texts for index tests: a minimal valid recipe that each test bends one way."""

from __future__ import annotations

#: A minimal valid library recipe; `extra` lines go before [provide] (top-level keys).
BASE = """\
name = "{name}"
version = "{version}"
kind = "library"
summary = "a test package"
license = "MIT"
homepage = "https://example.org"
{extra}
[provide]
method = "python"
requirements = ["{name}=={version}"]
"""


def recipe_text(name: str = "foo", version: str = "1.0", extra: str = "") -> str:
    return BASE.format(name=name, version=version, extra=extra)
