"""Reading cell values (spec section 3, "Reading values"): one parser per field type.

Every parser takes the raw cell (as python-calamine or the CSV reader gives
it: ``str``, ``float``, ``int``, ``bool``, ``datetime``, ``date``, ``time``
or ``None``) and returns a :class:`Parsed` value: the clean value (``None``
when missing) and, for a cell that cannot be read as written, a reason code
from :data:`REASONS` and the action taken.

Parsing runs once per distinct value of a column (:func:`parse_column`), so a
20,000-row sheet costs a few thousand parser calls, not a million.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from analysis.codebook import Codebook, Field
from analysis.identity import parse_vat
from analysis.text import normalise

# The closed list of reasons a cell is flagged (cell_issues.csv `reason`).
REASONS: dict[str, str] = {
    "unknown_answer": "risposta non prevista dal codebook",
    "maybe_not_allowed": "'da valutare' non è una risposta a una domanda sì/no",
    "unknown_option": "opzione non prevista dal codebook (le altre sono tenute)",
    "not_a_number": "non è un numero",
    "number_range": "intervallo invece di un numero",
    "not_whole": "non è un numero intero",
    "out_of_range": "fuori dall'intervallo ammesso",
    "invalid_date": "data non leggibile",
    "invalid_email": "indirizzo email non valido",
    "invalid_vat": "partita IVA non di 11 cifre",
    "vat_check_digit": "partita IVA con cifra di controllo errata",
    "invalid_ateco": "codice ATECO non leggibile",
    "unknown_sector": "gruppo merceologico non riconosciuto (ricavato dal codice ATECO)",
    "ateco_sector_conflict": "codice ATECO in disaccordo con il gruppo dichiarato (vale il gruppo dichiarato)",
    "unreadable_cell": "cella non leggibile",
    "control_characters": "caratteri di controllo tolti dal testo (il resto è tenuto)",
    "unreadable_characters": "caratteri non leggibili nella codifica del file, tolti (il resto è tenuto)",
    "formula_without_value": "formula salvata senza il suo valore (letta vuota): apritelo in Excel o LibreOffice e "
                             "salvatelo, così il valore viene calcolato",
    "excel_error": "la cella contiene un errore di Excel (come #N/A o #DIV/0!): letta vuota",
}
DROPPED, KEPT = "dropped", "kept"

YES, NO, MAYBE = "yes", "no", "maybe"
# How yes/no/maybe answers are stored in responses.parquet.
STORED_ANSWER = {YES: "Sì", NO: "No", MAYBE: "Da valutare"}


@dataclass(frozen=True, slots=True)
class Parsed:
    value: Any = None
    reason: str | None = None
    action: str | None = None


MISSING = Parsed()
# What a blank cell parses to: distinct objects, so emptiness can be told by identity.
BLANK = Parsed()
BLANK_NO = Parsed(False)  # consent: blank means no


def is_blank_result(p: Parsed) -> bool:
    """Did this result come from a blank cell?"""
    return p is BLANK or p is BLANK_NO


def _flag(reason: str, value: Any = None, action: str = DROPPED) -> Parsed:
    return Parsed(value, reason, action)


def is_blank(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, str):
        return v.strip() == ""
    return isinstance(v, float) and math.isnan(v)


def cell_text(v: Any) -> str:
    """A cell as the analyst would read it (``25`` not ``25.0``), for messages and lists."""
    if v is None:
        return ""
    if isinstance(v, float):
        if math.isnan(v):
            return ""
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        return repr(v)
    if isinstance(v, datetime):
        return v.isoformat(sep=" ", timespec="seconds") if (v.hour or v.minute or v.second) else v.date().isoformat()
    return str(v).strip()


# --------------------------------------------------------------------------
# Numbers

_RANGE = re.compile(r"^\s*\d+(?:[.,]\d+)?\s*(?:-|–|—|/|a|to)\s*\d+(?:[.,]\d+)?\s*$", re.IGNORECASE)
_NUMBER = re.compile(r"^[+-]?\d+(?:\.\d+)?$")
_THOUSANDS_DOT = re.compile(r"^[+-]?[1-9]\d{0,2}(?:\.\d{3})+$")
_THOUSANDS_COMMA = re.compile(r"^[+-]?[1-9]\d{0,2}(?:,\d{3}){2,}$")


def parse_number_text(text: str) -> tuple[float | None, str | None]:
    """Number written as text, Italian or English style; ``(None, reason)`` when it is not one.

    Both ``.`` and ``,``: the last one is the decimal mark. A lone ``,`` is
    decimal. A lone ``.`` followed by groups of exactly three digits
    separates thousands (``1.250`` is 1250, ``12.5`` is 12.5). Spaces
    separate thousands. Ranges (``50-249``) and words are flagged.
    """
    s = text.strip().replace("\u00a0", " ").replace("\u202f", " ")
    if _RANGE.match(s):
        return None, "number_range"
    s = s.replace(" ", "").replace("'", "")
    if not s:
        return None, None
    if "." in s and "," in s:
        dec = "." if s.rfind(".") > s.rfind(",") else ","
        s = s.replace("," if dec == "." else ".", "").replace(dec, ".")
    elif "," in s:
        s = s.replace(",", "") if _THOUSANDS_COMMA.match(s) else s.replace(",", ".")
    elif _THOUSANDS_DOT.match(s):
        s = s.replace(".", "")
    if not _NUMBER.match(s):
        return None, "not_a_number"
    return float(s), None


def _number(v: Any) -> tuple[float | None, str | None]:
    """A cell as a number: a number cell as it is, text by :func:`parse_number_text`."""
    if isinstance(v, bool):
        return None, "not_a_number"
    if isinstance(v, (int, float)):
        return float(v), None
    if isinstance(v, (datetime, date, time)):
        return None, "not_a_number"
    return parse_number_text(str(v))


# No answer of the survey is a number this large (employees, turnover in millions, percentages): beyond it a
# cell is a typo or a stray value, flagged rather than carried into a 64-bit column it would overflow.
MAX_MAGNITUDE = 1e12


def _bounded(x: float, f: Field, whole: bool) -> Parsed:
    if not math.isfinite(x) or abs(x) > MAX_MAGNITUDE:
        return _flag("out_of_range")
    if whole and not float(x).is_integer():
        return _flag("not_whole")
    if (f.min is not None and x < f.min) or (f.max is not None and x > f.max):
        return _flag("out_of_range")
    return Parsed(int(x) if whole else x)


def parse_integer(v: Any, f: Field, cb: Codebook) -> Parsed:
    x, reason = _number(v)
    if reason:
        return _flag(reason)
    return MISSING if x is None else _bounded(x, f, whole=True)


def parse_number(v: Any, f: Field, cb: Codebook) -> Parsed:
    x, reason = _number(v)
    if reason:
        return _flag(reason)
    return MISSING if x is None else _bounded(x, f, whole=False)


def parse_percent(v: Any, f: Field, cb: Codebook, percent_format: bool = False) -> Parsed:
    """``35%`` and ``35 %`` are 35; a percent-formatted number cell is x100; others as written."""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        x = float(v) * 100 if percent_format else float(v)
        x = round(x, 10)  # 0.35 * 100 is 35.00000000000001
    else:
        text = str(v).strip()
        if text.endswith("%"):
            text = text[:-1]
        x, reason = parse_number_text(text)
        if reason:
            return _flag(reason)
        if x is None:
            return MISSING
    if not 0 <= x <= 100:
        return _flag("out_of_range")
    return Parsed(x)


def parse_scale(v: Any, lo: int, hi: int) -> Parsed:
    x, reason = _number(v)
    if reason:
        return _flag(reason)
    if x is None:
        return MISSING
    if not math.isfinite(x):
        return _flag("out_of_range")
    if not float(x).is_integer():
        return _flag("not_whole")
    if not lo <= x <= hi:
        return _flag("out_of_range")
    return Parsed(int(x))


def parse_maturity(v: Any, f: Field, cb: Codebook) -> Parsed:
    return parse_scale(v, int(cb.maturity_scale["min"]), int(cb.maturity_scale["max"]))


def parse_importance(v: Any, f: Field, cb: Codebook) -> Parsed:
    """The number (also ``4.0``), either label, or ``4 - Molto rilevante``."""
    if isinstance(v, str):
        level = cb.importance_names.get(normalise(v))
        if level is not None:
            return Parsed(level)
        x, reason = parse_number_text(v)
        if reason == "not_a_number":
            return _flag("unknown_answer")
    lo, hi = cb.importance_range
    return parse_scale(v, lo, hi)


# --------------------------------------------------------------------------
# Closed answers

def yes_no_answer(v: Any, cb: Codebook) -> str | None:
    """``yes`` / ``no`` / ``maybe``, or None when the cell is not one of them."""
    if isinstance(v, bool):
        return YES if v else NO
    if isinstance(v, (int, float)):
        return {1.0: YES, 0.0: NO}.get(float(v))
    return cb.yes_no_names.get(normalise(v))


def parse_yes_no(v: Any, f: Field, cb: Codebook) -> Parsed:
    ans = yes_no_answer(v, cb)
    if ans == MAYBE:
        return _flag("maybe_not_allowed")
    if ans is None:
        return _flag("unknown_answer")
    return Parsed(ans == YES)


def parse_consent(v: Any, f: Field, cb: Codebook) -> Parsed:
    """Only an explicit yes is consent; anything else is no (flagged when not a plain no)."""
    ans = yes_no_answer(v, cb)
    if ans == YES:
        return Parsed(True)
    if ans == NO:
        return Parsed(False)
    return _flag("maybe_not_allowed" if ans == MAYBE else "unknown_answer", False, KEPT)


def parse_yes_no_maybe(v: Any, f: Field, cb: Codebook) -> Parsed:
    ans = yes_no_answer(v, cb)
    return _flag("unknown_answer") if ans is None else Parsed(STORED_ANSWER[ans])


def parse_choice(v: Any, f: Field, cb: Codebook) -> Parsed:
    value = cb.option_names[f.key].get(normalise(cell_text(v)))
    return _flag("unknown_answer") if value is None else Parsed(value)


_SPLIT = re.compile(r"[;,\n\r]+")


def split_multi(v: Any) -> list[str]:
    """Parts of a several-valued cell: split on ``;``, ``,`` (not inside parentheses) and line breaks; empty
    parts dropped."""
    if isinstance(v, float) and v.is_integer():
        return [str(int(v))]  # a VAT number in a number cell
    text = cell_text(v)
    if "," not in text and "\n" not in text and "\r" not in text:  # the common cases, without the regex
        if ";" not in text:
            return [text] if text else []
        return [p for p in map(str.strip, text.split(";")) if p]
    if "(" in text:  # a comma inside parentheses does not split: "Integrazione dati (MES, ERP, IoT)"
        text = re.sub(r"\([^()]*\)", lambda m: m.group().replace(",", "\0"), text)
        return [p.replace("\0", ",") for p in map(str.strip, _SPLIT.split(text)) if p]
    return [p for p in map(str.strip, _SPLIT.split(text)) if p]


def parse_multi(v: Any, f: Field, cb: Codebook) -> Parsed:
    parts = split_multi(v)
    if not f.options:
        return Parsed(tuple(dict.fromkeys(parts))) if parts else MISSING
    table = cb.option_names[f.key]
    known = [table.get(normalise(p)) for p in parts]
    values = tuple(o for o in f.options if o in set(known))
    if None in known:
        return _flag("unknown_option", values or None, KEPT if values else DROPPED)
    return Parsed(values)


def parse_size_class(v: Any, f: Field, cb: Codebook) -> Parsed:
    """A size class by its key, label or alias (``Piccola``, ``10-49``), or by a number of employees."""
    key = cb.size_class_names.get(normalise(cell_text(v)))
    if key is None:
        x, reason = _number(v)
        key = cb.size_class(int(x)) if reason is None and x is not None and 0 <= x <= MAX_MAGNITUDE \
            and float(x).is_integer() else None
    return _flag("unknown_answer") if key is None else Parsed(key)


# Control characters (other than tab and line breaks) are never meant in an answer, and a spreadsheet cannot
# hold them: they are removed and the cell flagged.
# U+FFFD marks bytes a CSV's encoding could not read (see analysis.workbooks.decode_csv).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]")


def parse_text(v: Any, f: Field, cb: Codebook) -> Parsed:
    text = cell_text(v)
    if _CONTROL.search(text):
        clean = _CONTROL.sub("", text).strip()
        reason = "unreadable_characters" if "\ufffd" in text else "control_characters"
        return _flag(reason, clean or None, KEPT)
    return Parsed(text) if text else MISSING


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")


def parse_email(v: Any, f: Field, cb: Codebook) -> Parsed:
    text = cell_text(v)
    if text.lower().startswith("mailto:"):
        text = text[7:]
    return Parsed(text) if _EMAIL.match(text) else _flag("invalid_email")


def parse_vat_cell(v: Any, f: Field, cb: Codebook) -> Parsed:
    vat, problem = parse_vat(v if not isinstance(v, str) else v.strip())
    return _flag(problem) if problem else Parsed(vat)


# --------------------------------------------------------------------------
# ATECO and sector

_ATECO_TEXT = re.compile(r"^\s*(?:[A-Za-z]\s*)?(\d{2}(?:\.\d{1,2}){0,2}|\d{2,6})(?=$|[\s\-–—:,(])")


def parse_ateco(v: Any, f: Field | None = None, cb: Codebook | None = None) -> Parsed:
    """ATECO code stored dotted to the depth given (``25``, ``25.62``, ``25.62.00``)."""
    if isinstance(v, bool):
        return _flag("invalid_ateco")
    if isinstance(v, (int, float)):
        x = float(v)
        if not 1 <= x < 100:
            return _flag("invalid_ateco")
        if x.is_integer():
            return Parsed(f"{int(x):02d}")
        # A number cell lost its trailing zero: 25.1 is the class 25.10.
        return Parsed(f"{x:05.2f}")
    m = _ATECO_TEXT.match(str(v))
    if not m:
        return _flag("invalid_ateco")
    code = m.group(1)
    if "." not in code:
        if len(code) % 2 and len(code) != 5:
            return _flag("invalid_ateco")
        code = ".".join([code[:2], code[2:4], code[4:]]).strip(".")
    if code.startswith("00"):
        return _flag("invalid_ateco")
    return Parsed(code)


def ateco_division(code: str | None) -> int | None:
    return int(code[:2]) if code else None


def parse_sector(v: Any, f: Field, cb: Codebook) -> Parsed:
    label = cb.sector_names.get(normalise(cell_text(v)))
    return _flag("unknown_sector") if label is None else Parsed(label)


# --------------------------------------------------------------------------
# Dates

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?$")
_DMY = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})(?:[ ,T]+(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?\s*([AaPp][Mm])?)?$")
# Google Forms' CSV download: year first, 12-hour time, a time zone (`2026/10/30 3:08:44 PM GMT+1`).
_YMD_SLASH = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp]\.?[Mm]\.?)?"
                        r"(?:\s*(?:(?:GMT|UTC)\s*(?:[+-]\d{1,2}(?::?\d{2})?)?|CES?T|[+-]\d{2}:?\d{2}))?)?$")
_AMPM = re.compile(r"\d\s*[AaPp]\.?[Mm]\.?(?:\s|$)")
_EXCEL_EPOCH = datetime(1899, 12, 30)


@dataclass(frozen=True, slots=True)
class DateValue:
    """A submission date and whether it carried a time (duplicates compare by day otherwise)."""

    when: datetime
    has_time: bool


def _mk(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime | None:
    try:
        return datetime(y, mo, d, h, mi, s)
    except ValueError:
        return None


def slash_date_orders(text: str) -> tuple[bool, bool] | None:
    """For ``a/b/yyyy`` text: (fits day-first, fits month-first); None when not that form."""
    m = _DMY.match(text.strip())
    if not m:
        return None
    a, b = int(m.group(1)), int(m.group(2))
    return (1 <= a <= 31 and 1 <= b <= 12), (1 <= b <= 31 and 1 <= a <= 12)


def parse_date(v: Any, f: Field | None = None, cb: Codebook | None = None, month_first: bool = False) -> Parsed:
    if isinstance(v, datetime):
        has_time = v.hour != 0 or v.minute != 0 or v.second != 0 or v.microsecond != 0
        return Parsed(DateValue(v if v.tzinfo is None else v.replace(tzinfo=None), has_time))
    if isinstance(v, date):
        return Parsed(DateValue(datetime(v.year, v.month, v.day), False))
    if isinstance(v, bool) or isinstance(v, time):
        return _flag("invalid_date")
    if isinstance(v, (int, float)):
        if 20000 <= v <= 80000:  # an Excel serial date in a cell without a date format
            when = _EXCEL_EPOCH + timedelta(days=float(v))
            return Parsed(DateValue(when.replace(microsecond=0), not float(v).is_integer()))
        return _flag("invalid_date")
    text = str(v).strip()
    m = _ISO.match(text)
    if m:
        y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
        h, mi, s = (int(m.group(i) or 0) for i in (4, 5, 6))
        when = _mk(y, mo, d, h, mi, s)
        return Parsed(DateValue(when, m.group(4) is not None)) if when else _flag("invalid_date")
    m = _YMD_SLASH.match(text)
    if m:
        y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
        h, mi, s = (int(m.group(i) or 0) for i in (4, 5, 6))
        h = _twelve_hour(h, m.group(7))
        when = _mk(y, mo, d, h, mi, s)
        return Parsed(DateValue(when, m.group(4) is not None)) if when else _flag("invalid_date")
    m = _DMY.match(text)
    if m:
        a, b, y = int(m.group(1)), int(m.group(2)), int(m.group(3))
        y = y + (2000 if y < 69 else 1900) if y < 100 else y  # two digits: as Python's %y (69-99 are 1900s)
        h, mi, s = (int(m.group(i) or 0) for i in (4, 5, 6))
        h = _twelve_hour(h, m.group(7))
        d, mo = (b, a) if month_first else (a, b)
        when = _mk(y, mo, d, h, mi, s)
        return Parsed(DateValue(when, m.group(4) is not None)) if when else _flag("invalid_date")
    return _flag("invalid_date")


def _twelve_hour(h: int, marker: str | None) -> int:
    ampm = (marker or "").lower().replace(".", "")
    if ampm == "pm" and h < 12:
        return h + 12
    if ampm == "am" and h == 12:
        return 0
    return h


DAY_FIRST, MONTH_FIRST = "giorno/mese", "mese/giorno"


def date_reading(values: list[Any], english: bool = False) -> tuple[bool, str]:
    """How a column's ``a/b/yyyy`` texts are read, as a whole (spec section 3): (month first?, in words).

    A column that only fits one reading takes it; an ambiguous one (every a and b up to 12) takes month first
    when its file is an English-language form export (``english``, or AM/PM times in the column), day first
    otherwise; a column that fits neither takes the reading more of its cells fit, and the others are flagged."""
    seen = fits_dmy = fits_mdy = 0
    ampm = False
    for v in dict.fromkeys(values):
        if not isinstance(v, str):
            continue
        orders = slash_date_orders(v)
        if orders is None:
            continue
        seen += 1
        fits_dmy += orders[0]
        fits_mdy += orders[1]
        ampm = ampm or bool(_AMPM.search(v))
    if not seen:
        return False, "date del foglio o testi ISO / anno-mese-giorno"
    if fits_dmy == seen and fits_mdy < seen:
        return False, f"{DAY_FIRST} (l'unica lettura possibile)"
    if fits_mdy == seen and fits_dmy < seen:
        return True, f"{MONTH_FIRST} (l'unica lettura possibile)"
    if fits_dmy == seen:
        if english or ampm:
            return True, f"{MONTH_FIRST} (ambigua: file esportato da un modulo in inglese)"
        return False, f"{DAY_FIRST} (ambigua: formato italiano)"
    month_first = fits_mdy > fits_dmy
    return month_first, (f"{MONTH_FIRST if month_first else DAY_FIRST} (la lettura di più celle; le altre sono "
                         "segnalate)")


def column_is_month_first(values: list[Any]) -> bool:
    """True when the column's ``a/b/yyyy`` texts, as a whole, only fit month-first."""
    return date_reading(values)[0]


# --------------------------------------------------------------------------

PARSERS = {
    "text": parse_text, "email": parse_email, "date": parse_date, "vat": parse_vat_cell,
    "ateco": parse_ateco, "sector": parse_sector, "integer": parse_integer, "number": parse_number,
    "percent": parse_percent, "choice": parse_choice, "multi": parse_multi, "yes_no": parse_yes_no,
    "yes_no_maybe": parse_yes_no_maybe, "consent": parse_consent, "maturity": parse_maturity,
    "importance": parse_importance, "size_class": parse_size_class,
}


def _column_setup(values: list[Any], f: Field, month_first: bool | None = None) -> tuple[Any, Parsed, dict[str, Any]]:
    """The parser of a field, what its blank cells parse to (consent: blank means no), and the column-wide
    reading (dates: day or month first; ``month_first`` when the caller decided it, see :func:`date_reading`)."""
    if f.type == "date":
        extra = {"month_first": column_is_month_first(values) if month_first is None else month_first}
    else:
        extra = {}
    return PARSERS[f.type], BLANK_NO if f.type == "consent" else BLANK, extra


def parse_column(values: list[Any], f: Field, cb: Codebook,
                 percent_format: list[bool] | None = None, month_first: bool | None = None) -> list[Parsed]:
    """Parse a whole column, once per distinct (type, value).

    ``percent_format`` marks the cells whose number format is a percent
    format (percent fields only). Blank cells are missing, never zero
    (consent: blank means no, unflagged).
    """
    parser, blank_result, extra = _column_setup(values, f, month_first)
    if percent_format is None:
        results = _parse_distinct(values, f, cb, parser, blank_result, extra)
        if results is not None:
            return list(map(results.__getitem__, values))
    # Slow path (percent formats, booleans): cache per (type, value, percent format).
    cache: dict = {}
    out: list[Parsed] = []
    for i, v in enumerate(values):
        pct = bool(percent_format and percent_format[i])
        key = v if v.__class__ is str else (v.__class__, v, pct)
        try:
            hit = cache.get(key)
        except TypeError:  # unhashable: never from our readers, but be safe
            hit, key = None, None
        if hit is None:
            hit = _parse_one(v, f, cb, parser, blank_result, {**extra, "percent_format": pct}
                             if f.type == "percent" else extra)
            if key is not None:
                cache[key] = hit
        out.append(hit)
    return out


def _parse_one(v: Any, f: Field, cb: Codebook, parser, blank_result: Parsed, extra: dict) -> Parsed:
    if is_blank(v):
        return blank_result
    try:
        return parser(v, f, cb, **extra)
    except (ValueError, TypeError, OverflowError, ArithmeticError):
        return _flag("unreadable_cell")


def parse_column_values(values: list[Any], f: Field, cb: Codebook, percent_format: list[bool] | None = None,
                        month_first: bool | None = None) -> tuple[list, list[tuple[int, Parsed]]]:
    """What reading keeps of a column: the parsed values, and ``(row, result)`` for the flagged cells only
    (no result object per row: the column is parsed per distinct value and mapped back in C)."""
    if percent_format is None:
        results = _parse_distinct(values, f, cb, *_column_setup(values, f, month_first))
        if results is not None:
            value_of = {k: p.value for k, p in results.items()}
            flagged = {k for k, p in results.items() if p.reason is not None}
            rows = itertools.compress(range(len(values)), map(flagged.__contains__, values)) if flagged else ()
            issues = [(i, results[values[i]]) for i in rows]
            return list(map(value_of.__getitem__, values)), issues
    parsed = parse_column(values, f, cb, percent_format, month_first)
    return [p.value for p in parsed], [(i, p) for i, p in enumerate(parsed) if p.reason is not None]


def _parse_distinct(values: list[Any], f: Field, cb: Codebook, parser, blank_result: Parsed,
                    extra: dict) -> dict | None:
    """Dedupe the column in C (``dict.fromkeys``) and parse each distinct value once.

    Equal numbers of different types (1 and 1.0) parse alike, but True == 1
    does not: columns holding booleans go the slow way (None is returned).
    """
    try:
        distinct = dict.fromkeys(values)
    except TypeError:
        return None
    if any(k.__class__ is bool for k in distinct):
        return None
    if parser is parse_text:  # free text, the most distinct values: no per-value function calls
        texts = [k for k in distinct if k.__class__ is str]
        if _CONTROL.search("\n".join(texts)):  # one scan of the column: control characters are rare
            return {k: _parse_one(k, f, cb, parser, blank_result, extra) for k in distinct}
        return {k: (Parsed(t) if (t := k.strip()) else blank_result) if k.__class__ is str
                else _parse_one(k, f, cb, parser, blank_result, extra) for k in distinct}
    return {k: _parse_one(k, f, cb, parser, blank_result, extra) for k in distinct}
