"""Check a user-supplied ImageNet 2012 validation directory before preprocessing it.

The directory must hold ``val_map.txt`` (``ILSVRC2012_val_00000001.JPEG 65`` lines, labels
0..999, the file MLPerf uses) and every image it lists. Prints one line per problem (the
first few of each kind) and a summary; exits 0 when the directory is usable, 1 when not,
2 on bad flags. Standard library only; must not import cmpkg.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

FULL_COUNT = 50_000
CLASSES = 1000
SHOWN = 5


@dataclass(slots=True)
class Findings:
    entries: int = 0
    missing: list[str] = field(default_factory=list)
    bad_lines: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.entries > 0 and not self.missing and not self.bad_lines


def check_line(line: str) -> tuple[str, int] | None:
    """(image name, label) of a well-formed line, else None."""
    fields = line.split()
    if len(fields) != 2 or not fields[1].isdigit() or int(fields[1]) >= CLASSES:
        return None
    return fields[0], int(fields[1])


def check(root: Path) -> Findings:
    found = Findings()
    for number, line in enumerate((root / "val_map.txt").read_text().splitlines(), 1):
        if not line.strip():
            continue
        parsed = check_line(line)
        if parsed is None:
            found.bad_lines.append(f"val_map.txt:{number}: {line!r}")
            continue
        found.entries += 1
        if not (root / parsed[0]).is_file():
            found.missing.append(parsed[0])
    return found


def report(found: Findings, expect: int | None) -> list[str]:
    lines = [f"bad line {b}" for b in found.bad_lines[:SHOWN]]
    lines += [f"missing image {m}" for m in found.missing[:SHOWN]]
    lines.append(
        f"{found.entries} entries, {len(found.missing)} missing images, "
        f"{len(found.bad_lines)} bad lines"
    )
    if expect is not None and found.entries != expect:
        lines.append(f"note: expected {expect} entries (the full validation set has {FULL_COUNT})")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--images", type=Path, required=True, help="the validation directory")
    parser.add_argument("--expect-count", type=int, default=None, help=f"e.g. {FULL_COUNT}")
    args = parser.parse_args(argv)
    if not (args.images / "val_map.txt").is_file():
        print(
            f"error: {args.images / 'val_map.txt'} not found\n"
            "hint: put the ILSVRC2012 validation labels there, one 'FILE LABEL' per line",
            file=sys.stderr,
        )
        return 1
    found = check(args.images)
    print("\n".join(report(found, args.expect_count)))
    return 0 if found.ok else 1


if __name__ == "__main__":
    sys.exit(main())
