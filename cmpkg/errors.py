"""The one exception hierarchy of cmpkg, and the exit codes it maps to.

Every error a user can see is a `CmpkgError` carrying a short kebab-case `code`, a message,
optional context lines (file:key, a package chain) and a `hint`. The CLI renders it in one
place (`cmpkg.cli.render_error`); anything else reaching the top level is a bug.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

# Exit codes, documented in docs/cli.md.
EXIT_OK = 0
EXIT_FAILURE = 1  # the command ran but failed: unsatisfiable, download failed, step failed
EXIT_USAGE = 2  # bad usage or bad input (malformed recipe, manifest, lockfile, arguments)
EXIT_INTERNAL = 70  # a bug in cmpkg (EX_SOFTWARE of sysexits.h); the traceback goes to a log
EXIT_INTERRUPTED = 130  # Ctrl-C


class CmpkgError(Exception):
    """Root of every error cmpkg raises on purpose.

    `data` holds structured context for `--json` output (an explanation's steps, the
    valid choices), rendered as the `error` object's extra keys.
    """

    exit_code = EXIT_FAILURE

    def __init__(
        self,
        code: str,
        message: str,
        *,
        hint: str | None = None,
        details: Sequence[str] = (),
        data: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = hint
        self.details = tuple(details)
        self.data = dict(data or {})

    def to_json(self) -> dict[str, Any]:
        """The `error` object of `--json` output (schema in docs/cli.md)."""
        return {
            **self.data,
            "code": self.code,
            "message": self.message,
            "details": list(self.details),
            "hint": self.hint,
            "exit_code": self.exit_code,
        }


class UsageError(CmpkgError):
    """Bad arguments, or bad input files (recipes, manifests, lockfiles, profiles)."""

    exit_code = EXIT_USAGE


class InputError(UsageError):
    """One or more problems in input files, every one reported as `file: key.path: message`."""

    def __init__(self, problems: Sequence[str], *, hint: str | None = None) -> None:
        count = len(problems)
        noun = "problem" if count == 1 else "problems"
        # The message names the file when the problems are all in one, so the error line
        # alone says where to look; every raiser should pass a hint saying how to fix it.
        files = {line.partition(": ")[0] for line in problems}
        where = f" in {files.pop()}" if len(files) == 1 else ""
        super().__init__(
            "invalid-input",
            f"{count} {noun} found{where}",
            hint=hint or "fix the keys named above",
            details=problems,
        )
