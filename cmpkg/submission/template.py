"""The commented `[submission]` template `cmpkg submission init` appends to cmpkg.toml (pure).

Probe-read fields are written as values (edit them if the probe was wrong); the fields no
probe can know carry `(placeholder)` in the value and `PLACEHOLDER` in the comment, so
`cmpkg lock` and `submission run --profile smoke` accept the file as written while
`submission check` warns about each placeholder left.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from cmpkg.submission.manifest import PLACEHOLDER

#: Fields of the description only a person can fill (value, and what to write there).
MANUAL = (
    ("status", "available", "available | preview | rdi"),
    ("cooling", f"{PLACEHOLDER} air", "PLACEHOLDER: air, liquid, ..."),
    ("host_storage_type", f"{PLACEHOLDER} SSD", "PLACEHOLDER: SSD, NVMe, HDD"),
    ("host_memory_configuration", f"{PLACEHOLDER} e.g. 8x 32 GB DDR5", "PLACEHOLDER"),
    ("host_processor_interconnect", "N/A", ""),
    ("host_networking", f"{PLACEHOLDER} e.g. 1x 10 GbE", "PLACEHOLDER"),
    ("host_network_card_count", f"{PLACEHOLDER} 1", "PLACEHOLDER"),
    ("host_networking_topology", "N/A", ""),
    ("system_type_detail", f"{PLACEHOLDER} e.g. edge server", "PLACEHOLDER"),
    ("hw_notes", "", "free text"),
    ("sw_notes", "", "free text"),
)
#: Accelerator fields a CPU-only system answers with N/A (a GPU system: placeholders).
ACCELERATOR = (
    "accelerator_frequency",
    "accelerator_host_interconnect",
    "accelerator_interconnect",
    "accelerator_interconnect_topology",
    "accelerator_memory_configuration",
    "accelerator_on-chip_memories",
)


def render(
    submitter: str,
    system: str,
    target: str | None,
    benchmarks: Sequence[tuple[str, str, Sequence[str], Sequence[str]]],
    probed: Mapping[str, str],
) -> str:
    """`benchmarks`: (directory name, app, required scenarios, app flags) in order."""
    lines = [
        "",
        "# An MLPerf Inference submission (docs/submission.md). `cmpkg submission run` runs",
        "# every benchmark x scenario below (accuracy, performance, the round's compliance",
        "# tests), `cmpkg submission generate DIR` writes the official tree.",
        "[submission]",
        'round = "v6.0"            # the rules in index/libraries/mlperf-harness (rules.json)',
        f"submitter = {json.dumps(submitter)}"
        + ("   # PLACEHOLDER: your organisation" if PLACEHOLDER in submitter else ""),
        'division = "closed"       # closed | open',
        'category = "edge"         # edge | datacenter | datacenter,edge',
        f"system = {json.dumps(system)}   # the system's name in the tree",
    ]
    if target:
        lines.append(f"target = {json.dumps(target)}   # the lock target the runs install")
    for name, app, scenarios, args in benchmarks:
        lines += ["", f"[submission.benchmarks.{_key(name)}]", f"app = {json.dumps(app)}"]
        lines.append(f"scenarios = {json.dumps(list(scenarios))}")
        if args:
            lines.append(f"args = {json.dumps(list(args))}   # the accuracy level")
    lines += [
        "",
        "# The system description: read from this machine (edit if wrong) ...",
        "[submission.description]",
    ]
    lines += [f"{_key(k)} = {json.dumps(v)}" for k, v in sorted(probed.items())]
    lines.append("# ... and what no probe can know")
    for key, value, note in MANUAL:
        lines.append(f"{_key(key)} = {json.dumps(value)}" + (f"   # {note}" if note else ""))
    no_gpu = probed.get("accelerators_per_node", "0") == "0"
    for key in ACCELERATOR:
        value = "N/A" if no_gpu else f"{PLACEHOLDER} see your accelerator's datasheet"
        lines.append(f"{_key(key)} = {json.dumps(value)}" + ("" if no_gpu else "   # PLACEHOLDER"))
    return "\n".join(lines) + "\n"


def level_args(benchmark: str, levels: Sequence[str]) -> tuple[str, ...]:
    """The app flags that run `benchmark` at the accuracy level its name carries (`bert-99.9`,
    `yolo-95`: the harness's `--level`) when the app has that level (`levels`: its recipe's
    `level` variant), since an app runs its default level unless told; none otherwise."""
    _, _, suffix = benchmark.rpartition("-")
    return ("--level", suffix) if suffix in levels else ()


def _key(name: str) -> str:
    """A TOML key: bare when it can be (`accelerator_on-chip_memories` can)."""
    bare = all(c.isalnum() or c in "-_" for c in name)
    return name if bare else json.dumps(name)
