"""`quaythu household …` and `quaythu pay-household` end to end, in process, on a real file."""

from __future__ import annotations

from typing import Any

from tests.cli.conftest import Cli
from tests.cli.test_cli import U, add_payer

PEOPLE = (
    ("Lê Thị Mỹ Đào", "019185001234", "nu"),
    ("Lê Văn Hai", "001085002345", "nam"),
    ("Lê Thị Ba", "001185003456", "nu"),
)


def add_person(cli: Cli, name: str, cccd: str, sex: str) -> None:
    done = cli(
        "participant", "add", *U, "--name", name, "--dob", "14/03/1985", "--sex", sex,
        "--cccd", cccd,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def household(cli: Cli) -> str:
    for name, cccd, sex in PEOPLE:
        add_person(cli, name, cccd, sex)
    made: Any = cli.json("household", "create", *U, "--head", PEOPLE[0][1], "--address", "Xóm 2")
    cli.json("household", "add", *U, "--household", made["id"], "--participant", PEOPLE[1][1],
             "--relation", "Chồng")  # fmt: skip
    cli.json("household", "add", *U, "--household", PEOPLE[0][1], "--participant",
             PEOPLE[2][1], "--relation", "Con")  # fmt: skip
    return str(made["id"])


def test_pay_household_one_receipt_each_one_change(counter: Cli) -> None:
    hid = household(counter)
    shown = counter("household", "show", PEOPLE[2][1])
    assert shown.returncode == 0 and "Lê Văn Hai" in shown.stdout and "chưa có thẻ" in shown.stdout

    members = [a for _, cccd, _ in PEOPLE for a in ("--member", f"{cccd}:12")]
    preview: Any = counter.json("pay-household", *U, *members, "--preview")
    assert [q["member_order"] for q in preview["quotes"]] == [1, 2, 3]
    assert "thành viên thứ 3" in preview["notes"][2][0]
    listed = counter.json("list")
    assert listed["payments"] == []  # type: ignore[index]

    args = ("pay-household", *U, *members, "--tendered", "3.000.000", "--request-id", "quay-1")
    paid: Any = counter.json(*args)
    assert paid["household_id"] == hid
    assert [p["member_order"] for p in paid["payments"]] == [1, 2, 3]
    assert [p["receipt_number"] for p in paid["payments"]] == [1, 2, 3]
    assert [p["gross_per_month"] for p in paid["payments"]] == [105_300, 73_710, 63_180]
    assert paid["total"] == preview["total"] == 2_906_280
    assert (paid["tendered"], paid["change_due"]) == (3_000_000, 93_720)
    assert all(p["tendered"] is None for p in paid["payments"])

    again = counter(*args)  # the same request id: nothing recorded twice
    assert again.returncode == 0 and "Tiền thối lại: 93.720 đ" in again.stdout
    assert again.stdout.count("MÃ XÁC NHẬN") == 3
    listed = counter.json("list")
    assert len(listed["payments"]) == 3  # type: ignore[index]
    assert counter("verify").returncode == 0

    card = counter("household", "show", hid)
    assert card.stdout.count("thẻ BHYT từ ") == 3  # first cards: 30 days after payment


def test_pay_household_refusals_name_the_field(counter: Cli) -> None:
    household(counter)
    add_payer(counter, name="Người Ngoài", cccd="001185004567")
    members = [a for _, cccd, _ in PEOPLE for a in ("--member", cccd)]
    short = counter("pay-household", *U, *members, "--tendered", "1.000.000")
    assert short.returncode == 2 and "Tiền khách đưa" in short.stderr
    stranger = counter("pay-household", *U, "--member", PEOPLE[0][1], "--member", "001185004567")
    assert stranger.returncode == 2 and "hộ gia đình" in stranger.stderr
    bad = counter("pay-household", *U, "--member", f"{PEOPLE[0][1]}:mười")
    assert bad.returncode == 2 and "số tháng" in bad.stderr
    assert counter.json("list")["payments"] == []  # type: ignore[index]
