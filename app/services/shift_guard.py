"""The rules payments and voids check about shifts (docs/SHIFTS.md): a payment is taken inside
the open shift of this counter, by the cashier who opened it (`record_in_session` reads the open
shift's owner in its one context query and asks here for the refusal); a void needs an open
shift, whoever's, because the cash handed back leaves that shift's drawer."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.errors import UserFacingError
from app.services.common import Actor

# The open shift's owner: one column of record_payment's context query.
OPEN_SHIFT_OWNER = "(SELECT operator_id FROM shifts WHERE close_seq IS NULL) AS shift_owner"

_OWNER = text(
    "SELECT o.full_name, o.username, s.opened_at FROM shifts s "
    "JOIN operators o ON o.id = s.operator_id WHERE s.close_seq IS NULL"
)


def payment_refusal(session: Session, by: Actor) -> UserFacingError:
    """Why `by` may not take a payment now: no open shift, or another cashier's shift."""
    row = session.execute(_OWNER).first()
    if row is None:
        return UserFacingError(
            "Chưa mở ca thu tiền trên quầy này. Hãy mở ca (nhập tiền đầu ca) trước khi thu.",
            message_en="no open shift on this counter: open a shift first",
        )
    return UserFacingError(
        f"Ca đang mở trên quầy này là của {row.full_name} ({row.username}); {by.full_name} "
        "không thu tiền trong ca của người khác. Hãy giao ca: người đang giữ ca đóng ca "
        "(đếm tiền), rồi mở ca mới của mình.",
        message_en="the open shift belongs to another cashier: hand over first",
    )


def require_open_shift_for_void(session: Session, receipt_number: int) -> None:
    """Refuse a void while no shift is open: the refund would leave no drawer's count."""
    if session.execute(_OWNER).first() is None:
        raise UserFacingError(
            f"Chưa mở ca thu tiền trên quầy này, nên chưa hủy biên lai số {receipt_number}: "
            "tiền trả lại người nộp lấy từ két của ca đang mở. Hãy mở ca trước khi hủy.",
            message_en="no open shift: a void refunds from the open shift's drawer",
        )
