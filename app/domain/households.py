"""BHYT hộ gia đình member order: who is the 1st, 2nd, … member for the reduced rates.

Rule (Decree 188/2025/NĐ-CP as summarised in docs/RULES.md R5): the first member pays the full
household rate, the 2nd, 3rd, 4th 70 / 60 / 50 % of it and the 5th and later 40 % — counted
among the members of one household who join (pay) in the same fiscal year. Vietnam's fiscal year
is the calendar year. So the order is never typed: it is the payer's place among the household's
members by their first BHYT payment of that year; someone who has not paid yet this year comes
after everyone who has. A person who paid already this year keeps the place they had.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime


def fiscal_year(day: date) -> int:
    """Vietnam's fiscal year (năm tài chính) is the calendar year."""
    return day.year


def member_order(participant_id: str, first_paid_this_year: Mapping[str, datetime]) -> int:
    """1-based place of `participant_id` among members by first payment in the fiscal year.

    `first_paid_this_year` maps each current household member who has a (non-voided) BHYT
    payment in the fiscal year to the instant of their first one.
    """
    if participant_id in first_paid_this_year:
        mine = first_paid_this_year[participant_id]
        return 1 + sum(
            1
            for other, at in first_paid_this_year.items()
            if other != participant_id and (at, other) < (mine, participant_id)
        )
    return 1 + len(first_paid_this_year)
