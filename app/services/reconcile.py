"""Reconciliation: the local Mẫu 01-XN of a business day against the central system's.

The regulation asks the agent to check, every morning, that every confirmation code, time and
amount the social-insurance side holds for the previous day matches its own records. The
central rows arrive through sync (this module knows nothing about the network: the caller hands
them over as `CentralRow` values); the local side is `daily_summary`. Payments are matched by
confirmation code. Each comparison is stored as a run with its issues, so it can be listed,
shown and exported (CSV, UTF-8 with BOM so spreadsheet programs read the diacritics).

Issue kinds: `missing_at_central`, `missing_locally`, `amount_differs`, `time_differs` (beyond a
tolerance, default 10 minutes), `void_differs` (voided on one side only).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.clock import LOCAL_TZ, now_utc
from app.domain.codes import format_code, normalise_code
from app.domain.money import format_vnd
from app.domain.text import spreadsheet_safe
from app.errors import NotFoundError
from app.services.documents import daily_summary, write_export
from app.services.queries import audit
from app.storage.db import Database
from app.storage.models import ReconciliationIssue, ReconciliationRun

DEFAULT_TOLERANCE = timedelta(minutes=10)
DEFAULT_RECONCILE_AT = time(7, 30)

ISSUE_LABELS = {
    "missing_at_central": "Trung tâm chưa có",
    "missing_locally": "Quầy không có",
    "amount_differs": "Số tiền khác nhau",
    "time_differs": "Thời điểm nộp lệch",
    "void_differs": "Trạng thái hủy khác nhau",
}


@dataclass(frozen=True)
class CentralRow:
    """One row of central's Mẫu 01-XN, as the sync client received it."""

    confirmation_code: str
    receipt_number: int
    amount: int
    paid_at: datetime  # aware
    voided: bool
    full_name: str = ""


@dataclass(frozen=True)
class ReconciliationIssueView:
    kind: str
    label: str
    confirmation_code: str  # grouped for reading
    receipt_number: int | None
    local_amount: int | None
    central_amount: int | None
    local_paid_at: datetime | None
    central_paid_at: datetime | None
    detail: str


@dataclass(frozen=True)
class ReconciliationView:
    id: int
    business_date: date
    run_at: datetime
    trigger: str
    status: str  # "ok" | "mismatch"
    tolerance: timedelta
    local_count: int
    local_total: int
    central_count: int
    central_total: int
    issues: tuple[ReconciliationIssueView, ...]

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def _key(code: str) -> str:
    """Compact form of a code; a malformed one (from a faulty source) is kept as typed."""
    try:
        return normalise_code(code)
    except ValueError:
        return "".join(c for c in code.upper() if c not in "- ")[:12]


def _readable(code: str) -> str:
    try:
        return format_code(code)
    except ValueError:
        return code


def _local_text(instant: datetime | None) -> str:
    return "" if instant is None else instant.astimezone(LOCAL_TZ).strftime("%d/%m/%Y %H:%M:%S")


def reconcile_day(
    db: Database,
    day: date,
    central_rows: list[CentralRow],
    *,
    tolerance: timedelta = DEFAULT_TOLERANCE,
    trigger: str = "manual",
    now: datetime | None = None,
) -> ReconciliationView:
    """Compare and store one run; returns it with its issues."""
    report = daily_summary(db, day)
    local = {_key(r.confirmation_code): r for r in report.rows}
    central = {_key(r.confirmation_code): r for r in central_rows}
    issues: list[dict[str, object]] = []

    def add(kind: str, code: str, detail: str, **kw: object) -> None:
        issues.append({"kind": kind, "confirmation_code": code, "detail": detail, **kw})

    for code, mine in local.items():
        theirs = central.get(code)
        common = {
            "receipt_number": mine.receipt_number,
            "local_amount": mine.amount,
            "local_paid_at": mine.paid_at,
        }
        if theirs is None:
            add(
                "missing_at_central",
                code,
                f"biên lai số {mine.receipt_number} ({format_vnd(mine.amount)}) chưa có ở trung "
                "tâm: kiểm tra đồng bộ",
                **common,
            )
            continue
        common.update(central_amount=theirs.amount, central_paid_at=theirs.paid_at)
        if theirs.amount != mine.amount:
            add(
                "amount_differs",
                code,
                f"quầy {format_vnd(mine.amount)}, trung tâm {format_vnd(theirs.amount)}",
                **common,
            )
        gap = abs(theirs.paid_at - mine.paid_at)
        if gap > tolerance:
            add(
                "time_differs",
                code,
                f"lệch {int(gap.total_seconds() // 60)} phút (cho phép "
                f"{int(tolerance.total_seconds() // 60)} phút)",
                **common,
            )
        if theirs.voided != mine.voided:
            add(
                "void_differs",
                code,
                "đã hủy tại quầy, trung tâm chưa ghi nhận hủy"
                if mine.voided
                else "trung tâm ghi đã hủy, quầy không có lệnh hủy",
                **common,
            )
    for code, theirs in central.items():
        if code not in local:
            add(
                "missing_locally",
                code,
                f"trung tâm có biên lai số {theirs.receipt_number} ({format_vnd(theirs.amount)}"
                f"{', ' + theirs.full_name if theirs.full_name else ''}) mà quầy không có",
                receipt_number=theirs.receipt_number,
                central_amount=theirs.amount,
                central_paid_at=theirs.paid_at,
            )
    central_valid = [r for r in central_rows if not r.voided]
    at = now or now_utc()
    with db.write() as session:
        run = ReconciliationRun(
            business_date=day,
            run_at=at,
            trigger=trigger,
            tolerance_seconds=int(tolerance.total_seconds()),
            local_count=report.grand_count,
            local_total=report.grand_total,
            central_count=len(central_valid),
            central_total=sum(r.amount for r in central_valid),
            issue_count=len(issues),
            status="ok" if not issues else "mismatch",
        )
        session.add(run)
        session.flush()
        for issue in issues:
            session.add(ReconciliationIssue(run_id=run.id, **issue))
        audit(
            session,
            "reconcile.run",
            actor=None,
            subject=day.isoformat(),
            status=run.status,
            issues=len(issues),
            trigger=trigger,
        )
        session.flush()
        return _view(run, _issues_of(session, run.id))


def _issues_of(session: Session, run_id: int) -> Sequence[ReconciliationIssue]:
    return session.scalars(
        select(ReconciliationIssue)
        .where(ReconciliationIssue.run_id == run_id)
        .order_by(ReconciliationIssue.id)
    ).all()


def _view(run: ReconciliationRun, issues: Sequence[ReconciliationIssue]) -> ReconciliationView:
    return ReconciliationView(
        id=run.id,
        business_date=run.business_date,
        run_at=run.run_at,
        trigger=run.trigger,
        status=run.status,
        tolerance=timedelta(seconds=run.tolerance_seconds),
        local_count=run.local_count,
        local_total=run.local_total,
        central_count=run.central_count,
        central_total=run.central_total,
        issues=tuple(
            ReconciliationIssueView(
                kind=i.kind,
                label=ISSUE_LABELS.get(i.kind, i.kind),
                confirmation_code=_readable(i.confirmation_code),
                receipt_number=i.receipt_number,
                local_amount=i.local_amount,
                central_amount=i.central_amount,
                local_paid_at=i.local_paid_at,
                central_paid_at=i.central_paid_at,
                detail=i.detail,
            )
            for i in issues
        ),
    )


def list_reconciliations(
    db: Database, *, day: date | None = None, limit: int = 60
) -> list[ReconciliationView]:
    """Runs, newest first (all runs of `day` when given)."""
    with db.read() as session:
        q = select(ReconciliationRun).order_by(ReconciliationRun.id.desc()).limit(limit)
        if day is not None:
            q = q.where(ReconciliationRun.business_date == day)
        runs = session.scalars(q).all()
        return [_view(r, _issues_of(session, r.id)) for r in runs]


def get_reconciliation(db: Database, run_id: int) -> ReconciliationView:
    with db.read() as session:
        run = session.get(ReconciliationRun, run_id)
        if run is None:
            raise NotFoundError(
                f"Không có lần đối chiếu số {run_id}.", message_en=f"no run {run_id}"
            )
        return _view(run, _issues_of(session, run.id))


def export_reconciliation_csv(db: Database, run_id: int, path: Path, *, force: bool = True) -> Path:
    """One line per issue (a single 'khớp' line when none), UTF-8 with BOM, every cell made
    safe for a spreadsheet; written with `write_export` (never over the database; an existing
    file only with `force` — the window's save dialog has already asked)."""
    return write_export(Path(path), reconciliation_csv(db, run_id), force=force, db=db)


def reconciliation_csv(db: Database, run_id: int) -> bytes:
    run = get_reconciliation(db, run_id)
    fh = io.StringIO()
    w = _SafeWriter(csv.writer(fh))
    w.writerow(
        [
            "Ngày đối chiếu",
            "Loại chênh lệch",
            "Mã xác nhận",
            "Số biên lai",
            "Số tiền tại quầy",
            "Số tiền trung tâm",
            "Thời điểm nộp tại quầy",
            "Thời điểm nộp trung tâm",
            "Chi tiết",
        ]
    )
    day = run.business_date.strftime("%d/%m/%Y")
    if not run.issues:
        w.writerow(
            [
                day,
                "Khớp",
                "",
                "",
                run.local_total,
                run.central_total,
                "",
                "",
                f"{run.local_count} khoản thu khớp với trung tâm",
            ]
        )
    for i in run.issues:
        w.writerow(
            [
                day,
                i.label,
                i.confirmation_code,
                "" if i.receipt_number is None else i.receipt_number,
                "" if i.local_amount is None else i.local_amount,
                "" if i.central_amount is None else i.central_amount,
                _local_text(i.local_paid_at),
                _local_text(i.central_paid_at),
                i.detail,
            ]
        )
    return "\ufeff".encode() + fh.getvalue().encode("utf-8")


class _SafeWriter:
    """A csv writer whose cells go through `spreadsheet_safe`."""

    def __init__(self, writer: Any) -> None:
        self._writer = writer

    def writerow(self, row: list[object]) -> None:
        self._writer.writerow([spreadsheet_safe(v) for v in row])


def reconciliation_due(
    db: Database, now: datetime, *, at: time = DEFAULT_RECONCILE_AT
) -> date | None:
    """The day to reconcile this morning (yesterday) if it is past `at` and not done yet."""
    local_now = now.astimezone(LOCAL_TZ)
    if local_now.time() < at:
        return None
    day = local_now.date() - timedelta(days=1)
    with db.read() as session:
        done = session.scalar(
            select(ReconciliationRun.id).where(ReconciliationRun.business_date == day).limit(1)
        )
    return None if done is not None else day


def next_reconcile_time(now: datetime, *, at: time = DEFAULT_RECONCILE_AT) -> datetime:
    """The next local `at` strictly after `now`, as an aware instant."""
    local_now = now.astimezone(LOCAL_TZ)
    candidate = datetime.combine(local_now.date(), at, tzinfo=LOCAL_TZ)
    if candidate <= local_now:
        candidate = datetime.combine(local_now.date() + timedelta(days=1), at, tzinfo=LOCAL_TZ)
    return candidate
