"""Payments and the ledger: `quaythu quote | pay | void | list | verify`."""

from __future__ import annotations

import argparse
import dataclasses
import uuid
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from app.domain.types import PaymentMethod, Scheme, SupportCategory
from app.errors import ValidationError
from ui.cli.base import (
    EXIT_FAILED,
    EXIT_OK,
    CliExit,
    Commands,
    day_arg,
    db_path,
    emit,
    find_participant,
    int_in,
    login,
    open_db,
    parse_money,
    parse_month,
)

if TYPE_CHECKING:
    from app.domain.quote import Quote
    from app.domain.rates import RateTable
    from app.services.payments import PaymentView


@dataclass(frozen=True)
class PaymentFields:
    """The payment options shared by `quote` and `pay`, parsed and checked."""

    scheme: Scheme
    months: int | None
    start_month: date | None
    income: int | None = None  # BHXH tự nguyện
    support_category: SupportCategory | None = None  # BHXH tự nguyện
    method: PaymentMethod | None = None  # BHXH tự nguyện
    member_order: int | None = None  # BHYT hộ gia đình


def payment_fields(args: argparse.Namespace) -> PaymentFields:
    scheme = Scheme(args.scheme)
    start = parse_month(args.start_month) if args.start_month else None
    if scheme is not Scheme.BHXH_TN:
        return PaymentFields(scheme, args.months, start, member_order=args.member_order)
    if args.income is None:
        raise ValidationError(
            "income", "Mức thu nhập lựa chọn", "hãy nhập bằng --income", rule_en="--income"
        )
    return PaymentFields(
        scheme,
        args.months,
        start,
        income=parse_money(args.income, "income", "Mức thu nhập lựa chọn"),
        support_category=SupportCategory(args.category) if args.category else None,
        method=PaymentMethod(args.method),
    )


def _quote(args: argparse.Namespace, table: RateTable, f: PaymentFields, paid_on: date) -> Quote:
    from app.domain.periods import check_bhxh_period, rate_change_notes
    from app.domain.quote import bhyt_card_start, quote_bhxh_tn, quote_bhyt_hgd

    if f.scheme is Scheme.BHXH_TN:
        assert f.income is not None and f.method is not None  # payment_fields checked them
        quote = quote_bhxh_tn(
            table,
            income=f.income,
            category=f.support_category or SupportCategory.OTHER,
            method=f.method,
            months=f.months,
            start_month=f.start_month or paid_on.replace(day=1),
            paid_on=paid_on,
            support_months_used=args.support_months_used,
        )
        # The period rules that need no history (deadline, past, too far ahead: RULES.md).
        check_bhxh_period(
            table,
            method=f.method,
            start_month=quote.period_from,
            months=quote.months,
            paid_on=paid_on,
            paid=(),
        )
        notes = rate_change_notes(table, Scheme.BHXH_TN, paid_on, quote.period_to)
        return dataclasses.replace(quote, notes=notes)
    if f.months is None:
        raise ValidationError("months", "Số tháng", "hãy chọn 3, 6 hoặc 12", rule_en="--months")
    return quote_bhyt_hgd(
        table,
        member_order=1 if f.member_order is None else f.member_order,
        months=f.months,
        start_month=f.start_month or bhyt_card_start(paid_on, None),
        paid_on=paid_on,
    )


def cmd_quote(args: argparse.Namespace) -> int:
    from app.domain.rates import load_default_rate_table
    from app.services.counter import is_initialised
    from app.services.rates import current_rate_table

    # A quote needs no counter: without a database it uses the shipped table (and creates none).
    db = open_db(args) if db_path(args).is_file() else None
    table = (
        current_rate_table(db)
        if db is not None and is_initialised(db)
        else load_default_rate_table()
    )
    quote = _quote(args, table, payment_fields(args), day_arg(args))
    lines = "\n".join(f"  {label}: {value}" for label, value in quote.lines)
    emit(args, quote, f"{quote.scheme.label} — bảng mức đóng {quote.rate_version}\n{lines}")
    return EXIT_OK


def payment_text(p: PaymentView) -> str:
    from app.domain.documents import format_receipt_number
    from app.domain.money import amount_in_words, format_vnd

    status = " — ĐÃ HỦY: " + (p.void_reason or "") if p.voided else ""
    return (
        f"Biên lai {p.series} số {format_receipt_number(p.receipt_number)}{status}\n"
        f"  Người nộp: {p.payer_name} ({p.ma_so_bhxh or 'chưa có mã, CCCD ' + (p.cccd or '')})\n"
        f"  {p.scheme.label}, {p.months} tháng: {p.period_from:%m/%Y} – {p.period_to:%m/%Y}\n"
        f"  Số tiền: {format_vnd(p.amount)} ({amount_in_words(p.amount)})\n"
        f"  MÃ XÁC NHẬN: {p.confirmation_code}"
    )


def cmd_pay(args: argparse.Namespace) -> int:
    from app.services.payments import PaymentRequest, record_payment

    db = open_db(args)
    actor = login(args, db)
    participant = find_participant(db, args.participant)
    tendered = parse_money(args.tendered, "tendered", "Tiền khách đưa") if args.tendered else None
    f = payment_fields(args)
    req = PaymentRequest(
        client_request_id=args.request_id or str(uuid.uuid4()),
        participant_id=participant.id,
        tendered=tendered,
        scheme=f.scheme,
        months=f.months,
        method=f.method,
        income=f.income,
        support_category=f.support_category,
        member_order=f.member_order,
        start_month=f.start_month,
    )
    view = record_payment(db, req, by=actor)
    change = f"\n  Tiền thối lại: {view.change_due:,} đ".replace(",", ".") if tendered else ""
    emit(args, view, payment_text(view) + change)
    return EXIT_OK


def cmd_void(args: argparse.Namespace) -> int:
    from app.services.payments import void_payment

    db = open_db(args)
    supervisor = login(args, db)
    view = void_payment(db, receipt_number=args.receipt, reason=args.reason, supervisor=supervisor)
    emit(args, view, payment_text(view))
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    from app.domain.clock import LOCAL_TZ
    from app.domain.documents import format_receipt_number
    from app.domain.money import format_vnd
    from app.services.payments import list_payments

    db = open_db(args)
    day = day_arg(args)
    rows = list_payments(db, day)
    total = sum(p.amount for p in rows if not p.voided)
    lines = [
        f"{format_receipt_number(p.receipt_number)}  {p.confirmation_code}  "
        f"{p.paid_at.astimezone(LOCAL_TZ):%H:%M}  "
        f"{format_vnd(p.amount):>14}  {p.scheme.label:<17} {p.payer_name}"
        + ("  [ĐÃ HỦY]" if p.voided else "")
        for p in rows
    ]
    lines.append(
        f"{len(rows)} khoản thu ngày {day:%d/%m/%Y}; tổng (trừ khoản đã hủy): {format_vnd(total)}"
    )
    emit(args, {"date": day, "payments": rows, "total": total}, "\n".join(lines))
    return EXIT_OK


def cmd_verify(args: argparse.Namespace) -> int:
    from app.services.verify import verify_ledger

    report = verify_ledger(open_db(args))
    if report.ok:
        emit(
            args,
            {"ok": True, "checked": report.checked, "head_hash": report.head_hash},
            f"Sổ thu toàn vẹn: {report.checked} bản ghi và {report.audit_checked} mục nhật ký; "
            "chuỗi, mã xác nhận, từng cột và mốc đầu chuỗi đều khớp.",
        )
        return EXIT_OK
    findings = [
        {
            "kind": f.kind,
            "record": f.record,
            "record_to": f.record_to,
            "column": f.column,
            "table": f.table,
            "row": f.row,
            "message": f.message,
        }
        for f in report.findings
    ]
    payload = {
        "ok": False,
        "checked": report.checked,
        "first_bad_seq": report.first_bad_seq,
        "problems": report.problems,
        "findings": findings,
    }
    first = (
        f" — bản ghi hỏng đầu tiên: số {report.first_bad_seq}"
        if report.first_bad_seq is not None
        else ""
    )
    text = f"SỔ THU KHÔNG TOÀN VẸN{first} ({len(findings)} phát hiện)\n" + "\n".join(
        f"  - {p}" for p in report.problems
    )
    raise CliExit(EXIT_FAILED, payload, text)


def payment_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--scheme", required=True, choices=["bhxh_tn", "bhyt_hgd"])
    p.add_argument("--income", help="BHXH tự nguyện: chosen monthly income, đồng")
    p.add_argument("--category", choices=["poor", "near_poor", "ethnic_minority", "other"])
    p.add_argument("--method", default="12", choices=["1", "3", "6", "12", "lump"])
    p.add_argument("--months", type=int_in(1, 120))
    p.add_argument("--member-order", type=int_in(1, 99), default=1, help="BHYT hộ gia đình: 1..n")
    p.add_argument("--start-month", help="YYYY-MM (default: continues the last period)")


def register(commands: Commands) -> None:
    p = commands.add("quote", cmd_quote, "tính số tiền phải đóng (quote)")
    payment_args(p)
    p.add_argument("--date", help="payment date YYYY-MM-DD (default: today)")
    p.add_argument("--support-months-used", type=int_in(0, 1200), default=0)

    p = commands.add("pay", cmd_pay, "ghi nhận khoản thu (record a payment)", needs_user=True)
    p.add_argument("--participant", required=True, help="mã số BHXH, CCCD or participant id")
    payment_args(p)
    p.add_argument("--tendered", help="cash handed over, đồng")
    p.add_argument("--request-id", help="idempotency key: the same id never records twice")

    p = commands.add(
        "void", cmd_void, "hủy khoản thu (supervisor; void a payment)", needs_user=True
    )
    p.add_argument("--receipt", type=int_in(1, 10**9), required=True)
    p.add_argument("--reason", required=True)

    p = commands.add("list", cmd_list, "liệt kê khoản thu trong ngày (list a day)")
    p.add_argument("--date", help="YYYY-MM-DD (default: today)")

    commands.add("verify", cmd_verify, "kiểm tra toàn vẹn sổ thu (verify the ledger)")
