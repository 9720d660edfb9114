"""Mã xác nhận (confirmation code): a keyed MAC of the canonical payment record.

Why a MAC and not a random number: whoever holds the counter's key (the counter, and the central
system once the key is registered at enrolment) can recompute the code from the record and so
detect a record changed after the fact, or a code invented for a payment that was never
recorded. Without the key a code cannot be guessed from the record.

Format: HMAC-SHA256(key, canonical_bytes(record)), first 55 bits, written as 11 Crockford base32
symbols plus one Crockford mod-37 check symbol, grouped 4-4-4 for reading aloud:
`7KQ2-9XMD-4TR6`. 55 bits ≥ the 50 the brief asks for; the check symbol catches a single
mistyped symbol and most adjacent transpositions when a payer reads a code back.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from app.domain.canonical import CanonicalValue, canonical_bytes

CODE_BITS = 55
CROCKFORD_SYMBOLS = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
"""Crockford base32: digits and upper-case letters without I, L, O, U (the one copy)."""
# Crockford's check symbols for values 32..36
_CHECK_SYMBOLS = CROCKFORD_SYMBOLS + "*~$=U"
_BODY_LEN = CODE_BITS // 5
# Crockford decoding is forgiving: O→0, I/L→1; hyphens and spaces are ignored.
_ALIASES = {"O": "0", "I": "1", "L": "1"}


def encode_crockford(value: int, length: int) -> str:
    """The low `5 × length` bits of `value` as `length` Crockford symbols, high bits first."""
    out = []
    for _ in range(length):
        out.append(CROCKFORD_SYMBOLS[value & 31])
        value >>= 5
    return "".join(reversed(out))


def group_symbols(compact: str, size: int = 4) -> str:
    """Hyphen every `size` symbols for reading aloud: 7KQ29XMD4TR6 → 7KQ2-9XMD-4TR6."""
    return "-".join(compact[i : i + size] for i in range(0, len(compact), size))


def _decode(body: str) -> int:
    value = 0
    for ch in body:
        value = (value << 5) | CROCKFORD_SYMBOLS.index(ch)
    return value


def check_symbol(value: int) -> str:
    return _CHECK_SYMBOLS[value % 37]


def compute_code(key: bytes, record: Mapping[str, CanonicalValue]) -> str:
    """The compact code (12 symbols, no separators) for a canonical record under `key`."""
    if len(key) < 16:
        raise ValueError("signing key too short")
    digest = hmac.new(key, canonical_bytes(record), hashlib.sha256).digest()
    value = int.from_bytes(digest[:8], "big") >> (64 - CODE_BITS)
    return encode_crockford(value, _BODY_LEN) + check_symbol(value)


def normalise_code(text: str) -> str:
    """Upper-case, drop separators, apply Crockford aliases. Raises ValueError if malformed."""
    cleaned = "".join(_ALIASES.get(c, c) for c in text.upper() if c not in "- ")
    if len(cleaned) != _BODY_LEN + 1:
        raise ValueError(f"a confirmation code has {_BODY_LEN + 1} symbols")
    body, check = cleaned[:-1], cleaned[-1]
    if any(c not in CROCKFORD_SYMBOLS for c in body) or check not in _CHECK_SYMBOLS:
        raise ValueError("a confirmation code uses only Crockford base32 symbols")
    if check_symbol(_decode(body)) != check:
        raise ValueError("the check symbol does not match: a symbol was misread")
    return cleaned


def format_code(code: str) -> str:
    """Group for reading aloud: 7KQ29XMD4TR6 → 7KQ2-9XMD-4TR6."""
    return group_symbols(normalise_code(code))


def verify_code(key: bytes, record: Mapping[str, CanonicalValue], code: str) -> bool:
    try:
        given = normalise_code(code)
    except ValueError:
        return False
    return hmac.compare_digest(given, compute_code(key, record))
