"""The rate table: shipped figures, effective-dated lookups, validation of replacement tables."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import date
from fractions import Fraction
from importlib import resources
from typing import Any

import pytest

from app.domain.rates import RateTable, load_default_rate_table
from app.domain.types import SupportCategory
from app.errors import UserFacingError


@pytest.fixture(scope="module")
def table() -> RateTable:
    return load_default_rate_table()


def default_dict() -> dict[str, Any]:
    return copy.deepcopy(load_default_rate_table().to_dict())


# --- shipped figures ---------------------------------------------------------------------------


def test_shipped_table_version_and_metadata(table: RateTable) -> None:
    assert table.version == "2025.07-3"
    assert table.published_at == date(2025, 7, 1)
    assert table.source and all(isinstance(s, str) for s in table.source)


def test_shipped_json_is_package_data_without_floats() -> None:
    text = (
        resources.files("resources").joinpath("rates").joinpath("default.json").read_text("utf-8")
    )

    def no_float(s: str) -> None:
        raise AssertionError(f"float in the shipped rate table: {s}")

    raw = json.loads(text, parse_float=no_float)
    assert raw["version"] == "2025.07-3"


@pytest.mark.parametrize(
    ("on", "expected"),
    [
        (date(2022, 1, 1), 1_500_000),
        (date(2026, 12, 31), 1_500_000),
        (date(2027, 1, 1), 2_200_000),
        (date(2035, 6, 1), 2_200_000),
    ],
)
def test_poverty_line_changes_on_2027_01_01(table: RateTable, on: date, expected: int) -> None:
    assert table.poverty_line(on) == expected


@pytest.mark.parametrize(
    ("on", "expected"),
    [
        (date(2023, 7, 1), 1_800_000),
        (date(2024, 6, 30), 1_800_000),
        (date(2024, 7, 1), 2_340_000),
        # 2.530.000 from 2026-07-01 is unconfirmed and must not ship
        (date(2026, 7, 1), 2_340_000),
        (date(2030, 1, 1), 2_340_000),
    ],
)
def test_base_salary(table: RateTable, on: date, expected: int) -> None:
    assert table.base_salary(on) == expected


def test_reference_level_follows_base_salary_until_set(table: RateTable) -> None:
    assert table.reference_level(date(2024, 6, 30)) == 1_800_000
    assert table.reference_level(date(2026, 11, 22)) == 2_340_000
    d = default_dict()
    d["reference_level"].append({"effective_from": "2026-01-01", "value": 2_000_000})
    t = RateTable.from_dict(d)
    assert t.reference_level(date(2025, 12, 31)) == 2_340_000
    assert t.reference_level(date(2026, 1, 1)) == 2_000_000
    assert t.income_bounds(date(2026, 1, 1)) == (1_500_000, 40_000_000)


def test_income_bounds(table: RateTable) -> None:
    assert table.income_bounds(date(2026, 11, 22)) == (1_500_000, 46_800_000)
    assert table.income_bounds(date(2027, 1, 1)) == (2_200_000, 46_800_000)
    assert table.income_bounds(date(2024, 6, 30)) == (1_500_000, 36_000_000)
    assert table.income_step(date(2026, 11, 22)) == 50_000


def test_bhxh_rate_and_caps(table: RateTable) -> None:
    assert table.bhxh_rate_bp(date(2026, 11, 22)) == 2200
    assert table.support_lifetime_months(date(2026, 11, 22)) == 120
    assert table.max_income_multiplier(date(2026, 11, 22)) == 20
    assert table.lump_sum_months(date(2026, 11, 22)) == (24, 60)
    assert table.lump_sum_step(date(2026, 11, 22)) == 12


@pytest.mark.parametrize(
    ("category", "before", "after"),
    [
        (SupportCategory.POOR, 30, 50),
        (SupportCategory.NEAR_POOR, 25, 40),
        (SupportCategory.ETHNIC_MINORITY, 10, 30),
        (SupportCategory.OTHER, 10, 20),
    ],
)
def test_support_percent_changes_on_2025_07_01(
    table: RateTable, category: SupportCategory, before: int, after: int
) -> None:
    assert table.support_percent(category, date(2025, 6, 30)) == before
    assert table.support_percent(category, date(2025, 7, 1)) == after


def test_bhyt_figures(table: RateTable) -> None:
    on = date(2026, 11, 22)
    assert table.bhyt_rate_bp(on) == 450
    assert [table.bhyt_member_percent(k, on) for k in range(1, 8)] == [100, 70, 60, 50, 40, 40, 40]
    assert table.bhyt_periods(on) == (3, 6, 12)


def test_monthly_return_and_fallback(table: RateTable) -> None:
    assert table.monthly_return(2025) == Fraction(45, 10_000)
    # newer year not published yet: newest available
    assert table.monthly_return(2026) == Fraction(45, 10_000)
    assert table.fund_return(2026).year == 2025
    assert table.fund_return(2025).placeholder is True
    d = default_dict()
    d["fund_monthly_return"] = [
        {"year": 2023, "monthly_rate": "0.004"},
        {"year": 2025, "monthly_rate": "0.005"},
    ]
    t = RateTable.from_dict(d)
    assert t.monthly_return(2024) == Fraction(4, 1000)  # newest year not after 2024
    assert t.monthly_return(2025) == Fraction(5, 1000)
    assert t.monthly_return(2030) == Fraction(5, 1000)
    assert t.monthly_return(2010) == Fraction(4, 1000)  # older than every row: the oldest


def test_newest_effective_from(table: RateTable) -> None:
    assert table.newest_effective_from() == date(2027, 1, 1)
    assert table.newest_effective_from(as_of=date(2026, 11, 22)) == date(2025, 7, 1)


def test_province_support_rows() -> None:
    d = default_dict()
    d["province_support"] = [
        {
            "province": "01",
            "effective_from": "2026-01-01",
            "value": {"poor": 10, "near_poor": 5, "ethnic_minority": 0, "other": 0},
        }
    ]
    t = RateTable.from_dict(d)
    assert t.province_support_percent("01", SupportCategory.POOR, date(2026, 1, 1)) == 10
    assert t.province_support_percent("01", SupportCategory.POOR, date(2025, 12, 31)) == 0
    assert t.province_support_percent("79", SupportCategory.POOR, date(2026, 1, 1)) == 0
    assert RateTable.from_dict(t.to_dict()) == t


def test_lookup_before_coverage_is_a_user_facing_error(table: RateTable) -> None:
    with pytest.raises(UserFacingError, match="lương cơ sở") as info:
        table.base_salary(date(2023, 6, 30))
    assert "30/06/2023" in info.value.message
    with pytest.raises(UserFacingError, match="chuẩn nghèo"):
        table.poverty_line(date(2021, 12, 31))


# --- round trip ---------------------------------------------------------------------------


def test_round_trip(table: RateTable) -> None:
    assert RateTable.from_dict(table.to_dict()) == table
    assert RateTable.from_json(table.to_json()) == table


def test_to_dict_reproduces_the_shipped_file(table: RateTable) -> None:
    text = (
        resources.files("resources").joinpath("rates").joinpath("default.json").read_text("utf-8")
    )
    assert table.to_dict() == json.loads(text)


# --- validation ---------------------------------------------------------------------------

Mutation = Callable[[dict[str, Any]], None]


def _set(path: str, value: object) -> Mutation:
    def apply(d: dict[str, Any]) -> None:
        *parents, last = path.split("/")
        node: Any = d
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return apply


def _delete(path: str) -> Mutation:
    def apply(d: dict[str, Any]) -> None:
        *parents, last = path.split("/")
        node: Any = d
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        del node[last]

    return apply


INVALID: dict[str, tuple[Mutation, str]] = {
    "dates descending": (
        _set("base_salary/1/effective_from", "2023-01-01"),
        "base_salary[1].effective_from",
    ),
    "duplicate date": (
        _set("rural_poverty_line/1/effective_from", "2022-01-01"),
        "rural_poverty_line[1].effective_from",
    ),
    "zero money": (_set("base_salary/0/value", 0), "base_salary[0].value"),
    "negative money": (_set("rural_poverty_line/0/value", -1), "rural_poverty_line[0].value"),
    "string money": (_set("base_salary/1/value", "2340000"), "base_salary[1].value"),
    "bool money": (_set("base_salary/1/value", True), "base_salary[1].value"),
    "not a date": (_set("base_salary/0/effective_from", "01/07/2023"), "base_salary[0]"),
    "impossible date": (_set("base_salary/0/effective_from", "2023-02-30"), "base_salary[0]"),
    "empty series": (_set("base_salary", []), "base_salary"),
    "missing key": (_delete("bhyt_hgd"), "bhyt_hgd"),
    "unknown key": (_set("bhxh_tn/rate_percent", 22), "bhxh_tn.rate_percent"),
    "rate over 100%": (_set("bhxh_tn/rate_bp/0/value", 22_000), "bhxh_tn.rate_bp[0].value"),
    "support over 100": (
        _set("bhxh_tn/support_percent/1/value/poor", 150),
        "bhxh_tn.support_percent[1].value.poor",
    ),
    "support category missing": (
        _delete("bhxh_tn/support_percent/1/value/other"),
        "bhxh_tn.support_percent[1].value.other",
    ),
    "unknown method": (_set("bhxh_tn/methods/0/value", ["1", "24"]), "bhxh_tn.methods[0].value[1]"),
    "lump max below min": (
        _set("bhxh_tn/lump_sum_months/0/value", {"min": 10, "max": 5}),
        "bhxh_tn.lump_sum_months[0].value.max",
    ),
    "ladder not starting at 100": (
        _set("bhyt_hgd/member_percent/0/value", [90, 70]),
        "bhyt_hgd.member_percent[0].value[0]",
    ),
    "periods unordered": (
        _set("bhyt_hgd/periods_months/0/value", [12, 6]),
        "bhyt_hgd.periods_months[0].value",
    ),
    "monthly rate as number": (
        _set("fund_monthly_return/0/monthly_rate", 1),
        "fund_monthly_return[0].monthly_rate",
    ),
    "monthly rate negative": (
        _set("fund_monthly_return/0/monthly_rate", "-0.001"),
        "fund_monthly_return[0].monthly_rate",
    ),
    "monthly rate not decimal": (
        _set("fund_monthly_return/0/monthly_rate", "9/2000"),
        "fund_monthly_return[0].monthly_rate",
    ),
    "empty version": (_set("version", ""), "version"),
    "poverty line above max income": (
        _set("rural_poverty_line/1/value", 50_000_000),
        "rural_poverty_line",
    ),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_invalid_table_rejected(case: str) -> None:
    mutate, path = INVALID[case]
    d = default_dict()
    mutate(d)
    with pytest.raises(UserFacingError) as info:
        RateTable.from_dict(d)
    assert info.value.message.startswith("Bảng mức đóng không hợp lệ")
    assert path in info.value.message


def test_unsupported_schema_rejected() -> None:
    d = default_dict()
    d["schema"] = 2
    with pytest.raises(UserFacingError, match="cập nhật phần mềm"):
        RateTable.from_dict(d)


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        # a money value written with a fraction part is a float in disguise
        json.dumps(default_dict()).replace('"value": 1800000', '"value": 1800000.0'),
        json.dumps(default_dict()).replace('"value": 1800000', '"value": NaN'),
    ],
)
def test_invalid_json_rejected(text: str) -> None:
    with pytest.raises(UserFacingError, match="Bảng mức đóng"):
        RateTable.from_json(text)


def test_valid_replacement_table_accepted() -> None:
    d = default_dict()
    d["version"] = "2026.07-1"
    d["base_salary"].append({"effective_from": "2026-07-01", "value": 2_530_000})
    t = RateTable.from_json(json.dumps(d))
    assert t.version == "2026.07-1"
    assert t.base_salary(date(2026, 7, 1)) == 2_530_000
    assert t.income_bounds(date(2026, 7, 1)) == (1_500_000, 50_600_000)
