"""Options shared by the resolving commands, declared once so they read the same everywhere."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only: `cmpkg run` imports `home` from here, parser-free
    import argparse


def add_index_option(parser: Any) -> None:
    parser.add_argument(
        "--index",
        action="append",
        type=Path,
        default=[],
        metavar="DIR",
        help="an extra recipe index, stacked after the shipped one (repeatable)",
    )


def add_target_option(parser: Any) -> None:
    parser.add_argument(
        "--target",
        default="host",
        metavar="T",
        help="host (default), cpu, cuda, a profile name (`cmpkg target list`) or a profile file",
    )


def add_json_option(parser: Any) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON document for scripts")


def add_mirror_options(parser: Any) -> None:
    parser.add_argument(
        "--mirror",
        metavar="DIR|URL",
        help="take index, artifacts and wheels from a mirror first (env CMPKG_MIRROR)",
    )
    parser.add_argument(
        "--force-mirror", action="store_true", help="accept a mirror older than one used before"
    )


# The names of solvers.solve.backend_names(), spelled out so that building the parser
# imports no solver (a test keeps the two equal).
BACKENDS = ("auto", "libsolv", "clingo", "resolvelib")


def add_backend_option(parser: Any) -> None:
    parser.add_argument(
        "--backend",
        default="auto",
        choices=BACKENDS,
        metavar="BACKEND",
        help="solver backend: auto (default), libsolv, clingo or resolvelib",
    )


def add_wheel_options(parser: Any) -> None:
    """Where pip may take distributions from, besides a mirror."""
    parser.add_argument(
        "--find-links", action="append", default=[], metavar="DIR", help="local wheels"
    )
    parser.add_argument("--no-index", action="store_true", help="never ask a remote Python index")


def add_resolve_options(parser: Any) -> None:
    add_index_option(parser)
    add_target_option(parser)
    add_json_option(parser)
    add_mirror_options(parser)
    add_backend_option(parser)


def home() -> Path:
    from cmpkg.config import home

    return home()


def sources(args: argparse.Namespace) -> Any:
    """The `--index`/`--mirror`/`--force-mirror` options as `cmpkg.context.Sources`."""
    from cmpkg.context import Sources

    return Sources(
        tuple(getattr(args, "index", ())),
        getattr(args, "mirror", None),
        getattr(args, "force_mirror", False),
    )


def mirror(args: argparse.Namespace) -> Any:
    """The mirror named by --mirror or CMPKG_MIRROR, opened and verified; None without one."""
    from cmpkg.context import open_mirror

    return open_mirror(sources(args))


def context(args: argparse.Namespace, target: str | None = None) -> Any:
    from cmpkg.context import gather

    return gather(sources(args), target or args.target)
