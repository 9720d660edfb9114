"""`quaythu` — the command line, for scripts, scheduled jobs and people at a terminal.

With no sub-command it opens the counter window. Every sub-command takes `--db PATH` (default:
the user data folder) and `--json` (machine-readable output on stdout; errors as JSON on
stderr). Flag names are part of the contract with scheduled jobs: keep them stable and listed in
README.md.

Exit codes: 0 done; 1 refused or failed (not found, not allowed, ledger verification failed,
not initialised); 2 usage or validation error (a field broke a rule); 3 offline / sync failed;
4 central refused a record (`sync`); `daily`: the sum of its failed parts (1, 2, 4, 8); 70
unexpected error (logged with its traceback); 130 interrupted. Every run writes one line to
the log (`ui/logs.py`): command, exit code, outcome, duration.

Operator commands act as the operator named by `--user` (or $QUAYTHU_USER) with the password
from $QUAYTHU_PASSWORD or a prompt. No Qt is imported unless the window is opened.

Layout: `base` (exit codes, output, arguments, database, login, `Commands`), one module per
area (`counter`, `payments`, `reports`, `participants`, `operators`, `sync`, `daily`) each with
`register(commands)`, and `runner` (the parser and `main`).
"""

from ui.cli.runner import build_parser, main

__all__ = ["build_parser", "main"]
