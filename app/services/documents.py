"""Building the documents' data from the ledger: a receipt, the Mẫu 01-XN daily summary.

These return plain values from `app.domain.documents`; `printing/` renders them. The daily
summary lists every payment of the business day by confirmation code; voided payments are listed
and marked, and left out of the totals.
"""

from __future__ import annotations

import os
import tempfile
from collections import defaultdict
from datetime import date
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.clock import now_utc
from app.domain.codes import format_code
from app.domain.documents import (
    ReceiptData,
    VoidInfo,
    Xn01Report,
    Xn01Row,
    receipt_qr_payload,
)
from app.domain.money import amount_in_words, format_vnd
from app.domain.types import PaymentMethod, Scheme, SupportCategory
from app.errors import PermissionDenied, UserFacingError, ValidationError
from app.services.common import Actor
from app.services.queries import audit, load_actor, payment_by_number, require_counter
from app.storage.db import Database
from app.storage.models import AuditEvent, Operator, Payment, Reprint, Void


def period_text(start: date, end: date) -> str:
    return f"{start:%m/%Y} – {end:%m/%Y}"


def _detail_lines(p: Payment) -> tuple[tuple[str, str], ...]:
    lines: list[tuple[str, str]] = []
    if p.scheme == Scheme.BHXH_TN.value:
        if p.income is not None:
            lines.append(("Mức thu nhập lựa chọn", format_vnd(p.income)))
        if p.method:
            lines.append(("Phương thức đóng", PaymentMethod(p.method).label))
        lines.append(("Mức đóng/tháng (22%)", format_vnd(p.gross_per_month)))
        if p.support_category:
            lines.append(
                (
                    f"NN hỗ trợ/tháng ({SupportCategory(p.support_category).label})",
                    format_vnd(p.support_per_month),
                )
            )
        if p.total_support:
            lines.append(("Tổng Nhà nước hỗ trợ", format_vnd(p.total_support)))
    else:
        if p.member_order is not None:
            lines.append(("Thành viên thứ", str(p.member_order)))
        lines.append(("Mức đóng/tháng", format_vnd(p.gross_per_month)))
    return tuple(lines)


def receipt_data(db: Database, receipt_number: int, *, reprint_number: int = 0) -> ReceiptData:
    """The receipt's content as stored (no rendering is counted: see `issue_receipt`)."""
    with db.read() as session:
        return _receipt_data(session, payment_by_number(session, receipt_number), reprint_number)


def _receipt_data(session: Session, p: Payment, reprint_number: int) -> ReceiptData:
    counter = require_counter(session)
    cashier = session.get(Operator, p.operator_id)
    v = session.scalar(select(Void).where(Void.payment_id == p.id))
    void = None
    if v is not None:
        sup = session.get(Operator, v.supervisor_id)
        void = VoidInfo(
            reason=v.reason,
            voided_at=v.voided_at,
            supervisor=sup.full_name if sup else v.supervisor,
            ledger_seq=v.ledger_seq,
            void_id=v.id,
        )
    code = format_code(p.confirmation_code)
    return ReceiptData(
        organisation=counter.organisation,
        collection_point=counter.collection_point,
        counter_code=counter.counter_code,
        series=p.series,
        number=p.receipt_number,
        paid_at=p.paid_at,
        cashier=cashier.full_name if cashier else p.cashier,
        payer_name=p.payer_name,
        ma_so_bhxh=p.ma_so_bhxh,
        cccd=p.cccd,
        scheme_label=Scheme(p.scheme).label,
        months=p.months,
        period_from=p.period_from,
        period_to=p.period_to,
        amount=p.amount,
        amount_words=amount_in_words(p.amount),
        rate_version=p.rate_version,
        confirmation_code=code,
        qr_payload=receipt_qr_payload(
            counter_id=p.counter_id,
            series=p.series,
            number=p.receipt_number,
            code=p.confirmation_code,
            amount=p.amount,
            paid_at=p.paid_at,
        ),
        detail_lines=_detail_lines(p),
        reprint_number=reprint_number,
        void=void,
        tendered=p.tendered,
    )


# --- one original per payment --------------------------------------------------------------

ORIGINAL, ORIGINAL_FAILED, COPY = "receipt.original", "receipt.print_failed", "receipt.reprint"


def _receipt_events(session: Session, payment_id: str) -> dict[str, int]:
    rows = session.execute(
        select(AuditEvent.action, func.count())
        .where(AuditEvent.subject == payment_id, AuditEvent.action.in_((ORIGINAL, ORIGINAL_FAILED)))
        .group_by(AuditEvent.action)
    )
    return {action: n for action, n in rows}


def _original_available(events: dict[str, int]) -> bool:
    """No original rendered yet, or every one rendered so far was reported as not printed."""
    return events.get(ORIGINAL, 0) <= events.get(ORIGINAL_FAILED, 0)


def original_issued(db: Database, receipt_number: int) -> bool:
    """Whether the next rendering of this receipt is a counted copy (the original is out)."""
    with db.read() as session:
        payment = payment_by_number(session, receipt_number)
        return not _original_available(_receipt_events(session, payment.id))


def issue_receipt(
    db: Database, receipt_number: int, *, by: Actor | None, copy: bool = False
) -> ReceiptData:
    """The receipt to render now — the service, not the caller, decides original or copy.

    The first rendering is the original (audited `receipt.original`); a later one is a counted
    BẢN SAO with its number (a `reprints` row, audited `receipt.reprint`) and needs a signed-in
    operator. An original whose print the printer reported as failed (`report_print_failure`)
    may be rendered as the original once more (audited with `retry`). `copy=True` asks for a
    copy even when the original has not been rendered yet (it does not use the original up).
    """
    with db.write() as session:
        if by is not None:
            load_actor(session, by)
        payment = payment_by_number(session, receipt_number)
        events = _receipt_events(session, payment.id)
        if not copy and _original_available(events):
            retry = events.get(ORIGINAL, 0)
            audit(session, ORIGINAL, actor=by, subject=payment.id, retry=retry)
            return _receipt_data(session, payment, 0)
        if by is None:
            raise PermissionDenied(
                f"Biên lai số {receipt_number} đã được in bản gốc; in lại là BẢN SAO, cần người "
                "dùng đăng nhập (--user hoặc QUAYTHU_USER).",
                message_en="the original is out: a copy needs a signed-in operator",
            )
        number = (
            session.scalar(
                select(func.count()).select_from(Reprint).where(Reprint.payment_id == payment.id)
            )
            or 0
        ) + 1
        session.add(Reprint(payment_id=payment.id, number=number, operator_id=by.id, at=now_utc()))
        audit(session, COPY, actor=by, subject=payment.id, number=number)
        return _receipt_data(session, payment, number)


def report_print_failure(
    db: Database, receipt_number: int, *, by: Actor | None, reason: str = ""
) -> None:
    """The printer reported that the original did not print: the next rendering may be the
    original again (audited)."""
    with db.write() as session:
        payment = payment_by_number(session, receipt_number)
        if _original_available(_receipt_events(session, payment.id)):
            return  # nothing rendered as original is outstanding
        audit(session, ORIGINAL_FAILED, actor=by, subject=payment.id, reason=reason[:200])


# --- writing export files ----------------------------------------------------------------------

_SQLITE_MAGIC = b"SQLite format 3\x00"


def _protected(target: Path, db: Database | None) -> bool:
    """The live database, its -wal/-shm/-journal, its backups, or any SQLite file."""
    if db is not None and db.path is not None:
        live = Path(db.path).resolve()
        names = {live.name + s for s in ("", "-wal", "-shm", "-journal")}
        if target.parent == live.parent and (
            target.name in names or target.name.startswith(f"{live.stem}.backup")
        ):
            return True
        if live.parent / "backups" in target.parents:
            return True
    try:
        with target.open("rb") as fh:
            return fh.read(len(_SQLITE_MAGIC)) == _SQLITE_MAGIC
    except OSError:
        return False


def check_export_target(path: Path, *, force: bool = False, db: Database | None = None) -> Path:
    """Where `write_export` would write, or the refusal it would raise (see there)."""
    target = Path(path).expanduser()
    label = "Tệp xuất ra"
    if target.is_dir():
        raise ValidationError("output", label, f"{target} là một thư mục", rule_en="is a folder")
    folder = target.parent.resolve()
    if not folder.is_dir():
        raise ValidationError(
            "output", label, f"thư mục {folder} không tồn tại", rule_en="folder does not exist"
        )
    target = folder / target.name
    if _protected(target, db):
        raise PermissionDenied(
            f"Không ghi đè {target}: đó là cơ sở dữ liệu của quầy hoặc bản sao lưu.",
            message_en="refusing to overwrite the database or a backup",
        )
    if target.exists() and not force:
        raise ValidationError(
            "output",
            label,
            f"{target} đã có; thêm --force để ghi đè",
            rule_en="file exists (use --force to overwrite)",
        )
    if not os.access(folder, os.W_OK):
        raise ValidationError(
            "output",
            label,
            f"không có quyền ghi vào thư mục {folder}",
            rule_en="folder not writable",
        )
    return target


def write_export(
    path: Path, data: bytes, *, force: bool = False, db: Database | None = None
) -> Path:
    """Write an export file safely; returns where it went.

    Refused: a missing folder, a folder given as the file, the live database (or its WAL, SHM,
    backups, any SQLite file) even with `force`, an existing file without `force`. The bytes go
    to a temporary file in the same folder, flushed to disk, then renamed over the target in one
    step, so a reader never sees half a file and a failure leaves the old file as it was."""
    target = check_export_target(path, force=force, db=db)
    tmp: Path | None = None
    try:
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        tmp = Path(name)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        tmp = None
    except OSError as exc:
        raise UserFacingError(
            f"Không ghi được {target}: {exc.strerror or exc}",
            message_en=f"cannot write the file: {exc}",
        ) from exc
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
    return target


def daily_summary(db: Database, day: date) -> Xn01Report:
    """Mẫu 01-XN for one business day (Asia/Ho_Chi_Minh)."""
    with db.read() as session:
        counter = require_counter(session)
        names = {
            op_id: name for op_id, name in session.execute(select(Operator.id, Operator.full_name))
        }
        voided = set(
            session.scalars(
                select(Void.payment_id)
                .join(Payment, Payment.id == Void.payment_id)
                .where(Payment.business_date == day)
            )
        )
        payments = session.scalars(
            select(Payment).where(Payment.business_date == day).order_by(Payment.receipt_number)
        ).all()
        rows: list[Xn01Row] = []
        totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for stt, p in enumerate(payments, start=1):
            is_void = p.id in voided
            label = Scheme(p.scheme).label
            rows.append(
                Xn01Row(
                    stt=stt,
                    confirmation_code=format_code(p.confirmation_code),
                    full_name=p.payer_name,
                    ma_so_bhxh=p.ma_so_bhxh or "",
                    scheme_label=label,
                    months=p.months,
                    period_text=period_text(p.period_from, p.period_to),
                    amount=p.amount,
                    paid_at=p.paid_at,
                    cashier=names.get(p.operator_id, p.cashier),
                    collection_point=counter.collection_point,
                    receipt_number=p.receipt_number,
                    voided=is_void,
                )
            )
            if not is_void:
                totals[label][0] += 1
                totals[label][1] += p.amount
        order = [s.label for s in Scheme]
        by_scheme = tuple(
            (label, totals[label][0], totals[label][1]) for label in order if label in totals
        )
        return Xn01Report(
            organisation=counter.organisation,
            collection_point=counter.collection_point,
            counter_code=counter.counter_code,
            business_date=day,
            rows=tuple(rows),
            totals_by_scheme=by_scheme,
            grand_total=sum(t[2] for t in by_scheme),
            grand_count=sum(t[1] for t in by_scheme),
            generated_at=now_utc(),
        )
