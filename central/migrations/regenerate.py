"""Write central's migration from the models: `python -m central.migrations.regenerate`.

Without arguments the initial revision (`c0001`) is written anew from today's models — right
while central has never shipped (no database in service holds a migrated schema). Once it has,
use `--new "what changed"` to add a revision on top of head instead. Either way the models and
the migrations then agree, which `tests/central/test_migrations.py` checks on SQLite and
PostgreSQL.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from central.store import alembic_config

INITIAL = "c0001"
VERSIONS = Path(__file__).resolve().parent / "versions"


def _autogenerate(message: str, rev_id: str, *, upgrade_first: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{Path(tmp) / 'empty.sqlite3'}")
        try:
            with engine.begin() as conn:
                cfg = alembic_config()
                cfg.attributes["connection"] = conn
                if upgrade_first:
                    command.upgrade(cfg, "head")
                command.revision(cfg, message, autogenerate=True, rev_id=rev_id)
        finally:
            engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--new", metavar="MESSAGE", help="add a revision on top of head")
    args = parser.parse_args(argv)
    if args.new:
        script = ScriptDirectory.from_config(alembic_config())
        number = len(list(script.walk_revisions())) + 1
        _autogenerate(args.new, f"c{number:04d}", upgrade_first=True)
        return 0
    initial = list(VERSIONS.glob(f"{INITIAL}_*.py"))
    if set(VERSIONS.glob("c*.py")) - set(initial):
        print("later revisions exist: add one with --new instead", file=sys.stderr)
        return 1
    for old in initial:
        old.unlink()
    _autogenerate("central initial schema", INITIAL, upgrade_first=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
