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


# --------------------------------------------------------------------------
# Text from the data, shown as text (spec section 8)

# Control characters are shown as their visible Unicode pictures (BEL as ␇); format characters that reorder or
# hide text (bidirectional overrides, zero-width marks) as their code point, so nothing is silently rewritten.
_PICTURES = {c: 0x2400 + c for c in range(0x20)} | {0x7F: 0x2421}
_HIDDEN_FORMAT = re.compile("[\u0080-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")


def visible(value: object) -> str:
    """``value`` as plain text safe to print or store: control characters visible (``␇``), never raw; tab and
    newline become spaces."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    text = str(value).replace("\t", " ").replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    if text.isprintable():
        return text
    text = text.translate(_PICTURES)
    return _HIDDEN_FORMAT.sub(lambda m: f"[U+{ord(m.group()):04X}]", text)


def html_text(value: object) -> str:
    """``value`` as HTML text: visible control characters, ``<``, ``>``, ``&`` and quotes escaped."""
    import html

    return html.escape(visible(value))


_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|~:$])")


def markdown_text(value: object) -> str:
    """``value`` as Markdown text: every Markdown mark backslash-escaped (links, emphasis, headings, maths)
    and HTML escaped as entities, so it shows literally."""
    import html

    return html.escape(_MARKDOWN.sub(r"\\\1", visible(value)), quote=False)


def figure_text(value: object) -> str:
    """``value`` for a matplotlib label: visible control characters, and no maths typeset from a ``$`` (the
    report's figures switch maths off in :func:`analysis.reporting.setup_plots`; elsewhere ``$`` is escaped)."""
    import matplotlib as mpl

    text = visible(value)
    return text.replace("$", r"\$") if mpl.rcParams["text.parse_math"] else text


def quantity(n: int, one: str, many: str) -> str:
    """A count with its words in the right number: ``1 file letto``, ``3 file letti``, ``1.250 risposte``."""
    n = int(n)
    return f"{n:,}".replace(",", ".") + " " + (one if n == 1 else many)


def and_list(items: list[str]) -> str:
    """``a``, ``a e b``, ``a, b e c`` (``ed`` before a word that starts with e: ``Economia circolare ed Efficienza
    energetica``)."""
    if len(items) <= 1:
        return "".join(items)
    last = items[-1]
    return ", ".join(items[:-1]) + (" ed " if last[:1] in ("e", "E") else " e ") + last
