"""The history (Ctrl+I) and household (Ctrl+H) screens through the real window, on a real file:
"am I paid up?", creating a household, adding and moving members, member orders shown and
never typed, several members paid in one cash transaction, a household chosen at registration."""

from __future__ import annotations

import uuid
from typing import Any

from PySide6.QtCore import Qt

from app.domain.clock import business_date, now_utc
from app.domain.money import format_vnd
from app.domain.types import PaymentMethod, Scheme, SupportCategory
from app.services.common import Actor
from app.services.history import participant_history
from app.services.household_payment import AUDIT_ACTION
from app.services.households import add_member, create_household, household_of
from app.services.participants import ParticipantView, search_participants
from app.services.payments import PaymentRequest, list_payments, record_payment
from app.storage.db import Database
from app.storage.models import AuditEvent
from tests.services.test_period_rules import person
from tests.ui.conftest import activate, press, type_text, wait_ops
from tests.ui.test_ui_payment import find_by_typing, signed_in_payment_page, wait_quote


def test_history_f4_answers_am_i_paid_up(
    qtbot: Any, make_window: Any, db: Database, cashier: Actor, payer: ParticipantView
) -> None:
    paid = record_payment(
        db,
        PaymentRequest(
            str(uuid.uuid4()),
            payer.id,
            Scheme.BHXH_TN,
            method=PaymentMethod.YEARLY,
            income=1_500_000,
            support_category=SupportCategory.OTHER,
        ),
        by=cashier,
    )
    _window, page = signed_in_payment_page(qtbot, make_window)
    find_by_typing(qtbot, page, "0123456789")
    qtbot.keyClick(page.scheme, Qt.Key.Key_I, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: page.history_dialog is not None)
    dialog = page.history_dialog
    qtbot.waitUntil(lambda: dialog.history is not None, timeout=10_000)
    expected = participant_history(db, payer.id)
    last = expected.scheme(Scheme.BHXH_TN).paid[-1].last
    assert f"BHXH tự nguyện: ĐÃ ĐÓNG đến hết tháng {last:%m/%Y}" in dialog.answer.text()
    assert "BHYT hộ gia đình: chưa đóng kỳ nào" in dialog.answer.text()
    assert dialog.periods.item(0, 1).text() == f"{paid.period_from:%m/%Y}–{paid.period_to:%m/%Y}"
    assert "đã dùng: 12/120 (còn 108)" in dialog.facts.text()
    assert dialog.receipts.rowCount() == 1
    assert dialog.receipts.item(0, 1).text() == paid.confirmation_code
    assert dialog.receipts.item(0, 4).text() == format_vnd(paid.amount)
    activate(qtbot, dialog)
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: page.history_dialog is None)


def test_household_screen_create_add_pay_several_at_once(
    qtbot: Any, make_window: Any, db: Database, cashier: Actor, payer: ParticipantView
) -> None:
    husband = person(db, cashier, "Lê Văn Hai", "001085002345")
    child = person(db, cashier, "Lê Thị Ba", "001185003456")
    other_head = person(db, cashier, "Trần Văn Khác", "001080004567")
    elsewhere = create_household(db, head_participant_id=other_head.id, by=cashier)
    add_member(db, elsewhere.id, child.id, relation="Cháu", by=cashier)

    _window, page = signed_in_payment_page(qtbot, make_window)
    find_by_typing(qtbot, page, "0123456789")
    qtbot.keyClick(page.scheme, Qt.Key.Key_H, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: page.household_dialog is not None)
    dialog = page.household_dialog
    qtbot.waitUntil(lambda: dialog.info is not None, timeout=10_000)
    assert dialog.info.household is None and dialog.create_button.isVisibleTo(dialog)
    assert "chưa thuộc hộ gia đình nào" in dialog.summary.text()

    build_household(qtbot, db, dialog, child)
    pay_two(qtbot, db, dialog, payer, husband)
    dialog.reject()
    qtbot.waitUntil(lambda: page.household_dialog is None)

    # back on the payment screen the child's BHYT order is the household's: read-only, 3rd
    page.new_payment()
    activate(qtbot, page)
    find_by_typing(qtbot, page, "001185003456")
    page.scheme.setCurrentIndex(page.scheme.findData(Scheme.BHYT_HGD))
    qtbot.waitUntil(lambda: page.in_household, timeout=10_000)
    wait_quote(qtbot, page)
    assert page.member_order.isReadOnly()
    assert page.quote is not None and page.quote.member_order == 3
    assert page.member_order.value() == 3


def build_household(qtbot: Any, db: Database, dialog: Any, child: ParticipantView) -> None:
    dialog.address.setText("")
    type_text(dialog.address, "Xóm Chùa, xã Đồng Hỷ")
    dialog.create_button.click()
    qtbot.waitUntil(lambda: dialog.info.household is not None, timeout=10_000)
    assert not dialog.create_button.isVisibleTo(dialog)
    assert dialog.members.rowCount() == 1
    assert dialog.members.item(0, 3).text() == "Chủ hộ"

    # add by CCCD, then move the child over from the other household
    for cccd, relation in (("001085002345", "Chồng"), ("001185003456", "Con")):
        type_text(dialog.member_ref, cccd)
        type_text(dialog.relation, relation)
        press(dialog.relation, Qt.Key.Key_Return)
        wait_ops(qtbot)
    assert dialog.members.rowCount() == 3
    assert "Đã chuyển Lê Thị Ba từ hộ khác" in dialog.summary.text()
    here = household_of(db, child.id)
    assert here is not None and here.id == dialog.info.household.id
    # an unknown code is refused, naming the field, and nothing changes
    type_text(dialog.member_ref, "999999999999")
    dialog.add_member()
    wait_ops(qtbot)
    assert "không tìm thấy người tham gia" in dialog.error.text()
    assert dialog.members.rowCount() == 3

    # nobody has paid this fiscal year: each alone would be the 1st; cards not yet held
    assert [dialog.members.item(r, 4).text() for r in range(3)] == ["1 nếu đóng riêng"] * 3
    assert all(dialog.members.item(r, 5).text() == "chưa có thẻ" for r in range(3))


def pay_two(
    qtbot: Any, db: Database, dialog: Any, payer: ParticipantView, husband: ParticipantView
) -> None:
    # tick the head and the husband: the quotes come with their orders, one total
    dialog.tick(payer.id, months=12)
    dialog.tick(husband.id, months=6)
    qtbot.waitUntil(lambda: dialog.quotes_are_current() and len(dialog.quotes) == 2, timeout=10_000)
    assert [q.member_order for q in dialog.quotes] == [1, 2]
    # the order column follows the group: the ticked members show the order this payment gives
    orders = [dialog.members.item(r, 4).text() for r in range(3)]
    assert orders == ["1 (lần đóng này)", "2 (lần đóng này)", "1 nếu đóng riêng"]
    total = sum(q.amount for q in dialog.quotes)
    if business_date(now_utc()).year <= 2026:
        assert total == 105_300 * 12 + 73_710 * 6
    assert dialog.total.text() == f"Tổng cộng: {format_vnd(total)}"
    assert list_payments(db, business_date(now_utc())) == []  # the preview wrote nothing

    # too little cash: refused at the screen, nothing written
    activate(qtbot, dialog)
    qtbot.keyClicks(dialog.tendered, "1.000")
    assert dialog.change.text().startswith("còn thiếu")
    press(dialog.tendered, Qt.Key.Key_Return)
    assert "ít hơn tổng số phải thu" in dialog.error.text()
    dialog.tendered.clear()
    qtbot.keyClicks(dialog.tendered, "2.000.000")
    assert dialog.change.text() == f"Trả lại: {format_vnd(2_000_000 - total)}"
    qtbot.keyClick(dialog.tendered, Qt.Key.Key_F9)  # asks to confirm, records nothing yet
    assert dialog.confirming and "Xác nhận: thu" in dialog.error.text()
    assert list_payments(db, business_date(now_utc())) == []
    press(dialog.tendered, Qt.Key.Key_Return)  # confirmed: recorded
    dialog.take_payment()  # a third press while the first is being written records nothing
    qtbot.waitUntil(lambda: dialog.group_result is not None, timeout=10_000)
    wait_ops(qtbot)

    payments = list_payments(db, business_date(now_utc()))
    assert [(p.payer_name, p.member_order, p.tendered) for p in payments] == [
        ("Lê Thị Mỹ Đào", 1, None),
        ("Lê Văn Hai", 2, None),
    ]
    assert sum(p.amount for p in payments) == total
    assert dialog.change.text() == f"Trả lại khách: {format_vnd(2_000_000 - total)}"
    assert dialog.quote_table.rowCount() == 2
    assert payments[0].confirmation_code in dialog.quote_table.item(0, 0).text()
    # reloaded after the payment: the two keep their orders for the year, the child is next
    qtbot.waitUntil(
        lambda: (
            dialog.members.item(2, 4) is not None
            and dialog.members.item(2, 4).text() == "3 nếu đóng riêng"
        ),
        timeout=10_000,
    )
    assert [dialog.members.item(r, 4).text() for r in range(2)] == [
        "1 (đã đóng trong năm)",
        "2 (đã đóng trong năm)",
    ]
    with db.read() as s:
        assert s.query(AuditEvent).filter(AuditEvent.action == AUDIT_ACTION).count() == 1

    receipt = dialog.open_receipt()
    qtbot.waitUntil(lambda: receipt.receipt.data is not None, timeout=15_000)
    data = receipt.receipt.data
    assert (data.number, data.tendered) == (payments[0].receipt_number, None)
    assert data.card_from == payments[0].card_from or data.card_from is not None
    receipt.reject()


def test_registration_puts_the_new_person_in_a_household(
    qtbot: Any, make_window: Any, db: Database, cashier: Actor, payer: ParticipantView
) -> None:
    household = create_household(db, head_participant_id=payer.id, by=cashier)
    _window, page = signed_in_payment_page(qtbot, make_window)
    qtbot.keyClick(page.search, Qt.Key.Key_F3)
    qtbot.waitUntil(lambda: page.registration_dialog is not None)
    reg = page.registration_dialog
    activate(qtbot, reg)
    type_text(reg.full_name, "Lê Minh Con")
    qtbot.keyClicks(reg.date_of_birth, "02/02/2010")
    reg.sex.setCurrentIndex(reg.sex.findText("Nam"))
    qtbot.keyClicks(reg.cccd, "001210005678")
    reg.household_mode.setCurrentIndex(reg.household_mode.findData("join"))
    assert reg.household_ref.isEnabled()
    # a code nobody in a household has: refused under the field, nothing saved
    qtbot.keyClicks(reg.household_ref, "0999999999")
    reg.save()
    wait_ops(qtbot)
    error = reg.errors.error_label("household_ref")
    assert error.isVisibleTo(reg) and "không tìm thấy hộ" in error.text()
    assert search_participants(db, "001210005678") == []

    reg.household_ref.setText("0123456789")  # the head's mã số BHXH
    type_text(reg.household_relation, "Con")
    reg.save()
    qtbot.waitUntil(lambda: page.participant is not None, timeout=10_000)
    joined = household_of(db, page.participant.id)
    assert joined is not None and joined.id == household.id
    assert [m.relation for m in joined.members] == ["Chủ hộ", "Con"]

    # "new": the registered person heads a new household
    page.new_payment()
    activate(qtbot, page)
    qtbot.keyClick(page.search, Qt.Key.Key_F3)
    qtbot.waitUntil(lambda: page.registration_dialog is not None)
    reg = page.registration_dialog
    activate(qtbot, reg)
    type_text(reg.full_name, "Phạm Văn Chủ")
    qtbot.keyClicks(reg.date_of_birth, "05/05/1970")
    reg.sex.setCurrentIndex(reg.sex.findText("Nam"))
    qtbot.keyClicks(reg.cccd, "001070006789")
    type_text(reg.address, "Xóm Mới")
    reg.household_mode.setCurrentIndex(reg.household_mode.findData("new"))
    reg.save()
    qtbot.waitUntil(lambda: page.participant is not None, timeout=10_000)
    own = household_of(db, page.participant.id)
    assert own is not None and own.head_participant_id == page.participant.id
    assert own.address == "Xóm Mới"
