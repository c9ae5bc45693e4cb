"""cmpkg: a package manager for ML benchmarking stacks.

Kept import-free so that `cmpkg --version` and shell completion start fast: every heavy
module is imported lazily by the command that needs it.
"""

__version__ = "0.1.0"
