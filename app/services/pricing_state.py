"""The bookkeeping that prices later payments, sealed in the audit trail: households and central's
paid periods.

No ledger record covers them, yet they decide what a later payment costs or allows: the
`households` / `household_members` rows give a BHYT payment its member order (100/70/60/50/40 %,
docs/RULES.md R5), and `central_paid_periods` feeds the rule that a month is not paid twice
(R1). So, as with the printed names (`app.services.masterdata`), every change the program makes
writes, in the same transaction, a keyed audit entry holding the resulting state
(docs/LEDGER.md, "Households and central's paid periods"):

* `household.state` (subject: the household's id): the `households` row's columns and its
  members (`participant_id` → `relation`, `joined_at`) as stored — written when a household is
  made and, for both households, when a member is added or moved (`seal_household`; any new
  writer of these tables calls it too);
* `central.paid_periods` (no subject): `periods`, participant id → the `[scheme, period_from,
  period_to]` central's periods stored for them — written by every store of central's answer,
  for each participant whose set changed (an empty list: none left).

`verify` replays them (the newest per household / participant wins) and compares every column,
naming the table, the row and the column. A database from before this rule has no
`pricing.sealed` entry: the first sign-in with the key seals every household and every stored
period as they are then (`seal_unsealed_pricing`); a new counter writes the entry at `init`.
Until then these tables are not judged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from app.services.common import Actor
from app.services.masterdata import Difference, sealed_values
from app.services.queries import audit

HOUSEHOLD_STATE = "household.state"
PAID_PERIODS = "central.paid_periods"
SEALED_MARK = "pricing.sealed"
PRICING_ACTIONS = frozenset({HOUSEHOLD_STATE, PAID_PERIODS, SEALED_MARK})
HOUSEHOLD_COLUMNS = ("head_participant_id", "address", "created_at", "updated_at")
MEMBER_COLUMNS = ("household_id", "relation", "joined_at")
PERIOD_COLUMNS = ("participant_id", "scheme", "period_from", "period_to")

# Raw stored values (no type conversion), so the sealed text is what the next read compares.
HOUSEHOLD_ROWS = f"SELECT id, {', '.join(HOUSEHOLD_COLUMNS)} FROM households"
MEMBER_ROWS = f"SELECT participant_id, {', '.join(MEMBER_COLUMNS)} FROM household_members"
PERIOD_ROWS = f"SELECT id, {', '.join(PERIOD_COLUMNS)} FROM central_paid_periods"
_ONE_HOUSEHOLD = text(HOUSEHOLD_ROWS + " WHERE id = :id")
_ITS_MEMBERS = text(MEMBER_ROWS + " WHERE household_id = :id ORDER BY participant_id")
_PERIODS_OF = text(PERIOD_ROWS + " WHERE participant_id IN :ids ORDER BY id").bindparams(
    bindparam("ids", expanding=True)
)
_ANY_MARK = text("SELECT 1 FROM audit_events WHERE action = :action LIMIT 1")


def household_state(session: Session, household_id: str) -> dict[str, Any] | None:
    """The household's row and members as stored now (None: no such row)."""
    row = session.execute(_ONE_HOUSEHOLD, {"id": household_id}).first()
    if row is None:
        return None
    state: dict[str, Any] = {c: row._mapping[c] for c in HOUSEHOLD_COLUMNS}
    state["members"] = {
        m.participant_id: {"relation": m.relation, "joined_at": m.joined_at}
        for m in session.execute(_ITS_MEMBERS, {"id": household_id})
    }
    return state


def seal_household(session: Session, household_id: str, *, actor: Actor | None) -> None:
    """A `household.state` entry with the household as the open transaction leaves it."""
    session.flush()
    state = household_state(session, household_id)
    if state is not None:
        audit(session, HOUSEHOLD_STATE, actor=actor, subject=household_id, **state)


def period_sets(session: Session, participant_ids: Iterable[str]) -> dict[str, list[list[str]]]:
    """Central's periods stored for each participant (an empty list: none), as sealed."""
    wanted = sorted(set(participant_ids))
    out: dict[str, list[list[str]]] = {pid: [] for pid in wanted}
    session.flush()
    for i in range(0, len(wanted), 500):
        for row in session.execute(_PERIODS_OF, {"ids": wanted[i : i + 500]}):
            out[row.participant_id].append([row.scheme, row.period_from, row.period_to])
    for periods in out.values():
        periods.sort()
    return out


def seal_unsealed_pricing(session: Session, *, actor: Actor | None) -> bool:
    """A database from before this rule (no `pricing.sealed` entry): seal every household and
    every stored period as they are now, then the mark. Returns whether it did. Only once."""
    if session.execute(_ANY_MARK, {"action": SEALED_MARK}).first() is not None:
        return False
    households = [r[0] for r in session.execute(text("SELECT id FROM households ORDER BY id"))]
    for household_id in households:
        seal_household(session, household_id, actor=actor)
    holders = [
        r[0]
        for r in session.execute(text("SELECT DISTINCT participant_id FROM central_paid_periods"))
    ]
    if holders:
        audit(session, PAID_PERIODS, actor=actor, periods=period_sets(session, holders))
    audit(session, SEALED_MARK, actor=actor, households=len(households), participants=len(holders))
    return True


# --- replaying them (verify) --------------------------------------------------------------------

Period = tuple[str, str, str]  # scheme, period_from, period_to (stored text)


@dataclass
class PricingStates:
    """The newest sealed state of each household and of each participant's central periods, with
    the audit seq that sealed it; `marked`: the tables are sealed (else not judged)."""

    marked: bool = False
    households: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    periods: dict[str, tuple[int, set[Period]]] = field(default_factory=dict)

    def take(self, seq: int, action: str, subject: str, details: str) -> None:
        values = sealed_values(details)
        if action == SEALED_MARK:
            self.marked = True
        elif action == HOUSEHOLD_STATE:
            self.households[subject] = (seq, values)
        else:  # central.paid_periods; entries from before this rule hold no `periods`
            sets = values.get("periods")
            if isinstance(sets, dict):
                for pid, periods in sets.items():
                    self.periods[str(pid)] = (seq, {_period(p) for p in periods or ()})


def _period(value: object) -> Period:
    parts = list(value) if isinstance(value, list) else []
    parts += [""] * 3
    return (str(parts[0]), str(parts[1]), str(parts[2]))


def compare_households(
    states: PricingStates,
    household_rows: Sequence[Mapping[Any, Any]],
    member_rows: Sequence[Mapping[Any, Any]],
) -> list[Difference]:
    """`households` and `household_members` (raw stored values) against the sealed states."""
    if not states.marked:
        return []
    out: list[Difference] = []
    seen: set[str] = set()
    for row in household_rows:
        hid = str(row["id"])
        seen.add(hid)
        sealed = states.households.get(hid)
        if sealed is None:
            out.append(Difference("household_unsealed", "households", hid, None))
            continue
        seq, want = sealed
        for column in HOUSEHOLD_COLUMNS:
            if row[column] != want.get(column):
                out.append(
                    Difference(
                        "household_mismatch",
                        "households",
                        hid,
                        column,
                        row[column],
                        want.get(column),
                        seq,
                    )
                )
    for hid in sorted(set(states.households) - seen):
        out.append(
            Difference(
                "household_missing", "households", hid, None, audit_seq=states.households[hid][0]
            )
        )
    # Each member's sealed place: the newest state of any household that lists them.
    placed: dict[str, tuple[int, str, Mapping[str, Any]]] = {}
    for hid, (seq, state) in states.households.items():
        members = state.get("members")
        for pid, values in (members if isinstance(members, dict) else {}).items():
            if pid not in placed or placed[pid][0] < seq:
                placed[pid] = (seq, hid, values if isinstance(values, dict) else {})
    members_seen: set[str] = set()
    for row in member_rows:
        pid = str(row["participant_id"])
        members_seen.add(pid)
        where = placed.get(pid)
        if where is None:
            out.append(
                Difference(
                    "household_unsealed",
                    "household_members",
                    pid,
                    None,
                    label=str(row["household_id"]),
                )
            )
            continue
        seq, hid, values = where
        want_row = {"household_id": hid, **values}
        for column in MEMBER_COLUMNS:
            if row[column] != want_row.get(column):
                out.append(
                    Difference(
                        "household_mismatch",
                        "household_members",
                        pid,
                        column,
                        row[column],
                        want_row.get(column),
                        seq,
                        hid,
                    )
                )
    for pid in sorted(set(placed) - members_seen):
        seq, hid, _ = placed[pid]
        out.append(
            Difference(
                "household_missing", "household_members", pid, None, audit_seq=seq, label=hid
            )
        )
    return out


def compare_paid_periods(
    states: PricingStates, rows: Sequence[Mapping[Any, Any]]
) -> list[Difference]:
    """`central_paid_periods` (raw stored values) against the sealed sets. A row whose period is
    not sealed, next to a sealed period of the same participant that is gone and differs in one
    column, is that column edited; otherwise it is an inserted row, and a sealed period with no
    row a deleted one."""
    if not states.marked:
        return []
    out: list[Difference] = []
    by_participant: dict[str, list[Mapping[Any, Any]]] = {}
    for row in rows:
        by_participant.setdefault(str(row["participant_id"]), []).append(row)
    for pid in sorted(set(by_participant) | set(states.periods)):
        seq, sealed = states.periods.get(pid, (None, set()))
        stored = by_participant.get(pid, [])
        extra = [r for r in stored if _stored_period(r) not in sealed]
        gone = sorted(sealed - {_stored_period(r) for r in stored})
        for row in extra:
            got = _stored_period(row)
            twin = next((p for p in gone if _one_column_apart(got, p) is not None), None)
            if twin is not None:
                gone.remove(twin)
                i = _one_column_apart(got, twin)
                assert i is not None
                column = PERIOD_COLUMNS[i + 1]
                out.append(
                    Difference(
                        "paid_periods_mismatch",
                        "central_paid_periods",
                        row["id"],
                        column,
                        got[i],
                        twin[i],
                        seq,
                        pid,
                    )
                )
            else:
                out.append(
                    Difference(
                        "paid_periods_unsealed",
                        "central_paid_periods",
                        row["id"],
                        None,
                        audit_seq=seq,
                        label=pid,
                    )
                )
        for period in gone:
            out.append(
                Difference(
                    "paid_periods_missing",
                    "central_paid_periods",
                    None,
                    None,
                    want=list(period),
                    audit_seq=seq,
                    label=pid,
                )
            )
    return out


def _stored_period(row: Mapping[Any, Any]) -> Period:
    return (row["scheme"], row["period_from"], row["period_to"])


def _one_column_apart(a: Period, b: Period) -> int | None:
    apart = [i for i in range(3) if a[i] != b[i]]
    return apart[0] if len(apart) == 1 else None
