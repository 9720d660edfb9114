"""Backups of the counter's SQLite file, and restoring one (docs/BACKUP.md).

Guarantees:
- a backup is a consistent copy made with SQLite's online backup API while the window may be
  writing (`sqlite3.Connection.backup`); it is written under a temporary name and renamed, so a
  half-written copy never looks like a backup;
- every backup is verified on a scratch copy — `PRAGMA integrity_check` and the ledger verify
  (chain, hashes, gap-free receipt numbers; seals too when this PC holds the signing key) — and
  the result is stored (`backup.last` in settings) and audited;
- `run_daily_backup` makes at most one daily backup per business day: the first start, sync or
  `quaythu backup now`/`quaythu daily` after the day changes copies everything up to then;
- copies are kept for the newest `KEEP_DAILY` days and the newest `KEEP_MONTHLY` months (the
  newest copy of each); older ones of this counter are deleted, nothing else in the folder is;
- `restore` refuses a backup that fails verification or belongs to another counter, and keeps
  the current file aside (`<name>.before-restore-<time>.sqlite3`) before putting the copy in
  place.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import tempfile
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from app.domain.canonical import parse_utc_iso, utc_iso
from app.domain.clock import business_date, local_time, now_utc
from app.errors import ConfigurationError, UserFacingError, ValidationError
from app.services.common import Actor
from app.services.queries import audit, require_counter
from app.services.relocation import PENDING_RESTORE_AUDIT
from app.services.sealing import ledger_key
from app.storage.db import Database, open_database
from app.storage.models import Setting

KEEP_DAILY = 30
KEEP_MONTHLY = 12
FOLDER_KEY = "backup.folder"
LAST_KEY = "backup.last"
LAST_DAILY_KEY = "backup.last_daily_date"
_NAME = re.compile(
    r"^quaythu-(?P<code>[A-Z0-9-]+)-(?P<stamp>\d{8}-\d{6})-(?P<kind>[a-z-]+)\.sqlite3$"
)


@dataclass(frozen=True)
class Verification:
    ok: bool
    counter_id: str | None
    counter_code: str | None
    payments: int
    ledger_records: int
    problems: tuple[str, ...]


@dataclass(frozen=True)
class BackupResult:
    """One backup (or, with `skipped`, the day's earlier one)."""

    path: str
    kind: str  # "daily" | "manual" | "pre-migration"
    made_at: datetime
    ok: bool
    payments: int
    message: str
    skipped: bool = False

    @property
    def status_text(self) -> str:
        when = local_time(self.made_at).strftime("%H:%M %d/%m")
        return f"Sao lưu {when}: {'tốt' if self.ok else 'LỖI'}"


# --- where ----------------------------------------------------------------------------------


def _setting(db: Database, key: str) -> str | None:
    with db.read() as session:
        return session.scalar(select(Setting.value).where(Setting.key == key))


def backup_folder(db: Database) -> Path:
    """The folder chosen in Settings; by default `backups` beside the database (the user data
    folder for the usual database)."""
    chosen = _setting(db, FOLDER_KEY)
    return Path(chosen) if chosen else db.path.parent / "backups"


def set_backup_folder(db: Database, folder: Path, *, by: Actor) -> Path:
    from app.domain.types import Role

    by.require(Role.ADMIN, action="chọn thư mục sao lưu")
    folder = Path(folder).expanduser()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".quaythu-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ValidationError(
            "backup_folder",
            "Thư mục sao lưu",
            f"không ghi được vào {folder} ({exc.strerror})",
            rule_en="not writable",
        ) from exc
    with db.write() as session:
        before = session.get(Setting, FOLDER_KEY)
        session.merge(Setting(key=FOLDER_KEY, value=str(folder)))
        audit(
            session,
            "backup.folder",
            actor=by,
            before=before.value if before else None,
            after=str(folder),
        )
    return folder


# --- copying and checking -------------------------------------------------------------------


def copy_database(source: Path, target: Path) -> None:
    """A consistent copy of `source` (WAL included) with the online backup API."""
    src = sqlite3.connect(source)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()


def _counter_of(path: Path) -> tuple[str | None, str | None]:
    con = sqlite3.connect(path)
    try:
        row = con.execute("SELECT counter_id, counter_code FROM counter WHERE id = 1").fetchone()
    except sqlite3.DatabaseError:
        return None, None
    finally:
        con.close()
    return (row[0], row[1]) if row else (None, None)


def verify_backup(path: Path) -> Verification:
    """Integrity check and ledger verify of `path`, on a scratch copy (the file is not touched;
    an older copy is brought to this program's schema on the scratch copy only)."""
    from app.services.verify import verify_ledger

    with tempfile.TemporaryDirectory(prefix="quaythu-verify-") as tmp:
        scratch = Path(tmp) / "copy.sqlite3"
        try:
            copy_database(path, scratch)
            con = sqlite3.connect(scratch)
            try:
                integrity = con.execute("PRAGMA integrity_check").fetchone()[0]
            finally:
                con.close()
        except sqlite3.DatabaseError as exc:
            return Verification(False, None, None, 0, 0, (f"không đọc được tệp: {exc}",))
        if integrity != "ok":
            return Verification(False, None, None, 0, 0, (f"kiểm tra toàn vẹn: {integrity}",))
        counter_id, code = _counter_of(scratch)
        if counter_id is None:
            return Verification(False, None, None, 0, 0, ("không phải dữ liệu của một quầy",))
        db = open_database(scratch)
        try:
            try:
                report = verify_ledger(db, against_anchor=False)
            except ConfigurationError:  # no signing key on this PC (a new machine): no seals
                report = verify_ledger(db, with_key=False)
            with db.read() as session:
                payments = (
                    session.connection()
                    .exec_driver_sql("SELECT count(*) FROM payments")
                    .scalar_one()
                )
        finally:
            db.close()
    return Verification(report.ok, counter_id, code, int(payments), report.checked, report.problems)


def _local_stamp(at: datetime) -> str:
    return local_time(at).strftime("%Y%m%d-%H%M%S")


def make_backup(db: Database, *, kind: str = "manual", folder: Path | None = None) -> BackupResult:
    """Copy, verify, record and prune; a failed verification is reported, never hidden."""
    with db.read() as session:
        counter = require_counter(session)
        code = counter.counter_code
    folder = Path(folder) if folder is not None else backup_folder(db)
    folder.mkdir(parents=True, exist_ok=True)
    at = now_utc()
    target = folder / f"quaythu-{code}-{_local_stamp(at)}-{kind}.sqlite3"
    partial = target.with_name(target.name + ".partial")
    copy_database(db.path, partial)
    partial.replace(target)
    check = verify_backup(target)
    message = (
        f"Đã sao lưu {check.payments} khoản thu, {check.ledger_records} bản ghi sổ thu "
        f"vào {target}."
        if check.ok
        else "Bản sao lưu KHÔNG đạt kiểm tra: " + "; ".join(check.problems)
    )
    result = BackupResult(str(target), kind, at, check.ok, check.payments, message)
    _record(db, result)
    prune(folder, code)
    return result


def _record(db: Database, result: BackupResult) -> None:
    payload = {**asdict(result), "made_at": utc_iso(result.made_at)}
    with db.write() as session:
        session.merge(Setting(key=LAST_KEY, value=json.dumps(payload, ensure_ascii=False)))
        if result.kind == "daily":
            session.merge(
                Setting(key=LAST_DAILY_KEY, value=business_date(result.made_at).isoformat())
            )
        audit(
            session,
            "backup.made",
            actor=None,
            subject=Path(result.path).name,
            kind=result.kind,
            ok=result.ok,
            payments=result.payments,
        )


def last_backup(db: Database) -> BackupResult | None:
    raw = _setting(db, LAST_KEY)
    if not raw:
        return None
    data = json.loads(raw)
    data["made_at"] = parse_utc_iso(data["made_at"])
    return BackupResult(**data)


def run_daily_backup(db: Database) -> BackupResult:
    """The end-of-day backup: made by the first call on a new business day; later calls that
    day return the day's backup with `skipped` set."""
    today = business_date(now_utc()).isoformat()
    if _setting(db, LAST_DAILY_KEY) == today:
        last = last_backup(db)
        if last is not None:
            return BackupResult(**{**asdict(last), "skipped": True})
    return make_backup(db, kind="daily")


def prune(folder: Path, counter_code: str) -> list[Path]:
    """Delete this counter's copies beyond the newest `KEEP_DAILY` days and `KEEP_MONTHLY`
    months (the newest copy of each day and month is what is kept); returns what was removed."""
    mine: list[tuple[str, Path]] = []
    for path in folder.iterdir():
        m = _NAME.match(path.name)
        if m and m["code"] == counter_code:
            mine.append((m["stamp"], path))
    mine.sort(reverse=True)
    keep: set[Path] = set()
    days: set[str] = set()
    months: set[str] = set()
    for stamp, path in mine:
        day, month = stamp[:8], stamp[:6]
        if day not in days and len(days) < KEEP_DAILY:
            days.add(day)
            keep.add(path)
        if month not in months and len(months) < KEEP_MONTHLY:
            months.add(month)
            keep.add(path)
    removed = [path for _, path in mine if path not in keep]
    for path in removed:
        path.unlink(missing_ok=True)
    return removed


@dataclass(frozen=True)
class BackupStatus:
    folder: str
    copies: int
    last: BackupResult | None


def backup_status(db: Database) -> BackupStatus:
    folder = backup_folder(db)
    with db.read() as session:
        code = require_counter(session).counter_code
    copies = 0
    if folder.is_dir():
        copies = sum(
            1 for p in folder.iterdir() if (m := _NAME.match(p.name)) and m["code"] == code
        )
    return BackupStatus(str(folder), copies, last_backup(db))


# --- restoring ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RestoreResult:
    restored_from: str
    kept_aside: str | None
    counter_code: str
    payments: int


def _reanchor(db: Database, counter_id: str, key: bytes) -> None:
    """A restore is the admin's deliberate step back to a verified copy (audited): the head
    anchor in the keyring moves to the restored head, or every later check would report the
    records after the copy as deleted (docs/LEDGER.md). (Without the key on this PC — a new
    machine — `rekey` starts the new key's chain and its anchor.)"""
    from app.services.sealing import read_heads, write_anchor

    with db.read() as session:
        heads = read_heads(session)
    write_anchor(counter_id, key, heads)


def restore(backup: Path, db_path: Path) -> RestoreResult:
    """Put `backup` in place of the database at `db_path` (the window must be closed).

    Refused when the backup fails verification or, if a counter's database is already there,
    when it belongs to another counter. The current file is kept aside, never deleted."""
    backup = Path(backup)
    if not backup.is_file():
        raise UserFacingError(f"Không có tệp {backup}.", message_en=f"no file {backup}")
    check = verify_backup(backup)
    if not check.ok:
        raise UserFacingError(
            "Không khôi phục: bản sao lưu không đạt kiểm tra (" + "; ".join(check.problems) + ").",
            message_en="backup failed verification",
        )
    kept: Path | None = None
    if db_path.exists():
        current_id, current_code = _counter_of(db_path)
        if current_id is not None and current_id != check.counter_id:
            raise UserFacingError(
                f"Không khôi phục: bản sao lưu là của quầy {check.counter_code}, "
                f"không phải quầy {current_code} đang dùng tệp này.",
                message_en="backup belongs to another counter",
            )
        kept = db_path.with_name(
            f"{db_path.stem}.before-restore-{_local_stamp(now_utc())}{db_path.suffix}"
        )
        copy_database(db_path, kept)
        for extra in ("", "-wal", "-shm"):
            Path(f"{db_path}{extra}").unlink(missing_ok=True)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    partial = db_path.with_name(db_path.name + ".restoring")
    copy_database(backup, partial)
    shutil.move(partial, db_path)
    db = open_database(db_path)  # brings an older copy to this program's schema
    kept_aside = str(kept) if kept else None
    try:
        try:
            counter_id, key = ledger_key(db)
        except ConfigurationError:
            # A new PC: no key here to seal the audit entry with. `rekey` (the next step,
            # docs/BACKUP.md) writes it, sealed with the new key, from this note.
            with db.write() as session:
                note = {"file": backup.name, "kept_aside": kept_aside, "payments": check.payments}
                session.merge(Setting(key=PENDING_RESTORE_AUDIT, value=json.dumps(note)))
        else:
            with db.write() as session:
                audit(
                    session,
                    "backup.restore",
                    actor=None,
                    subject=backup.name,
                    kept_aside=kept_aside,
                    payments=check.payments,
                )
            _reanchor(db, counter_id, key)
    finally:
        db.close()
    return RestoreResult(
        str(backup), str(kept) if kept else None, check.counter_code or "", check.payments
    )
