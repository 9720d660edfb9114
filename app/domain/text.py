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
