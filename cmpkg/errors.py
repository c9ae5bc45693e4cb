"""The one exception hierarchy of cmpkg, and the exit codes it maps to.

Every error a user can see is a `CmpkgError` carrying a short kebab-case `code`, a message,
optional context lines (file:key, a package chain) and a `hint`. The CLI renders it in one
place (`cmpkg.cli.render_error`); anything else reaching the top level is a bug.
"""

from __future__ import annotations

from collections.abc import Sequence

# Exit codes, documented in docs/cli.md.
EXIT_OK = 0
EXIT_FAILURE = 1  # the command ran but failed: unsatisfiable, download failed, step failed
EXIT_USAGE = 2  # bad usage or bad input (malformed recipe, manifest, lockfile, arguments)
EXIT_INTERRUPTED = 130  # Ctrl-C


class CmpkgError(Exception):
    """Root of every error cmpkg raises on purpose."""

    exit_code = EXIT_FAILURE

    def __init__(
        self,
        code: str,
        message: str,
        *,
        hint: str | None = None,
        details: Sequence[str] = (),
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = hint
        self.details = tuple(details)


class UsageError(CmpkgError):
    """Bad arguments, or bad input files (recipes, manifests, lockfiles, profiles)."""

    exit_code = EXIT_USAGE


class InputError(UsageError):
    """One or more problems in input files, every one reported as `file: key.path: message`."""

    def __init__(self, problems: Sequence[str], *, hint: str | None = None) -> None:
        count = len(problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__("invalid-input", f"{count} {noun} found", hint=hint, details=problems)
