"""The effective-dated rate table: every figure a quote depends on, with the date it applies from.

Rates change by decree, so they are data, not code. A table ships with the app
(`resources/rates/default.json`) and the central collection system can push a replacement by sync;
every payment stores the `version` of the table it was quoted with.

Guarantees:
- A `RateTable` has been validated: money is a positive `int` (đồng), rates are `int` basis points
  (1% = 100 bp, so 22% = 2200 and 4.5% = 450), percentages (support, BHYT member ladder) are
  whole `int` percent, effective dates strictly ascend within each list, the fund's monthly return
  is an exact `Fraction` parsed from a decimal *string*. No floats anywhere: a JSON number with a
  fraction part is rejected. An invalid table raises `UserFacingError` with a Vietnamese message
  naming the offending entry, before any of it is used.
- A lookup `x(on)` returns the value of the last row whose `effective_from` ≤ `on`. A date before
  the first row raises `UserFacingError` (the table does not cover it), never a guess.
- `RateTable.from_dict(t.to_dict()) == t`.

Schema (version 1), top level: `schema` (1), `version`, `published_at` (ISO date), `source` and
`notes` (lists of text), then effective-dated lists of rows
`{"effective_from": "YYYY-MM-DD", "value": ..., "note": optional text}`:
`rural_poverty_line`, `base_salary` (lương cơ sở), `reference_level` (mức tham chiếu; value `null`
means "equal to lương cơ sở in force on that date"), `bhxh_tn.{rate_bp, support_percent (by
category), support_lifetime_months, max_income_multiplier, income_step, methods, lump_sum_months
({min, max}), and optionally lump_sum_step_months (a lump sum is a whole number of these),
deadline_months ({method: n} — a fixed-method payment is due within the first n months of its
period) and back_payment_allowed (bool: may a counter take a period already past)}`,
`bhyt_hgd.{rate_bp, member_percent (ladder; the last value applies to all later
members), periods_months}`; `fund_monthly_return` rows `{"year", "monthly_rate": "0.0045",
"placeholder": optional bool, "note"}`; `province_support` rows `{"province", "effective_from",
"value": {category: percent}, "note"}` (may be empty).

The three optional `bhxh_tn` lists came with the period rules (docs/RULES.md). A table without
them (one published before) borrows those rows from the shipped default table, so the rules stay
data even then.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from importlib import resources
from typing import Any, Generic, NoReturn, TypeVar

from app.domain.types import PaymentMethod, SupportCategory
from app.errors import UserFacingError

SCHEMA = 1
DEFAULT_TABLE_PACKAGE = "resources"
DEFAULT_TABLE_PATH = ("rates", "default.json")  # resources/rates is a plain folder

T = TypeVar("T")
U = TypeVar("U")

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DECIMAL = re.compile(r"^\d+(\.\d+)?$")


# ---------------------------------------------------------------------------------------------
# Value types


@dataclass(frozen=True)
class Dated(Generic[T]):
    """One row of an effective-dated list: `value` applies from `effective_from` (inclusive)."""

    effective_from: date
    value: T
    note: str | None = None


@dataclass(frozen=True)
class SupportPercents:
    """State (or provincial) support, whole percent, by category."""

    poor: int
    near_poor: int
    ethnic_minority: int
    other: int

    def of(self, category: SupportCategory) -> int:
        value: int = getattr(self, category.value)
        return value

    def to_dict(self) -> dict[str, int]:
        return {c.value: self.of(c) for c in SupportCategory}


@dataclass(frozen=True)
class FundReturn:
    """The fund's average monthly investment return for one year (used to discount lump sums).

    `text` is the decimal string as published; `monthly_rate` is its exact value.
    """

    year: int
    text: str
    placeholder: bool = False
    note: str | None = None

    @property
    def monthly_rate(self) -> Fraction:
        return Fraction(self.text)


@dataclass(frozen=True)
class ProvinceSupport:
    """A province's own top-up support, from `effective_from` until the province's next row."""

    province: str
    effective_from: date
    percents: SupportPercents
    note: str | None = None


# ---------------------------------------------------------------------------------------------
# Validation helpers: each raises UserFacingError naming the JSON path of the bad entry.


def _fail(path: str, rule_vi: str, rule_en: str) -> NoReturn:
    raise UserFacingError(
        f"Bảng mức đóng không hợp lệ: mục «{path}» {rule_vi}.",
        message_en=f"Invalid rate table: {path} {rule_en}.",
    )


def _obj(
    raw: object, path: str, required: Sequence[str], optional: Sequence[str] = ()
) -> dict[str, Any]:
    if not isinstance(raw, dict):
        _fail(path, "phải là một đối tượng JSON", "must be a JSON object")
    for key in required:
        if key not in raw:
            _fail(f"{path}.{key}" if path else key, "bị thiếu", "is missing")
    allowed = set(required) | set(optional)
    for key in raw:
        if key not in allowed:
            _fail(f"{path}.{key}" if path else str(key), "không được hỗ trợ", "is not supported")
    return raw


def _int(raw: object, path: str, lo: int, hi: int | None = None) -> int:
    # bool is an int subclass; a JSON true must not pass for 1.
    if type(raw) is not int:
        _fail(path, "phải là số nguyên", "must be an integer")
    if raw < lo or (hi is not None and raw > hi):
        bound_vi = f"từ {lo}" + (f" đến {hi}" if hi is not None else " trở lên")
        bound_en = f">= {lo}" + (f" and <= {hi}" if hi is not None else "")
        _fail(path, f"phải {bound_vi}", f"must be {bound_en}")
    return raw


def _money(raw: object, path: str) -> int:
    if type(raw) is not int or raw <= 0:
        _fail(path, "phải là số nguyên dương (đồng)", "must be a positive integer (đồng)")
    return raw


def _text(raw: object, path: str) -> str:
    if not isinstance(raw, str) or not raw.strip():
        _fail(path, "phải là chuỗi ký tự không rỗng", "must be a non-empty string")
    return raw


def _opt_text(row: Mapping[str, Any], path: str) -> str | None:
    return _text(row["note"], f"{path}.note") if "note" in row else None


def _texts(raw: object, path: str) -> tuple[str, ...]:
    if not isinstance(raw, list):
        _fail(path, "phải là danh sách chuỗi ký tự", "must be a list of strings")
    return tuple(_text(x, f"{path}[{i}]") for i, x in enumerate(raw))


def _iso_date(raw: object, path: str) -> date:
    if not isinstance(raw, str) or not _ISO_DATE.match(raw):
        _fail(path, "phải là ngày dạng YYYY-MM-DD", "must be a date YYYY-MM-DD")
    try:
        return date.fromisoformat(raw)
    except ValueError:
        _fail(path, "không phải ngày có thật", "is not a real date")


def _list(raw: object, path: str, *, non_empty: bool = True) -> list[Any]:
    if not isinstance(raw, list):
        _fail(path, "phải là danh sách", "must be a list")
    if non_empty and not raw:
        _fail(path, "phải có ít nhất một dòng", "must have at least one row")
    return raw


def _series(raw: object, path: str, parse: Callable[[object, str], T]) -> tuple[Dated[T], ...]:
    rows: list[Dated[T]] = []
    for i, raw_row in enumerate(_list(raw, path)):
        p = f"{path}[{i}]"
        row = _obj(raw_row, p, ("effective_from", "value"), ("note",))
        when = _iso_date(row["effective_from"], f"{p}.effective_from")
        if rows and when <= rows[-1].effective_from:
            _fail(
                f"{p}.effective_from",
                "phải sau ngày hiệu lực của dòng trước (ngày hiệu lực phải tăng dần)",
                "must be after the previous row's (effective dates must ascend)",
            )
        rows.append(Dated(when, parse(row["value"], f"{p}.value"), _opt_text(row, p)))
    return tuple(rows)


def _percents(raw: object, path: str) -> SupportPercents:
    row = _obj(raw, path, [c.value for c in SupportCategory])
    return SupportPercents(
        **{c.value: _int(row[c.value], f"{path}.{c.value}", 0, 100) for c in SupportCategory}
    )


def _reference(raw: object, path: str) -> int | None:
    return None if raw is None else _money(raw, path)


def _methods(raw: object, path: str) -> tuple[PaymentMethod, ...]:
    out: list[PaymentMethod] = []
    for i, x in enumerate(_list(raw, path)):
        try:
            method = PaymentMethod(x)
        except ValueError:
            allowed = ", ".join(m.value for m in PaymentMethod)
            _fail(f"{path}[{i}]", f"phải là một trong: {allowed}", f"must be one of: {allowed}")
        if method in out:
            _fail(f"{path}[{i}]", "bị lặp", "is repeated")
        out.append(method)
    return tuple(out)


def _lump_months(raw: object, path: str) -> tuple[int, int]:
    row = _obj(raw, path, ("min", "max"))
    lo = _int(row["min"], f"{path}.min", 1)
    hi = _int(row["max"], f"{path}.max", lo)
    return lo, hi


def _ladder(raw: object, path: str) -> tuple[int, ...]:
    values = tuple(_int(x, f"{path}[{i}]", 1, 100) for i, x in enumerate(_list(raw, path)))
    if values[0] != 100:
        _fail(
            f"{path}[0]",
            "phải là 100 (người thứ nhất đóng đủ)",
            "must be 100 (first member pays in full)",
        )
    return values


_FIXED_METHODS = (
    PaymentMethod.MONTHLY,
    PaymentMethod.QUARTERLY,
    PaymentMethod.HALF_YEAR,
    PaymentMethod.YEARLY,
)


def _deadlines(raw: object, path: str) -> tuple[tuple[PaymentMethod, int], ...]:
    row = _obj(raw, path, [m.value for m in _FIXED_METHODS])
    return tuple(
        (m, _int(row[m.value], f"{path}.{m.value}", 1, int(m.value))) for m in _FIXED_METHODS
    )


def _bool(raw: object, path: str) -> bool:
    if not isinstance(raw, bool):
        _fail(path, "phải là true hoặc false", "must be true or false")
    return raw


def _periods(raw: object, path: str) -> tuple[int, ...]:
    values = tuple(_int(x, f"{path}[{i}]", 1, 120) for i, x in enumerate(_list(raw, path)))
    if list(values) != sorted(set(values)):
        _fail(path, "phải tăng dần và không lặp", "must ascend without repeats")
    return values


def _fund_returns(raw: object, path: str) -> tuple[FundReturn, ...]:
    rows: list[FundReturn] = []
    for i, raw_row in enumerate(_list(raw, path)):
        p = f"{path}[{i}]"
        row = _obj(raw_row, p, ("year", "monthly_rate"), ("placeholder", "note"))
        year = _int(row["year"], f"{p}.year", 2000, 2200)
        if rows and year <= rows[-1].year:
            _fail(f"{p}.year", "phải tăng dần và không lặp", "must ascend without repeats")
        text = row["monthly_rate"]
        if not isinstance(text, str) or not _DECIMAL.match(text):
            _fail(
                f"{p}.monthly_rate",
                'phải là số thập phân viết dạng chuỗi, ví dụ "0.0045"',
                'must be a decimal written as a string, e.g. "0.0045"',
            )
        if Fraction(text) >= 1:
            _fail(f"{p}.monthly_rate", "phải nhỏ hơn 1", "must be less than 1")
        placeholder = row.get("placeholder", False)
        if not isinstance(placeholder, bool):
            _fail(f"{p}.placeholder", "phải là true hoặc false", "must be true or false")
        rows.append(FundReturn(year, text, placeholder, _opt_text(row, p)))
    return tuple(rows)


def _province_rows(raw: object, path: str) -> tuple[ProvinceSupport, ...]:
    rows: list[ProvinceSupport] = []
    for i, raw_row in enumerate(_list(raw, path, non_empty=False)):
        p = f"{path}[{i}]"
        row = _obj(raw_row, p, ("province", "effective_from", "value"), ("note",))
        province = _text(row["province"], f"{p}.province")
        when = _iso_date(row["effective_from"], f"{p}.effective_from")
        previous = [r for r in rows if r.province == province]
        if previous and when <= previous[-1].effective_from:
            _fail(
                f"{p}.effective_from",
                "phải sau dòng trước của cùng tỉnh (ngày hiệu lực phải tăng dần)",
                "must be after the same province's previous row",
            )
        rows.append(
            ProvinceSupport(
                province, when, _percents(row["value"], f"{p}.value"), _opt_text(row, p)
            )
        )
    return tuple(rows)


def _series_dict(rows: Sequence[Dated[T]], dump: Callable[[T], object]) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for r in rows:
        d: dict[str, object] = {
            "effective_from": r.effective_from.isoformat(),
            "value": dump(r.value),
        }
        if r.note is not None:
            d["note"] = r.note
        out.append(d)
    return out


def _reject_constant(name: str) -> NoReturn:
    # NaN / Infinity are not JSON; Python's json accepts them unless told otherwise.
    raise ValueError(f"{name} is not allowed")


def _same(x: T) -> T:
    return x


# ---------------------------------------------------------------------------------------------
# The table


@dataclass(frozen=True)
class RateTable:
    """A validated rate table. Build it with `from_dict`/`from_json`/`load_default_rate_table`."""

    version: str
    published_at: date
    source: tuple[str, ...]
    notes: tuple[str, ...]
    rural_poverty_line: tuple[Dated[int], ...]
    base_salary_rows: tuple[Dated[int], ...]
    reference_level_rows: tuple[Dated[int | None], ...]
    bhxh_rate_bp_rows: tuple[Dated[int], ...]
    support_percent_rows: tuple[Dated[SupportPercents], ...]
    support_lifetime_months_rows: tuple[Dated[int], ...]
    max_income_multiplier_rows: tuple[Dated[int], ...]
    income_step_rows: tuple[Dated[int], ...]
    bhxh_methods_rows: tuple[Dated[tuple[PaymentMethod, ...]], ...]
    lump_sum_months_rows: tuple[Dated[tuple[int, int]], ...]
    bhyt_rate_bp_rows: tuple[Dated[int], ...]
    bhyt_member_percent_rows: tuple[Dated[tuple[int, ...]], ...]
    bhyt_periods_rows: tuple[Dated[tuple[int, ...]], ...]
    fund_returns: tuple[FundReturn, ...]
    province_support: tuple[ProvinceSupport, ...] = ()
    # Optional lists (empty: borrowed from the shipped default table, see the module docstring).
    lump_sum_step_rows: tuple[Dated[int], ...] = ()
    deadline_rows: tuple[Dated[tuple[tuple[PaymentMethod, int], ...]], ...] = ()
    back_payment_rows: tuple[Dated[bool], ...] = ()

    # -- construction --------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> RateTable:
        """Validate and build; raises `UserFacingError` (Vietnamese) if anything is wrong."""
        top = _obj(
            dict(d) if isinstance(d, Mapping) else d,
            "",
            (
                "schema",
                "version",
                "published_at",
                "source",
                "rural_poverty_line",
                "base_salary",
                "reference_level",
                "bhxh_tn",
                "bhyt_hgd",
                "fund_monthly_return",
            ),
            ("notes", "province_support"),
        )
        if type(top["schema"]) is not int or top["schema"] != SCHEMA:
            schema = top["schema"]
            raise UserFacingError(
                f"Bảng mức đóng dùng cấu trúc phiên bản {schema!r}, phần mềm này chỉ đọc được "
                f"phiên bản {SCHEMA}. Hãy cập nhật phần mềm.",
                message_en=f"Rate table schema {schema!r} is not supported (expected {SCHEMA}).",
            )
        version = _text(top["version"], "version")
        if len(version) > 64 or any(ch.isspace() for ch in version):
            _fail(
                "version",
                "phải ngắn (≤ 64 ký tự) và không có khoảng trắng",
                "must be short, no spaces",
            )
        bhxh = _obj(
            top["bhxh_tn"],
            "bhxh_tn",
            (
                "rate_bp",
                "support_percent",
                "support_lifetime_months",
                "max_income_multiplier",
                "income_step",
                "methods",
                "lump_sum_months",
            ),
            ("lump_sum_step_months", "deadline_months", "back_payment_allowed"),
        )
        bhyt = _obj(top["bhyt_hgd"], "bhyt_hgd", ("rate_bp", "member_percent", "periods_months"))

        def bp(raw: object, path: str) -> int:
            return _int(raw, path, 1, 10_000)

        def positive(raw: object, path: str) -> int:
            return _int(raw, path, 1)

        table = cls(
            version=version,
            published_at=_iso_date(top["published_at"], "published_at"),
            source=_texts(top["source"], "source"),
            notes=_texts(top.get("notes", []), "notes"),
            rural_poverty_line=_series(top["rural_poverty_line"], "rural_poverty_line", _money),
            base_salary_rows=_series(top["base_salary"], "base_salary", _money),
            reference_level_rows=_series(top["reference_level"], "reference_level", _reference),
            bhxh_rate_bp_rows=_series(bhxh["rate_bp"], "bhxh_tn.rate_bp", bp),
            support_percent_rows=_series(
                bhxh["support_percent"], "bhxh_tn.support_percent", _percents
            ),
            support_lifetime_months_rows=_series(
                bhxh["support_lifetime_months"], "bhxh_tn.support_lifetime_months", positive
            ),
            max_income_multiplier_rows=_series(
                bhxh["max_income_multiplier"], "bhxh_tn.max_income_multiplier", positive
            ),
            income_step_rows=_series(bhxh["income_step"], "bhxh_tn.income_step", _money),
            bhxh_methods_rows=_series(bhxh["methods"], "bhxh_tn.methods", _methods),
            lump_sum_months_rows=_series(
                bhxh["lump_sum_months"], "bhxh_tn.lump_sum_months", _lump_months
            ),
            bhyt_rate_bp_rows=_series(bhyt["rate_bp"], "bhyt_hgd.rate_bp", bp),
            bhyt_member_percent_rows=_series(
                bhyt["member_percent"], "bhyt_hgd.member_percent", _ladder
            ),
            bhyt_periods_rows=_series(bhyt["periods_months"], "bhyt_hgd.periods_months", _periods),
            fund_returns=_fund_returns(top["fund_monthly_return"], "fund_monthly_return"),
            province_support=_province_rows(top.get("province_support", []), "province_support"),
            lump_sum_step_rows=_series(
                bhxh["lump_sum_step_months"], "bhxh_tn.lump_sum_step_months", positive
            )
            if "lump_sum_step_months" in bhxh
            else (),
            deadline_rows=_series(bhxh["deadline_months"], "bhxh_tn.deadline_months", _deadlines)
            if "deadline_months" in bhxh
            else (),
            back_payment_rows=_series(
                bhxh["back_payment_allowed"], "bhxh_tn.back_payment_allowed", _bool
            )
            if "back_payment_allowed" in bhxh
            else (),
        )
        table._check_income_bounds()
        return table

    @classmethod
    def from_json(cls, text: str | bytes) -> RateTable:
        """Parse JSON text and validate. Numbers with a fraction part are rejected, not floated."""
        try:
            raw = json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)
        except (ValueError, UnicodeDecodeError) as exc:
            raise UserFacingError(
                "Bảng mức đóng không đọc được (không phải JSON hợp lệ).",
                message_en=f"Rate table is not valid JSON: {exc}",
            ) from exc
        if not isinstance(raw, dict):
            _fail("(gốc)", "phải là một đối tượng JSON", "must be a JSON object")
        return cls.from_dict(raw)

    def to_dict(self) -> dict[str, object]:
        """The JSON-ready form; `from_dict(to_dict())` gives an equal table."""

        def fund(r: FundReturn) -> dict[str, object]:
            d: dict[str, object] = {"year": r.year, "monthly_rate": r.text}
            if r.placeholder:
                d["placeholder"] = True
            if r.note is not None:
                d["note"] = r.note
            return d

        def province(r: ProvinceSupport) -> dict[str, object]:
            d: dict[str, object] = {
                "province": r.province,
                "effective_from": r.effective_from.isoformat(),
                "value": r.percents.to_dict(),
            }
            if r.note is not None:
                d["note"] = r.note
            return d

        bhxh: dict[str, object] = {
            "rate_bp": _series_dict(self.bhxh_rate_bp_rows, _same),
            "support_percent": _series_dict(self.support_percent_rows, SupportPercents.to_dict),
            "support_lifetime_months": _series_dict(self.support_lifetime_months_rows, _same),
            "max_income_multiplier": _series_dict(self.max_income_multiplier_rows, _same),
            "income_step": _series_dict(self.income_step_rows, _same),
            "methods": _series_dict(self.bhxh_methods_rows, lambda ms: [m.value for m in ms]),
            "lump_sum_months": _series_dict(
                self.lump_sum_months_rows, lambda mm: {"min": mm[0], "max": mm[1]}
            ),
        }
        if self.lump_sum_step_rows:
            bhxh["lump_sum_step_months"] = _series_dict(self.lump_sum_step_rows, _same)
        if self.deadline_rows:
            bhxh["deadline_months"] = _series_dict(
                self.deadline_rows, lambda pairs: {m.value: n for m, n in pairs}
            )
        if self.back_payment_rows:
            bhxh["back_payment_allowed"] = _series_dict(self.back_payment_rows, _same)
        return {
            "schema": SCHEMA,
            "version": self.version,
            "published_at": self.published_at.isoformat(),
            "source": list(self.source),
            "notes": list(self.notes),
            "rural_poverty_line": _series_dict(self.rural_poverty_line, _same),
            "base_salary": _series_dict(self.base_salary_rows, _same),
            "reference_level": _series_dict(self.reference_level_rows, _same),
            "bhxh_tn": bhxh,
            "bhyt_hgd": {
                "rate_bp": _series_dict(self.bhyt_rate_bp_rows, _same),
                "member_percent": _series_dict(self.bhyt_member_percent_rows, list),
                "periods_months": _series_dict(self.bhyt_periods_rows, list),
            },
            "fund_monthly_return": [fund(r) for r in self.fund_returns],
            "province_support": [province(r) for r in self.province_support],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2) + "\n"

    def _check_income_bounds(self) -> None:
        """Wherever both bounds are defined, the minimum income must not exceed the maximum."""
        dates = {
            r.effective_from
            for rows in (
                self.rural_poverty_line,
                self.base_salary_rows,
                self.reference_level_rows,
                self.max_income_multiplier_rows,
            )
            for r in rows
        }
        for on in sorted(dates):
            try:
                low, high = self.income_bounds(on)
            except UserFacingError:
                continue  # a series does not reach back this far; lookups will say so
            if low > high:
                _fail(
                    "rural_poverty_line",
                    f"lớn hơn mức thu nhập tối đa ({high}) từ ngày {on.isoformat()}",
                    f"exceeds the maximum income ({high}) from {on.isoformat()}",
                )

    # -- lookups ------------------------------------------------------------------------------

    def _at(self, rows: Sequence[Dated[U]], on: date, what_vi: str, what_en: str) -> U:
        i = bisect_right([r.effective_from for r in rows], on)
        if i == 0:
            raise UserFacingError(
                f"Bảng mức đóng (phiên bản {self.version}) không có {what_vi} áp dụng cho ngày "
                f"{on:%d/%m/%Y}.",
                message_en=f"Rate table {self.version} has no {what_en} for {on.isoformat()}.",
            )
        return rows[i - 1].value

    def poverty_line(self, on: date) -> int:
        """Chuẩn hộ nghèo khu vực nông thôn (đồng/tháng) in force on `on`."""
        return self._at(self.rural_poverty_line, on, "chuẩn nghèo nông thôn", "rural poverty line")

    def base_salary(self, on: date) -> int:
        """Lương cơ sở (đồng/tháng) in force on `on`."""
        return self._at(self.base_salary_rows, on, "lương cơ sở", "base salary")

    def reference_level(self, on: date) -> int:
        """Mức tham chiếu; equal to lương cơ sở on the same date while the table says `null`."""
        value = self._at(self.reference_level_rows, on, "mức tham chiếu", "reference level")
        return self.base_salary(on) if value is None else value

    def bhxh_rate_bp(self, on: date) -> int:
        """BHXH tự nguyện contribution rate, basis points of the chosen income (2200 = 22%)."""
        return self._at(self.bhxh_rate_bp_rows, on, "tỷ lệ đóng BHXH tự nguyện", "BHXH rate")

    def support_percent(self, category: SupportCategory, on: date) -> int:
        """State support for `category`, whole percent of (BHXH rate × rural poverty line)."""
        row = self._at(self.support_percent_rows, on, "mức hỗ trợ của Nhà nước", "state support")
        return row.of(category)

    def support_lifetime_months(self, on: date) -> int:
        """How many months of state support one person may receive in a lifetime (120)."""
        return self._at(
            self.support_lifetime_months_rows, on, "số tháng hỗ trợ tối đa", "support month cap"
        )

    def max_income_multiplier(self, on: date) -> int:
        return self._at(
            self.max_income_multiplier_rows, on, "hệ số thu nhập tối đa", "max income multiplier"
        )

    def income_step(self, on: date) -> int:
        """Chosen incomes are multiples of this (đồng)."""
        return self._at(self.income_step_rows, on, "bước mức thu nhập", "income step")

    def income_bounds(self, on: date) -> tuple[int, int]:
        """(minimum, maximum) chosen monthly income for BHXH tự nguyện, both inclusive."""
        return self.poverty_line(on), self.max_income_multiplier(on) * self.reference_level(on)

    def bhxh_methods(self, on: date) -> tuple[PaymentMethod, ...]:
        return self._at(self.bhxh_methods_rows, on, "phương thức đóng", "payment methods")

    def lump_sum_months(self, on: date) -> tuple[int, int]:
        """(fewest, most) months a lump sum for future months may cover, both inclusive."""
        return self._at(self.lump_sum_months_rows, on, "số tháng đóng một lần", "lump-sum months")

    def lump_sum_step(self, on: date) -> int:
        """A lump sum covers a whole number of these months (12: whole years)."""
        rows = self.lump_sum_step_rows or _shipped().lump_sum_step_rows
        return self._at(rows, on, "bước số tháng đóng một lần", "lump-sum step")

    def payment_deadline_months(self, method: PaymentMethod, on: date) -> int:
        """A payment by fixed `method` is due within the first n months of its period.

        Monthly 1 (within the month), 3-monthly 3 (within its 3 months), 6-monthly 4, 12-monthly 7
        in the shipped table. Source (docs/RULES.md R2): Decree 134/2015/NĐ-CP Art. 12(1) and
        VSS Decision 595/QĐ-BHXH Art. 11(1); the summaries of Decree 159/2025/NĐ-CP keep the 4 and
        the 7. Not defined for the lump sum (it pays future months only).
        """
        rows = self.deadline_rows or _shipped().deadline_rows
        pairs = self._at(rows, on, "thời hạn đóng theo phương thức", "payment deadlines")
        return dict(pairs)[method]

    def back_payment_allowed(self, on: date) -> bool:
        """May the counter take payment for a period already past (đóng bù)? Off by default."""
        rows = self.back_payment_rows or _shipped().back_payment_rows
        return self._at(rows, on, "quy định đóng bù", "back-payment switch")

    def bhyt_rate_bp(self, on: date) -> int:
        """BHYT hộ gia đình rate for the first member, basis points of lương cơ sở (450 = 4.5%)."""
        return self._at(self.bhyt_rate_bp_rows, on, "tỷ lệ đóng BHYT", "BHYT rate")

    def bhyt_member_percent(self, member_order: int, on: date) -> int:
        """Percent of the first member's amount paid by member `member_order` (1-based)."""
        ladder = self._at(
            self.bhyt_member_percent_rows, on, "tỷ lệ theo thành viên", "member ladder"
        )
        return ladder[min(member_order, len(ladder)) - 1]

    def bhyt_periods(self, on: date) -> tuple[int, ...]:
        return self._at(self.bhyt_periods_rows, on, "kỳ đóng BHYT", "BHYT periods")

    def fund_return(self, year: int) -> FundReturn:
        """The fund's monthly return row to use for `year`.

        The figure for a year is published some time into the next year, so it is often missing.
        Fallback: the exact year if present; else the newest year before it; else (a year older
        than every row) the oldest row. Callers show `.year` and `.placeholder` so the operator
        sees which figure was used.
        """
        rows = self.fund_returns
        if not rows:
            raise UserFacingError(
                f"Bảng mức đóng (phiên bản {self.version}) không có lãi suất đầu tư của quỹ.",
                message_en=f"Rate table {self.version} has no fund return.",
            )
        earlier = [r for r in rows if r.year <= year]
        return earlier[-1] if earlier else rows[0]

    def monthly_return(self, year: int) -> Fraction:
        """Exact average monthly investment return for `year` (see `fund_return` for fallback)."""
        return self.fund_return(year).monthly_rate

    def province_support_percent(self, province: str, category: SupportCategory, on: date) -> int:
        """A province's own top-up support (whole percent); 0 where the table has none."""
        rows = [
            r for r in self.province_support if r.province == province and r.effective_from <= on
        ]
        return rows[-1].percents.of(category) if rows else 0

    def newest_effective_from(self, as_of: date | None = None) -> date:
        """The newest `effective_from` of any row (on or before `as_of` if given).

        For the "rates may be stale" warning. The shipped table holds rows dated in the future
        (the 2027 poverty line), so callers checking staleness today should pass `as_of=today`.
        """
        dates = [
            r.effective_from
            for rows in (
                self.rural_poverty_line,
                self.base_salary_rows,
                self.reference_level_rows,
                self.bhxh_rate_bp_rows,
                self.support_percent_rows,
                self.support_lifetime_months_rows,
                self.max_income_multiplier_rows,
                self.income_step_rows,
                self.bhxh_methods_rows,
                self.lump_sum_months_rows,
                self.bhyt_rate_bp_rows,
                self.bhyt_member_percent_rows,
                self.bhyt_periods_rows,
            )
            for r in rows
        ]
        dates += [r.effective_from for r in self.province_support]
        if as_of is not None:
            dates = [d for d in dates if d <= as_of]
        if not dates:
            raise UserFacingError(
                f"Bảng mức đóng (phiên bản {self.version}) không có mức nào có hiệu lực trước ngày "
                f"{as_of:%d/%m/%Y}."
                if as_of
                else f"Bảng mức đóng (phiên bản {self.version}) trống.",
                message_en="Rate table has no rows in force.",
            )
        return max(dates)


_SHIPPED: list[RateTable] = []


def _shipped() -> RateTable:
    """The shipped default table, parsed once (lends its rows to tables that lack a list)."""
    if not _SHIPPED:
        _SHIPPED.append(load_default_rate_table())
    return _SHIPPED[0]


def load_default_rate_table() -> RateTable:
    """The table shipped with the app (package data `resources/rates/default.json`)."""
    ref = resources.files(DEFAULT_TABLE_PACKAGE)
    for part in DEFAULT_TABLE_PATH:
        ref = ref.joinpath(part)
    return RateTable.from_json(ref.read_text(encoding="utf-8"))
