"""The email to the payer, in Vietnamese: subject, plain text and HTML, from a `ReceiptData`.

Pure (no database, no network). The receipt PDF itself is rendered by `printing/` and attached by
the SMTP sender (sync/notify_email.py). A payment email carries every fact letter 3964/BHXH-TST
lists (họ và tên, mã số BHXH, ngày nộp, số tiền, loại hình, số tháng) with the Mã xác nhận and
the VSS lookup; a void email says plainly that the payment was cancelled, when and why, and
whom to tell if the payer did not ask for it. The HTML escapes every value.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from app.domain.clock import LOCAL_TZ
from app.domain.documents import ReceiptData
from app.domain.money import format_vnd

LOOKUP = (
    "Tra cứu khoản nộp trên Cổng thông tin BHXH Việt Nam (baohiemxahoi.gov.vn, mục Tra cứu quá "
    "trình đóng) hoặc ứng dụng VssID."
)

CODE_LABEL = "Mã xác nhận"


@dataclass(frozen=True)
class EmailContent:
    subject: str
    text: str
    html: str
    attachment_name: str


def _facts(data: ReceiptData) -> list[tuple[str, str]]:
    paid = data.paid_at.astimezone(LOCAL_TZ)
    ma_so = data.ma_so_bhxh or f"Chưa có mã (CCCD {data.cccd or 'không rõ'})"
    return [
        ("Họ và tên", data.payer_name),
        ("Mã số BHXH", ma_so),
        ("Loại hình", data.scheme_label),
        ("Số tháng đóng", str(data.months)),
        ("Từ tháng – đến tháng", f"{data.period_from:%m/%Y} – {data.period_to:%m/%Y}"),
        ("Số tiền", f"{format_vnd(data.amount)} ({data.amount_words})"),
        ("Thời điểm nộp", f"{paid:%H:%M} ngày {paid:%d/%m/%Y}"),
        ("Biên lai", f"{data.series} số {data.number:07d}"),
        ("Điểm thu", f"{data.collection_point} ({data.organisation})"),
        (CODE_LABEL, data.confirmation_code),
    ]


def _cell(label: str, value: str) -> str:
    if label == CODE_LABEL:
        return f"<b style='font-size:1.3em;letter-spacing:1px'>{escape(value)}</b>"
    return escape(value)


def _html(title: str, intro: str, facts: list[tuple[str, str]], outro: list[str]) -> str:
    rows = "".join(
        f"<tr><th align='left' style='padding:2px 12px 2px 0'>{escape(k)}</th>"
        f"<td>{_cell(k, v)}</td></tr>"
        for k, v in facts
    )
    paras = "".join(f"<p>{escape(p)}</p>" for p in outro)
    return (
        "<!DOCTYPE html><html lang='vi'><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title></head><body>"
        f"<p>{escape(intro)}</p><table>{rows}</table>{paras}</body></html>"
    )


def payment_email(data: ReceiptData) -> EmailContent:
    subject = f"Xác nhận nộp tiền {data.scheme_label} – Mã xác nhận {data.confirmation_code}"
    intro = (
        f"Kính gửi Ông/Bà {data.payer_name}, điểm thu xác nhận đã nhận khoản nộp "
        f"{data.scheme_label} như sau:"
    )
    facts = _facts(data)
    outro = [
        LOOKUP,
        "Biên lai điện tử (PDF) đính kèm thư này. Hãy giữ Mã xác nhận để đối chiếu.",
        "Thư gửi tự động từ phần mềm thu của điểm thu; xin đừng trả lời thư này.",
    ]
    text = "\n".join([intro, "", *(f"- {k}: {v}" for k, v in facts), "", *outro])
    return EmailContent(
        subject=subject,
        text=text + "\n",
        html=_html(subject, intro, facts, outro),
        attachment_name=f"bien-lai-{data.number:07d}.pdf",
    )


def void_email(data: ReceiptData) -> EmailContent:
    subject = f"Thông báo HỦY biên lai số {data.number:07d} – Mã xác nhận {data.confirmation_code}"
    intro = (
        f"Kính gửi Ông/Bà {data.payer_name}, khoản nộp dưới đây ĐÃ BỊ HỦY tại điểm thu "
        "(bản ghi hủy được ký và lưu lại, không xóa)."
    )
    facts = _facts(data)
    if data.void is not None:
        voided = data.void.voided_at.astimezone(LOCAL_TZ)
        facts += [
            ("Thời điểm hủy", f"{voided:%H:%M} ngày {voided:%d/%m/%Y}"),
            ("Lý do hủy", data.void.reason),
            ("Người duyệt hủy", data.void.supervisor),
        ]
    outro = [
        "Nếu Ông/Bà không yêu cầu hủy khoản nộp này, xin báo ngay cho cơ quan BHXH nơi cư trú "
        "hoặc tổng đài 1900 9068.",
        LOOKUP,
        "Biên lai đã hủy (PDF) đính kèm thư này.",
    ]
    text = "\n".join([intro, "", *(f"- {k}: {v}" for k, v in facts), "", *outro])
    return EmailContent(
        subject=subject,
        text=text + "\n",
        html=_html(subject, intro, facts, outro),
        attachment_name=f"bien-lai-{data.number:07d}-da-huy.pdf",
    )
