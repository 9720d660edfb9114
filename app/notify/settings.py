"""Notification settings (non-secret, in the `settings` table under `notify.*`) and SMS gateway
profiles.

A gateway profile says how to drive an HTTP SMS gateway without code: URL, method, auth kind,
extra headers, a body template (JSON or form) whose string values may contain placeholders, how
success is recognised (status codes, and optionally a JSON path whose value must equal a given
string), where the provider's message id is in the answer, and which body field carries our
client message id (the gateway's idempotency key, when it has one). docs/NOTIFY.md documents the
format; resources/notify/ ships an example.

Secrets are not here: the SMS token/password and the SMTP password live in the keyring
(`app.secrets`).

Guarantees:
- `parse_profile` refuses (ValidationError naming the field) a profile that could not work: no
  URL or a non-http(s) one, plain http to anything but this machine, an unknown method, auth or
  body format, a body without the message text, an unknown placeholder;
- `load_notify_settings` never fails on a missing or unreadable value: it uses the default;
- `save_notify_settings` is for administrators, validates everything first, and audits what
  changed (values only — secrets never pass through it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields, replace
from importlib import resources
from string import Formatter
from typing import Any, Final
from urllib.parse import urlsplit

from sqlalchemy import select

from app.domain.types import Role
from app.errors import ValidationError
from app.notify.address import normalise_email
from app.notify.sms_text import DEFAULT_PAYMENT_TEMPLATE, DEFAULT_VOID_TEMPLATE, check_template
from app.services.common import Actor
from app.services.queries import audit, load_actor
from app.storage.db import Database
from app.storage.models import Setting

GATEWAY_PLACEHOLDERS: Final = {
    "text": "nội dung tin nhắn (GSM-7)",
    "phone": "số nhận dạng 0xxxxxxxxx",
    "phone_e164": "số nhận dạng +84xxxxxxxxx",
    "phone_84": "số nhận dạng 84xxxxxxxxx",
    "client_message_id": "mã tin của quầy (để cổng SMS chống gửi trùng)",
}
METHODS: Final = ("POST", "PUT", "GET")
AUTH_KINDS: Final = ("none", "bearer", "basic")
BODY_FORMATS: Final = ("json", "form")
SECURITY: Final = ("starttls", "ssl", "none")
LOOPBACK: Final = ("127.0.0.1", "localhost", "::1")
PROFILE_PACKAGE: Final = "resources"


def _bad(field_name: str, label: str, rule: str, rule_en: str) -> ValidationError:
    return ValidationError(field_name, label, rule, rule_en=rule_en)


@dataclass(frozen=True)
class GatewayProfile:
    """How to send one SMS through an HTTP gateway (see the module docstring)."""

    name: str
    url: str
    method: str = "POST"
    auth: str = "bearer"  # the token/password itself is in the keyring ("sms-password")
    username: str = ""  # basic auth only
    headers: dict[str, str] = field(default_factory=dict)
    body_format: str = "json"
    body: dict[str, Any] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)  # constants usable as placeholders
    success_status: tuple[int, ...] = (200, 201, 202)
    success_json_path: str | None = None
    success_value: str | None = None
    message_id_path: str | None = None
    client_message_id_field: str | None = None  # body key (dotted for nested JSON)
    timeout_seconds: float = 10.0

    @property
    def idempotent(self) -> bool:
        """True when the gateway is told our client message id (so a retry cannot send twice)."""
        return self.client_message_id_field is not None

    def to_json(self) -> str:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["success_status"] = list(self.success_status)
        return json.dumps(data, ensure_ascii=False, sort_keys=True)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def parse_profile(data: dict[str, Any] | str) -> GatewayProfile:
    """A validated GatewayProfile from its JSON (text or already parsed)."""
    profile = _profile_from(data)
    _check_transport(profile)
    _check_placeholders(profile)
    if not (0 < profile.timeout_seconds <= 120):
        raise _bad("gateway.timeout_seconds", "Thời gian chờ", "từ 0 đến 120 giây", "0-120 s")
    return profile


def _profile_from(data: dict[str, Any] | str) -> GatewayProfile:
    """The profile's fields, typed; refuses what is not a JSON object of known keys."""
    label = "Cấu hình cổng SMS"
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except json.JSONDecodeError as exc:
            raise _bad("gateway", label, f"không phải JSON hợp lệ ({exc.msg})", "not JSON") from exc
    if not isinstance(data, dict):
        raise _bad("gateway", label, "phải là một đối tượng JSON", "not an object")
    known = {f.name for f in fields(GatewayProfile)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise _bad("gateway", label, f"khóa không biết: {', '.join(unknown)}", "unknown keys")
    try:
        profile = GatewayProfile(**data)
        return replace(
            profile,
            method=str(profile.method).upper(),
            success_status=tuple(int(s) for s in profile.success_status),
            timeout_seconds=float(profile.timeout_seconds),
        )
    except (TypeError, ValueError) as exc:
        raise _bad("gateway", label, f"sai kiểu dữ liệu ({exc})", "wrong types") from exc


def _check_transport(profile: GatewayProfile) -> None:
    """URL (https, or http to this machine only), method, auth and body format."""
    url = urlsplit(profile.url)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise _bad("gateway.url", "Địa chỉ cổng SMS", "phải là http(s)://…", "must be http(s)")
    if url.scheme == "http" and url.hostname not in LOOPBACK:
        raise _bad(
            "gateway.url",
            "Địa chỉ cổng SMS",
            "phải dùng https (http chỉ cho máy này, 127.0.0.1)",
            "plain http only to loopback",
        )
    if profile.method not in METHODS:
        raise _bad("gateway.method", "Phương thức HTTP", f"chỉ {', '.join(METHODS)}", "method")
    if profile.auth not in AUTH_KINDS:
        raise _bad("gateway.auth", "Kiểu xác thực", "chỉ none, bearer hoặc basic", "auth kind")
    if profile.auth == "basic" and not profile.username:
        raise _bad("gateway.username", "Tên đăng nhập cổng SMS", "bắt buộc với basic", "required")
    if profile.body_format not in BODY_FORMATS:
        raise _bad("gateway.body_format", "Dạng nội dung", "chỉ json hoặc form", "json or form")
    if profile.body_format == "form" and any(not isinstance(v, str) for v in profile.body.values()):
        raise _bad("gateway.body", "Mẫu nội dung", "dạng form chỉ có giá trị chữ", "form: strings")


def _check_placeholders(profile: GatewayProfile) -> None:
    """Every {name} in the body, headers and URL is known; the text and a phone are there."""
    allowed = set(GATEWAY_PLACEHOLDERS) | set(profile.params)
    seen: set[str] = set()
    for text in _strings(profile.body) + list(profile.headers.values()) + [profile.url]:
        try:
            names = [n for _, n, _, _ in Formatter().parse(text) if n is not None]
        except ValueError as exc:
            raise _bad("gateway.body", "Mẫu nội dung", "dấu { } không khớp", "braces") from exc
        for name in names:
            if name not in allowed:
                raise _bad(
                    "gateway.body",
                    "Mẫu nội dung",
                    f"không có chỗ điền {{{name}}}",
                    f"unknown placeholder {name}",
                )
            seen.add(name)
    if "text" not in seen:
        raise _bad("gateway.body", "Mẫu nội dung", "phải chứa {text}", "must contain {text}")
    if not ({"phone", "phone_e164", "phone_84"} & seen):
        raise _bad("gateway.body", "Mẫu nội dung", "phải chứa số nhận ({phone}…)", "no phone")


def shipped_profile(name: str = "generic_brandname_json") -> GatewayProfile:
    """An example profile shipped in resources/notify/ (see docs/NOTIFY.md)."""
    ref = resources.files(PROFILE_PACKAGE).joinpath("notify", f"{name}.json")
    return parse_profile(ref.read_text(encoding="utf-8"))


def shipped_profile_names() -> list[str]:
    """The example profiles in resources/notify/, by file name without `.json`, sorted."""
    folder = resources.files(PROFILE_PACKAGE).joinpath("notify")
    return sorted(
        entry.name.removesuffix(".json")
        for entry in folder.iterdir()
        if entry.name.endswith(".json")
    )


@dataclass(frozen=True)
class NotifySettings:
    sms_enabled: bool = False
    email_enabled: bool = False
    sms_template: str = DEFAULT_PAYMENT_TEMPLATE
    void_sms_template: str = DEFAULT_VOID_TEMPLATE
    gateway: GatewayProfile | None = None
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_security: str = "starttls"
    smtp_username: str = ""
    sender_email: str = ""
    sender_name: str = "Điểm thu BHXH, BHYT"
    max_attempts_per_day: int = 8
    max_attempts: int = 30


DEFAULTS: Final = NotifySettings()
_PREFIX: Final = "notify."
_BOOLS: Final = ("sms_enabled", "email_enabled")
_INTS: Final = ("smtp_port", "max_attempts_per_day", "max_attempts")


def _encode(name: str, value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, GatewayProfile):
        return value.to_json()
    if value is None:
        return ""
    return str(value)


def _decode(name: str, raw: str) -> object:
    if name in _BOOLS:
        if raw not in ("0", "1"):
            raise ValueError(raw)
        return raw == "1"
    if name in _INTS:
        return int(raw)
    if name == "gateway":
        return parse_profile(raw) if raw else None
    return raw


def settings_from_rows(stored: dict[str, str]) -> NotifySettings:
    values: dict[str, object] = {}
    for f in fields(NotifySettings):
        key = _PREFIX + f.name
        if key in stored:
            try:
                values[f.name] = _decode(f.name, stored[key])
            except (ValueError, ValidationError):
                continue  # keep the default rather than refuse to start
    return replace(DEFAULTS, **values)  # type: ignore[arg-type]


def load_notify_settings(db: Database) -> NotifySettings:
    with db.read() as session:
        rows = session.execute(
            select(Setting.key, Setting.value).where(Setting.key.like(_PREFIX + "%"))
        ).all()
    return settings_from_rows({k: v for k, v in rows})


def validate_notify_settings(new: NotifySettings) -> NotifySettings:
    sms_template = check_template(new.sms_template, field="sms_template")
    void_template = check_template(
        new.void_sms_template, field="void_sms_template", label="Mẫu tin báo hủy"
    )
    if new.sms_enabled and new.gateway is None:
        raise _bad("gateway", "Cổng SMS", "chưa cấu hình mà đã bật gửi SMS", "no gateway")
    host = new.smtp_host.strip()
    sender = new.sender_email.strip()
    if new.smtp_security not in SECURITY:
        raise _bad("smtp_security", "Bảo mật SMTP", "chỉ starttls hoặc ssl", "starttls or ssl")
    if new.smtp_security == "none" and host not in LOOPBACK:
        raise _bad(
            "smtp_security",
            "Bảo mật SMTP",
            "phải dùng STARTTLS hoặc SSL (không mã hóa chỉ cho máy này)",
            "plain SMTP only to loopback",
        )
    if not (0 < new.smtp_port < 65536):
        raise _bad("smtp_port", "Cổng SMTP", "từ 1 đến 65535", "1-65535")
    if new.email_enabled:
        if not host:
            raise _bad("smtp_host", "Máy chủ SMTP", "chưa nhập mà đã bật gửi email", "required")
        sender = normalise_email(sender, field="sender_email", label="Email gửi đi")
    for name, label, low, high in (
        ("max_attempts_per_day", "Số lần thử mỗi ngày", 1, 100),
        ("max_attempts", "Tổng số lần thử", 1, 1000),
    ):
        value = getattr(new, name)
        if type(value) is not int or not (low <= value <= high):
            raise _bad(name, label, f"từ {low} đến {high}", f"{low}-{high}")
    return replace(
        new,
        sms_template=sms_template,
        void_sms_template=void_template,
        smtp_host=host,
        sender_email=sender,
        smtp_username=new.smtp_username.strip(),
        sender_name=" ".join(new.sender_name.split()),
    )


def save_notify_settings(db: Database, new: NotifySettings, *, by: Actor) -> NotifySettings:
    """Store `new` (administrators only), auditing the keys that changed."""
    by.require(Role.ADMIN, action="thay đổi cài đặt gửi tin nhắn/email")
    new = validate_notify_settings(new)
    before = load_notify_settings(db)
    with db.write() as session:
        load_actor(session, by)
        changed: dict[str, list[str]] = {}
        for f in fields(NotifySettings):
            old, value = (
                _encode(f.name, getattr(before, f.name)),
                _encode(f.name, getattr(new, f.name)),
            )
            key = _PREFIX + f.name
            row = session.get(Setting, key)
            if row is None:
                session.add(Setting(key=key, value=value))
            elif row.value != value:
                row.value = value
            if old != value:
                changed[key] = [old, value]
        if changed:
            audit(session, "settings.notify", actor=by, subject="settings", changed=changed)
    return new


def save_notify_secrets(
    db: Database,
    *,
    by: Actor,
    sms_secret: str | None = None,
    smtp_password: str | None = None,
) -> list[str]:
    """Store the SMS gateway's token/password and/or the SMTP password in the keyring
    (administrators only; `None` or "" leaves a secret as it is). The keyring is written before
    any transaction (app/secrets.py); the audit event names which secret changed, never its
    value. Returns the keyring entries written."""
    from app.secrets import SMS_SECRET, SMTP_SECRET, store_sms_secret, store_smtp_password

    by.require(Role.ADMIN, action="thay đổi mật khẩu cổng SMS/máy chủ thư")
    written: list[str] = []
    if sms_secret:
        store_sms_secret(sms_secret)
        written.append(SMS_SECRET)
    if smtp_password:
        store_smtp_password(smtp_password)
        written.append(SMTP_SECRET)
    if written:
        with db.write() as session:
            load_actor(session, by)
            audit(session, "settings.notify_secret", actor=by, subject="keyring", entries=written)
    return written
