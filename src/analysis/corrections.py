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
from analysis.workbooks import FileProblem, csv_candidates, open_workbook

EXCLUDE = "escludi"
_COLUMNS = {
    "azienda": "company", "impresa": "company", "company": "company", "ragione sociale": "company",
    "partita iva": "company", "campo": "field", "field": "field", "valore": "value", "nuovo valore": "value",
    "value": "value", "new value": "value", "nota": "note", "note": "note", "notes": "note",
}
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
    """Read the corrections file; a file that cannot be read raises :class:`FileProblem`."""
    if path.suffix.lower() == ".csv":
        candidates = csv_candidates(path)
        rows = max(candidates, key=lambda s: len(s.rows[0]) if s.rows else 0).rows
    else:
        wb = open_workbook(path)
        rows = wb.get_sheet_by_index(0).to_python()
    if not rows:
        return []
    columns = {j: _COLUMNS.get(normalise(h)) for j, h in enumerate(rows[0])}
    if "company" not in columns.values() or "field" not in columns.values():
        raise FileProblem("le colonne 'azienda' e 'campo' sono obbligatorie")
    out = []
    for i, row in enumerate(rows[1:], start=2):
        cells = {columns[j]: v for j, v in enumerate(row) if columns.get(j)}
        company = cell_text(cells.get("company"))
        field_text = cell_text(cells.get("field"))
        if not company and not field_text:
            continue
        vat, _ = parse_vat(cells.get("company") if not isinstance(cells.get("company"), str) else company)
        c = Correction(i, company, vat, company_name_key(company, cb.legal_forms), None,
                       cells.get("value"), cell_text(cells.get("note")))
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
