"""The blank survey workbook that companies fill in (``python -m analysis template``).

Layout, all from the codebook:

* ``Istruzioni``: how to fill in the questionnaire, in Italian;
* ``Risposte``: one header row of the spec's Italian labels, one row per
  company; drop-down lists for every single-choice question and for the 1-5
  needs scale; one yes/no column per option for several-choice questions
  (``Mercati di sbocco [Automotive]``); number validation for numeric
  fields; frozen header; readable widths;
* ``Liste`` (hidden): the values behind the drop-down lists.

The sample generator fills the same layout, so the bundled sample is a
template workbook as a company would return it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from analysis.codebook import Codebook, Field, load_codebook
from analysis.outputs import save_workbook

RESPONSES_SHEET = "Risposte"
LISTS_SHEET = "Liste"
YES, NO, MAYBE = "Sì", "No", "Da valutare"
HEADER_ROW = 1

_HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
_NEED_FILL = PatternFill("solid", fgColor="2E75B6")
_MATURITY_FILL = PatternFill("solid", fgColor="548235")
_HEADER_FONT = Font(bold=True, color="FFFFFF")

# Number formats a company's answers are shown in (and the reader honours).
PERCENT_FORMAT = "0%"
DATE_FORMAT = "dd/mm/yyyy"


@dataclass(frozen=True)
class TemplateColumn:
    """One column of the ``Risposte`` sheet."""

    header: str
    field: Field
    option: str | None = None  # for one-column-per-option questions


def template_columns(codebook: Codebook | None = None) -> list[TemplateColumn]:
    """The columns of the ``Risposte`` sheet, in order."""
    cb = codebook or load_codebook()
    cols: list[TemplateColumn] = []
    for f in cb.fields:
        if f.form_only:
            continue
        if f.type == "multi" and f.options:
            cols.extend(TemplateColumn(f"{f.it} [{opt}]", f, opt) for opt in f.options)
        else:
            cols.append(TemplateColumn(f.it, f))
    return cols


def _instructions(cb: Codebook) -> list[list[str]]:
    lo, hi = cb.importance_range
    scale = "; ".join(cb.importance_labels)
    mat = cb.maturity_scale
    return [
        ["Questionario sui bisogni di innovazione delle imprese metalmeccaniche"],
        ["Confindustria Varese e PoliHub - Gruppi Meccaniche e Metallurgiche, Siderurgiche e Fonderie"],
        [],
        ["Come compilare"],
        [f"1. Compilate il foglio '{RESPONSES_SHEET}': una riga per impresa, a partire dalla riga 2."],
        ["2. Non modificate, spostate o rinominate le intestazioni delle colonne."],
        ["3. Dove la cella offre un elenco a discesa, scegliete una delle voci proposte."],
        ["4. Mercati di sbocco: scrivete 'Sì' in ogni colonna che vi riguarda; lasciate vuote le altre."],
        ["5. Principali clienti e fornitori locali: ragione sociale o partita IVA, separati da ';'."],
        [f"6. Bisogni: importanza da {lo} a {hi} ({scale})."],
        [f"7. Maturità digitale: un numero intero da {mat['min']} (assente) a {mat['max']} (avanzata) per ogni dimensione."],
        ["8. Quote percentuali: scrivete per esempio 35 per il 35%."],
        ["9. Consenso a essere citati: senza un 'Sì' esplicito l'impresa non sarà mai nominata nei report."],
        [],
        ["Riservatezza"],
        ["Le risposte sono riservate: i report per il Consiglio mostrano solo dati aggregati su almeno tre imprese,"],
        ["e nominano un'impresa solo con il suo consenso. I dati personali non compaiono mai nei report."],
    ]


def _list_values(col: TemplateColumn, cb: Codebook) -> list[str] | None:
    f = col.field
    if col.option is not None or f.type in ("yes_no", "consent"):
        return [YES, NO]
    if f.type == "yes_no_maybe":
        return [YES, NO, MAYBE]
    if f.type == "choice":
        return list(f.options)
    if f.type == "sector":
        return cb.sector_labels
    if f.type == "importance":
        return cb.importance_labels
    return None


def build_template(codebook: Codebook | None = None) -> Workbook:
    """The blank template as an openpyxl workbook (also the base of the sample)."""
    cb = codebook or load_codebook()
    cols = template_columns(cb)
    wb = Workbook()
    info = wb.active
    info.title = "Istruzioni"
    for row in _instructions(cb):
        info.append(row)
    info["A1"].font = Font(bold=True, size=14)
    for cell in ("A4", "A15"):
        info[cell].font = Font(bold=True)
    info.column_dimensions["A"].width = 110

    ws = wb.create_sheet(RESPONSES_SHEET)
    lists = wb.create_sheet(LISTS_SHEET)
    lists.sheet_state = "hidden"
    wb.active = 1

    list_ranges: dict[tuple[str, ...], str] = {}
    validations: dict[str, DataValidation] = {}
    last = 1000  # validation reaches this row

    def validation(key: str, **kwargs) -> DataValidation:
        if key not in validations:
            dv = DataValidation(allow_blank=True, showErrorMessage=True, **kwargs)
            ws.add_data_validation(dv)
            validations[key] = dv
        return validations[key]

    for idx, col in enumerate(cols, start=1):
        letter = get_column_letter(idx)
        cell = ws.cell(row=HEADER_ROW, column=idx, value=col.header)
        fill = {"need": _NEED_FILL, "maturity": _MATURITY_FILL}.get(col.field.group, _HEADER_FILL)
        cell.fill, cell.font = fill, _HEADER_FONT
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.column_dimensions[letter].width = max(14, min(40, len(col.header) * 0.9))
        target = f"{letter}{HEADER_ROW + 1}:{letter}{last}"

        values = _list_values(col, cb)
        f = col.field
        if values is not None:
            key = tuple(values)
            if key not in list_ranges:
                lcol = get_column_letter(len(list_ranges) + 1)
                for r, v in enumerate(values, start=1):
                    lists.cell(row=r, column=len(list_ranges) + 1, value=v)
                list_ranges[key] = f"{LISTS_SHEET}!${lcol}$1:${lcol}${len(values)}"
            validation(f"list:{list_ranges[key]}", type="list", formula1=f"={list_ranges[key]}",
                       error="Scegliete una voce dell'elenco.").add(target)
        elif f.type == "maturity":
            validation("maturity", type="whole", operator="between",
                       formula1=str(cb.maturity_scale["min"]), formula2=str(cb.maturity_scale["max"]),
                       error="Un numero intero da 0 a 5.").add(target)
        elif f.type == "integer":
            validation("integer", type="whole", operator="greaterThanOrEqual", formula1="0",
                       error="Un numero intero maggiore o uguale a zero.").add(target)
        elif f.type == "number":
            validation("number", type="decimal", operator="greaterThanOrEqual", formula1="0",
                       error="Un numero maggiore o uguale a zero.").add(target)
        elif f.type == "percent":
            validation("percent", type="decimal", operator="between", formula1="0", formula2="1",
                       error="Una percentuale da 0% a 100%.").add(target)
            ws.column_dimensions[letter].number_format = PERCENT_FORMAT
        if f.type in ("vat", "ateco"):
            # Text, so leading zeros and `25.10` survive Excel's number guessing.
            ws.column_dimensions[letter].number_format = "@"
    ws.freeze_panes = ws.cell(row=HEADER_ROW + 1, column=1)
    ws.row_dimensions[HEADER_ROW].height = 60
    return wb


def write_template(path: str | Path, codebook: Codebook | None = None) -> Path:
    """Write the blank template workbook to ``path``."""
    return save_workbook(build_template(codebook), path)
