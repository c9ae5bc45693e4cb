"""A stand-in for MLCommons' submission checker (tools/submission/submission_checker/main.py),
served on loopback as the `mlperf-inference-source` archive in the tests.

It has the real checker's command line (`--input`, `--version`, `--submitter`), writes
`summary.csv` where it runs, logs `ERROR:main:...` lines and ends with its
`SUMMARY: submission has errors` / `SUMMARY: submission looks OK` line and exit code 1 / 0.
It checks a few things the real one checks, from the same paths: every systems/*.json has
the required fields of v6.0 (a subset here), and every results cell has README.md,
user.conf and measurements.json. It is not the official checker.
"""

import argparse
import json
import sys
from pathlib import Path

REQUIRED = (
    "division",
    "submitter",
    "status",
    "system_name",
    "host_processor_model_name",
    "host_processor_core_count",
    "framework",
    "operating_system",
    "system_type",
)
CELL_FILES = ("README.md", "user.conf", "measurements.json")


def errors_in(top: Path) -> list[str]:
    errors = []
    for path in sorted((top / "systems").glob("*.json")):
        system = json.loads(path.read_text())
        errors += [f"{path}, field {f} is missing" for f in REQUIRED if f not in system]
    for cell in sorted((top / "results").glob("*/*/*")):
        errors += [f"{cell} is missing {n}" for n in CELL_FILES if not (cell / n).is_file()]
    return errors


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--input", required=True)
    parser.add_argument("--version", default="v5.1")
    parser.add_argument("--submitter")
    args = parser.parse_args()
    errors = [e for top in sorted(Path(args.input).glob("*/*")) for e in errors_in(top)]
    Path("summary.csv").write_text(f"errors\n{len(errors)}\n")
    for error in errors:
        print(f"ERROR:main:{error}", file=sys.stderr)
    if errors:
        print("ERROR:main:SUMMARY: submission has errors", file=sys.stderr)
        return 1
    print("INFO:main:SUMMARY: submission looks OK", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
