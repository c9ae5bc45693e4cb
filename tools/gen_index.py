"""Write a synthetic recipe index of N recipes, to stack on the shipped one (`--index DIR`).

    python tools/gen_index.py DIR --recipes 5000 [--seed 3]

The layout is the shipped index's (`libraries/<name>/<version>.toml`): about four versions
per name, each depending on a few earlier names (skewed towards the popular first ones, as on
PyPI), some with a variant group, all valid. Nothing in the shipped index depends on them, so
a no-op install of a shipped app costs the same solving work at any size; what grows is only
what the index itself costs (scanning, loading, checking). Deterministic for a seed.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

TEMPLATE = """\
name = "{name}"
version = "{version}"
kind = "library"
tags = ["get", "python-lib", "synthetic", "{name}"]
summary = "synthetic recipe {name} {version} (tools/gen_index.py)"
license = "MIT"
homepage = "https://example.invalid/{name}"
depends = [{depends}]

[provide]
method = "python"
requirements = ["{name}=={version}"]
"""

VARIANTS = """
[variants.device]
default = "cpu"

[variants.device.cpu]

[variants.device.cuda]
depends = ["__cuda >=12.0"]
"""


def plan(recipes: int, seed: int) -> list[tuple[str, list[str]]]:
    """(name, versions newest first) for names until `recipes` versions exist."""
    rng = random.Random(seed)
    names: list[tuple[str, list[str]]] = []
    left = recipes
    while left > 0:
        count = min(left, rng.randint(1, 7))
        versions = [f"{count - i}.{rng.randint(0, 9)}.0" for i in range(count)]
        names.append((f"synth-{len(names):05d}", versions))
        left -= count
    return names


def write(directory: Path, recipes: int, seed: int = 3) -> int:
    """Write the index; returns the number of recipe files written."""
    rng = random.Random(seed + 1)
    names = plan(recipes, seed)
    written = 0
    for i, (name, versions) in enumerate(names):
        folder = directory / "libraries" / name
        folder.mkdir(parents=True, exist_ok=True)
        for version in versions:
            deps = ['"python >=3.10"']
            for _ in range(rng.randint(0, 3) if i else 0):
                target, target_versions = names[int(i * rng.random() ** 2)]
                deps.append(f'"{target} >={target_versions[-1]}"')
            text = TEMPLATE.format(name=name, version=version, depends=", ".join(deps))
            if rng.random() < 0.2:
                text += VARIANTS
            (folder / f"{version}.toml").write_text(text)
            written += 1
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--recipes", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    if args.directory.exists() and any(args.directory.iterdir()):
        parser.error(f"{args.directory} is not empty")
    count = write(args.directory, args.recipes, args.seed)
    print(f"{count} recipes in {args.directory}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
