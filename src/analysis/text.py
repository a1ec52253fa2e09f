"""Text normalisation: the one rule (spec section 2) for headers and closed answers.

Unicode NFKD, accents dropped, lower case, apostrophes dropped, every run of
characters other than letters and digits turned into one space, trimmed.
So ``SI'``, ``Sì`` and ``si`` are one answer, and ``4 – Molto rilevante`` is
``4 - Molto rilevante`` whatever the dash.
"""

from __future__ import annotations

import functools
import re
import unicodedata

_APOSTROPHES = dict.fromkeys(map(ord, "'\u2019\u2018\u02bc\u0060\u00b4"), None)
_NON_ALNUM = re.compile(r"[^0-9a-z]+")


@functools.lru_cache(maxsize=65536)
def normalise(value: object) -> str:
    """Normalised form of a header or a closed answer (``""`` for None)."""
    if value is None:
        return ""
    text = str(value)
    if not text.isascii():  # ASCII has no accents to drop: skip the per-character work
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.lower().translate(_APOSTROPHES)
    return _NON_ALNUM.sub(" ", text).strip()
