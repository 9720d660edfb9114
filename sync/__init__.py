"""Sync client of a QuầyThu counter (no Qt): protocol shapes, HTTP client, one-pass engine,
background scheduler, lease, enrolment and reconciliation fetch. See docs/SYNC.md.

Public API for front ends:

* `sync.scheduler.SyncScheduler(db, config=SyncConfig())` — `start()`, `stop()`, `sync_now()`,
  `notify_local_change()`, `status() -> SyncStatus`, `add_listener(SyncListener) -> remove()`;
* `sync.events` — `SyncListener` (callbacks `sync_started`, `batch_done`, `sync_failed`,
  `sync_finished`, `pending_changed`, `status_changed`; called on the sync thread), the frozen
  values `SyncStatus`, `BatchProgress`, `SyncReport`, `SyncFailure`;
* `sync.engine.Syncer(db).run()` — one pass on the caller's thread (CLI, benchmarks);
  `sync.engine.read_status(db)` — the status as any process sees it;
* `sync.enroll.enroll_counter(db, server_url, code)`; `sync.connection.client_for_counter(db)`;
* `sync.reconciliation.reconcile_with_central(db, day)`;
* lists for the window live in `app.services.outbox` (`pending_count`, `backlog`,
  `rejected_items`, `requeue_rejected`), `app.services.sync_state` (stored values) and
  `app.services.reconcile` (`list_reconciliations`, `get_reconciliation`,
  `export_reconciliation_csv`).
"""
