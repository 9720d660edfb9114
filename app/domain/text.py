"""Diacritic folding for Vietnamese names, so staff can search without typing accents.

Cashiers type `nguyen thi hang` and must find `Nguyễn Thị Hằng`; `d` must find `đ`/`Đ`.

Guarantees:
- `fold` gives the same result for NFC and NFD input (and any mix), keeps letter case, and
  turns every Vietnamese letter (all tones, ă â ê ô ơ ư, đ Đ) into its plain ASCII base letter.
- `fold` is idempotent: `fold(fold(s)) == fold(s)`.
- `fold_key` is the search key: `fold`, then case-folded, white space collapsed to single
  spaces and trimmed. Store it next to a name and compare keys, never raw names.
"""

from __future__ import annotations

import unicodedata

from app.errors import ValidationError

# Unicode has no decomposition for đ (U+0111) / Đ (U+0110): they are letters of their own, not
# d plus a mark, so NFD leaves them alone and they need an explicit mapping. Ð (U+00D0, the
# Icelandic eth) and ð (U+00F0) look identical to Đ/đ and turn up in text converted from legacy
# Vietnamese encodings, so a search key treats them the same way.
_NO_DECOMPOSITION = str.maketrans({"đ": "d", "Đ": "D", "ð": "d", "Ð": "D"})


def fold(text: str) -> str:
    """Remove Vietnamese diacritics (tone marks, breve, circumflex, horn) and map đ→d, Đ→D.

    Case is kept: "Đặng Văn Đức" → "Dang Van Duc".
    """
    decomposed = unicodedata.normalize("NFD", text.translate(_NO_DECOMPOSITION))
    # Dropping every combining mark (not only the five Vietnamese tones) also removes the horn
    # of ơ/ư and the breve/circumflex of ă/â/ê/ô, which are marks too after NFD.
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", stripped)


def fold_key(text: str) -> str:
    """Search key: folded, case-folded, runs of white space turned into one space, trimmed."""
    return " ".join(fold(text).casefold().split())


# --- what a person may type ------------------------------------------------------------------

# Bidirectional overrides, embeddings, isolates and marks: they reorder what is shown, so
# "Nguyễn Văn A" and a name spelled backwards behind U+202E can look alike. Refused everywhere.
_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def _bad_character(value: str, *, name: bool) -> str | None:
    """The first character `check_text` refuses, if any."""
    for ch in value:
        category = unicodedata.category(ch)
        # Cc: control characters (tab, line breaks, NUL, ESC…); Cs/Co/Cn: surrogates, private
        # use, unassigned; Zl/Zp: line and paragraph separators. Every field here is one line.
        if category in ("Cc", "Cs", "Co", "Cn", "Zl", "Zp") or ch in _BIDI_CONTROLS:
            return ch
        # Cf: format characters — zero-width space/joiners (U+200B–U+200D), word joiner
        # (U+2060), byte-order mark (U+FEFF), soft hyphen… invisible in a name.
        if name and category == "Cf":
            return ch
    return None


def check_text(value: str, field: str, label: str, *, name: bool = False) -> str:
    """Refuse control characters (tabs and line breaks included: every field here is one line),
    bidirectional overrides and unassigned code points; for a name (`name=True`) also every
    invisible format character (zero-width spaces and joiners). Returns `value` unchanged;
    raises `ValidationError` naming the field and the character otherwise."""
    bad = _bad_character(value, name=name)
    if bad is not None:
        raise ValidationError(
            field,
            label,
            f"chứa ký tự điều khiển hoặc ký tự ẩn không được phép (U+{ord(bad):04X})",
            rule_en=f"control or invisible character U+{ord(bad):04X} not allowed",
        )
    return value


# A spreadsheet reads a cell starting with one of these as a formula (or a DDE call).
_FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """A cell value a spreadsheet program shows as text and never runs: text starting with
    `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading apostrophe. Numbers, dates
    and other values pass unchanged. Every CSV and XLSX export writes its cells through this."""
    if isinstance(value, str) and value.startswith(_FORMULA_LEADS):
        return "'" + value
    return value
