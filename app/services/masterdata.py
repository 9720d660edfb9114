"""The names a receipt and Mẫu 01-XN print that are not in the ledger, sealed in the audit trail.

A receipt prints the cashier's full name, a void's supervisor's full name, the organisation, the
collection point and the counter's code; Mẫu 01-XN prints the same. They live in the `operators`
and `counter` tables (master data: a name can change), which no ledger record covers. So every
change of them writes, in the same transaction, a keyed audit entry holding the row's printed and
deciding columns as they now are (docs/LEDGER.md, "Printed names"):

* `operator.state` (subject: the operator's id): `username`, `full_name`, `role`, `active` —
  written when an account is made, its role changes, it is disabled or enabled, or recovered;
* `counter.state` (subject: the counter id): `counter_id`, `counter_code`, `organisation`,
  `collection_point`, `receipt_series` — written at `init` and when the details are edited.

`verify` replays these entries (the newest per row wins) and compares every column with the
table, naming the row and the column. A database written before this rule has no
`counter.state` entry; the first sign-in with the key seals its rows as they are then
(`seal_unsealed`), and from then on every operator row must have its entry.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.services.common import Actor
from app.services.queries import audit, require_counter
from app.storage.models import Counter, Operator

REPRINT = "receipt.reprint"  # written with every counted copy (a `reprints` row)
OPERATOR_STATE = "operator.state"
COUNTER_STATE = "counter.state"
STATE_ACTIONS = frozenset({OPERATOR_STATE, COUNTER_STATE})
OPERATOR_FIELDS = ("username", "full_name", "role", "active")
COUNTER_FIELDS = (
    "counter_id",
    "counter_code",
    "organisation",
    "collection_point",
    "receipt_series",
)


def seal_operator(session: Session, op: Operator, *, actor: Actor | None) -> None:
    """The operator's printed and deciding columns as they are now, as a keyed audit entry."""
    session.flush()  # a new account has its id
    audit(
        session,
        OPERATOR_STATE,
        actor=actor,
        subject=str(op.id),
        **{name: getattr(op, name) for name in OPERATOR_FIELDS},
    )


def seal_counter(session: Session, counter: Counter, *, actor: Actor | None) -> None:
    audit(
        session,
        COUNTER_STATE,
        actor=actor,
        subject=counter.counter_id,
        **{name: getattr(counter, name) for name in COUNTER_FIELDS},
    )


_ANY_COUNTER_STATE = text("SELECT 1 FROM audit_events WHERE action = :action LIMIT 1")


def seal_unsealed(session: Session, *, actor: Actor) -> bool:
    """A database from before this rule (no `counter.state` entry): seal the counter's and every
    operator's printed columns as they are now. Returns whether it did. Only ever once: the
    entries it writes are in the keyed trail, which cannot lose them unnoticed."""
    if session.execute(_ANY_COUNTER_STATE, {"action": COUNTER_STATE}).first() is not None:
        return False
    seal_counter(session, require_counter(session), actor=actor)
    for op in session.scalars(select(Operator).order_by(Operator.id)):
        seal_operator(session, op, actor=actor)
    return True


# --- replaying them (verify) --------------------------------------------------------------------


def sealed_values(details: str) -> dict[str, Any]:
    """An audit entry's details as the object they were sealed as; {} for anything else (an
    entry from before the rule, or text that is not a JSON object — the replay then names
    what is missing)."""
    try:
        values = json.loads(details)
    except ValueError:
        return {}
    return values if isinstance(values, dict) else {}


@dataclass
class SealedStates:
    """The newest sealed state of each operator (by id) and of the counter, with the audit seq
    that sealed it."""

    operators: dict[int, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    counter: tuple[int, dict[str, Any]] | None = None
    # Copies of receipts (the number printed as "BẢN SAO số n"): (payment id, number) → (audit
    # seq, operator id) of every `receipt.reprint` entry for it, unkeyed old ones included.
    reprints: dict[tuple[str, int], list[tuple[int | None, int | None]]] = field(
        default_factory=dict
    )

    def take_reprint(
        self, seq: int | None, subject: str, operator_id: int | None, details: str
    ) -> None:
        number = sealed_values(details).get("number")
        if isinstance(number, int):
            self.reprints.setdefault((subject, number), []).append((seq, operator_id))

    def take(self, seq: int, action: str, subject: str, details: str) -> None:
        values = sealed_values(details)
        if action == COUNTER_STATE:
            self.counter = (seq, values)
        elif subject.isdigit():
            self.operators[int(subject)] = (seq, values)


@dataclass(frozen=True)
class Difference:
    """One printed column whose table value is not what the audit trail sealed."""

    kind: str  # operator_/counter_/reprint_ + mismatch, unsealed, missing
    table: str
    row: int | str | None  # the row's id (a household's, a member's: the participant's)
    column: str | None
    got: Any = None
    want: Any = None
    audit_seq: int | None = None
    label: str = ""


def _differ(got: object, want: object) -> bool:
    # `active` is stored as 0/1 and sealed as false/true: 1 == True, but 2 or "1" is an edit.
    if isinstance(want, bool):
        return type(got) is not int or got != int(want)
    return got != want


def compare_states(
    states: SealedStates,
    counter_row: Mapping[Any, Any] | None,
    operator_rows: Sequence[Mapping[Any, Any]],
) -> list[Difference]:
    """The tables (raw stored values) against the sealed states. Nothing sealed yet (a database
    from before the rule, until its first sign-in with the key): nothing to compare."""
    if states.counter is None:
        return []
    out: list[Difference] = []
    seq, want = states.counter
    if counter_row is not None:
        for column in COUNTER_FIELDS:
            if _differ(counter_row[column], want.get(column)):
                out.append(
                    Difference(
                        "counter_mismatch",
                        "counter",
                        1,
                        column,
                        counter_row[column],
                        want.get(column),
                        seq,
                    )
                )
    seen: set[int] = set()
    for row in operator_rows:
        op_id = row["id"]
        seen.add(op_id)
        label = str(row["username"])
        sealed = states.operators.get(op_id)
        if sealed is None:
            out.append(Difference("operator_unsealed", "operators", op_id, None, label=label))
            continue
        seq, want = sealed
        label = str(want.get("username", label))
        for column in OPERATOR_FIELDS:
            if _differ(row[column], want.get(column)):
                out.append(
                    Difference(
                        "operator_mismatch",
                        "operators",
                        op_id,
                        column,
                        row[column],
                        want.get(column),
                        seq,
                        label,
                    )
                )
    for op_id in sorted(set(states.operators) - seen):
        seq, want = states.operators[op_id]
        out.append(
            Difference(
                "operator_missing",
                "operators",
                op_id,
                None,
                audit_seq=seq,
                label=str(want.get("username", "")),
            )
        )
    return out


def compare_reprints(
    states: SealedStates, rows: Sequence[Mapping[Any, Any]], receipts: Mapping[str, int]
) -> list[Difference]:
    """The `reprints` rows (the copy numbers receipts print) against the audit entries written
    with them. `receipts`: payment id → receipt number, to name the receipt."""
    out: list[Difference] = []
    seen: set[tuple[str, int]] = set()
    for row in rows:
        key = (row["payment_id"], row["number"])
        seen.add(key)
        label = f"biên lai số {receipts.get(key[0], '?')}, bản sao số {key[1]}"
        entries = states.reprints.get(key, [])
        sealed = entries[-1] if entries else None
        if sealed is None:
            out.append(Difference("reprint_unsealed", "reprints", row["id"], None, label=label))
        elif len(entries) > 1:
            # The number was printed twice: its row was deleted and the copy issued again.
            out.append(
                Difference(
                    "reprint_duplicate",
                    "reprints",
                    row["id"],
                    None,
                    audit_seq=sealed[0],
                    label=label,
                )
            )
        elif sealed[1] != row["operator_id"]:
            out.append(
                Difference(
                    "reprint_mismatch",
                    "reprints",
                    row["id"],
                    "operator_id",
                    row["operator_id"],
                    sealed[1],
                    sealed[0],
                    label,
                )
            )
    for key in sorted(set(states.reprints) - seen):
        out.append(
            Difference(
                "reprint_missing",
                "reprints",
                None,
                None,
                audit_seq=states.reprints[key][-1][0],
                label=f"biên lai số {receipts.get(key[0], '?')}, bản sao số {key[1]}",
            )
        )
    return out
