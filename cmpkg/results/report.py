"""`results report`: one static HTML page with SVG plots and a table of every run.

The page opens from disk with no server and no network: the plots are SVG rendered by
matplotlib (its object API, no pyplot global state, no display) and inlined, the style is
inline, and there is no script. Plots: throughput per benchmark/scenario across targets and
variants (bar = mean, whiskers = min..max over repeats), latency percentiles, accuracy with
the app's target line where the app reports one, and run-to-run spread (every run a point).
The table holds every run, each row linking to the run's lock and result directory
(relative links, so the report and the results can move together).
"""

from __future__ import annotations

import html
import io
import json
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cmpkg.errors import CmpkgError
from cmpkg.results.record import SUMMARY

if TYPE_CHECKING:
    from matplotlib.axes import Axes

Row = Mapping[str, Any]
_TABLE = (*SUMMARY, ("started", "started"))
_STYLE = """
body { font-family: sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; font-size: 0.85em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: left; }
tr.failed td { background: #fdd; }
figure { display: inline-block; margin: 0 1em 1em 0; vertical-align: top; }
"""


def config_label(row: Row) -> str:
    """What distinguishes runs within one benchmark and scenario: target and variant."""
    variant = json.loads(row.get("variant") or "{}")
    return " ".join([str(row.get("target")), *(f"{v}" for _, v in sorted(variant.items()))])


def _groups(rows: Sequence[Row]) -> dict[tuple[str, str], dict[str, list[Row]]]:
    """(benchmark, scenario) -> config label -> successful runs."""
    found: dict[tuple[str, str], dict[str, list[Row]]] = {}
    for row in rows:
        if row.get("status") != "ok":
            continue
        key = (str(row.get("benchmark")), str(row.get("scenario")))
        found.setdefault(key, {}).setdefault(config_label(row), []).append(row)
    return found


def _values(runs: Sequence[Row], column: str, scale: float = 1.0) -> list[float]:
    return [float(r[column]) / scale for r in runs if isinstance(r.get(column), int | float)]


def _svg(draw: Callable[[Axes], None], title: str) -> str:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.4, 3.6), layout="constrained")
    axes = figure.subplots()
    draw(axes)
    axes.set_title(title, fontsize=10)
    out = io.StringIO()
    figure.savefig(out, format="svg", metadata={"Date": None})
    text = out.getvalue()
    return text[text.index("<svg") :]


def _bars(configs: Mapping[str, list[Row]], column: str, unit: str, scale: float = 1.0) -> Any:
    labels = [c for c in configs if _values(configs[c], column, scale)]

    def draw(axes: Axes) -> None:
        means, low, high = [], [], []
        for label in labels:
            values = _values(configs[label], column, scale)
            mean = sum(values) / len(values)
            means.append(mean)
            low.append(mean - min(values))
            high.append(max(values) - mean)
        axes.bar(labels, means, yerr=[low, high], capsize=4, color="#4878a8")
        axes.set_ylabel(unit)
        axes.tick_params(axis="x", labelrotation=20, labelsize=8)

    return draw if labels else None


def _latency(configs: Mapping[str, list[Row]]) -> Any:
    labels = [c for c in configs if _values(configs[c], "latency_p50_ns")]
    percentiles = (("p50", "latency_p50_ns"), ("p90", "latency_p90_ns"), ("p99", "latency_p99_ns"))

    def draw(axes: Axes) -> None:
        width = 0.8 / len(percentiles)
        for i, (name, column) in enumerate(percentiles):
            heights = [_mean(_values(configs[c], column, 1e6)) for c in labels]
            positions = [x + i * width for x in range(len(labels))]
            axes.bar(positions, heights, width, label=name)
        axes.set_xticks([x + width for x in range(len(labels))], labels, rotation=20, fontsize=8)
        axes.set_ylabel("latency (ms)")
        axes.legend(fontsize=8)

    return draw if labels else None


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _accuracy(configs: Mapping[str, list[Row]]) -> Any:
    draw_bars = _bars(configs, "accuracy", "accuracy")
    targets = {
        float(r["accuracy_target"])
        for runs in configs.values()
        for r in runs
        if isinstance(r.get("accuracy_target"), int | float)
    }
    if draw_bars is None:
        return None

    def draw(axes: Axes) -> None:
        draw_bars(axes)
        for target in sorted(targets):
            axes.axhline(target, color="#c44", linestyle="--", label=f"target {target:g}")
        if targets:
            axes.legend(fontsize=8)

    return draw


def _spread(configs: Mapping[str, list[Row]]) -> Any:
    labels = [c for c in configs if _values(configs[c], "samples_per_s")]

    def draw(axes: Axes) -> None:
        for x, label in enumerate(labels):
            values = _values(configs[label], "samples_per_s")
            axes.plot([x] * len(values), values, "o", alpha=0.7)
        axes.set_xticks(range(len(labels)), labels, rotation=20, fontsize=8)
        axes.set_ylabel("samples/s, each run")

    return draw if labels else None


def plots(rows: Sequence[Row]) -> list[tuple[str, str]]:
    """(title, inline SVG) of every plot the rows allow."""
    found = []
    for (benchmark, scenario), configs in sorted(_groups(rows).items()):
        where = f"{benchmark} {scenario}"
        for title, draw in (
            (f"throughput: {where}", _bars(configs, "samples_per_s", "samples/s")),
            (f"latency percentiles: {where}", _latency(configs)),
            (f"accuracy: {where}", _accuracy(configs)),
            (f"run-to-run spread: {where}", _spread(configs)),
        ):
            if draw is not None:
                found.append((title, _svg(draw, title)))
    return found


def _cell(row: Row, column: str) -> str:
    value = row.get(column)
    if value is None:
        return ""
    if column == "latency_p90_ns":
        return f"{float(value) / 1e6:.3f}"
    if column == "valid":
        return "VALID" if value else "INVALID"
    if isinstance(value, float):
        return f"{value:.4g}"
    if column == "variant":
        return ", ".join(f"{k}={v}" for k, v in sorted(json.loads(value).items()))
    return str(value)


def _link(target: str | None, out: Path, text: str) -> str:
    if not target:
        return ""
    href = os.path.relpath(target, out) if Path(target).is_absolute() else target
    return f'<a href="{html.escape(href)}">{html.escape(text)}</a>'


def _row(row: Row, out: Path) -> str:
    cells = "".join(f"<td>{html.escape(_cell(row, c))}</td>" for _, c in _TABLE)
    links = _link(row.get("lock"), out, "lock") + " " + _link(row.get("result_dir"), out, "results")
    css = "" if row.get("status") == "ok" else ' class="failed"'
    run_id = html.escape(str(row["run_id"]))
    return f'<tr id="run-{run_id}" data-run-id="{run_id}"{css}>{cells}<td>{links}</td></tr>'


def render(rows: Sequence[Row], out: Path, title: str = "cmpkg results") -> str:
    """The whole page (pure but for matplotlib's rendering)."""
    figures = "\n".join(
        f"<figure><figcaption>{html.escape(t)}</figcaption>{svg}</figure>" for t, svg in plots(rows)
    )
    header = "".join(f"<th>{html.escape(name)}</th>" for name, _ in _TABLE) + "<th>links</th>"
    body = "\n".join(_row(r, out) for r in rows)
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>\n"
        f"<h1>{html.escape(title)}</h1>\n<p>{len(rows)} runs</p>\n"
        f'<section id="plots">{figures or "<p>no successful run to plot</p>"}</section>\n'
        f'<table id="runs"><thead><tr>{header}</tr></thead><tbody>\n{body}\n</tbody></table>\n'
        "</body></html>\n"
    )


def write(rows: Sequence[Row], out: Path) -> Path:
    try:
        import matplotlib  # noqa: F401  (the check: the `report` extra is installed)
    except ImportError:
        raise CmpkgError(
            "no-matplotlib",
            "`cmpkg results report` draws its plots with matplotlib, which is not installed",
            hint="pip install 'cmpkg[report]'",
        ) from None
    from cmpkg import atomic

    out = out.resolve()
    page = out / "index.html"
    atomic.write_text(page, render(rows, out))
    return page
