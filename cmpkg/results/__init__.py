"""The results database: every `cmpkg run` and sweep cell as one row, and what is made of it.

`record` turns a run's files (the app's result.json, the run context cmpkg wrote at install,
a sweep cell's identity) into a `RunRecord` (pure); `database` keeps records as one JSON file
per run plus a SQLite database merged from them; `query` parses `--where`; `compare`,
`export` and `report` are the views (docs/results.md).
"""
