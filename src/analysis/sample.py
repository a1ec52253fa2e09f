"""Synthetic survey generator (``python -m analysis sample``).

Writes a workbook in the template's form, answered the way real companies
answer: Italian company names with legal forms, valid VAT numbers (some with
``IT``, spaces or dots), ATECO codes of both sector groups written in several
ways, plausible sizes and turnover, needs as numbers and as labels, blanks,
percent-formatted cells and percentages typed as text.

Planted structure (what the analysis must find again)
-----------------------------------------------------
* **Segments**: every company belongs to one of the :data:`PLANTED_SEGMENTS`
  (five groups of unequal size, 28/24/20/16/12 %). A segment rates its own
  ``high_needs`` 4-5 (sometimes 3) and every other need mostly 1-3. The
  sector mix is uneven: "Energia e decarbonizzazione" and "Materiali e
  additive" are mostly Metallurgiche, Siderurgiche e Fonderie, the others
  mostly Meccaniche. Each segment is also less mature in its
  ``low_maturity`` dimension (the maturity gap behind its needs).
* **Supply network**: the largest OEMs and tier-1 suppliers are *hubs*
  (``hub`` in the truth table); tier-2 suppliers and subcontractors name
  one to three customers, mostly hubs, in ``Principali clienti locali``;
  Meccaniche companies name foundries and steel mills among their
  ``Principali fornitori locali``. Mentions use the company name (with the
  legal form spelled differently) or the VAT number; a few name companies
  outside the survey.
* **Availability**: about a quarter of companies are willing to be a
  Champion and another quarter "Da valutare", at least three per segment
  and sector group; about 60 % consent to be named.
* **Challenges** (``Principale sfida tecnologica``, Italian or English): most
  speak of one need of the company's segment; about 10 % of family
  succession and 6 % of foreign markets, two themes no need of the codebook
  covers (``tema_sfida`` in the truth table); some say little or nothing,
  and a quarter end with a contact person and phone number.
* **Messiness**: about 3 % of companies answer twice (the later answer
  holds), a handful of cells are unreadable (``n.d.``, ``50-249``), a few
  sector groups are blank (derived from ATECO) or spelled as aliases, and
  three extra rows are rejected by design: one without identity, one of
  another sector, one with no needs.

Harder conditions (response styles, missing answers, no groups, small segments, weak contrasts) replace
the need ratings when a ``scenario`` of :mod:`analysis.scenarios` is named
(``python -m analysis sample --scenario stili``).

The truth table (one row per company, with its planted segment) is returned
by :func:`generate_sample` and written beside the workbook by the CLI.
Seeded: the same seed and codebook give the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import scenarios
from analysis.codebook import Codebook, load_codebook
from analysis.identity import company_name_key, vat_check_digit
from analysis.outputs import save_workbook, write_csv
from analysis.template import (
    DATE_FORMAT,
    HEADER_ROW,
    NO,
    PERCENT_FORMAT,
    RESPONSES_SHEET,
    YES,
    build_template,
    template_columns,
)


@dataclass(frozen=True)
class PlantedSegment:
    name: str
    share: float
    high_needs: tuple[str, ...]
    metallurgiche_share: float
    low_maturity: tuple[str, ...]


PLANTED_SEGMENTS: tuple[PlantedSegment, ...] = (
    PlantedSegment("Dati e filiera digitale", 0.28,
                   ("bisogno_integrazione_dati", "bisogno_tracciabilita", "bisogno_cybersecurity"), 0.15, ("dati",)),
    PlantedSegment("Automazione intelligente", 0.24,
                   ("bisogno_robotica", "bisogno_manutenzione_predittiva", "bisogno_qualita_visione",
                    "bisogno_ottimizzazione_ai"), 0.20, ("automazione",)),
    PlantedSegment("Energia e decarbonizzazione", 0.20,
                   ("bisogno_efficienza_energetica", "bisogno_decarbonizzazione", "bisogno_economia_circolare"),
                   0.75, ("green",)),
    PlantedSegment("Materiali e additive", 0.16,
                   ("bisogno_additive", "bisogno_materiali", "bisogno_digital_twin"), 0.60, ("tecnologie",)),
    PlantedSegment("Persone e finanza", 0.12,
                   ("bisogno_competenze", "bisogno_sicurezza_lavoro", "bisogno_finanza_incentivi",
                    "bisogno_logistica"), 0.30, ("persone",)),
)

MECC = "Meccaniche"
METAL = "Metallurgiche, Siderurgiche e Fonderie"

_ATECO = {
    MECC: [("25.62.00", "Lavori di meccanica generale"), ("25.11.00", "Fabbricazione di strutture metalliche"),
           ("25.73.10", "Fabbricazione di utensileria ad azionamento manuale"), ("25.50.00", "Fucinatura, stampaggio e profilatura dei metalli"),
           ("25.61.00", "Trattamento e rivestimento dei metalli"), ("28.41.00", "Fabbricazione di macchine utensili per la formatura dei metalli"),
           ("28.15.10", "Fabbricazione di cuscinetti a sfere"), ("28.29.99", "Fabbricazione di altre macchine di impiego generale"),
           ("27.11.00", "Fabbricazione di motori, generatori e trasformatori elettrici"), ("29.32.09", "Fabbricazione di altre parti ed accessori per autoveicoli"),
           ("30.30.09", "Fabbricazione di aeromobili e veicoli spaziali"), ("33.12.10", "Riparazione e manutenzione di macchine")],
    METAL: [("24.10.00", "Siderurgia"), ("24.51.00", "Fusione di ghisa"), ("24.52.00", "Fusione di acciaio"),
            ("24.53.00", "Fusione di metalli leggeri"), ("24.54.00", "Fusione di altri metalli non ferrosi"),
            ("24.42.00", "Produzione di alluminio e semilavorati"), ("24.33.02", "Profilatura mediante formatura a freddo"),
            ("24.20.10", "Fabbricazione di tubi e condotti senza saldatura")],
}
_PREFIX = {
    MECC: ["Meccanica", "Officine", "Minuterie Metalliche", "Costruzioni Meccaniche", "Torneria", "Stampaggio",
           "Carpenteria", "Ingranaggi", "Tecnomeccanica", "Meccanotecnica", "Oleodinamica", "Utensileria"],
    METAL: ["Fonderia", "Acciaierie", "Trafilerie", "Laminatoio", "Fonderie", "Pressofusioni", "Zincatura",
            "Metallurgica", "Forgiatura"],
}
_NAMES = ["Bianchi", "Colombo", "Ferrari", "Galli", "Brambilla", "Bossi", "Caccia", "Macchi", "Ponti", "Reguzzoni",
          "Castiglioni", "Crespi", "Frattini", "Zanzi", "Broggini", "Bernasconi", "Maroni", "Cattaneo", "Fontana",
          "Riva", "Sala", "Villa", "Marelli", "Lucchina", "Morandi", "Tosi", "Molina", "Bottini", "Daverio", "Conti",
          "Barbieri", "Longhi", "Martegani", "Ossola", "Vanoni", "Pozzi", "Rabolini", "Tognella", "Zerbi", "Carabelli",
          "Olona", "Ticino", "Prealpi", "Insubria", "Verbano", "Varesina", "Lombarda", "Sempione", "Malpensa", "Ceresio",
          "Campo dei Fiori", "Valceresio", "Valganna", "Alto Milanese", "Seprio", "Arno"]
_LEGAL = [("S.p.A.", ["spa", "S.P.A.", "SpA"]), ("S.r.l.", ["srl", "S.R.L.", "Srl"]), ("S.r.l.s.", ["srls"]),
          ("S.n.c.", ["snc"]), ("S.a.s.", ["sas"])]
_COMUNI = ["Varese", "Busto Arsizio", "Gallarate", "Saronno", "Cassano Magnago", "Tradate", "Malnate", "Castellanza",
           "Somma Lombardo", "Luino", "Sesto Calende", "Caronno Pertusella", "Cardano al Campo", "Samarate",
           "Fagnano Olona", "Olgiate Olona", "Gorla Minore", "Lonate Pozzolo", "Vergiate", "Induno Olona", "Solbiate Olona",
           "Castronno", "Gazzada Schianno", "Besozzo", "Venegono Superiore"]
_FIRST = ["Marco", "Giulia", "Luca", "Francesca", "Andrea", "Chiara", "Paolo", "Elena", "Stefano", "Sara", "Giorgio",
          "Laura", "Matteo", "Silvia", "Alberto", "Valentina", "Roberto", "Anna", "Davide", "Federica"]
_EXTERNAL = ["Alfa Componenti S.r.l.", "Nord Ricambi S.p.A.", "Eurocarrozzerie S.p.A.", "Insubria Energia S.r.l.",
             "Lario Impianti S.r.l.", "Padana Veicoli S.p.A."]
# The main technology challenge in the company's words (Italian or English): each text speaks of one need of the
# company's segment, or of a theme the questionnaire does not ask about (issue 18), or of nothing in particular.
_CHALLENGES = {
    "Dati e filiera digitale": [
        ("bisogno_integrazione_dati", "Collegare le macchine al gestionale e scambiare dati di lotto con i clienti."),
        ("bisogno_integrazione_dati", "Integrare MES ed ERP per avere i dati di produzione in tempo reale."),
        ("bisogno_integrazione_dati", "Connect our machines to the ERP and share production data with customers."),
        ("bisogno_tracciabilita", "Garantire la tracciabilità dei lotti lungo la filiera, dal fornitore al cliente."),
        ("bisogno_cybersecurity", "Proteggere la rete di fabbrica dagli attacchi informatici.")],
    "Automazione intelligente": [
        ("bisogno_robotica", "Introdurre robot collaborativi per l'asservimento delle macchine utensili."),
        ("bisogno_qualita_visione", "Controllo qualità automatico con telecamere sui pezzi lavorati."),
        ("bisogno_manutenzione_predittiva", "Predict spindle failures before they stop the line."),
        ("bisogno_manutenzione_predittiva", "Ridurre i fermi macchina con la manutenzione predittiva.")],
    "Energia e decarbonizzazione": [
        ("bisogno_efficienza_energetica", "Ridurre il costo energetico dei forni e recuperare il calore di scarto."),
        ("bisogno_efficienza_energetica", "Cut the energy bill of our melting furnaces with heat recovery."),
        ("bisogno_decarbonizzazione", "Elettrificare i forni e ridurre le emissioni di CO2."),
        ("bisogno_economia_circolare", "Recuperare e riciclare sabbie e scorie di fonderia.")],
    "Materiali e additive": [
        ("bisogno_materiali", "Qualificare leghe leggere e componenti per i clienti aerospaziali."),
        ("bisogno_materiali", "Develop lighter alloys for electric vehicle components."),
        ("bisogno_additive", "Stampa 3D in metallo per piccole serie e ricambi."),
        ("bisogno_digital_twin", "Simulare il processo di colata prima di produrre.")],
    "Persone e finanza": [
        ("bisogno_competenze", "Formare gli operatori sulle nuove tecnologie digitali."),
        ("bisogno_finanza_incentivi", "Accedere ai bandi e agli incentivi per l'innovazione."),
        ("bisogno_sicurezza_lavoro", "Ridurre gli infortuni nei reparti con sensori indossabili."),
        ("bisogno_logistica", "Make our supply chain more resilient to shortages.")],
}
# Themes no need of the codebook covers: family succession, then foreign markets; and texts that say little.
_NEW_THEMES = [
    ("passaggio generazionale", 0.10, [
        "Gestire il passaggio generazionale alla guida dell'impresa.",
        "Preparare il passaggio generazionale e la successione familiare.",
        "Organizzare la successione familiare e il passaggio generazionale della proprietà."]),
    ("mercati esteri", 0.06, [
        "Aprire nuovi mercati esteri per i nostri prodotti.",
        "Entrare nei mercati esteri extra UE con una rete commerciale."]),
]
_VAGUE = ["Nessuna sfida particolare per quest'anno.", "Niente di specifico al momento.", "Nessuna in particolare."]


def _challenge(rng: np.random.Generator, segment: str) -> tuple[str | None, str]:
    """(text, what it speaks of: a need key, a new theme, or "") of one company's challenge. Drawn from its own
    generator (``rng``), so the other answers are those of a sample without challenge themes."""
    u = rng.random()
    for theme, share, texts in _NEW_THEMES:
        if u < share:
            return str(rng.choice(texts)), theme
        u -= share
    if u < 0.06:
        return None, ""
    if u < 0.10:
        return str(rng.choice(_VAGUE)), ""
    need, text = _CHALLENGES[segment][int(rng.integers(len(_CHALLENGES[segment])))]
    return text, need


def make_vat(rng: np.random.Generator, office: str = "012") -> str:
    """A valid Italian VAT number (``012`` is the Varese tax office)."""
    body = "".join(str(d) for d in rng.integers(0, 10, size=7)) + office
    return body + str(vat_check_digit(body))


def _importance(rng: np.random.Generator, high: bool) -> int:
    if high:
        return int(rng.choice([3, 4, 5], p=[0.08, 0.42, 0.50]))
    return int(rng.choice([1, 2, 3, 4], p=[0.25, 0.45, 0.25, 0.05]))


def _write_importance(rng: np.random.Generator, value: int, cb: Codebook) -> object:
    """A need answer as companies write it: number, ``4 - label`` or label."""
    level = cb.importance_scale[value - 1]
    kind = rng.random()
    if kind < 0.55:
        return value
    if kind < 0.90:
        return f"{value} - {level['it']}"
    return str(level["it"])


def _size(rng: np.random.Generator) -> int:
    cls = rng.choice(4, p=[0.18, 0.46, 0.28, 0.08])
    lo, hi = [(2, 9), (10, 49), (50, 249), (250, 1200)][cls]
    return int(round(np.exp(rng.uniform(np.log(lo), np.log(hi + 1)))))


@dataclass
class SampleSurvey:
    """Generated answers: ``rows`` are header -> cell value dicts in template order."""

    rows: list[dict]
    number_formats: dict[str, str]  # header -> number format of its cells
    truth: pd.DataFrame


def generate_sample(companies: int = 300, seed: int = 42, codebook: Codebook | None = None,
                    messy: bool = True, scenario: str | None = None) -> SampleSurvey:
    """Answers of ``companies`` synthetic companies, with the planted structure of the module docstring; with
    a ``scenario`` (a name of :data:`analysis.scenarios.SCENARIOS`) the need ratings, sector groups and sizes
    come from that harder condition instead, and the truth table's ``segment`` is the scenario's."""
    cb = codebook or load_codebook()
    syn = scenarios.generate(scenario, cb, seed, companies) if scenario else None
    rng = np.random.default_rng(seed)
    said = np.random.default_rng([seed, 18])  # the challenges' own stream (see _challenge)
    cols = template_columns(cb)
    need_keys = set(cb.need_keys)
    segments = [s for s in PLANTED_SEGMENTS if set(s.high_needs) & need_keys] or list(PLANTED_SEGMENTS)
    shares = np.array([s.share for s in segments])
    counts = np.floor(shares / shares.sum() * companies).astype(int)
    counts[: companies - counts.sum()] += 1
    seg_of = np.repeat(np.arange(len(segments)), counts)
    rng.shuffle(seg_of)

    # Identity, sector and size first: the network needs all companies.
    used_keys: set[str] = set()
    firms = []
    for i in range(companies):
        seg = segments[seg_of[i]]
        sector = METAL if rng.random() < seg.metallurgiche_share else MECC
        while True:
            legal, variants = _LEGAL[int(rng.choice(len(_LEGAL), p=[0.35, 0.45, 0.05, 0.08, 0.07]))]
            base = f"{rng.choice(_PREFIX[sector])} {rng.choice(_NAMES)}"
            if rng.random() < 0.3:
                base += f" {rng.choice(_NAMES)}"
            key = company_name_key(base, cb.legal_forms)
            if key not in used_keys:
                used_keys.add(key)
                break
        employees = _size(rng)
        position = (cb.field("posizione_filiera").options[int(rng.choice(4, p=[0.12, 0.30, 0.33, 0.25]))]
                    if "posizione_filiera" in cb.by_key else "")
        if employees >= 250 and rng.random() < 0.6:
            position = "Produttore finale (OEM)"
        if syn is not None:  # the scenario decides the group and size (its blanks depend on the size)
            sector, employees = str(syn.sector[i]), int(syn.employees[i])
        firms.append(dict(name=f"{base} {legal}", variants=variants, base=base, vat=make_vat(rng), sector=sector,
                          segment=seg, employees=employees, position=position))

    order = np.argsort([-f["employees"] - (1000 if f["position"] in ("Produttore finale (OEM)", "Fornitore di primo livello") else 0)
                        for f in firms], kind="stable")
    hubs = [int(i) for i in order[: max(3, companies // 35)]]
    for i in hubs:
        firms[i]["hub"] = True
    foundries = [i for i, f in enumerate(firms) if f["sector"] == METAL]

    def mention(j: int) -> str:
        f = firms[j]
        r = rng.random()
        if r < 0.35:
            return f["vat"]
        if r < 0.6:
            return f"{f['base']} {rng.choice(f['variants'])}"
        return f["name"]

    rows: list[dict] = []
    truth = []
    start = datetime(2026, 10, 1, 8, 0)
    mercati = list(cb.field("mercati_sbocco").options) if "mercati_sbocco" in cb.by_key else []
    for i, f in enumerate(firms):
        seg: PlantedSegment = f["segment"]
        customers: list[str] = []
        suppliers: list[str] = []
        if i not in hubs and f["position"] != "Produttore finale (OEM)":
            for _ in range(int(rng.integers(1, 4))):
                pool = hubs if rng.random() < 0.75 else range(companies)
                j = int(rng.choice(list(pool)))
                if j != i:
                    customers.append(mention(j))
        if f["sector"] == MECC and foundries and rng.random() < 0.6:
            for _ in range(int(rng.integers(1, 3))):
                j = int(rng.choice(foundries))
                if j != i:
                    suppliers.append(mention(j))
        if rng.random() < 0.1:
            customers.append(str(rng.choice(_EXTERNAL)))
        customers = list(dict.fromkeys(customers))
        suppliers = list(dict.fromkeys(suppliers))

        size_boost = {True: 0.8, False: 0.0}[f["employees"] >= 50] + (0.6 if f["employees"] >= 250 else 0.0)
        willing = rng.choice([YES, "Da valutare", NO], p=[0.27, 0.25, 0.48])
        consent = rng.choice([YES, NO, None], p=[0.6, 0.3, 0.1])
        first, last = rng.choice(_FIRST), rng.choice(_NAMES[:40])
        challenge, theme = _challenge(said, seg.name) if seg.name in _CHALLENGES else (
            "Innovare i processi produttivi.", "")
        if rng.random() < 0.25:  # a contact in the text: personal data the report must never show
            challenge = (challenge or "") + f" Referente interno: {first} {last}, tel. 0332 {rng.integers(100000, 999999)}."
        ateco, ateco_desc = _ATECO[f["sector"]][int(rng.integers(len(_ATECO[f["sector"]])))]
        ateco_form = rng.random()
        if ateco_form < 0.6:
            ateco_txt = ateco
        elif ateco_form < 0.75:
            ateco_txt = ateco[:5]
        elif ateco_form < 0.85:
            ateco_txt = "C" + ateco[:5]
        else:
            ateco_txt = f"{ateco} - {ateco_desc}"
        group = f["sector"] if rng.random() < 0.85 else rng.choice(
            {MECC: ["Meccanica", "Mechanical", None], METAL: ["Fonderie", "Metallurgia", None]}[f["sector"]])
        vat_txt = f["vat"]
        vr = rng.random()
        if vr < 0.08:
            vat_txt = "IT" + vat_txt
        elif vr < 0.12:
            vat_txt = f"{vat_txt[:3]} {vat_txt[3:7]} {vat_txt[7:]}"
        turnover = round(f["employees"] * rng.uniform(0.12, 0.35), 1)
        submitted = start + timedelta(minutes=int(rng.integers(0, 45 * 24 * 60)))

        answers: dict[str, object] = {
            "data_compilazione": submitted,
            "ragione_sociale": f["name"],
            "partita_iva": vat_txt,
            "referente": f"{first} {last}",
            "email_referente": f"{first[0].lower()}.{last.lower().replace(' ', '')}@{f['base'].split()[-1].lower()}.it",
            "comune": str(rng.choice(_COMUNI)),
            "codice_ateco": ateco_txt,
            "gruppo_merceologico": group,
            "dipendenti": f["employees"],
            "fatturato_milioni": turnover,
            "quota_export": round(float(rng.uniform(0, 0.9)), 2),
            "posizione_filiera": f["position"],
            "clienti_principali": "; ".join(customers) or None,
            "fornitori_principali": "; ".join(suppliers) or None,
            "funzione_rs": YES if rng.random() < 0.25 + 0.3 * size_boost else NO,
            "innovation_manager": YES if rng.random() < 0.15 + 0.25 * size_boost else NO,
            "spesa_rs_pct": round(float(rng.uniform(0, 0.06)), 3),
            "open_innovation": rng.choice(["Nessuna", "Occasionale", "Strutturata"], p=[0.5, 0.35, 0.15]),
            "orizzonte_investimento": rng.choice(
                ["Entro 12 mesi", "1-3 anni", "Oltre 3 anni"],
                p=[0.5, 0.35, 0.15] if seg.name.startswith("Energia") else [0.3, 0.45, 0.25]),
            "disponibilita_champion": willing,
            "disponibilita_startup": rng.choice([YES, "Da valutare", NO], p=[0.4, 0.3, 0.3]),
            "consenso_nominativo": consent,
            "sfida_principale": challenge,
        }
        if rng.random() < 0.15:  # typed as text instead of a percent cell
            answers["spesa_rs_pct"] = f"{answers['spesa_rs_pct'] * 100:.1f}%".replace(".", ",")
        markets = rng.choice(mercati, size=int(rng.integers(1, 4)), replace=False) if mercati else []
        base_mat = 1.2 + 0.6 * size_boost + rng.normal(0, 0.6)
        for m in cb.maturity:
            level = base_mat + rng.normal(0, 0.5) - (1.2 if m.dimension in seg.low_maturity else 0.0)
            answers[m.key] = int(np.clip(round(level), 0, 5))
        for n in cb.needs:
            answers[n.key] = _write_importance(rng, _importance(rng, n.key in seg.high_needs), cb)
        if syn is not None:
            for n in cb.needs:
                v = syn.ratings.at[i, n.key]
                answers[n.key] = None if pd.isna(v) else _write_importance(rng, int(v), cb)
        if messy:
            for n in cb.needs:
                if rng.random() < 0.02:
                    answers[n.key] = None
        row = _to_row(cols, answers, markets)
        rows.append(row)
        planted = seg.name if syn is None else (f"{scenario} {int(syn.segment[i]) + 1}" if syn.segment[i] >= 0
                                                else f"{scenario}: nessun gruppo")
        truth.append(dict(partita_iva=f["vat"], ragione_sociale=f["name"], segment=planted, sector=f["sector"],
                          hub=bool(f.get("hub", False)), dipendenti=f["employees"],
                          disponibilita_champion=willing, consenso_nominativo=consent or "", tema_sfida=theme))

    if messy:
        rows = _add_mess(rng, rows, cols, cb, firms)
    formats = {c.header: PERCENT_FORMAT for c in cols if c.field.type == "percent"}
    formats.update({c.header: DATE_FORMAT + " hh:mm" for c in cols if c.field.type == "date"})
    return SampleSurvey(rows=rows, number_formats=formats, truth=pd.DataFrame(truth))


def _to_row(cols, answers: dict, markets) -> dict:
    row = {}
    for c in cols:
        if c.option is not None:
            row[c.header] = YES if c.option in markets else None
        else:
            v = answers.get(c.field.key)
            row[c.header] = v.item() if hasattr(v, "item") else v
    return row


def _add_mess(rng, rows: list[dict], cols, cb: Codebook, firms) -> list[dict]:
    """Re-submissions, unreadable cells and three rows rejected by design."""
    by_key = {c.field.key: c.header for c in cols if c.option is None}
    need_headers = [by_key[k] for k in cb.need_keys if k in by_key]
    out = list(rows)
    # ~3% answer twice: an earlier draft, placed anywhere in the file.
    for i in rng.choice(len(rows), size=max(1, len(rows) // 33), replace=False):
        draft = dict(rows[i])
        draft[by_key["data_compilazione"]] = rows[i][by_key["data_compilazione"]] - timedelta(days=int(rng.integers(1, 10)))
        for h in rng.choice(need_headers, size=3, replace=False):
            draft[h] = int(rng.integers(1, 6))
        if rng.random() < 0.5:  # the draft gave the name only
            draft[by_key["partita_iva"]] = None
        out.insert(int(rng.integers(0, len(out))), draft)
    # Unreadable cells, flagged by the reader.
    for _ in range(max(1, len(rows) // 60)):
        r = out[int(rng.integers(len(out)))]
        r[str(rng.choice(need_headers))] = str(rng.choice(["n.d.", "3.5", "7", "boh"]))
    for _ in range(max(1, len(rows) // 100)):
        out[int(rng.integers(len(out)))][by_key["dipendenti"]] = str(rng.choice(["50-249", "circa 30", "n.d."]))
    # Rejected by design.
    blank = {h: None for h in out[0]}
    no_identity = dict(out[0], **{by_key["ragione_sociale"]: None, by_key["partita_iva"]: None})
    other_sector = dict(blank, **{by_key["ragione_sociale"]: "Chimica Saronnese S.r.l.",
                                  by_key["partita_iva"]: make_vat(rng), by_key["codice_ateco"]: "20.16.00",
                                  by_key["gruppo_merceologico"]: "Chimico", need_headers[0]: 4})
    no_needs = dict(blank, **{by_key["ragione_sociale"]: "Officine Ghirla S.n.c.", by_key["partita_iva"]: make_vat(rng),
                              by_key["gruppo_merceologico"]: MECC, by_key["codice_ateco"]: "25.62.00"})
    for extra in (no_identity, other_sector, no_needs):
        out.insert(int(rng.integers(0, len(out))), extra)
    return out


def write_sample(path: str | Path, companies: int = 300, seed: int = 42, codebook: Codebook | None = None,
                 truth_path: str | Path | None = None, messy: bool = True, scenario: str | None = None) -> SampleSurvey:
    """Write the sample as a filled-in template workbook (and the truth table when asked)."""
    cb = codebook or load_codebook()
    survey = generate_sample(companies, seed, cb, messy=messy, scenario=scenario)
    wb = build_template(cb)
    ws = wb[RESPONSES_SHEET]
    headers = list(survey.rows[0]) if survey.rows else []
    formats = [survey.number_formats.get(h) for h in headers]
    for r, row in enumerate(survey.rows, start=HEADER_ROW + 1):
        for c, (h, fmt) in enumerate(zip(headers, formats, strict=True), start=1):
            v = row[h]
            if v is None:
                continue
            cell = ws.cell(row=r, column=c, value=v)
            if fmt and not isinstance(v, str):
                cell.number_format = fmt
    save_workbook(wb, path)
    if truth_path is not None:
        write_csv(truth_path, survey.truth)
    return survey
