"""Reference central collection system (FastAPI + SQLAlchemy): `quaythu-central serve`.

It stores counters' ledgers idempotently, verifies codes and chains with `app.domain`, keeps the
auditor's flags, publishes rate tables and participant changes (mã số BHXH assignment is a
simulated VSS step), and serves Mẫu 01-XN and the payer lookup. See docs/SYNC.md, docs/api/.
"""
