"""Payer notifications on the command line: `quaythu notify status | send | retry | resend`.

The queue is filled by `record_payment` / `void_payment` (docs/NOTIFY.md); these commands show it
and drive delivery from a scheduled job or a support session:

* `notify status` — counts per state and channel, and the messages that need a person (failed
  permanently, or an unknown outcome after a lost answer). Exit 0 when none need attention, 1
  when some do (so a scheduled `quaythu notify status` is noticed).
* `notify send` — one delivery pass with the channels configured in Settings (what the window's
  background worker does every half minute). Exit 0 when nothing is left waiting that was due,
  3 when the gateway or mail server could not be reached (messages stay queued).
* `notify retry` (operator) — make every waiting message due now, then one pass; audited.
* `notify resend ID [--address A]` (operator) — queue one message again, optionally to a
  corrected address; audited. Never needed for a message still waiting: it is sent by itself.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ui.cli.base import EXIT_FAILED, EXIT_OFFLINE, EXIT_OK, Commands, emit, login, open_db

if TYPE_CHECKING:
    from app.notify.delivery import DeliveryReport
    from app.notify.outbox import NotificationView, NotifyStatus
    from app.storage.db import Database


def _status_text(status: NotifyStatus, attention: list[NotificationView]) -> str:
    from app.notify.outbox import STATE_LABELS, STATES

    counts = ", ".join(f"{STATE_LABELS[s]}: {status.counts[s]}" for s in STATES)
    lines = [f"Tin nhắn cho người nộp — {counts}"]
    if status.oldest_waiting is not None:
        from app.domain.clock import format_local

        lines.append(f"Tin chờ gửi lâu nhất từ {format_local(status.oldest_waiting)}")
    for m in attention:
        lines.append(
            f"  #{m.id} biên lai {m.receipt_number} {m.channel} {m.address}: "
            f"{m.state_label}{' — ' + m.last_error if m.last_error else ''}"
        )
    if not attention:
        lines.append("Không có tin nào cần xử lý.")
    return "\n".join(lines)


def cmd_status(args: argparse.Namespace) -> int:
    from app.notify.outbox import FAILED, UNKNOWN, list_notifications, notify_status

    db = open_db(args)
    status = notify_status(db)
    attention = list_notifications(db, states=(FAILED, UNKNOWN), limit=200)
    emit(
        args,
        {
            "counts": dict(status.counts),
            "by_channel": {c: dict(v) for c, v in status.by_channel.items()},
            "oldest_waiting": status.oldest_waiting,
            "needs_attention": attention,
        },
        _status_text(status, attention),
    )
    return EXIT_FAILED if attention else EXIT_OK


def _deliver(db: Database) -> DeliveryReport:
    from sync.notify_worker import NotifyWorker

    return NotifyWorker(db).run_once()


def _report_exit(args: argparse.Namespace, report: DeliveryReport, prefix: str = "") -> int:
    from dataclasses import asdict

    text = (
        f"{prefix}Gửi tin: {report.claimed} tin đến hạn — đã gửi {report.sent}, sẽ thử lại "
        f"{report.retrying}, hỏng {report.failed}, chưa rõ {report.unknown}, "
        f"để ngày mai {report.deferred}."
    )
    text += "".join(f"\n  {e}" for e in report.errors)
    emit(args, asdict(report), text)
    # Could reach nobody (every attempt put back to retry): "offline" for a scheduled job.
    return EXIT_OFFLINE if report.retrying and not report.sent else EXIT_OK


def cmd_send(args: argparse.Namespace) -> int:
    db = open_db(args)
    return _report_exit(args, _deliver(db))


def cmd_retry(args: argparse.Namespace) -> int:
    from app.notify.outbox import retry_now

    db = open_db(args)
    actor = login(args, db)
    count = retry_now(db, by=actor)
    return _report_exit(args, _deliver(db), prefix=f"Đã đưa {count} tin về hàng đợi. ")


def cmd_resend(args: argparse.Namespace) -> int:
    from app.notify.outbox import resend_notification

    db = open_db(args)
    actor = login(args, db)
    view = resend_notification(db, args.id, by=actor, address=args.address)
    emit(
        args,
        view,
        f"Tin #{view.id} (biên lai {view.receipt_number}) sẽ được gửi lại tới {view.address}.",
    )
    return EXIT_OK


def register(commands: Commands) -> None:
    group = commands.group("notify", "tin nhắn/email báo mã xác nhận cho người nộp")
    group.add("status", cmd_status, "số tin theo trạng thái; exit 1 khi có tin cần xử lý")
    group.add("send", cmd_send, "gửi các tin đến hạn (một lượt)")
    group.add(
        "retry",
        cmd_retry,
        "đưa mọi tin đang chờ về hạn ngay rồi gửi một lượt (ghi nhật ký)",
        needs_user=True,
    )
    p = group.add("resend", cmd_resend, "gửi lại một tin (ghi nhật ký)", needs_user=True)
    p.add_argument("id", type=int, metavar="ID", help="số tin trong `notify status`")
    p.add_argument("--address", help="số điện thoại/email đã sửa")
