"""Secrets in the operating system's keyring — never in SQLite, config files or logs.

Entries live under the service name `QuayThu`; the user name says what the secret is and for
which counter, so several counters (or test databases) on one machine do not collide:
`signing-key:<counter_id>`, `api-token:<counter_id>`, `smtp-password`, `sms-password`, and
`ledger-anchor:<counter_id>` — not a secret but the ledger's head sealed with the key, kept here
because the database file does not carry it (docs/LEDGER.md, "Head anchor").

A signing key once read is cached for the life of the process (`signing_key`), so the write
paths read it *before* they take SQLite's write lock and never call the keyring inside a write
transaction (a keyring call there holds the lock across D-Bus).

Where there is no desktop keyring (Linux with a bare window manager or a kiosk: no Secret
Service), the admin can choose at set-up (`quaythu init --keyring-file`, or the wizard's choice
offered only when the system keyring fails) to keep the secrets in a file readable only by this
user: `secrets.json` (mode 0600) in its own folder (mode 0700) under the user config folder
(docs/ACCOUNTS.md). Once that file exists it is used instead of the system keyring; Settings shows
a warning while it is. Nothing falls back to it silently: without the file, a failing keyring is
an error as before. A file whose permissions let others read it is refused.
"""

from __future__ import annotations

import base64
import json
import os
import secrets as _random
import stat
import threading
from functools import lru_cache
from pathlib import Path

import keyring
import platformdirs
from keyring.errors import KeyringError, NoKeyringError

from app.errors import ConfigurationError

SERVICE = "QuayThu"
SIGNING_KEY_BYTES = 32

_NO_KEYRING = (
    "Không dùng được kho khóa bí mật của hệ điều hành (keyring) nên không thể lưu hay đọc khóa ký "
    "của quầy. Trên Linux hãy cài và mở GNOME Keyring hoặc KWallet (gói gnome-keyring); "
    "trên Windows dùng Windows Credential Manager (có sẵn). Máy không có kho khóa (kiosk, "
    "trình quản lý cửa sổ tối giản): khởi tạo bằng `quaythu init --keyring-file` để lưu khóa "
    "trong một tệp chỉ người dùng này đọc được (docs/ACCOUNTS.md)."
)


SECRETS_FILE_ENV = "QUAYTHU_SECRETS_FILE"
_file_lock = threading.Lock()


def secrets_file_path() -> Path:
    """Where the fallback file lives ($QUAYTHU_SECRETS_FILE overrides, e.g. for a test)."""
    override = os.environ.get(SECRETS_FILE_ENV)
    if override:
        return Path(override)
    env = os.environ
    return _default_secrets_file(env.get("XDG_CONFIG_HOME"), env.get("HOME"), env.get("APPDATA"))


@lru_cache(maxsize=4)
def _default_secrets_file(_xdg: str | None, _home: str | None, _appdata: str | None) -> Path:
    # Worked out once per environment (the head anchor is stored after every payment); the
    # arguments are what platformdirs reads, so a changed environment is looked up afresh.
    return (
        Path(platformdirs.user_config_dir("QuayThu", appauthor=False)) / "secrets" / "secrets.json"
    )


def using_secrets_file() -> bool:
    return secrets_file_path().exists()


def secrets_file_warning() -> str:
    """The warning Settings shows while the fallback file is in use ("" when it is not)."""
    if not using_secrets_file():
        return ""
    return (
        f"⚠ Khóa bí mật của quầy (khóa ký, mã truy cập) đang lưu trong tệp {secrets_file_path()} "
        "thay cho kho khóa của hệ điều hành. Chỉ tài khoản máy tính này đọc được tệp, nhưng ai "
        "sao chép được ổ đĩa là có khóa: đặt mật khẩu đăng nhập máy, mã hóa ổ đĩa, và chuyển "
        "sang kho khóa của hệ điều hành khi có thể (docs/ACCOUNTS.md)."
    )


def use_secrets_file() -> Path:
    """Choose the fallback file (explicitly, at set-up): folder 0700, file 0600, empty."""
    path = secrets_file_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path.parent, 0o700)
    with _file_lock:
        if not path.exists():
            _write_file(path, {})
    os.chmod(path, 0o600)
    return path


def _read_file(path: Path) -> dict[str, str]:
    info = path.stat()
    if os.name == "posix" and info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigurationError(
            f"Tệp khóa bí mật {path} để người khác đọc được (quyền {oct(info.st_mode & 0o777)}); "
            "không dùng. Hãy đặt lại quyền: chmod 600 tệp và chmod 700 thư mục của nó.",
            message_en=f"secrets file {path} is readable by others",
        )
    data = json.loads(path.read_text("utf-8") or "{}")
    return {str(k): str(v) for k, v in data.items()}


def _write_file(path: Path, data: dict[str, str]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(data, out, ensure_ascii=False, indent=1)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


def _get(name: str) -> str | None:
    path = secrets_file_path()
    if path.exists():
        with _file_lock:
            return _read_file(path).get(name)
    try:
        return keyring.get_password(SERVICE, name)
    except (NoKeyringError, KeyringError, RuntimeError) as exc:
        raise ConfigurationError(_NO_KEYRING, message_en=f"keyring unavailable: {exc}") from exc


def _set(name: str, value: str) -> None:
    path = secrets_file_path()
    if path.exists():
        with _file_lock:
            data = _read_file(path)
            data[name] = value
            _write_file(path, data)
        return
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


def new_signing_key(counter_id: str) -> bytes:
    """Make and store a fresh random signing key for a counter; refuses to overwrite one."""
    key = make_signing_key()
    store_signing_key(counter_id, key)
    return key


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
