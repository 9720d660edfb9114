"""Ranked participant search among namesakes, on a real SQLite file (issue 12.5)."""

from __future__ import annotations

import sqlite3
import uuid
from datetime import UTC, datetime
from pathlib import Path

from app.domain.text import fold_key
from app.domain.types import Scheme
from app.services.common import Actor
from app.services.participants import (
    ParticipantInput,
    create_participant,
    find_participants,
    search_participants,
)
from app.services.payments import PaymentRequest, record_payment
from app.storage.db import Database


def bulk_names(db_path: Path, names: list[str]) -> None:
    """Many participants at once (as a large directory would hold), straight into SQLite."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    con = sqlite3.connect(db_path, isolation_level=None)
    con.execute("BEGIN")
    con.executemany(
        "INSERT INTO participants (id, ma_so_bhxh, full_name, name_key, address, phone,"
        " email, prior_support_months, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, 'Thôn Đông', '', '', 0, ?, ?)",
        [
            (str(uuid.uuid4()), f"9{i:09d}", name, fold_key(name), now, now)
            for i, name in enumerate(names)
        ],
    )
    con.execute("COMMIT")
    con.close()


def person(db: Database, cashier: Actor, name: str, ma_so: str) -> str:
    return create_participant(db, ParticipantInput(full_name=name, ma_so_bhxh=ma_so), by=cashier).id


def test_exact_name_first_among_many_namesakes(db: Database, db_path: Path, cashier: Actor) -> None:
    # 3,000 people whose folded name is the same or starts the same, registered first.
    crowd = ["Nguyễn Văn Anh"] * 1500 + ["Nguyễn Văn Anh Tuấn"] * 700 + ["Nguyễn Văn Ân"] * 800
    bulk_names(db_path, crowd)
    target = person(db, cashier, "Nguyễn Văn Ánh", "0123456789")  # registered last

    found = find_participants(db, "Nguyễn Văn Ánh", limit=5)
    assert found.people[0].id == target  # typed with diacritics: that person first
    assert found.more  # and the list says more matched than are shown
    assert len(found.people) == 5
    # Typed without diacritics (or another case), the exact folded names come before prefixes.
    first = find_participants(db, "NGUYEN VAN ANH", limit=20).people
    assert all(fold_key(p.full_name) == "nguyen van anh" for p in first)


def test_ties_go_to_who_paid_most_recently(db: Database, db_path: Path, cashier: Actor) -> None:
    bulk_names(db_path, ["Trần Thị Hoa"] * 300)
    payer = person(db, cashier, "Trần Thị Hoa", "0123456780")
    assert search_participants(db, "tran thi hoa", limit=5)[0].id != payer  # not by chance
    record_payment(
        db,
        PaymentRequest("r1", payer, Scheme.BHYT_HGD, months=12, member_order=1),
        by=cashier,
    )
    assert search_participants(db, "tran thi hoa", limit=5)[0].id == payer


def test_order_exact_then_words_in_order_then_the_rest(db: Database, cashier: Actor) -> None:
    rest = person(db, cashier, "Anh Nguyễn Thị", "0000000001")  # words in another order
    in_order = person(db, cashier, "Nguyễn Văn Anh", "0000000002")  # prefixes in order
    exact = person(db, cashier, "Nguyễn Anh", "0000000003")
    assert [p.id for p in search_participants(db, "nguyen anh")] == [exact, in_order, rest]
    # The limit is applied after ranking: the best one is kept, not the first stored.
    one = find_participants(db, "nguyen anh", limit=1)
    assert [p.id for p in one.people] == [exact] and one.more


def test_exact_identifier_before_prefixes(db: Database, cashier: Actor) -> None:
    longer = person(db, cashier, "Lê Văn Một", "0123456789")
    assert [p.id for p in search_participants(db, "012345678")] == [longer]
    few = find_participants(db, "0123456789")
    assert [p.id for p in few.people] == [longer] and not few.more


def test_typed_glob_and_fts_characters_are_plain_text(db: Database, db_path: Path) -> None:
    """The words-in-order rule runs in SQL as a GLOB pattern: "*", "?" and "[" typed are
    characters to match, never wildcards, and nothing typed breaks the statement."""
    from app.services.participants import _in_order_pattern

    con = sqlite3.connect(":memory:")

    def in_order(name_key: str, typed: str) -> bool:
        row = con.execute("SELECT ? GLOB ?", (" " + name_key, _in_order_pattern(typed.split())))
        return bool(row.fetchone()[0])

    assert in_order("le van anh", "le an") and not in_order("van le anh", "le van")
    assert in_order("le van a?b", "le a?") and not in_order("le van ab", "le a?")
    assert in_order("le van a*b", "van a*") and not in_order("le van ab", "van a*")
    assert in_order("le [x] van", "le [x") and not in_order("le x van", "le [x]")
    con.close()

    bulk_names(db_path, ["Lê Văn A*b", "Lê Văn Ab", "Ab Lê Văn"])
    # "A*b" starts with the typed letters; the other two have them only in another shape.
    assert [p.full_name for p in search_participants(db, "le van a*")] == [
        "Lê Văn A*b",
        "Ab Lê Văn",
        "Lê Văn Ab",
    ]
    for typed in ("le [", "le ?", 'le "van', "le van a*b ]", "* ?"):
        search_participants(db, typed)  # no SQL error
    found = find_participants(db, "le van a", limit=1)
    assert len(found.people) == 1 and found.more


def test_more_is_said_when_the_candidates_are_capped(db: Database, db_path: Path) -> None:
    from app.services.participants import SEARCH_CANDIDATES

    bulk_names(db_path, [f"Trần Thị {given}" for given in ("Hoa", "Hồng", "Huệ")] * 30)
    few = find_participants(db, "tran thi hoa", limit=50)
    assert len(few.people) == 30 and not few.more  # all 30 namesakes, nothing more
    many = find_participants(db, "tran th", limit=100)
    assert len(many.people) <= 2 * SEARCH_CANDIDATES and many.more


def test_a_crowd_of_namesakes_fills_the_list_and_the_rest_still_ranks_behind(
    db: Database, db_path: Path
) -> None:
    """More namesakes than the limit: the list is namesakes only and says more matched; with a
    limit that leaves room, the words-in-order names and then the rest follow them. At exactly
    the limit, the other matches still count for "more"."""
    bulk_names(db_path, ["Phạm Văn Bình"] * 6 + ["Phạm Văn Bình An", "Bình Phạm Văn"])
    crowd = find_participants(db, "pham van binh", limit=5)
    assert [p.full_name for p in crowd.people] == ["Phạm Văn Bình"] * 5 and crowd.more
    room = find_participants(db, "pham van binh", limit=10)
    assert [p.full_name for p in room.people] == ["Phạm Văn Bình"] * 6 + [
        "Phạm Văn Bình An",
        "Bình Phạm Văn",
    ]
    assert not room.more
    full = find_participants(db, "pham van binh", limit=6)
    assert [p.full_name for p in full.people] == ["Phạm Văn Bình"] * 6 and full.more
    whole = find_participants(db, "pham van binh", limit=8)
    assert len(whole.people) == 8 and not whole.more


def test_exactly_as_many_namesakes_as_the_limit_and_nothing_else(
    db: Database, db_path: Path
) -> None:
    bulk_names(db_path, ["Võ Thị Cúc"] * 4 + ["Võ Thị Lan"])
    found = find_participants(db, "vo thi cuc", limit=4)
    assert [p.full_name for p in found.people] == ["Võ Thị Cúc"] * 4 and not found.more
    more = find_participants(db, "vo thi cuc", limit=3)
    assert len(more.people) == 3 and more.more


def test_the_typed_spelling_first_when_namesakes_fill_the_list(
    db: Database, db_path: Path, cashier: Actor
) -> None:
    bulk_names(db_path, ["Lý Văn Hòa"] * 50)
    target = person(db, cashier, "Lý Văn Hoà", "0123456781")  # another accent placement
    plain = person(db, cashier, "Ly Van Hoa", "0123456782")
    typed = find_participants(db, "lý văn hoà", limit=3)
    assert typed.people[0].id == target and typed.more
    assert find_participants(db, "Ly Van Hoa", limit=3).people[0].id == plain
