"""Header matching (spec section 2) and header-row detection (section 1).

A header names a field when its normalised form equals the normalised key,
Italian label, English label or an alias of that field. Form exports also
write ``Question text [row label]`` (Google Forms, LimeSurvey) and
``Question text.row label`` (Microsoft Forms): those name the field whose
label (for maturity, also without its ``Maturità: `` prefix) is the row
label. ``Mercati di sbocco [Automotive]`` names one option of a
several-choice field (one yes/no column per option).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from analysis.codebook import Codebook
from analysis.text import normalise

HEADER_SEARCH_ROWS = 11
MIN_MATCHED_FIELDS = 5
# A form export's own columns (account, submission) do not count towards a survey header (spec section 1):
# Microsoft Forms metadata alone would otherwise make four of the five.
SUBMISSION_FIELDS = frozenset({"id_risposta", "data_compilazione", "email_rispondente", "nome_rispondente"})

_BRACKET = re.compile(r"^(.*)\[([^\[\]]*)\]\s*$", re.DOTALL)


@dataclass(frozen=True)
class HeaderMatch:
    key: str
    option: str | None = None  # an option column of a several-choice field


def match_header(header: object, cb: Codebook) -> HeaderMatch | None:
    """The field (and option) a header names, or None."""
    if header is None:
        return None
    text = str(header).strip()
    if not text:
        return None
    cache = _cache_for(cb)
    if text in cache:
        return cache[text]
    found = _match(text, cb)
    cache[text] = found
    return found


def _cache_for(cb: Codebook) -> dict[str, HeaderMatch | None]:
    # Codebooks are immutable: each carries its own cache of header look-ups.
    return cb.__dict__.setdefault("_header_matches", {})


def _match(text: str, cb: Codebook) -> HeaderMatch | None:
    n = normalise(text)
    key = cb.header_names.get(n)
    if key is not None:
        return HeaderMatch(key)
    m = _BRACKET.match(text)
    if m:
        question, label = m.group(1).strip(), normalise(m.group(2))
        # LimeSurvey with question codes writes array rows as code[key]: the key itself names the field.
        key = cb.row_label_names.get(label) or _keys(cb).get(label)
        if key is not None:
            return HeaderMatch(key)
        key = cb.header_names.get(normalise(question))
        if key is not None and label in cb.option_names.get(key, {}) and cb.by_key[key].type == "multi":
            return HeaderMatch(key, cb.option_names[key][label])
        return None
    # Microsoft Forms: "Question text.row label" (try every dot, leftmost first).
    for i, ch in enumerate(text):
        if ch == ".":
            key = cb.row_label_names.get(normalise(text[i + 1:]))
            if key is not None:
                return HeaderMatch(key)
    # Microsoft Forms may head a Likert row with the row label alone (maturity labels without their prefix).
    key = cb.row_label_names.get(n)
    return HeaderMatch(key) if key is not None else None


def _keys(cb: Codebook) -> dict[str, str]:
    return cb.__dict__.setdefault("_normalised_keys", {normalise(k): k for k in cb.by_key})


@dataclass
class HeaderRow:
    """The detected header of a sheet: its row index and column matches."""

    row: int  # 0-based index within the rows given
    matches: dict[int, HeaderMatch]  # column index -> match
    headers: dict[int, str]  # column index -> header text as written (non-blank only)
    unmatched: list[str] = field(default_factory=list)
    not_counted: frozenset = frozenset()  # fields that do not count towards the header rule

    @property
    def field_count(self) -> int:
        return len({m.key for m in self.matches.values()} - self.not_counted)

    def matched_headers(self) -> list[str]:
        """The headers as written that matched a field, in column order (for a left-out sheet's reason)."""
        return [self.headers[j] for j in sorted(self.matches)]


def _row_matches(row: list, cb: Codebook) -> tuple[dict[int, HeaderMatch], dict[int, str]]:
    matches: dict[int, HeaderMatch] = {}
    headers: dict[int, str] = {}
    for j, cell in enumerate(row):
        if cell is None or (isinstance(cell, str) and not cell.strip()):
            continue
        text = cell.strip() if isinstance(cell, str) else str(cell)
        headers[j] = text
        if isinstance(cell, str):
            hit = match_header(text, cb)
            if hit is not None:
                matches[j] = hit
    return matches, headers


def survey_header_ok(cb: Codebook):
    """The survey's header rule beyond the count: at least one need among the matched fields."""
    needs = frozenset(cb.need_keys)
    return lambda keys: bool(needs & set(keys))


def find_header(rows: list[list], cb: Codebook, min_fields: int = MIN_MATCHED_FIELDS,
                accept=None, not_counted: frozenset = frozenset(), near: list | None = None) -> HeaderRow | None:
    """The row among the first 11 matching the most different fields (earliest on ties), if >= ``min_fields``
    (``not_counted`` fields aside); with ``accept`` (the set of matched keys -> bool), only rows it accepts (a
    table kind's required fields). ``near``, when given, receives the best row found when none qualifies."""
    best: HeaderRow | None = None
    closest: HeaderRow | None = None
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        matches, headers = _row_matches(row, cb)
        candidate = HeaderRow(i, matches, headers, not_counted=not_counted)
        if closest is None or len(candidate.matches) > len(closest.matches):
            closest = candidate
        if accept is not None and not accept({m.key for m in matches.values()}):
            continue
        if best is None or candidate.field_count > best.field_count:
            best = candidate
    if best is None or best.field_count < min_fields:
        if near is not None and closest is not None and closest.matches:
            near.append(closest)
        return None
    best.unmatched = [h for j, h in best.headers.items() if j not in best.matches]
    return best


def duplicate_fields(header: HeaderRow) -> list[tuple[str, str]]:
    """Pairs of headers naming the same field (or the same option, or a field and its options)."""
    seen: dict[str, str] = {}  # field key -> first header as a whole field
    seen_opt: dict[tuple[str, str], str] = {}
    first_any: dict[str, str] = {}
    kinds: dict[str, str] = {}
    clashes: list[tuple[str, str]] = []
    for j in sorted(header.matches):
        m, h = header.matches[j], header.headers[j]
        kind = "option" if m.option else "whole"
        if m.key in kinds and kinds[m.key] != kind:
            clashes.append((first_any[m.key], h))
            continue
        kinds.setdefault(m.key, kind)
        first_any.setdefault(m.key, h)
        if m.option is None:
            if m.key in seen:
                clashes.append((seen[m.key], h))
            else:
                seen[m.key] = h
        else:
            if (m.key, m.option) in seen_opt:
                clashes.append((seen_opt[(m.key, m.option)], h))
            else:
                seen_opt[(m.key, m.option)] = h
    return clashes
