"""`cmpkg results list | compare | export | report`: the results database (docs/results.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from cmpkg.cli.common import add_json_option


def register(subparsers: Any) -> None:
    results = subparsers.add_parser("results", help="list, compare, export and report runs")
    verbs = results.add_subparsers(dest="verb", metavar="VERB", parser_class=type(results))
    results.set_defaults(handler=lambda _args: _usage(results))

    listing = verbs.add_parser("list", help="the recorded runs, oldest first")
    _add_where(listing)
    add_json_option(listing)
    listing.set_defaults(handler=_list)

    compare = verbs.add_parser("compare", help="B's metrics over A's (run ids or filters)")
    compare.add_argument(
        "a", metavar="A", help="a run id (prefix), or filters: backend=onnxruntime"
    )
    compare.add_argument("b", metavar="B")
    add_json_option(compare)
    compare.set_defaults(handler=_compare)

    export = verbs.add_parser("export", help="every column of the selected runs, to stdout")
    form = export.add_mutually_exclusive_group(required=True)
    form.add_argument("--csv", action="store_const", const="csv", dest="format")
    form.add_argument("--json", action="store_const", const="json", dest="format")
    _add_where(export)
    export.set_defaults(handler=_export)

    report = verbs.add_parser("report", help="a static HTML report with plots and every run")
    report.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="default: report/ beside the database (.cmpkg/results/ of the project, else "
        "$CMPKG_HOME/results/)",
    )
    _add_where(report)
    report.set_defaults(handler=_report)


def _usage(parser: Any) -> int:
    parser.print_help()
    return 2


def _add_where(parser: Any) -> None:
    parser.add_argument(
        "--where",
        action="append",
        default=[],
        metavar="KEY OP VALUE",
        help="filter, repeatable: scenario=Offline, backend=pytorch, 'samples_per_s>100'",
    )


def _format(row: dict[str, Any], column: str) -> str:
    import json

    value = row.get(column)
    if value is None:
        return "-"
    if column == "run_id":
        return str(value)[:12]
    if column == "latency_p90_ns":
        return f"{value / 1e6:.3f}"
    if column == "valid":
        return "VALID" if value else "INVALID"
    if column == "variant":
        return ",".join(f"{k}={v}" for k, v in sorted(json.loads(value).items())) or "-"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _list(args: argparse.Namespace) -> int:
    from cmpkg import console
    from cmpkg.commands import results
    from cmpkg.results.export import typed
    from cmpkg.results.record import SUMMARY

    rows = results.select(Path.cwd(), args.where)
    if args.json:
        console.print_json([typed(r) for r in rows])
        return 0
    columns = (*SUMMARY, ("cell", "cell"))
    table = [[_format(r, c) for _, c in columns] for r in rows]
    print(console.table(table, [name for name, _ in columns]))
    return 0


def _compare(args: argparse.Namespace) -> int:
    from cmpkg import console
    from cmpkg.commands import results

    found = results.compare(Path.cwd(), args.a, args.b)
    if args.json:
        console.print_json(
            [
                {"group": list(p.key), "a": p.a["run_id"], "b": p.b["run_id"], "ratios": p.ratios()}
                for p in found.pairs
            ]
        )
        return 0
    for pair in found.pairs:
        a, b = str(pair.a["run_id"])[:12], str(pair.b["run_id"])[:12]
        print(f"{' '.join(pair.key)}  (B/A: {b} / {a})")
        for metric, ratio in sorted(pair.ratios().items()):
            print(f"  {metric:<16} {pair.a[metric]:>14.6g} {pair.b[metric]:>14.6g}  x{ratio:.3f}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from cmpkg.commands import results
    from cmpkg.results import export

    rows = results.select(Path.cwd(), args.where)
    sys.stdout.write(export.to_csv(rows) if args.format == "csv" else export.to_json(rows))
    return 0


def _report(args: argparse.Namespace) -> int:
    from cmpkg import console
    from cmpkg.commands import results

    page = results.report(Path.cwd(), args.out, args.where)
    console.info(f"wrote {page}")
    print(page)
    return 0
