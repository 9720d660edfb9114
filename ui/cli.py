"""`quaythu` — the command line, for scripts, scheduled jobs and people at a terminal.

With no sub-command it opens the counter window. Every sub-command takes `--db PATH` (default:
the user data folder) and `--json` (machine-readable output on stdout; errors as JSON on
stderr). Flag names are part of the contract with scheduled jobs: keep them stable and listed in
README.md.

Exit codes: 0 done; 1 refused or failed (not found, not allowed, ledger verification failed,
not initialised); 2 usage or validation error (a field broke a rule); 3 offline / sync failed;
70 unexpected error (logged with its traceback).

Operator commands act as the operator named by `--user` (or $QUAYTHU_USER) with the password
from $QUAYTHU_PASSWORD or a prompt. No Qt is imported unless the window is opened.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import sys
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, is_dataclass
from datetime import date, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any

from app.errors import UserFacingError, ValidationError

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_OFFLINE, EXIT_BUG = 0, 1, 2, 3, 70

log = logging.getLogger("quaythu.cli")


class CliExit(Exception):
    def __init__(self, code: int, payload: Any = None, text: str = "") -> None:
        super().__init__(text)
        self.code, self.payload, self.text = code, payload, text


# --- output ------------------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {k: _jsonable(v) for k, v in asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Path):
        return str(value)
    return value


def emit(args: argparse.Namespace, payload: Any, text: str) -> None:
    if getattr(args, "json", False):
        print(json.dumps(_jsonable(payload), ensure_ascii=False, indent=2))
    else:
        print(text)


# --- argument helpers --------------------------------------------------------------------------


def parse_day(text: str) -> date:
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValidationError(
        "date", "Ngày", f"“{text}” phải có dạng YYYY-MM-DD hoặc dd/mm/yyyy", rule_en="YYYY-MM-DD"
    )


def parse_month(text: str) -> date:
    for fmt in ("%Y-%m", "%m/%Y"):
        try:
            return datetime.strptime(text, fmt).date().replace(day=1)
        except ValueError:
            continue
    raise ValidationError(
        "start_month",
        "Tháng bắt đầu",
        f"“{text}” phải có dạng YYYY-MM hoặc mm/yyyy",
        rule_en="YYYY-MM",
    )


def parse_money(text: str, field: str, label: str) -> int:
    from app.domain.money import parse_vnd

    return parse_vnd(text, field, label)


def today_local() -> date:
    from app.services.common import business_date, now_utc

    return business_date(now_utc())


def open_db(args: argparse.Namespace) -> Any:
    from app.storage.db import open_database

    path = getattr(args, "db", None)
    return open_database(Path(path) if path else None)


def login(args: argparse.Namespace, db: Any) -> Any:
    from app.services.operators import authenticate

    user = getattr(args, "user", None) or os.environ.get("QUAYTHU_USER")
    if not user:
        raise ValidationError(
            "user",
            "Người dùng",
            "hãy cho biết bằng --user hoặc biến QUAYTHU_USER",
            rule_en="pass --user or set QUAYTHU_USER",
        )
    password = os.environ.get("QUAYTHU_PASSWORD")
    if password is None:
        if not sys.stdin.isatty():
            raise ValidationError(
                "password",
                "Mật khẩu",
                "hãy đặt biến QUAYTHU_PASSWORD khi chạy không tương tác",
                rule_en="set QUAYTHU_PASSWORD when not interactive",
            )
        password = getpass.getpass(f"Mật khẩu của {user}: ")
    return authenticate(db, user, password)


def find_participant(db: Any, ref: str) -> Any:
    """A participant by mã số BHXH, CCCD or internal id."""
    from app.errors import NotFoundError
    from app.services.participants import find_by_identifier, get_participant

    ref = ref.strip()
    if ref.isdigit():
        found = find_by_identifier(db, ref)
        if found is None:
            raise NotFoundError(
                f"Không tìm thấy người tham gia có mã số BHXH/CCCD {ref}.",
                message_en=f"no participant with code {ref}",
            )
        return found
    return get_participant(db, ref)


# --- commands ----------------------------------------------------------------------------------


def cmd_init(args: argparse.Namespace) -> int:
    from app.services.counter import init_counter

    password = os.environ.get("QUAYTHU_PASSWORD")
    if password is None:
        password = getpass.getpass("Mật khẩu quản trị: ")
        if getpass.getpass("Nhập lại mật khẩu: ") != password:
            raise ValidationError(
                "password", "Mật khẩu", "hai lần nhập không giống nhau", rule_en="mismatch"
            )
    db = open_db(args)
    counter, admin = init_counter(
        db,
        organisation=args.organisation,
        collection_point=args.collection_point,
        counter_code=args.counter_code,
        admin_username=args.admin_user,
        admin_full_name=args.admin_name,
        admin_password=password,
        receipt_series=args.series,
        central_url=args.central_url,
    )
    emit(
        args,
        {"counter": counter, "admin": admin.username, "db": db.path},
        f"Đã khởi tạo quầy {counter.counter_code} ({counter.collection_point}).\n"
        f"Cơ sở dữ liệu: {db.path}\nKhóa ký đã lưu trong keyring của hệ điều hành.",
    )
    return EXIT_OK


def _payment_request_fields(args: argparse.Namespace) -> dict[str, Any]:
    from app.domain.types import PaymentMethod, Scheme, SupportCategory

    scheme = Scheme(args.scheme)
    fields: dict[str, Any] = {"scheme": scheme, "months": args.months}
    if args.start_month:
        fields["start_month"] = parse_month(args.start_month)
    if scheme is Scheme.BHXH_TN:
        if args.income is None:
            raise ValidationError(
                "income", "Mức thu nhập lựa chọn", "hãy nhập bằng --income", rule_en="--income"
            )
        fields["income"] = parse_money(args.income, "income", "Mức thu nhập lựa chọn")
        fields["support_category"] = SupportCategory(args.category) if args.category else None
        fields["method"] = PaymentMethod(args.method)
    else:
        fields["member_order"] = args.member_order
    return fields


def cmd_quote(args: argparse.Namespace) -> int:
    import dataclasses

    from app.domain.periods import check_bhxh_period, rate_change_notes
    from app.domain.quote import bhyt_card_start, quote_bhxh_tn, quote_bhyt_hgd
    from app.domain.rates import load_default_rate_table
    from app.domain.types import Scheme, SupportCategory
    from app.services.counter import is_initialised
    from app.services.rates import current_rate_table

    db = open_db(args)
    table = current_rate_table(db) if is_initialised(db) else load_default_rate_table()
    paid_on = parse_day(args.date) if args.date else today_local()
    f = _payment_request_fields(args)
    if f["scheme"] is Scheme.BHXH_TN:
        start = f.get("start_month") or paid_on.replace(day=1)
        quote = quote_bhxh_tn(
            table,
            income=f["income"],
            category=f["support_category"] or SupportCategory.OTHER,
            method=f["method"],
            months=f["months"],
            start_month=start,
            paid_on=paid_on,
            support_months_used=args.support_months_used,
        )
        # The period rules that need no history (deadline, past, too far ahead: RULES.md).
        check_bhxh_period(
            table,
            method=f["method"],
            start_month=quote.period_from,
            months=quote.months,
            paid_on=paid_on,
            paid=(),
        )
        notes = rate_change_notes(table, Scheme.BHXH_TN, paid_on, quote.period_to)
        quote = dataclasses.replace(quote, notes=notes)
    else:
        if f["months"] is None:
            raise ValidationError("months", "Số tháng", "hãy chọn 3, 6 hoặc 12", rule_en="--months")
        start = f.get("start_month") or bhyt_card_start(paid_on, None)
        quote = quote_bhyt_hgd(
            table,
            member_order=f["member_order"],
            months=f["months"],
            start_month=start,
            paid_on=paid_on,
        )
    lines = "\n".join(f"  {label}: {value}" for label, value in quote.lines)
    emit(args, quote, f"{quote.scheme.label} — bảng mức đóng {quote.rate_version}\n{lines}")
    return EXIT_OK


def _payment_text(p: Any) -> str:
    from app.domain.money import amount_in_words, format_vnd

    status = " — ĐÃ HỦY: " + p.void_reason if p.voided else ""
    return (
        f"Biên lai {p.series} số {p.receipt_number:06d}{status}\n"
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
    req = PaymentRequest(
        client_request_id=args.request_id or str(uuid.uuid4()),
        participant_id=participant.id,
        tendered=tendered,
        **_payment_request_fields(args),
    )
    view = record_payment(db, req, by=actor)
    change = f"\n  Tiền thối lại: {view.change_due:,} đ".replace(",", ".") if tendered else ""
    emit(args, view, _payment_text(view) + change)
    return EXIT_OK


def cmd_void(args: argparse.Namespace) -> int:
    from app.services.payments import void_payment

    db = open_db(args)
    supervisor = login(args, db)
    view = void_payment(db, receipt_number=args.receipt, reason=args.reason, supervisor=supervisor)
    emit(args, view, _payment_text(view))
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    from app.domain.money import format_vnd
    from app.services.common import LOCAL_TZ
    from app.services.payments import list_payments

    db = open_db(args)
    day = parse_day(args.date) if args.date else today_local()
    rows = list_payments(db, day)
    total = sum(p.amount for p in rows if not p.voided)
    lines = [
        f"{p.receipt_number:>6}  {p.confirmation_code}  {p.paid_at.astimezone(LOCAL_TZ):%H:%M}  "
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

    db = open_db(args)
    report = verify_ledger(db)
    if report.ok:
        emit(
            args,
            {"ok": True, "checked": report.checked, "head_hash": report.head_hash},
            f"Sổ thu toàn vẹn: {report.checked} bản ghi, chuỗi và mã xác nhận đều khớp.",
        )
        return EXIT_OK
    payload = {
        "ok": False,
        "checked": report.checked,
        "first_bad_seq": report.first_bad_seq,
        "problems": report.problems,
    }
    text = (
        f"SỔ THU KHÔNG TOÀN VẸN — bản ghi hỏng đầu tiên: số {report.first_bad_seq}\n"
        + "\n".join(f"  - {p}" for p in report.problems)
    )
    raise CliExit(EXIT_FAILED, payload, text)


def cmd_summary(args: argparse.Namespace) -> int:
    from app.domain.money import format_vnd
    from app.services.documents import daily_summary

    db = open_db(args)
    day = parse_day(args.date) if args.date else today_local() - timedelta(days=1)
    report = daily_summary(db, day)
    lines = [f"Mẫu 01-XN ngày {day:%d/%m/%Y} — {report.collection_point}"]
    lines += [
        f"{r.stt:>4}  {r.confirmation_code}  {format_vnd(r.amount):>14}  {r.full_name}"
        + ("  [ĐÃ HỦY]" if r.voided else "")
        for r in report.rows
    ]
    lines += [
        f"  {label}: {count} khoản, {format_vnd(amount)}"
        for label, count, amount in report.totals_by_scheme
    ]
    lines.append(f"  TỔNG CỘNG: {report.grand_count} khoản, {format_vnd(report.grand_total)}")
    emit(args, report, "\n".join(lines))
    return EXIT_OK


def cmd_participant_add(args: argparse.Namespace) -> int:
    from app.domain.types import Sex, SupportCategory
    from app.services.participants import ParticipantInput, create_participant

    db = open_db(args)
    actor = login(args, db)
    sex = {"nam": Sex.MALE, "nu": Sex.FEMALE, "nữ": Sex.FEMALE}.get((args.sex or "").lower())
    if args.sex and sex is None:
        raise ValidationError("sex", "Giới tính", "phải là nam hoặc nu", rule_en="nam or nu")
    view = create_participant(
        db,
        ParticipantInput(
            full_name=args.name,
            date_of_birth=parse_day(args.dob) if args.dob else None,
            sex=sex,
            cccd=args.cccd,
            ma_so_bhxh=args.ma_so,
            address=args.address or "",
            phone=args.phone or "",
            email=args.email or "",
            support_category=SupportCategory(args.category) if args.category else None,
        ),
        by=actor,
    )
    emit(args, view, f"Đã thêm người tham gia {view.full_name} (mã nội bộ {view.id}).")
    return EXIT_OK


def cmd_participant_import(args: argparse.Namespace) -> int:
    from app.services.participants import import_participants_csv

    db = open_db(args)
    actor = login(args, db)
    result = import_participants_csv(db, Path(args.file), by=actor)
    if result.errors:
        text = "Không nhập dòng nào vì có lỗi:\n" + "\n".join(
            f"  dòng {line}: {msg}" for line, msg in result.errors
        )
        raise CliExit(EXIT_USAGE, result, text)
    emit(args, result, f"Đã nhập: {result.created} người mới, {result.updated} người cập nhật.")
    return EXIT_OK


def cmd_participant_search(args: argparse.Namespace) -> int:
    from app.services.participants import search_participants

    db = open_db(args)
    rows = search_participants(db, args.query, limit=args.limit)
    text = (
        "\n".join(
            f"{p.ma_so_bhxh or '(chưa có mã)':<13} {p.cccd or '':<12}  {p.full_name}"
            + (f"  {p.date_of_birth:%d/%m/%Y}" if p.date_of_birth else "")
            for p in rows
        )
        or "Không tìm thấy ai."
    )
    emit(args, rows, text)
    return EXIT_OK


def cmd_operator_add(args: argparse.Namespace) -> int:
    from app.domain.types import Role
    from app.services.operators import create_operator

    db = open_db(args)
    actor = login(args, db)
    password = os.environ.get("QUAYTHU_NEW_PASSWORD") or getpass.getpass("Mật khẩu mới: ")
    view = create_operator(
        db,
        username=args.username,
        full_name=args.name,
        role=Role(args.role),
        password=password,
        by=actor,
    )
    emit(args, view, f"Đã tạo tài khoản {view.username} ({view.role.label}).")
    return EXIT_OK


def cmd_receipt(args: argparse.Namespace) -> int:
    from app.services.documents import receipt_data
    from app.services.payments import record_reprint
    from printing.receipt import ReceiptLayout, render_receipt

    db = open_db(args)
    reprint = 0
    if args.copy:
        reprint = record_reprint(db, args.number, by=login(args, db))
    data = receipt_data(db, args.number, reprint_number=reprint)
    layout = ReceiptLayout.ROLL_80MM if args.format == "80mm" else ReceiptLayout.A5
    out = Path(args.output)
    out.write_bytes(render_receipt(data, layout))
    emit(
        args,
        {"receipt": args.number, "output": out, "reprint": reprint},
        f"Đã ghi biên lai số {args.number} ra {out}"
        + (f" (bản sao lần {reprint})" if reprint else ""),
    )
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    from app.services.documents import daily_summary
    from printing.xn01 import render_xn01_csv, render_xn01_pdf, render_xn01_xlsx

    db = open_db(args)
    day = parse_day(args.date) if args.date else today_local() - timedelta(days=1)
    report = daily_summary(db, day)
    render: Callable[[Any], bytes] = {
        "pdf": render_xn01_pdf,
        "xlsx": render_xn01_xlsx,
        "csv": render_xn01_csv,
    }[args.format]
    name = f"01-XN_{report.counter_code}_{day:%Y-%m-%d}.{args.format}"
    out = Path(args.output) if args.output else Path(name)
    if out.is_dir():
        out = out / name
    out.write_bytes(render(report))
    emit(
        args,
        {"date": day, "output": out, "rows": len(report.rows), "grand_total": report.grand_total},
        f"Đã ghi Mẫu 01-XN ngày {day:%d/%m/%Y} ({len(report.rows)} dòng) ra {out}",
    )
    return EXIT_OK


# --- parser ------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--db",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="database file (default: the user data folder)",
    )
    common.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable output"
    )
    auth = argparse.ArgumentParser(add_help=False)
    auth.add_argument(
        "--user",
        default=argparse.SUPPRESS,
        help="operator user name (or $QUAYTHU_USER); password from $QUAYTHU_PASSWORD or a prompt",
    )

    parser = argparse.ArgumentParser(
        prog="quaythu",
        parents=[common],
        description="QuầyThu — thu BHXH tự nguyện, BHYT hộ gia đình tại quầy. "
        "Không có lệnh con: mở cửa sổ quầy thu.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(
        name: str,
        fn: Callable[[argparse.Namespace], int],
        help_: str,
        *,
        needs_user: bool = False,
        **kw: Any,
    ) -> argparse.ArgumentParser:
        parents = [common, auth] if needs_user else [common]
        p = sub.add_parser(name, parents=parents, help=help_, description=help_, **kw)
        p.set_defaults(func=fn)
        return p

    p = add("init", cmd_init, "khởi tạo quầy: danh tính, CSDL, khóa ký (initialise a counter)")
    p.add_argument("--organisation", required=True)
    p.add_argument("--collection-point", required=True)
    p.add_argument("--counter-code", required=True)
    p.add_argument("--series", help="receipt series (default: the counter code)")
    p.add_argument("--admin-user", required=True)
    p.add_argument("--admin-name", required=True)
    p.add_argument("--central-url")

    def payment_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("--scheme", required=True, choices=["bhxh_tn", "bhyt_hgd"])
        p.add_argument("--income", help="BHXH tự nguyện: chosen monthly income, đồng")
        p.add_argument("--category", choices=["poor", "near_poor", "ethnic_minority", "other"])
        p.add_argument("--method", default="12", choices=["1", "3", "6", "12", "lump"])
        p.add_argument("--months", type=int)
        p.add_argument("--member-order", type=int, default=1, help="BHYT hộ gia đình: 1..n")
        p.add_argument("--start-month", help="YYYY-MM (default: continues the last period)")

    p = add("quote", cmd_quote, "tính số tiền phải đóng (quote)")
    payment_args(p)
    p.add_argument("--date", help="payment date YYYY-MM-DD (default: today)")
    p.add_argument("--support-months-used", type=int, default=0)

    p = add("pay", cmd_pay, "ghi nhận khoản thu (record a payment)", needs_user=True)
    p.add_argument("--participant", required=True, help="mã số BHXH, CCCD or participant id")
    payment_args(p)
    p.add_argument("--tendered", help="cash handed over, đồng")
    p.add_argument("--request-id", help="idempotency key: the same id never records twice")

    p = add("void", cmd_void, "hủy khoản thu (supervisor; void a payment)", needs_user=True)
    p.add_argument("--receipt", type=int, required=True)
    p.add_argument("--reason", required=True)

    p = add("list", cmd_list, "liệt kê khoản thu trong ngày (list a day)")
    p.add_argument("--date", help="YYYY-MM-DD (default: today)")

    add("verify", cmd_verify, "kiểm tra toàn vẹn sổ thu (verify the ledger)")

    p = add("summary", cmd_summary, "Mẫu 01-XN dạng bảng (daily summary)")
    p.add_argument("--date", help="YYYY-MM-DD (default: yesterday)")

    p = add("receipt", cmd_receipt, "xuất biên lai ra PDF (render a receipt)", needs_user=True)
    p.add_argument("number", type=int)
    p.add_argument("--format", choices=["80mm", "a5"], default="80mm")
    p.add_argument("--output", "-o", required=True)
    p.add_argument("--copy", action="store_true", help="a counted reprint: BẢN SAO")

    p = add("report", cmd_report, "xuất Mẫu 01-XN (pdf/xlsx/csv)")
    p.add_argument("--date", help="YYYY-MM-DD (default: yesterday)")
    p.add_argument("--format", choices=["pdf", "xlsx", "csv"], default="pdf")
    p.add_argument("--output", "-o")

    part = sub.add_parser("participant", help="người tham gia (participants)")
    psub = part.add_subparsers(dest="participant_command", metavar="ACTION", required=True)

    def padd(
        name: str, fn: Callable[[argparse.Namespace], int], help_: str, needs_user: bool
    ) -> argparse.ArgumentParser:
        parents = [common, auth] if needs_user else [common]
        p = psub.add_parser(name, parents=parents, help=help_, description=help_)
        p.set_defaults(func=fn)
        return p

    p = padd("add", cmd_participant_add, "thêm người tham gia", True)
    p.add_argument("--name", required=True)
    p.add_argument("--dob", help="YYYY-MM-DD or dd/mm/yyyy")
    p.add_argument("--sex", help="nam / nu")
    p.add_argument("--cccd")
    p.add_argument("--ma-so", help="mã số BHXH (omit for a first-time participant)")
    p.add_argument("--address")
    p.add_argument("--phone")
    p.add_argument("--email")
    p.add_argument("--category", choices=["poor", "near_poor", "ethnic_minority", "other"])
    p = padd("import", cmd_participant_import, "nhập danh sách từ CSV (UTF-8)", True)
    p.add_argument("file")
    p = padd("search", cmd_participant_search, "tìm theo mã số, CCCD hoặc tên không dấu", False)
    p.add_argument("query")
    p.add_argument("--limit", type=int, default=20)

    op = sub.add_parser("operator", help="tài khoản người dùng (operators)")
    osub = op.add_subparsers(dest="operator_command", metavar="ACTION", required=True)
    p = osub.add_parser(
        "add",
        parents=[common, auth],
        help="thêm tài khoản (admin); password from $QUAYTHU_NEW_PASSWORD",
    )
    p.set_defaults(func=cmd_operator_add)
    p.add_argument("--username", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--role", choices=["cashier", "supervisor", "admin"], default="cashier")

    try:
        from ui import cli_sync
    except ImportError:  # pragma: no cover - sync commands not installed
        cli_sync = None  # type: ignore[assignment]
    if cli_sync is not None:
        cli_sync.register(sub, common)
    return parser


def _error_payload(exc: UserFacingError) -> dict[str, Any]:
    out: dict[str, Any] = {"message": exc.message, "message_en": exc.message_en}
    if isinstance(exc, ValidationError):
        out["field"] = exc.field
    return {"error": out}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    as_json = getattr(args, "json", False)
    if not getattr(args, "func", None):
        from ui.qt.app import run

        db = getattr(args, "db", None)
        return run(Path(db) if db else None)
    try:
        code: int = args.func(args)
        return code
    except CliExit as exc:
        if exc.payload is not None and as_json:
            print(json.dumps(_jsonable(exc.payload), ensure_ascii=False, indent=2))
        elif exc.text:
            print(exc.text, file=sys.stderr)
        return exc.code
    except UserFacingError as exc:
        if as_json:
            print(json.dumps(_error_payload(exc), ensure_ascii=False), file=sys.stderr)
        else:
            en = f"\n({exc.message_en})" if exc.message_en else ""
            print(f"Lỗi: {exc.message}{en}", file=sys.stderr)
        return EXIT_USAGE if isinstance(exc, ValidationError) else EXIT_FAILED
    except KeyboardInterrupt:
        return 130
    except Exception:  # a bug or an environment failure: log it whole, say where
        from ui.logs import log_path, setup_logging

        setup_logging()
        log.exception("unexpected error in quaythu %s", getattr(args, "command", ""))
        print(f"Lỗi không mong muốn; chi tiết đã ghi vào {log_path()}", file=sys.stderr)
        return EXIT_BUG


if __name__ == "__main__":
    # `python -m ui.cli` runs this file as __main__; delegate to the imported module so that
    # exception classes (CliExit) are the same objects that ui.cli_sync raises.
    from ui.cli import main as _main

    sys.exit(_main())
