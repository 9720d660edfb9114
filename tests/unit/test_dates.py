"""The one parser for typed dates: its shapes; malformed text told apart from impossible dates."""

from __future__ import annotations

from datetime import date

import pytest

from app.domain.dates import parse_day, parse_month, parse_optional_day
from app.errors import ValidationError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("14/03/1985", date(1985, 3, 14)),
        ("4/3/1985", date(1985, 3, 4)),
        ("04/3/1985", date(1985, 3, 4)),
        ("14-03-1985", date(1985, 3, 14)),
        ("14.03.1985", date(1985, 3, 14)),
        ("14 03 1985", date(1985, 3, 14)),
        ("14031985", date(1985, 3, 14)),
        ("1985-03-14", date(1985, 3, 14)),
        ("1985-3-4", date(1985, 3, 4)),
        ("  29/02/2024 ", date(2024, 2, 29)),
        ("31/12/1999", date(1999, 12, 31)),
        ("01/01/2000", date(2000, 1, 1)),
    ],
)
def test_accepted_shapes(text: str, expected: date) -> None:
    assert parse_day(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("31/02/2024", "tháng 02/2024 chỉ có 29 ngày"),
        ("29/02/2023", "tháng 02/2023 chỉ có 28 ngày"),
        ("31/04/2026", "tháng 04/2026 chỉ có 30 ngày"),
        ("00/03/1985", "tháng 03/1985 chỉ có 31 ngày"),
        ("14/13/1985", "không có tháng 13"),
        ("14/00/1985", "không có tháng 0"),
        ("2023-02-30", "tháng 02/2023 chỉ có 28 ngày"),
        ("32011985", "tháng 01/1985 chỉ có 31 ngày"),
        ("01/01/0000", "không có năm 0"),
    ],
)
def test_impossible_dates_are_named_impossible(text: str, reason: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_day(text, field="date_of_birth", label="Ngày sinh")
    err = caught.value
    assert err.field == "date_of_birth"
    assert err.label == "Ngày sinh"
    assert "không phải ngày có thật" in err.rule
    assert reason in err.rule
    assert "không đúng dạng" not in err.rule


@pytest.mark.parametrize(
    "text",
    [
        "14/03/85",
        "14/03",
        "1985/03/14",
        "14-03-1985x",
        "ngày 14/03/1985",
        "1403198",
        "",
        "abc",
        "1/2/3/4",
    ],
)
def test_malformed_text_is_named_malformed(text: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_day(text)
    err = caught.value
    assert err.field == "date"
    assert "không đúng dạng ngày/tháng/năm" in err.rule
    assert "có thật" not in err.rule


def test_optional_day_blank_is_none() -> None:
    assert parse_optional_day("   ") is None
    assert parse_optional_day("09/07/2001") == date(2001, 7, 9)
    with pytest.raises(ValidationError):
        parse_optional_day("9/7/01")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("03/2026", date(2026, 3, 1)), ("3/2026", date(2026, 3, 1)), ("2026-03", date(2026, 3, 1))],
)
def test_months(text: str, expected: date) -> None:
    assert parse_month(text) == expected


def test_month_malformed_and_impossible_differ() -> None:
    with pytest.raises(ValidationError, match="không đúng dạng tháng/năm") as malformed:
        parse_month("03-26")
    assert malformed.value.field == "start_month"
    with pytest.raises(ValidationError, match="không phải tháng có thật: không có tháng 13"):
        parse_month("13/2026")
