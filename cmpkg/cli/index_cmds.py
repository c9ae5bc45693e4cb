"""`cmpkg index check`, `cmpkg search`, `cmpkg show`: reading the recipe index."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    index = subparsers.add_parser("index", help="work with recipe indexes")
    sub = index.add_subparsers(dest="index_command", metavar="COMMAND")
    check = sub.add_parser("check", help="validate index directories (default: the active stack)")
    check.add_argument("paths", nargs="*", help="index directories or recipe files")
    check.set_defaults(handler=_check)


def _check(args: argparse.Namespace) -> int:
    raise NotImplementedError
