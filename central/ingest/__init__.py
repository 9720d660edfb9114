"""Central's ingest of a counter's ledger records, in stages (one transaction per batch):

1. `parse` — each wire object into a frozen `ParsedRecord` (the sealed record plus the columns
   central indexes) or an `Unparsable`;
2. `classify` — a pure verdict per record: duplicate, accepted, or refused with a reason code
   (invalid, conflict, wrong_counter, tampered, fork);
3. `continuity` — pure: gap and chain-break flags for the accepted records;
4. `storage` — reads what central holds before 2, and afterwards inserts the accepted records,
   the flags, the participants, and moves the counter's head.

Guarantees of `ingest`:

* records are stored idempotently by id: the same record again is a `duplicate`; a different
  record under a stored id is refused (`conflict`), flagged, and kept as the flag's evidence —
  the stored one is never overwritten;
* every record's chain hash and confirmation code are recomputed with `app.domain` (the same
  code the counter used) under the key registered at enrolment; a mismatch is refused
  (`tampered`) and flagged with the submission as evidence;
* chain continuity is checked against what central already holds: a record whose predecessor is
  missing is stored anyway (never lose data) and a `gap` flag names the missing numbers; a
  `prev_hash` that is not the predecessor's hash is stored and flagged `chain_break`; a second
  record claiming a taken sequence number is refused (`fork`). A gap flag is resolved when the
  missing records arrive later;
* a first-time participant gets a simulated mã số BHXH (see `central.ingest.storage`).
"""

from central.ingest.pipeline import ingest

__all__ = ["ingest"]
