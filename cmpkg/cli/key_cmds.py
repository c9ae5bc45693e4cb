"""`cmpkg key generate`: an ed25519 signing key for cache entries and mirror manifests."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    key = subparsers.add_parser("key", help="signing keys for binary caches and mirrors")
    sub = key.add_subparsers(dest="key_command", metavar="COMMAND")
    generate = sub.add_parser("generate", help="make a new signing key under CMPKG_HOME/keys")
    generate.add_argument("--name", default="default", help="the key's name (default: default)")
    generate.add_argument("--json", action="store_true", help="print JSON")
    generate.set_defaults(handler=_generate)
    key.set_defaults(handler=lambda args: _usage(key))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _generate(args: argparse.Namespace) -> int:
    from cmpkg import console
    from cmpkg.commands.cache import generate_key

    made = generate_key(args.name)
    if args.json:
        console.print_json({"name": made.name, "private": str(made.private), "public": made.public})
        return 0
    console.info(f"wrote {made.private} (keep it secret) and its .pub beside it")
    console.info("machines that should trust it add to `[trust] keys`:")
    print(made.public)
    return 0
