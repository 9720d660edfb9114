"""The window's operations, one module per area: every database call a screen makes.

Each function takes the op's parent widget, the window's `AppState` and plain values, and
returns an `Op` not yet run; the screen adds its callbacks and runs it::

    payments.record(self, state, request).success(self._recorded).failure(self._failed).run()

The function runs the service on the database thread (or, where it waits on the network, on
the I/O pool — see docs/ARCHITECTURE.md, Threads) and, when it writes, declares what it
changes (`ui.qt.changes.OpChanges`); the state announces that once it has succeeded, and the
screens that show it refresh. Services are imported inside the worker function, so building an
op never loads SQLAlchemy on the GUI thread. Values a screen has at hand (the signed-in
operator) are taken when the op is built; the database is looked up when the op runs, so an op
queued while the database is still opening finds it.

Modules: `payments` (quote, record, void, reprint, today's list), `participants`,
`operators` (sign in, accounts), `counter` (open, set up, settings, rates), `documents`
(receipt data, 01-XN), `sync` (rejected records, requeue, enrolment, reconciliation), `notify`
(payer notices: settings and secrets, test sends, Today's states, resend).
"""
