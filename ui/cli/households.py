"""BHYT households: `quaythu household create | add | show` and `quaythu pay-household` (several
members paid in one cash transaction, one receipt each — docs/RULES.md R5)."""

from __future__ import annotations

import argparse
import uuid
from typing import TYPE_CHECKING

from app.errors import ValidationError
from ui.cli.base import (
    EXIT_OK,
    Commands,
    emit,
    find_participant,
    login,
    open_db,
    parse_money,
    parse_month,
)

if TYPE_CHECKING:
    from app.services.household_payment import MemberItem
    from app.services.households import HouseholdView
    from app.services.payments import PaymentView
    from app.storage.db import Database


def household_text(h: HouseholdView) -> str:
    from app.domain.clock import business_date, now_utc

    today = business_date(now_utc())
    lines = [f"Hộ gia đình {h.id} — {h.address or 'chưa ghi địa chỉ'}"]
    for m in h.members:
        if m.holds_card(today):
            card = f"thẻ BHYT đến {m.card_end:%d/%m/%Y}"
        elif m.card_end is not None and m.card_end >= today:
            card = f"thẻ BHYT từ {m.card_from:%d/%m/%Y} đến {m.card_end:%d/%m/%Y}"
        else:
            card = f"thẻ hết hạn {m.card_end:%d/%m/%Y}" if m.card_end else "chưa có thẻ"
        role = "Chủ hộ" if m.is_head else (m.relation or "Thành viên")
        lines.append(f"  {m.full_name} ({m.ma_so_bhxh or 'chưa có mã số'}) — {role}; {card}")
    return "\n".join(lines)


def _receipt_text(p: PaymentView) -> str:
    """One member's receipt, as `quaythu pay` prints a payment."""
    from app.domain.documents import format_receipt_number
    from app.domain.money import format_vnd

    card = f"\n  Thẻ BHYT: {p.card_from:%d/%m/%Y} – {p.card_to:%d/%m/%Y}" if p.card_from else ""
    return (
        f"Biên lai {p.series} số {format_receipt_number(p.receipt_number)} — "
        f"thành viên thứ {p.member_order}\n"
        f"  Người nộp: {p.payer_name} ({p.ma_so_bhxh or 'chưa có mã, CCCD ' + (p.cccd or '')})\n"
        f"  {p.scheme.label}, {p.months} tháng: {p.period_from:%m/%Y} – {p.period_to:%m/%Y}\n"
        f"  Số tiền: {format_vnd(p.amount)}{card}\n"
        f"  MÃ XÁC NHẬN: {p.confirmation_code}"
    )


def _household_id(db: Database, ref: str) -> str:
    """A household by its id, or by any member's mã số BHXH / CCCD / id."""
    from app.errors import NotFoundError
    from app.services.households import get_household, household_of

    try:
        return get_household(db, ref).id
    except NotFoundError:
        found = household_of(db, find_participant(db, ref).id)
    if found is None:
        raise NotFoundError(
            f"Người tham gia {ref} chưa thuộc hộ gia đình nào.", message_en="in no household"
        )
    return found.id


def cmd_household_create(args: argparse.Namespace) -> int:
    from app.services.households import create_household

    db = open_db(args)
    actor = login(args, db)
    head = find_participant(db, args.head)
    view = create_household(db, head_participant_id=head.id, address=args.address or "", by=actor)
    emit(args, view, household_text(view))
    return EXIT_OK


def cmd_household_add(args: argparse.Namespace) -> int:
    from app.services.households import add_member

    db = open_db(args)
    actor = login(args, db)
    household = _household_id(db, args.household)
    member = find_participant(db, args.participant)
    view = add_member(db, household, member.id, relation=args.relation or "", by=actor)
    emit(args, view, household_text(view))
    return EXIT_OK


def cmd_household_show(args: argparse.Namespace) -> int:
    from app.services.households import get_household

    db = open_db(args)
    view = get_household(db, _household_id(db, args.household))
    emit(args, view, household_text(view))
    return EXIT_OK


def _items(db: Database, args: argparse.Namespace) -> tuple[MemberItem, ...]:
    from app.services.household_payment import MemberItem

    items = []
    for spec in args.member:
        ref, _, months_text = spec.partition(":")
        months = args.months
        if months_text:
            if not months_text.isdigit():
                raise ValidationError(
                    "member",
                    "Thành viên",
                    f"“{spec[:30]}”: số tháng sau dấu “:” phải là số (3, 6 hoặc 12)",
                    rule_en="REF[:MONTHS]",
                )
            months = int(months_text)
        start = parse_month(args.start_month) if args.start_month else None
        items.append(MemberItem(find_participant(db, ref).id, months, start_month=start))
    return tuple(items)


def cmd_pay_household(args: argparse.Namespace) -> int:
    from app.domain.money import format_vnd
    from app.services.household_payment import (
        HouseholdPaymentRequest,
        preview_household_quotes,
        record_household_payment,
    )

    db = open_db(args)
    actor = login(args, db)
    tendered = parse_money(args.tendered, "tendered", "Tiền khách đưa") if args.tendered else None
    req = HouseholdPaymentRequest(
        client_request_id=args.request_id or str(uuid.uuid4()),
        items=_items(db, args),
        tendered=tendered,
    )
    if args.preview:
        found = preview_household_quotes(db, req, by=actor)
        quotes = [m.view for m in found]
        total = sum(q.amount for q in quotes)
        lines = []
        for m in found:
            q = m.view
            lines.append(
                f"  Thành viên thứ {q.member_order}: {q.payer_name}, {q.months} tháng "
                f"{q.period_from:%m/%Y} – {q.period_to:%m/%Y}: {format_vnd(q.amount)}"
            )
            lines += [f"    - {n}" for n in m.notes]
        text = "\n".join(["Dự tính (chưa ghi):", *lines, f"  Tổng cộng: {format_vnd(total)}"])
        payload = {"quotes": quotes, "notes": [m.notes for m in found], "total": total}
        emit(args, payload, text)
        return EXIT_OK
    view = record_household_payment(db, req, by=actor)
    parts = [_receipt_text(p) for p in view.payments]
    parts.append(f"Tổng cộng {len(view.payments)} biên lai: {format_vnd(view.total)}")
    if view.tendered is not None and view.change_due is not None:
        parts.append(
            f"  Tiền khách đưa: {format_vnd(view.tendered)}\n"
            f"  Tiền thối lại: {format_vnd(view.change_due)}"
        )
    payload = {
        "client_request_id": view.client_request_id,
        "household_id": view.household_id,
        "payments": view.payments,
        "total": view.total,
        "tendered": view.tendered,
        "change_due": view.change_due,
    }
    emit(args, payload, "\n".join(parts))
    return EXIT_OK


def register(commands: Commands) -> None:
    group = commands.group("household", "hộ gia đình BHYT (households)")
    p = group.add("create", cmd_household_create, "lập hộ gia đình", needs_user=True)
    p.add_argument("--head", required=True, help="chủ hộ: mã số BHXH, CCCD or participant id")
    p.add_argument("--address")
    p = group.add("add", cmd_household_add, "thêm hoặc chuyển thành viên", needs_user=True)
    p.add_argument("--household", required=True, help="household id, or any member's code")
    p.add_argument("--participant", required=True)
    p.add_argument("--relation", help="quan hệ với chủ hộ (Vợ, Con, …)")
    p = group.add("show", cmd_household_show, "xem hộ gia đình và thẻ BHYT")
    p.add_argument("household", help="household id, or any member's code")

    p = commands.add(
        "pay-household",
        cmd_pay_household,
        "thu BHYT cho nhiều thành viên một hộ một lần (one receipt each)",
        needs_user=True,
    )
    p.add_argument(
        "--member",
        action="append",
        required=True,
        metavar="REF[:MONTHS]",
        help="a member (mã số BHXH, CCCD or id), in paying order; repeat for each",
    )
    p.add_argument("--months", type=int, default=12, help="months for members without :MONTHS")
    p.add_argument("--start-month", help="YYYY-MM for every member (default: the card rule)")
    p.add_argument("--tendered", help="cash handed over for the whole group, đồng")
    p.add_argument("--request-id", help="idempotency key for the group (at most 60 characters)")
    p.add_argument("--preview", action="store_true", help="show the quotes, record nothing")
