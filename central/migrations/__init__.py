"""Central's schema migrations (Alembic), run at start-up by `central.store.CentralStore`.

`python -m central.migrations.regenerate` rewrites the initial revision from today's models
(central has not shipped a migration yet; see docs/CENTRAL.md). After the first release, add
revisions instead: `python -m central.migrations.regenerate --new "message"`.
"""
