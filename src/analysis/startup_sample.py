"""Synthetic startup list for scouting (``python -m analysis startups-sample``).

About 80 deep-tech startups, Italian and foreign, in the spreadsheet form of
spec section 7 (``Nome startup``, ``Paese``, ``Tecnologie``, ``TRL``,
``Descrizione``, ``Sito web``):

* for every need of the codebook, :data:`PER_NEED` startups are *planted*:
  their tags and description speak of that need (its labels and synonyms,
  sometimes only in the description, half in Italian and half in English);
  one of them per need is too early (TRL 3-4) for the default threshold;
* :data:`OFF_TOPIC` startups work outside the needs (agritech, fintech,
  biotech, ...);
* the usual mess: a TRL written ``TRL 7`` or ``n.d.``, a startup listed twice
  (the later row holds), a row without a name, a blank row.

The truth table (startup, planted need or empty, TRL) is written beside the
workbook. Seeded: the same seed and codebook give the same bytes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook

from analysis.codebook import Codebook, load_codebook
from analysis.outputs import save_workbook, write_csv

PER_NEED = 4
OFF_TOPIC = 12
HEADERS = ["Nome startup", "Paese", "Tecnologie", "TRL", "Descrizione", "Sito web"]
_COUNTRIES = ["Italia"] * 6 + ["Germania", "Francia", "Svizzera", "Paesi Bassi", "Spagna", "Svezia", "Israele",
                                "Regno Unito", "Stati Uniti", "Finlandia", "Austria"]
_SYLLABLES = ["ax", "bri", "cor", "dyn", "ela", "fer", "gra", "hex", "ion", "kai", "lum", "met", "nov", "oxi", "pra",
              "qua", "rob", "sen", "tek", "ult", "vox", "wav", "xel", "zen", "fab", "lin", "mat", "tra", "vis", "cyb"]
_SUFFIX = ["", " Labs", " Tech", " Robotics", " AI", " Systems", " Solutions", " Srl", " GmbH", " SAS"]
_IT = [
    "{name} sviluppa soluzioni di {a} per le imprese manifatturiere. {desc} La piattaforma combina {b} e {c}.",
    "Spin-off universitaria che porta {a} nelle PMI metalmeccaniche: {desc_lower} Tecnologie chiave: {b}, {c}.",
    "{name} offre {a} chiavi in mano per fonderie e officine meccaniche, con {b} e {c}.",
]
_EN = [
    "{name} builds {a} for manufacturers of metal parts, combining {b} and {c} in one product.",
    "Deep-tech startup delivering {a} to industrial SMEs: {en_lower} with {b} and {c}.",
    "{name} helps factories adopt {a}; its platform brings {b} and {c} to the shop floor.",
]
_OFF = [
    ("agritech", "Sensori per l'irrigazione di precisione e il monitoraggio delle colture in campo aperto."),
    ("fintech", "Payment platform for marketplaces with instant settlement and fraud scoring for consumers."),
    ("biotech", "Anticorpi monoclonali per la diagnosi precoce di malattie rare in ambito ospedaliero."),
    ("edtech", "Language-learning app with spaced repetition and live tutors for secondary school students."),
    ("foodtech", "Proteine vegetali fermentate per sostituti della carne nella ristorazione collettiva."),
    ("proptech", "Marketplace for short-term rentals with dynamic pricing for city apartments."),
    ("medtech", "Dispositivo indossabile per il monitoraggio del sonno e della frequenza cardiaca a casa."),
    ("insurtech", "Usage-based car insurance for young drivers through a smartphone app."),
    ("traveltech", "Piattaforma di prenotazione di esperienze turistiche con guide locali certificate."),
    ("gaming", "Mobile game studio building casual puzzle games with social leaderboards."),
    ("fashiontech", "Camerino virtuale per negozi di abbigliamento online con taglie suggerite."),
    ("legaltech", "Contract review assistant for law firms that highlights unusual clauses."),
]


def _name(rng: np.random.Generator, used: set[str]) -> str:
    while True:
        parts = rng.choice(_SYLLABLES, size=int(rng.integers(2, 4)))
        name = "".join(parts).capitalize() + str(rng.choice(_SUFFIX))
        if name not in used:
            used.add(name)
            return name


def _site(name: str) -> str:
    return "https://www." + "".join(ch for ch in name.lower().split(" ")[0] if ch.isalnum()) + ".example"


def generate_startups(cb: Codebook | None = None, seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(rows as the spreadsheet holds them, truth table)."""
    cb = cb or load_codebook()
    rng = np.random.default_rng(seed)
    used: set[str] = set()
    rows, truth = [], []
    for need in cb.needs:
        terms = list(need.synonyms) or [need.it]
        for j in range(PER_NEED):
            name = _name(rng, used)
            picks = list(rng.choice(terms, size=min(3, len(terms)), replace=False))
            while len(picks) < 3:
                picks.append(need.en)
            a, b, c = picks
            english = j % 2 == 1
            template = str(rng.choice(_EN if english else _IT))
            desc = template.format(name=name, a=a, b=b, c=c, desc=need.description,
                                   desc_lower=need.description[:1].lower() + need.description[1:],
                                   en_lower=need.en[:1].lower() + need.en[1:])
            # Tags: the need key, its label, free synonyms, or none at all (the description must carry it).
            tag_style = j % 4
            tags = {0: [need.key.removeprefix("bisogno_").replace("_", " "), str(b)], 1: [need.en, str(c)],
                    2: [str(a), str(b)], 3: []}[tag_style]
            trl = int(rng.integers(3, 5)) if j == PER_NEED - 1 else int(rng.integers(5, 10))
            rows.append([name, str(rng.choice(_COUNTRIES)), "; ".join(tags), trl, desc, _site(name)])
            truth.append({"startup": name, "need": need.key, "trl": trl})
    for tag, desc in _OFF[:OFF_TOPIC]:
        name = _name(rng, used)
        trl = int(rng.integers(4, 10))
        rows.append([name, str(rng.choice(_COUNTRIES)), tag, trl, desc, _site(name)])
        truth.append({"startup": name, "need": "", "trl": trl})
    order = rng.permutation(len(rows))
    rows = [rows[i] for i in order]
    truth = [truth[i] for i in order]
    # Messiness: TRL as text, an unreadable TRL, a repeated startup (the later row holds), no name, a blank row.
    rows[1][3] = f"TRL {rows[1][3]}"
    rows[2][3] = "n.d."
    rows.append([rows[5][0], rows[5][1], rows[5][2], rows[5][3], rows[5][4] + " Aggiornato.", rows[5][5]])
    rows.append([None, "Italia", "robotica", 6, "Riga senza nome.", None])
    rows.append([None] * len(HEADERS))
    frame = pd.DataFrame(rows, columns=HEADERS)
    return frame, pd.DataFrame(truth)


def write_startups(path: str | Path, seed: int = 7, truth_path: str | Path | None = None,
                   cb: Codebook | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The synthetic list as an xlsx (a title row above the header, like real lists) and its truth table."""
    frame, truth = generate_startups(cb, seed)
    wb = Workbook()
    ws = wb.active
    ws.title = "Startup"
    ws.append(["Scouting PoliHub - elenco startup (dati sintetici)"])
    ws.append(HEADERS)
    for row in frame.itertuples(index=False):
        ws.append(list(row))
    for col, width in zip("ABCDEF", [26, 14, 40, 10, 90, 34], strict=True):
        ws.column_dimensions[col].width = width
    save_workbook(wb, Path(path))
    if truth_path is not None:
        write_csv(Path(truth_path), truth)
    return frame, truth
