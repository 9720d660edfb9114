"""A large import does not hold the write lock for its whole length and stays all or nothing."""

from __future__ import annotations

import threading
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from app.domain.types import Scheme, Sex
from app.errors import UserFacingError
from app.services import participants
from app.services.common import Actor
from app.services.participants import (
    ParticipantInput,
    create_participant,
    find_by_identifier,
    import_participants_csv,
    search_participants,
)
from app.services.payments import PaymentRequest, record_payment
from app.storage.db import Database


def _write(path: Path, rows: int) -> None:
    lines = ["Họ và tên,Ngày sinh,Giới tính,CCCD"]
    lines += [f"Người Nhập Thử,01/01/1990,Nam,001090{i:06d}" for i in range(1, rows + 1)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_a_payment_is_recorded_while_50000_rows_import(
    db: Database, cashier: Actor, tmp_path: Path
) -> None:
    payer = create_participant(
        db,
        ParticipantInput(
            full_name="Lê Thị Mỹ Đào",
            date_of_birth=date(1985, 3, 14),
            sex=Sex.FEMALE,
            cccd="019185001234",
        ),
        by=cashier,
    )
    csv_path = tmp_path / "lon.csv"
    _write(csv_path, 50_000)
    result: list[Any] = []
    importer = threading.Thread(
        target=lambda: result.append(import_participants_csv(db, csv_path, by=cashier))
    )
    importer.start()
    paid = []
    while importer.is_alive():
        req = PaymentRequest(str(uuid.uuid4()), payer.id, Scheme.BHYT_HGD, 12, member_order=1)
        paid.append(record_payment(db, req, by=cashier))
        importer.join(0.2)
    (done,) = result
    assert (done.created, done.errors) == (50_000, ())
    assert paid  # payments went through while the import ran (waits: bench/bench_import_lock.py)
    assert find_by_identifier(db, "001090050000") is not None


def test_a_refused_chunk_takes_back_the_chunks_before_it(
    db: Database, cashier: Actor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(participants, "IMPORT_CHUNK", 2)
    monkeypatch.setattr(participants, "IMPORT_GAP_SECONDS", 0)
    csv_path = tmp_path / "ds.csv"
    _write(csv_path, 6)
    real = participants._write_chunk
    calls: list[int] = []

    def racing(*args: Any) -> None:
        calls.append(1)
        if len(calls) == 2:  # someone registers row 5's CCCD between two chunks
            create_participant(
                db,
                ParticipantInput(
                    full_name="Người Khác",
                    date_of_birth=date(1990, 1, 1),
                    sex=Sex.MALE,
                    cccd="001090000005",
                ),
                by=cashier,
            )
        real(*args)

    monkeypatch.setattr(participants, "_write_chunk", racing)
    with pytest.raises(UserFacingError, match="vừa thay đổi"):
        import_participants_csv(db, csv_path, by=cashier)
    assert [p.full_name for p in search_participants(db, "nguoi")] == ["Người Khác"]
    assert find_by_identifier(db, "001090000001") is None
