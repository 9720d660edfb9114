"""Building the documents' data from the ledger: a receipt, the Mẫu 01-XN daily summary.

These return plain values from `app.domain.documents`; `printing/` renders them. The daily
summary lists every payment of the business day by confirmation code; voided payments are listed
and marked, and left out of the totals.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import select

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
from app.services.queries import payment_by_number, require_counter
from app.storage.db import Database
from app.storage.models import Operator, Payment, Void


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
    with db.read() as session:
        counter = require_counter(session)
        p = payment_by_number(session, receipt_number)
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
