"""Secrets in the operating system's keyring — never in SQLite, config files or logs.

Entries live under the service name `QuayThu`; the user name says what the secret is and for
which counter, so several counters (or test databases) on one machine do not collide:
`signing-key:<counter_id>`, `api-token:<counter_id>`, `smtp-password`, `sms-password`, and
`ledger-anchor:<counter_id>` — not a secret but the ledger's head sealed with the key, kept here
because the database file does not carry it (docs/LEDGER.md, "Head anchor").

A signing key once read is cached for the life of the process (`signing_key`), so the write
paths read it *before* they take SQLite's write lock and never call the keyring inside a write
transaction (a keyring call there holds the lock across D-Bus).
"""

from __future__ import annotations

import base64
import secrets as _random
import threading

import keyring
from keyring.errors import KeyringError, NoKeyringError

from app.errors import ConfigurationError

SERVICE = "QuayThu"
SIGNING_KEY_BYTES = 32

_NO_KEYRING = (
    "Không dùng được kho khóa bí mật của hệ điều hành (keyring) nên không thể lưu hay đọc khóa ký "
    "của quầy. Trên Linux hãy cài và mở GNOME Keyring hoặc KWallet (gói gnome-keyring); "
    "trên Windows dùng Windows Credential Manager (có sẵn)."
)


def _get(name: str) -> str | None:
    try:
        return keyring.get_password(SERVICE, name)
    except (NoKeyringError, KeyringError, RuntimeError) as exc:
        raise ConfigurationError(_NO_KEYRING, message_en=f"keyring unavailable: {exc}") from exc


def _set(name: str, value: str) -> None:
    try:
        keyring.set_password(SERVICE, name, value)
    except (NoKeyringError, KeyringError, RuntimeError) as exc:
        raise ConfigurationError(_NO_KEYRING, message_en=f"keyring unavailable: {exc}") from exc


def make_signing_key() -> bytes:
    """Fresh random key bytes, not yet stored (see `store_signing_key`)."""
    return _random.token_bytes(SIGNING_KEY_BYTES)


def store_signing_key(counter_id: str, key: bytes) -> None:
    """Store a counter's signing key; refuses to overwrite one."""
    name = f"signing-key:{counter_id}"
    if _get(name) is not None:
        raise ConfigurationError(
            "Quầy này đã có khóa ký trong keyring; không tạo khóa mới để khỏi mất khả năng "
            "kiểm tra các mã xác nhận đã cấp.",
            message_en="a signing key already exists for this counter",
        )
    _set(name, base64.b64encode(key).decode("ascii"))
    with _keys_lock:
        _keys[counter_id] = key


def load_signing_key(counter_id: str) -> bytes:
    value = _get(f"signing-key:{counter_id}")
    if value is None:
        raise ConfigurationError(
            "Không tìm thấy khóa ký của quầy trong keyring của người dùng này, nên không thể cấp "
            "hoặc kiểm tra mã xác nhận. Hãy chạy chương trình bằng tài khoản đã khởi tạo quầy, "
            "hoặc khôi phục khóa từ bản sao lưu.",
            message_en=f"no signing key for counter {counter_id} in the keyring",
        )
    return base64.b64decode(value)


_keys: dict[str, bytes] = {}
_keys_lock = threading.Lock()


def signing_key(counter_id: str) -> bytes:
    """The counter's key, from the process cache or (once) the keyring.

    For writers: call it BEFORE opening the write transaction. A keyring call can take a D-Bus
    round trip (or wait on an unlocking prompt); inside `BEGIN IMMEDIATE` it would hold SQLite's
    write lock — and every other writer — for that long. A missing key is not cached.
    """
    with _keys_lock:
        key = _keys.get(counter_id)
    if key is None:
        key = load_signing_key(counter_id)
        with _keys_lock:
            _keys[counter_id] = key
    return key


def cached_signing_key(counter_id: str) -> bytes | None:
    """The key if this process already read it; never calls the keyring."""
    with _keys_lock:
        return _keys.get(counter_id)


def forget_signing_keys() -> None:
    """Drop the process cache (the next use reads the keyring again)."""
    with _keys_lock:
        _keys.clear()


def load_anchor(counter_id: str) -> str | None:
    return _get(f"ledger-anchor:{counter_id}")


def store_anchor(counter_id: str, text: str) -> None:
    _set(f"ledger-anchor:{counter_id}", text)


def get_secret(name: str) -> str | None:
    return _get(name)


def set_secret(name: str, value: str) -> None:
    _set(name, value)


# --- payer notifications (docs/NOTIFY.md) -----------------------------------------------------
# The SMS gateway's token (bearer) or password (basic) and the SMTP password. Load them before a
# write transaction starts: a keyring call can wait on D-Bus while SQLite's lock is held.
SMS_SECRET = "sms-password"
SMTP_SECRET = "smtp-password"


def load_sms_secret() -> str | None:
    return _get(SMS_SECRET)


def store_sms_secret(value: str) -> None:
    _set(SMS_SECRET, value)


def load_smtp_password() -> str | None:
    return _get(SMTP_SECRET)


def store_smtp_password(value: str) -> None:
    _set(SMTP_SECRET, value)
