"""One sync pass: upload the outbox, then pull rates, participant changes, the periods other
counters recorded for this counter's participants (docs/RULES.md R1) and (when due) central's
Mẫu 01-XN for the morning reconciliation.

Guarantees:

* at most one pass at a time per counter database, across processes (`sync.lease`);
* the outbox goes oldest first (by ledger sequence) in batches of `SyncConfig.batch_size`; each
  record is rebuilt from the stored columns (`payment_body`/`void_body(...).canonical()`) and sent
  with its seq, kind, code, prev_hash and hash;
* an item is marked synced only when central's result for that very item says accepted or
  duplicate; the marking is a write transaction of its own after the response arrived (one per
  batch — never open across network I/O); a rejected item is parked with central's reason and
  the queue moves on;
* network errors, timeouts, 5xx and 429 are retried with full-jitter exponential backoff, never
  earlier than Retry-After; after `RetryPolicy.attempts` tries the pass fails with
  `TransientError` and the caller (scheduler or CLI) decides when to come back;
* 401 stops the pass with `AuthError` and records "needs enrolment" for every front end to see.
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from functools import partial
from typing import TypeVar

import requests

from app.domain.clock import now_utc
from app.domain.ledger import to_wire
from app.domain.rates import RateTable
from app.domain.types import Scheme
from app.errors import UserFacingError
from app.secrets import get_secret
from app.services import outbox, sync_state
from app.services.assigned_codes import AssignedCode, apply_assigned_codes
from app.services.history import (
    CentralPeriod,
    KnownPerson,
    known_people,
    replace_central_paid_periods,
)
from app.services.outbox import ItemVerdict, OutboxRecord
from app.services.rates import install_rate_table
from app.services.reconcile import reconciliation_due
from app.services.registration import central_registration
from app.services.sealing import check_heads
from app.storage.db import Database
from sync.client import CentralClient
from sync.config import SyncConfig
from sync.connection import client_for_counter, token_name
from sync.errors import (
    AuthError,
    LeaseBusy,
    NotEnrolled,
    ProtocolError,
    SyncError,
    TransientError,
)
from sync.events import (
    BatchProgress,
    FailureKind,
    StatusState,
    SyncFailure,
    SyncListener,
    SyncReport,
    SyncStatus,
)
from sync.lease import SyncLeaseHolder
from sync.protocol import MAX_PAID_PERIODS_PEOPLE, ItemResult, PaidPeriod, PersonRef
from sync.reconciliation import reconcile_with_client

log = logging.getLogger("quaythu.sync")
T = TypeVar("T")
_MA_SO = re.compile(r"^\d{10}$")


class Cancelled(SyncError):
    """The sync was asked to stop (the window is closing)."""


def _verdict(item: ItemResult) -> ItemVerdict:
    reason = item.get("reason")
    code = item.get("reason_code")
    text = None
    if item["status"] == "rejected":
        text = f"[{code or 'rejected'}] {reason or 'trung tâm từ chối'}"
    return ItemVerdict(item["id"], item["seq"], item["status"], text)


def failure_of(exc: BaseException) -> SyncFailure:
    kind: FailureKind
    retry_after = None
    if isinstance(exc, TransientError):
        kind = "offline" if exc.offline else "server_error"
        retry_after = exc.retry_after
    elif isinstance(exc, AuthError):
        kind = "needs_enrollment"
    elif isinstance(exc, NotEnrolled):
        kind = "not_enrolled"
    elif isinstance(exc, LeaseBusy):
        kind = "busy"
    elif isinstance(exc, Cancelled):
        kind = "cancelled"
    else:
        kind = "error"
    message = (
        exc.message
        if isinstance(exc, UserFacingError)
        else "Đồng bộ gặp lỗi không mong muốn; chi tiết đã ghi vào nhật ký."
    )
    return SyncFailure(kind, message, retry_after)


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def read_status(db: Database, *, online: bool | None = None) -> SyncStatus:
    """The sync status as stored in the database (what any process can see)."""
    pending, rejected = outbox.backlog(db)
    values = sync_state.sync_values(db)
    reg = central_registration(db)
    enrolled = bool(reg.central_url) and get_secret(token_name(reg.counter_id)) is not None
    state: StatusState
    if not enrolled:
        state = "not_enrolled"
    elif values.get(sync_state.NEEDS_ENROLLMENT):
        state = "needs_enrollment"
    elif values.get(sync_state.LAST_ERROR):
        kind = values.get(sync_state.LAST_ERROR_KIND, "")
        state = (
            "offline"
            if kind == "offline"
            else "server_error"
            if kind == "server_error"
            else "error"
        )
    else:
        state = "idle"
    return SyncStatus(
        state=state,
        online=online,
        pending=pending,
        rejected=rejected,
        last_success=_parse_time(values.get(sync_state.LAST_SUCCESS)),
        last_attempt=_parse_time(values.get(sync_state.LAST_ATTEMPT)),
        last_error=values.get(sync_state.LAST_ERROR),
    )


class Syncer:
    """Runs sync passes for one counter database; one pass at a time (the caller's thread)."""

    def __init__(
        self,
        db: Database,
        *,
        config: SyncConfig | None = None,
        listener: SyncListener | None = None,
        purpose: str = "sync",
        session: requests.Session | None = None,
        stop: threading.Event | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.db = db
        self.config = config or SyncConfig()
        self.events = listener or SyncListener()
        self.lease = SyncLeaseHolder(db, purpose=purpose, ttl=self.config.lease_ttl)
        self.session = session or requests.Session()
        self.stop = stop or threading.Event()
        self.rng = rng or random.Random()

    # --- waiting and retrying ------------------------------------------------------------------

    def _sleep(self, seconds: float, *, holding_lease: bool) -> None:
        """Wait, renewing the lease on long waits; Cancelled if asked to stop."""
        deadline = time.monotonic() + seconds
        step = max(1.0, self.config.lease_ttl / 3)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            if self.stop.wait(min(left, step)):
                raise Cancelled("Đồng bộ đã dừng theo yêu cầu.", message_en="sync cancelled")
            if holding_lease and deadline - time.monotonic() > 0:
                self.lease.renew()

    def _retrying(self, call: Callable[[], T], sent: tuple[OutboxRecord, ...] = ()) -> T:
        policy = self.config.retry
        failures = 0
        while True:
            if self.stop.is_set():
                raise Cancelled("Đồng bộ đã dừng theo yêu cầu.", message_en="sync cancelled")
            try:
                return call()
            except TransientError as exc:
                failures += 1
                if sent:
                    outbox.note_attempt_failed(self.db, sent, exc.message)
                too_long = (exc.retry_after or 0.0) > policy.max_inline_wait
                if failures >= policy.attempts or too_long:
                    raise
                delay = policy.delay(failures, exc.retry_after, self.rng)
                log.info("sync: %s; retry %d in %.2fs", exc.message_en, failures, delay)
                self._sleep(delay, holding_lease=True)

    # --- the pass ------------------------------------------------------------------------------

    def run(self, trigger: str = "manual") -> SyncReport:
        """One full pass. Raises a SyncError subclass when it could not finish."""
        self.events.sync_started(trigger)
        try:
            report = self._run(trigger)
        except Exception as exc:
            failure = failure_of(exc)
            if not isinstance(exc, SyncError):
                log.exception("sync failed unexpectedly")
            if failure.kind not in ("busy", "cancelled"):
                self._remember_failure(failure)
            self.events.sync_failed(failure)
            raise
        self.events.sync_finished(report)
        return report

    def _remember_failure(self, failure: SyncFailure) -> None:
        try:
            sync_state.set_sync_values(
                self.db,
                {
                    sync_state.LAST_ERROR: failure.message,
                    sync_state.LAST_ERROR_KIND: failure.kind,
                    sync_state.LAST_ATTEMPT: now_utc().isoformat(),
                    sync_state.NEEDS_ENROLLMENT: "1"
                    if failure.kind == "needs_enrollment"
                    else None,
                },
            )
        except Exception:  # the database itself failing must not hide the sync error
            log.exception("could not record the sync failure")

    def _run(self, trigger: str) -> SyncReport:
        started = now_utc()
        client = client_for_counter(self.db, config=self.config, session=self.session)
        self.lease.acquire()
        try:
            head_warnings = self._check_heads()
            sync_state.set_sync_values(self.db, {sync_state.LAST_ATTEMPT: started.isoformat()})
            totals = self._upload(client)
            rates = self._pull_rates(client)
            codes, warnings = self._pull_participants(client)
            self._pull_paid_periods(client)
            day, ok = self._reconcile_if_due(client)
            finished = now_utc()
            sync_state.set_sync_values(
                self.db,
                {
                    sync_state.LAST_SUCCESS: finished.isoformat(),
                    sync_state.LAST_ERROR: None,
                    sync_state.LAST_ERROR_KIND: None,
                    sync_state.NEEDS_ENROLLMENT: None,
                },
            )
        finally:
            try:
                self.lease.release()
            except Exception:
                log.exception("could not release the sync lease (it will expire)")
        pending, parked = outbox.backlog(self.db)
        return SyncReport(
            trigger=trigger,
            started_at=started,
            finished_at=finished,
            batches=totals[0],
            accepted=totals[1],
            duplicate=totals[2],
            rejected=totals[3],
            pending=pending,
            rejected_total=parked,
            rates_installed=tuple(rates[0]),
            codes_assigned=codes,
            reconciled_day=day,
            reconciliation_ok=ok,
            warnings=tuple(head_warnings + rates[1] + warnings),
        )

    def _check_heads(self) -> list[str]:
        """The ledger against its head anchor in the keyring (docs/LEDGER.md): a truncated or
        rewritten chain is reported; the upload goes on — central is the outside witness."""
        try:
            findings = check_heads(self.db)
        except UserFacingError as exc:
            return [f"Không kiểm tra được mốc đầu chuỗi của sổ thu: {exc.message}"]
        for f in findings:
            log.warning("ledger head anchor: %s at %s", f.kind, f.record)
        return [f"Sổ thu: {f.message}" for f in findings]

    def _next_batch(self, after_seq: int) -> outbox.PendingBatch:
        while True:
            batch = outbox.pending_batch(self.db, self.config.batch_size, after_seq=after_seq)
            if batch.orphans:
                outbox.park_orphans(self.db, batch.orphans)
                if not batch.records:
                    continue  # they are parked now; look again
            return batch

    def _send(self, client: CentralClient, batch: outbox.PendingBatch) -> list[ItemResult]:
        payload = [to_wire(r.record) for r in batch.records]
        return self._retrying(partial(client.upload, payload), batch.records)

    def _upload(self, client: CentralClient) -> tuple[int, int, int, int]:
        """Upload every pending record, oldest first, one request on the wire at a time.

        The next batch is read from the database while the current one is on the wire, and a
        batch's verdicts are recorded while the next one is on the wire: the client's work hides
        behind the server's. Requests stay strictly sequential, so central sees the chain in
        order. Items central gave no verdict for stay pending; a later sweep (at most three per
        pass) sends them again.
        """
        totals = [0, 0, 0, 0]  # batches, accepted, duplicate, rejected
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="quaythu-upload") as pool:
            for _sweep in range(3):
                sent_before = totals[0]
                batch = self._next_batch(0)
                inflight = pool.submit(self._send, client, batch) if batch.records else None
                while inflight is not None:
                    following = self._next_batch(batch.records[-1].seq)
                    results = inflight.result()
                    inflight = (
                        pool.submit(self._send, client, following) if following.records else None
                    )
                    self._record_batch(batch, results, totals)
                    batch = following
                if totals[0] == sent_before or outbox.backlog(self.db)[0] == 0:
                    break
        return totals[0], totals[1], totals[2], totals[3]

    def _record_batch(
        self, batch: outbox.PendingBatch, results: list[ItemResult], totals: list[int]
    ) -> None:
        verdicts = [_verdict(r) for r in results]
        outcome = outbox.mark_results(self.db, batch.records, verdicts)
        answered = {v.record_id: v.status for v in verdicts}
        n_acc = sum(1 for r in batch.records if answered.get(r.record_id) == "accepted")
        n_dup = outcome.synced - n_acc
        totals[0] += 1
        totals[1] += n_acc
        totals[2] += n_dup
        totals[3] += outcome.rejected
        pending, parked = outbox.backlog(self.db)
        self.events.batch_done(
            BatchProgress(
                batch=totals[0],
                sent=len(batch.records),
                accepted=n_acc,
                duplicate=n_dup,
                rejected=outcome.rejected,
                unanswered=outcome.unanswered,
                pending=pending,
            )
        )
        self.events.pending_changed(pending, parked)
        if outcome.synced + outcome.rejected == 0:
            # Nothing moved: sending the same records again would loop for ever.
            raise ProtocolError(
                "Máy chủ trung tâm không trả kết quả cho các bản ghi đã gửi.",
                message_en="central returned no usable result for the batch",
            )
        self.lease.renew_if_due()

    def _pull_rates(self, client: CentralClient) -> tuple[list[str], list[str]]:
        since = sync_state.get_sync_value(self.db, sync_state.RATES_SINCE)
        resp = self._retrying(lambda: client.rates_since(since))
        installed: list[str] = []
        warnings: list[str] = []
        for item in resp["tables"]:
            version = str(item.get("version", "?"))
            try:
                table = RateTable.from_json(str(item["body"]))
                if table.version != version:
                    raise UserFacingError(
                        f"phiên bản trong bảng ({table.version}) khác phiên bản công bố"
                    )
                if install_rate_table(self.db, table, source="central", by=None):
                    installed.append(version)
            except (UserFacingError, KeyError) as exc:
                text = exc.message if isinstance(exc, UserFacingError) else "thiếu nội dung"
                warnings.append(f"Không cài được bảng mức đóng {version} từ trung tâm: {text}")
                sync_state.note_sync_audit(
                    self.db, "rates.refused", version, {"source": "central", "reason": text}
                )
                break  # keep the cursor here: later tables may depend on this one
            sync_state.set_sync_values(self.db, {sync_state.RATES_SINCE: version})
        return installed, warnings

    def _pull_participants(self, client: CentralClient) -> tuple[int, list[str]]:
        cursor = int(sync_state.get_sync_value(self.db, sync_state.PARTICIPANT_CURSOR) or 0)
        applied = 0
        warnings: list[str] = []
        while True:
            resp = self._retrying(
                partial(client.participant_changes, cursor, self.config.participant_page)
            )
            changes = [
                AssignedCode(str(c["participant_id"]), str(c["ma_so_bhxh"]))
                for c in resp["changes"]
                if c.get("change") == "assigned" and _MA_SO.match(str(c.get("ma_so_bhxh")))
            ]
            result = apply_assigned_codes(self.db, changes, resp["next_cursor"])
            applied += result.applied
            warnings.extend(result.skipped)
            if not resp.get("more") or resp["next_cursor"] <= cursor:
                return applied, warnings
            cursor = resp["next_cursor"]

    def _pull_paid_periods(self, client: CentralClient) -> tuple[int, int]:
        """What other counters recorded for this counter's participants, stored so the overlap
        rule (docs/RULES.md R1) sees it; central's answer per page replaces what was stored for
        those participants (a period voided there is freed here). Returns (added, removed)."""
        people = known_people(self.db)
        added = removed = 0
        for start in range(0, len(people), MAX_PAID_PERIODS_PEOPLE):
            page = people[start : start + MAX_PAID_PERIODS_PEOPLE]
            refs: list[PersonRef] = [{"ma_so_bhxh": p.ma_so_bhxh, "cccd": p.cccd} for p in page]
            try:
                answer = self._retrying(partial(client.paid_periods, refs))
            except ProtocolError as exc:
                if exc.message_en == "HTTP 404":  # a central older than this feed
                    log.info("sync: central has no paid-periods feed; skipped")
                    return added, removed
                raise
            got = replace_central_paid_periods(
                self.db, [p.participant_id for p in page], _central_periods(page, answer)
            )
            added, removed = added + got[0], removed + got[1]
        if added or removed:
            log.info("sync: paid periods from central: %d new, %d withdrawn", added, removed)
        return added, removed

    def _reconcile_if_due(self, client: CentralClient) -> tuple[date | None, bool | None]:
        if self.config.reconcile_at is None:
            return None, None
        day = reconciliation_due(self.db, now_utc(), at=self.config.reconcile_at)
        if day is None:
            return None, None
        view = reconcile_with_client(
            self.db,
            client,
            day,
            tolerance=self.config.reconcile_tolerance,
            trigger="scheduled",
            retrying=self._retrying,
        )
        return day, view.ok


def _central_periods(people: list[KnownPerson], answer: list[PaidPeriod]) -> list[CentralPeriod]:
    """Central's periods mapped back to this counter's participants by the identifier matched."""
    by_code = {p.ma_so_bhxh: p.participant_id for p in people if p.ma_so_bhxh}
    by_cccd = {p.cccd: p.participant_id for p in people if p.cccd}
    out: list[CentralPeriod] = []
    for item in answer:
        try:
            scheme = Scheme(item["scheme"])
            first = date.fromisoformat(item["period_from"])
            last = date.fromisoformat(item["period_to"])
        except (ValueError, KeyError):
            log.warning("sync: unreadable paid period from central; left out")
            continue
        source = f"trung tâm: {item.get('collection_point') or ''}"
        matched = {
            by_code.get(item.get("ma_so_bhxh") or ""),
            by_cccd.get(item.get("cccd") or ""),
        }
        for pid in matched:
            if pid is not None:
                out.append(CentralPeriod(pid, scheme, first, last, source))
    return out
