"""Benchmark sweeps: the `[sweep]` matrix of cmpkg.toml, its cells, their locks and executors.

A sweep is a matrix (benchmarks x scenarios x targets x variant values x repeats, less the
exclusions) whose cells each run `cmpkg install --frozen` + `cmpkg run` from a lock made for
them. `spec` reads the table, `matrix` expands it (pure), `planner` locks each build and keeps
the solver's explanation for every cell that cannot be built, `cell` is what one array task
or pool worker runs, and `local` / `slurm` are the two executors (docs/sweeps.md). The
scheduler is the user's: cmpkg submits to Slurm, it never runs a server of its own.
"""
