"""The corrections file (spec section 5): fixes and exclusions, applied after reading.

Raw files stay as received; fixes live in ``data/corrections.csv`` (or
``.xlsx``), one row each:

| azienda (company)        | campo (field)          | valore (value) | nota (note)            |
|--------------------------|------------------------|----------------|------------------------|
| 01234567897              | dipendenti             | 45             | confermato al telefono |
| Fonderia Bianchi S.p.A.  | gruppo_merceologico    | Metallurgiche  |                        |
| Officine Rossi srl       | escludi                |                | ritirata il 3/11       |

``azienda`` is a VAT number or a company name (matched with the identity
rules of reading); ``campo`` a field key or label, or ``escludi`` to
withdraw the company (all its rows become rejected ``excluded``, their cells
are not copied anywhere). Values are read with the same rules as the survey.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from analysis.codebook import Codebook
from analysis.headers import match_header
from analysis.identity import company_name_key, parse_vat
from analysis.text import normalise
from analysis.values import cell_text
from analysis.workbooks import FileProblem

EXCLUDE = "escludi"
_EXCLUDE_WORDS = {"escludi", "esclusione", "exclude", "escluso", "cancella", "erase"}


@dataclass
class Correction:
    line: int  # row number in the corrections file
    company: str  # as written
    vat: str | None
    name_key: str
    field: str | None  # field key, None for an exclusion
    value: object
    note: str
    problem: str | None = None  # why it cannot be applied (unknown field, unreadable company)

    @property
    def is_exclusion(self) -> bool:
        return self.field is None and self.problem is None

    def describe(self) -> dict:
        return {"riga": self.line, "azienda": self.company, "campo": self.field or EXCLUDE,
                "valore": cell_text(self.value), "nota": self.note}


def read_corrections(path: Path, cb: Codebook) -> list[Correction]:
    """Read the corrections file with the one table reader; a file that cannot be read raises
    :class:`FileProblem`. Values are kept as written: they are read later with the rules of their field."""
    from analysis.tables import read_table

    table = read_table(path, cb, "corrections")
    problem = table.only_file_problem()
    if problem:
        raise FileProblem(f"{problem} (servono le colonne 'azienda' e 'campo')")
    out = []
    for block, i in table.rows():
        if block.empty[i]:
            continue
        raw = {k: block.raw_cell(k, i) for k in ("azienda", "valore")}
        company = cell_text(raw["azienda"])
        field_text = block.get("campo")[i] or ""
        if not company and not field_text:
            continue
        vat, _ = parse_vat(raw["azienda"] if not isinstance(raw["azienda"], str) else company)
        c = Correction(block.source_rows[i], company, vat, company_name_key(company, cb.legal_forms), None,
                       raw["valore"], block.get("nota")[i] or "")
        if not company:
            c.problem = "azienda mancante"
        elif normalise(field_text) in _EXCLUDE_WORDS:
            pass
        else:
            hit = match_header(field_text, cb)
            if hit is None or hit.option is not None:
                c.problem = f"campo sconosciuto: {field_text!r}"
            else:
                c.field = hit.key
        out.append(c)
    return out
