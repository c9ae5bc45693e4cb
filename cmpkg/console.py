"""How cmpkg talks to people and to scripts: messages, hints, colour, JSON.

Style (docs/cli.md): one line per message, `error:` / `warning:` / `hint:` prefixes that read
without colour, colour only on a TTY and never when `NO_COLOR` is set, data on stdout and
messages on stderr, and `--json` output that is one JSON document with sorted keys.
"""

from __future__ import annotations

import os
import sys
from typing import IO, Any, TextIO

_STYLES = {"error": "1;31", "warning": "1;33", "hint": "36", "bold": "1", "dim": "2", "ok": "32"}


def use_colour(stream: IO[str]) -> bool:
    """Colour only for a TTY, never with NO_COLOR (https://no-color.org: set and not empty,
    so `NO_COLOR=` leaves colour on) or TERM=dumb."""
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return stream.isatty()


def style(text: str, name: str, stream: TextIO | None = None) -> str:
    stream = stream or sys.stderr
    if not use_colour(stream):
        return text
    return f"\x1b[{_STYLES[name]}m{text}\x1b[0m"


def message(kind: str, text: str) -> None:
    """Print `kind: text` to stderr (kind is error, warning or hint)."""
    from cmpkg import status

    status.line(f"{style(kind + ':', kind)} {text}")


def info(text: str) -> None:
    """One message line on stderr, written whole (parallel workers' lines never run together)."""
    from cmpkg import status

    status.line(text)


def plural(number: int, noun: str) -> str:
    """`1 package`, `2 packages`: counts in messages read as English."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def print_json(value: Any) -> None:
    import json  # here: a no-op install prints its lines without it

    json.dump(value, sys.stdout, indent=2, sort_keys=True, default=str)
    sys.stdout.write("\n")


def table(rows: list[list[str]], header: list[str]) -> str:
    """A plain left-aligned text table (no box drawing: it must survive copy-paste and logs)."""
    widths = [len(h) for h in header]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    lines += [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    return "\n".join(lines)
