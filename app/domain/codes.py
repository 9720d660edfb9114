"""Mã xác nhận (confirmation code): a keyed MAC of the canonical payment record.

Why a MAC and not a random number: whoever holds the counter's key (the counter, and the central
system once the key is registered at enrolment) can recompute the code from the record and so
detect a record changed after the fact, or a code invented for a payment that was never
recorded. Without the key a code cannot be guessed from the record.

Format (version 2, issued now): HMAC-SHA256(key, canonical_bytes(record)), first 55 bits,
written as 11 Crockford base32 symbols plus one check symbol from the same 32 symbols, grouped
4-4-4 for reading aloud: `7KQ2-9XMD-4TR6`. Only the 32 Crockford letters and digits appear —
nothing like `*`, `~`, `$`, `=` or `U` to spell out on the phone. The check symbol is Damm's
over GF(32): the quasigroup x∘y = 2·x + y (GF(2⁵) with x⁵ + x² + 1) is totally anti-symmetric,
so the check catches every single mistyped symbol and every swap of two adjacent symbols,
check symbol included (tests/unit/test_codes_v2.py tries them all on sample codes).

Version 1 (issued before): the same 11 body symbols plus Crockford's mod-37 check symbol, which
could be one of `*~$=U`. Codes already issued keep verifying: `normalise_code` and
`verify_code` accept both; a string is read as version 2 when its Damm check holds, else as
version 1 when its mod-37 check holds (`code_version`). One consequence: a single misread in a
version-2 code passes the old check by chance about once in 37 — it is then looked up or
verified against the MAC as an old code and still found wrong, just with a less precise message.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from app.domain.canonical import CanonicalValue, canonical_bytes

CODE_BITS = 55
CODE_FORMAT = 2  # the version `compute_code` issues
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
    """Version 1's check symbol: Crockford mod 37 (may be one of `*~$=U`)."""
    return _CHECK_SYMBOLS[value % 37]


_GF32_MODULUS = 0b100101  # x⁵ + x² + 1, irreducible over GF(2)


def _times_two(x: int) -> int:
    x <<= 1
    return x ^ _GF32_MODULUS if x & 0b100000 else x


# Lookup tables for the check (it runs for every code verified: `verify` over a whole ledger).
_SYMBOL_VALUE = {ch: i for i, ch in enumerate(CROCKFORD_SYMBOLS)}
_DOUBLED = tuple(_times_two(x) for x in range(32))


def _damm_interim(symbols: str) -> int:
    interim = 0
    for ch in symbols:
        interim = _DOUBLED[interim] ^ _SYMBOL_VALUE[ch]  # interim ∘ symbol
    return interim


def damm_symbol(body: str) -> str:
    """Version 2's check symbol: the one that brings Damm's interim over GF(32) back to 0."""
    return CROCKFORD_SYMBOLS[_times_two(_damm_interim(body))]


def code_version(compact: str) -> int | None:
    """2 or 1 for a well-formed compact code whose check holds, else None."""
    if len(compact) != _BODY_LEN + 1 or any(c not in _CHECK_SYMBOLS for c in compact):
        return None
    body, check = compact[:-1], compact[-1]
    if any(c not in CROCKFORD_SYMBOLS for c in body):
        return None
    if check in CROCKFORD_SYMBOLS and _damm_interim(compact) == 0:
        return 2
    if check_symbol(_decode(body)) == check:
        return 1
    return None


def _mac_value(key: bytes, record: Mapping[str, CanonicalValue]) -> int:
    if len(key) < 16:
        raise ValueError("signing key too short")
    digest = hmac.new(key, canonical_bytes(record), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") >> (64 - CODE_BITS)


def compute_code(key: bytes, record: Mapping[str, CanonicalValue], *, version: int = 2) -> str:
    """The compact code (12 symbols, no separators) for a canonical record under `key`."""
    body = encode_crockford(_mac_value(key, record), _BODY_LEN)
    if version == 2:
        return body + damm_symbol(body)
    if version == 1:
        return body + check_symbol(_decode(body))
    raise ValueError(f"unknown confirmation code format {version}")


def normalise_code(text: str) -> str:
    """Upper-case, drop separators, apply Crockford aliases. Raises ValueError if malformed.

    Accepts both formats (see the module docstring)."""
    cleaned = "".join(_ALIASES.get(c, c) for c in text.upper() if c not in "- ")
    if len(cleaned) != _BODY_LEN + 1:
        raise ValueError(f"a confirmation code has {_BODY_LEN + 1} symbols")
    body, check = cleaned[:-1], cleaned[-1]
    if any(c not in CROCKFORD_SYMBOLS for c in body) or check not in _CHECK_SYMBOLS:
        raise ValueError("a confirmation code uses only Crockford base32 symbols")
    if code_version(cleaned) is None:
        raise ValueError("the check symbol does not match: a symbol was misread")
    return cleaned


def format_code(code: str) -> str:
    """Group for reading aloud: 7KQ29XMD4TR6 → 7KQ2-9XMD-4TR6."""
    return group_symbols(normalise_code(code))


def verify_code(key: bytes, record: Mapping[str, CanonicalValue], code: str) -> bool:
    """True when `code` is the record's code under `key`, in the format it was issued in."""
    try:
        given = normalise_code(code)
    except ValueError:
        return False
    version = code_version(given)
    assert version is not None
    return hmac.compare_digest(given, compute_code(key, record, version=version))
