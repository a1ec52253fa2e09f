"""Company identity (spec section 5): VAT numbers and normalised company names.

The one place for the rule "two rows are the same company when their VAT
numbers are equal or their normalised names are equal", used by reading
(duplicates, corrections) and by the supply network (customers and
suppliers named in the answers).
"""

from __future__ import annotations

import functools
import re

from analysis.text import normalise

_VAT_CLEAN = re.compile(r"[\s.\-/]")


_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)  # a digit doubled, minus 9 above 9


def vat_check_digit(first_ten: str) -> int:
    """Check digit of an Italian VAT number (partita IVA) from its first ten digits: the odd-placed digits
    as they are, the even-placed ones doubled (minus 9 above 9)."""
    total = sum(map(int, first_ten[0::2])) + sum(_DOUBLED[int(d)] for d in first_ten[1::2])
    return (10 - total % 10) % 10


def vat_is_valid(vat: str) -> bool:
    return len(vat) == 11 and vat.isdigit() and vat_check_digit(vat[:10]) == int(vat[10])


@functools.lru_cache(maxsize=65536)
def parse_vat(raw: object) -> tuple[str | None, str | None]:
    """``(vat, problem)``: the 11-digit VAT number, or the reason it is not one.

    Spaces, dots and a leading ``IT`` are allowed; 9 or 10 digits are
    left-padded with zeros (a number cell loses them). ``problem`` is one of
    ``invalid_vat`` (not 9-11 digits) or ``vat_check_digit``.
    """
    if raw is None:
        return None, None
    if raw.__class__ is str and len(raw) == 11 and raw.isdigit() and raw.isascii():  # already clean: the usual
        return (raw, None) if vat_is_valid(raw) else (None, "vat_check_digit")
    if isinstance(raw, float):
        if raw != raw:
            return None, None
        if raw.is_integer():
            raw = int(raw)
    text = _VAT_CLEAN.sub("", str(raw)).upper()
    if text.startswith("IT"):
        text = text[2:]
    if text == "":
        return None, None
    if not text.isdigit() or not 9 <= len(text) <= 11:
        return None, "invalid_vat"
    text = text.zfill(11)
    if not vat_is_valid(text):
        return None, "vat_check_digit"
    return text, None


@functools.lru_cache(maxsize=8)
def _legal_form_pattern(legal_forms: tuple[str, ...]) -> re.Pattern:
    # Legal forms are compared in normalised form, longest first, repeatedly at the end.
    forms = sorted({normalise(f) for f in legal_forms if normalise(f)}, key=len, reverse=True)
    alternatives = "|".join(re.escape(f) for f in forms)
    return re.compile(rf"(?:\s+(?:{alternatives}))+$")


def company_name_key(name: object, legal_forms: tuple[str, ...]) -> str:
    """Normalised company name without trailing legal forms (``""`` when blank)."""
    n = normalise(name)
    if not n:
        return ""
    stripped = _legal_form_pattern(legal_forms).sub("", " " + n).strip()
    return stripped or n


def company_id(vat: str | None, name_key: str) -> str:
    """The identifier written to the outputs: ``IT<vat>`` or ``NOME:<name key>``."""
    if vat:
        return f"IT{vat}"
    return f"NOME:{name_key}"


class IdentityIndex:
    """Union of companies linked by equal VAT number or equal normalised name.

    ``add(vat, name_key)`` returns a token; ``group(token)`` gives the same
    value for every token of one company, even when a company answered once
    with its VAT number only and once with its name only, and a third row
    carried both.
    """

    def __init__(self) -> None:
        self._parent: list[int] = []
        self._by_vat: dict[str, int] = {}
        self._by_name: dict[str, int] = {}

    def _find(self, i: int) -> int:
        while self._parent[i] != i:
            self._parent[i] = self._parent[self._parent[i]]
            i = self._parent[i]
        return i

    def _union(self, a: int, b: int) -> None:
        ra, rb = self._find(a), self._find(b)
        if ra != rb:
            self._parent[max(ra, rb)] = min(ra, rb)

    def add(self, vat: str | None, name_key: str) -> int:
        token = len(self._parent)
        self._parent.append(token)
        if vat:
            self._union(token, self._by_vat.setdefault(vat, token))
        if name_key:
            self._union(token, self._by_name.setdefault(name_key, token))
        return token

    def group(self, token: int) -> int:
        return self._find(token)


class CompanyLookup:
    """Find a surveyed company from how someone else wrote it: a VAT number or a company name.

    Built from the accepted responses (``company_id``, ``partita_iva``,
    ``ragione_sociale``) with the same identity rules as reading: VAT numbers
    with or without ``IT``, spaces and dots; names compared normalised and
    without their legal form. Used for the member register and for the
    supply network (``clienti_principali``, ``fornitori_principali``).
    """

    def __init__(self, responses, legal_forms: tuple[str, ...]) -> None:
        self._legal_forms = legal_forms
        self._by_vat: dict[str, str] = {}
        self._by_name: dict[str, str] = {}
        for cid, vat, name in zip(responses["company_id"], responses["partita_iva"], responses["ragione_sociale"],
                                  strict=True):
            if isinstance(vat, str) and vat:
                self._by_vat.setdefault(vat, cid)
            key = company_name_key(name, legal_forms) if isinstance(name, str) else ""
            if key:
                self._by_name.setdefault(key, cid)

    def find(self, text: object, vat: str | None = None) -> str | None:
        """The ``company_id`` that ``text`` (a name or a VAT number) or ``vat`` names, or None."""
        if vat is None and text is not None:
            vat, _ = parse_vat(text)
        if vat and vat in self._by_vat:
            return self._by_vat[vat]
        key = company_name_key(text, self._legal_forms) if isinstance(text, str) else ""
        return self._by_name.get(key) if key else None
