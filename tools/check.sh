#!/usr/bin/env sh
# The project's one test command (README "Run the tests"): lint, format, types, tests.
# Uses the tools of the active environment, or of ./.venv when it exists.
set -eu
cd "$(dirname "$0")/.."
if [ -x .venv/bin/python ]; then PATH="$PWD/.venv/bin:$PATH"; fi
ruff check .
ruff format --check .
mypy
pytest "$@"
