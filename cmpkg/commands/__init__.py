"""One module per workflow, between the command line and the core (as uv's `commands/`).

Each module takes a typed input (a frozen dataclass) and returns a typed result; `cmpkg.cli`
only parses arguments into those inputs, calls one function and renders the result. Nothing
here imports `cmpkg.cli`, so every front end (a sweep runner, a test) calls the same code.
"""
