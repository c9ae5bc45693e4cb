"""The hardware probe and targets: the machine (or a declared one) as hardware facts.

`resolve_target("host" | "cpu" | "cuda" | profile | path [":" tweaks])` returns a frozen
`Target`; `Target.facts()` gives the virtual packages (`__cuda`, `__arch=x86_64`, ...) the
resolver treats like any other package. This package must not import archspec or pynvml at
import time: they are loaded when a probe actually runs (docs/targets.md).
"""

from __future__ import annotations

from cmpkg.probe.host import probe_host
from cmpkg.probe.model import Fact, Feature, Gpu, Origin, SourceStatus, Target, fact_requirement
from cmpkg.probe.targets import list_targets, resolve_target

__all__ = [
    "Fact",
    "Feature",
    "Gpu",
    "Origin",
    "SourceStatus",
    "Target",
    "fact_requirement",
    "list_targets",
    "probe_host",
    "resolve_target",
]
