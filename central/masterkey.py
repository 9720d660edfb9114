"""Central's master key: counters' code-signing keys are stored only encrypted under it.

Central must hold each counter's key (it verifies every Mã xác nhận), but a copy of its database
alone — a backup, a dump, a stolen disk image — must not be enough to mint valid codes. So the
`counters.signing_key` column holds `mk1$<key id>$<base64(nonce ‖ AES-256-GCM ciphertext)>`,
with the central counter id as associated data (a sealed key cannot be moved to another
counter's row), and the master key lives outside the database:

* `QUAYTHU_CENTRAL_MASTER_KEY` — the key itself, base64 of 32 random bytes; or
* `QUAYTHU_CENTRAL_MASTER_KEY_FILE` — a file holding that text (mode 0600, a secret mount);
* otherwise, for a SQLite database only, a file next to it, `<database>.master-key`, created
  on first start (mode 0600). Keep it out of the database's backups, or back it up separately.

Rotation (docs/SECURITY.md): make a new key (`quaythu-central make-master-key`), configure it as
the current key and the previous one in `QUAYTHU_CENTRAL_OLD_MASTER_KEYS` (comma-separated
base64) or `QUAYTHU_CENTRAL_OLD_MASTER_KEY_FILES` (paths separated by `:`), restart, run
`quaythu-central rotate-master-key` (re-seals every counter key under the current key in one
transaction), then drop the old key from the configuration. Every sealed value names its key
by id, so old and new values can be read side by side during the change.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
from collections.abc import Mapping, Sequence
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "mk1"
KEY_BYTES = 32
ENV_KEY = "QUAYTHU_CENTRAL_MASTER_KEY"
ENV_KEY_FILE = "QUAYTHU_CENTRAL_MASTER_KEY_FILE"
ENV_OLD_KEYS = "QUAYTHU_CENTRAL_OLD_MASTER_KEYS"
ENV_OLD_KEY_FILES = "QUAYTHU_CENTRAL_OLD_MASTER_KEY_FILES"


class MasterKeyError(Exception):
    """The master key is missing or wrong, or a sealed value cannot be opened (Vietnamese)."""


def new_key_text() -> str:
    return base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")


def _decode_key(text: str, where: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        raise MasterKeyError(f"khóa chủ ở {where} phải là base64 của đúng {KEY_BYTES} byte")
    return key


def key_id(key: bytes) -> str:
    return hashlib.sha256(b"quaythu-central-master-key\x00" + key).hexdigest()[:12]


class MasterKeys:
    """The current master key (sealing) and older ones still accepted for opening."""

    def __init__(self, current: bytes, older: Sequence[bytes] = ()) -> None:
        if len(current) != KEY_BYTES or any(len(k) != KEY_BYTES for k in older):
            raise MasterKeyError(f"khóa chủ phải dài đúng {KEY_BYTES} byte")
        self.current_id = key_id(current)
        self._keys = {key_id(k): k for k in (*older, current)}

    def seal(self, counter_id: str, key: bytes) -> str:
        nonce = secrets.token_bytes(12)
        sealed = AESGCM(self._keys[self.current_id]).encrypt(nonce, key, counter_id.encode())
        return f"{PREFIX}${self.current_id}${base64.b64encode(nonce + sealed).decode('ascii')}"

    def open(self, counter_id: str, text: str) -> bytes:
        parts = text.split("$")
        if len(parts) != 3 or parts[0] != PREFIX:
            raise MasterKeyError(f"khóa ký của quầy {counter_id} không ở dạng đã mã hóa")
        key = self._keys.get(parts[1])
        if key is None:
            raise MasterKeyError(
                f"khóa ký của quầy {counter_id} được mã hóa bằng khóa chủ {parts[1]}, "
                "không có trong cấu hình (QUAYTHU_CENTRAL_OLD_MASTER_KEYS?)"
            )
        try:
            raw = base64.b64decode(parts[2], validate=True)
            return AESGCM(key).decrypt(raw[:12], raw[12:], counter_id.encode())
        except (binascii.Error, ValueError, InvalidTag) as exc:
            raise MasterKeyError(f"không mở được khóa ký của quầy {counter_id}") from exc

    def is_current(self, text: str) -> bool:
        return text.startswith(f"{PREFIX}${self.current_id}$")

    @staticmethod
    def is_sealed(text: str) -> bool:
        return text.startswith(f"{PREFIX}$")

    @classmethod
    def from_environment(
        cls, env: Mapping[str, str] | None = None, *, default_file: Path | None = None
    ) -> MasterKeys:
        """The configured keys (see the module docstring); `default_file` is created when
        nothing is configured (SQLite only); without it a missing key is an error."""
        env = os.environ if env is None else env
        older = [_decode_key(t, ENV_OLD_KEYS) for t in env.get(ENV_OLD_KEYS, "").split(",") if t]
        for name in filter(None, env.get(ENV_OLD_KEY_FILES, "").split(":")):
            older.append(_decode_key(_read_key_file(Path(name)), name))
        if env.get(ENV_KEY):
            return cls(_decode_key(env[ENV_KEY], ENV_KEY), older)
        path = Path(env[ENV_KEY_FILE]) if env.get(ENV_KEY_FILE) else default_file
        if path is None:
            raise MasterKeyError(
                f"trung tâm cần khóa chủ: đặt {ENV_KEY} hoặc {ENV_KEY_FILE} "
                "(tạo bằng `quaythu-central make-master-key`)"
            )
        if not path.exists() and path == default_file:
            write_key_file(path, new_key_text())
        return cls(_decode_key(_read_key_file(path), str(path)), older)


def _read_key_file(path: Path) -> str:
    try:
        return path.read_bytes().decode("ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise MasterKeyError(f"không đọc được tệp khóa chủ {path}") from exc


def write_key_file(path: Path, text: str) -> None:
    """Write a key file readable by its owner only (created exclusively: never overwritten)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(text + "\n")
