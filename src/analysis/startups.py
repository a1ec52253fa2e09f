"""Startup scouting (notebook 05): read the startup list, match startups to the needs, shortlists, pilots.

Reading
    The list (spec section 7) is read with the survey's reader and rules: a
    header among the first 11 rows (at least three of its fields), labels,
    aliases and the value parsers of the codebook's ``startup_fields``. Every
    row is accounted for: accepted, empty, or rejected with a reason
    (``missing_name``; ``duplicate``: the same startup again, the later row
    holds). It is never read as a survey.

Matching (:mod:`analysis.startup_matching`)
    What a startup says about a need, in Italian or English: its tags and its
    description against the need's vocabulary in the codebook (labels,
    ``synonyms``, ``related`` words), by word stems in any order. The score
    (0-100) is the calibrated probability that the startup answers the need;
    a need no startup reaches at ``startup.soglia_pertinenza`` gets no list.
    Only startups at or above the TRL threshold (default 5) enter the lists;
    the others are listed apart. Explanations quote the startup's own words;
    the companies' answers are never used, so nothing a company wrote can
    reach a startup list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.codebook import Codebook
from analysis.config import BY_NAME
from analysis.ingest import REJECTED_COLUMNS, original_cells
from analysis.text import normalise

ALL_SCOPE = "tutte"
DEFAULT_MIN_SCORE = BY_NAME["startup.soglia_pertinenza"].default


@dataclass
class StartupList:
    """The startups read, and what happened to every row."""

    startups: pd.DataFrame  # field keys + source_file, source_sheet, source_row
    rejected: pd.DataFrame  # REJECTED_COLUMNS
    cell_issues: pd.DataFrame  # source_file, source_sheet, source_row, column, field, value, reason, action
    balance: list[dict] = field(default_factory=list)  # per file and sheet: read, accepted, rejected, empty
    left_out: list[dict] = field(default_factory=list)  # files not read, with the reason
    verdicts: list[Verdict] = field(default_factory=list)  # the scouts' verdicts (see read_verdicts)
    verdicts_file: dict = field(default_factory=dict)  # {"file": ..., "error": ...} when a verdicts file is used

    def summary(self) -> dict:
        return {"balance": self.balance, "left_out": self.left_out,
                "totals": {k: int(sum(b[k] for b in self.balance)) for k in ("read", "accepted", "rejected", "empty")}}


def read_startups(path: str | Path, cb: Codebook) -> StartupList:
    """Every startup of a spreadsheet, or of every spreadsheet under a folder (the one table reader)."""
    from analysis.tables import read_table

    table = read_table(path, cb, "startup")
    scb = table.codebook
    candidates, rejected, issues, balance = [], [], [], []
    for block in table.blocks:
        rel = block.file
        counts = {"file": rel, "sheet": block.sheet, "read": len(block.rows), "accepted": 0, "rejected": 0,
                  "empty": 0}
        balance.append(counts)
        for i, source_row, empty in zip(range(len(block.rows)), block.source_rows, block.empty, strict=True):
            where = (rel, block.sheet, source_row)
            if empty:
                counts["empty"] += 1
                continue
            name = block.get("nome_startup")[i]
            if not name:
                rejected.append((*where, "missing_name", "riga senza nome della startup",
                                 original_cells(block, i), counts))
                continue
            record = {k: block.get(k)[i] for k in scb.by_key}
            record.update(source_file=rel, source_sheet=block.sheet, source_row=source_row)
            candidates.append((normalise(name), (block.file_order, block.sheet_order, source_row), record,
                               original_cells(block, i), counts))
        issues += [(rel, block.sheet, block.source_rows[i], col, key, value, reason, action)
                   for i, col, key, value, reason, action in block.issues if not block.empty[i]]
    left_out = table.left_out
    latest: dict[str, tuple] = {}
    for cand in candidates:
        if cand[0] not in latest or cand[1] > latest[cand[0]][1]:
            latest[cand[0]] = cand
    accepted = []
    for cand in candidates:
        keep = latest[cand[0]]
        if keep is cand:
            cand[4]["accepted"] += 1
            accepted.append(cand[2])
        else:
            rec = cand[2]
            rejected.append((rec["source_file"], rec["source_sheet"], rec["source_row"], "duplicate",
                             f"startup ripetuta: vale la riga {keep[2]['source_row']} di {keep[2]['source_file']}",
                             cand[3], cand[4]))
    for r in rejected:
        r[-1]["rejected"] += 1
    frame = pd.DataFrame(accepted, columns=[*scb.by_key, "source_file", "source_sheet", "source_row"])
    frame["tecnologie"] = frame["tecnologie"].map(lambda t: list(t) if t else [])
    frame["trl"] = frame["trl"].astype("Int64")
    return StartupList(
        startups=frame.reset_index(drop=True),
        rejected=pd.DataFrame([r[:-1] for r in rejected], columns=REJECTED_COLUMNS),
        cell_issues=pd.DataFrame(issues, columns=["source_file", "source_sheet", "source_row", "column", "field",
                                                  "value", "reason", "action"]),
        balance=balance, left_out=left_out)


# --------------------------------------------------------------------------
# Matching

@dataclass
class Matches:
    table: pd.DataFrame  # startup, need, scope, score, rank, trl, explanation (+ evidence columns)
    below_trl: pd.DataFrame  # startups under the TRL threshold (or without a TRL)
    threshold: int
    min_score: float = DEFAULT_MIN_SCORE  # the relevance a startup needs to enter a list


MATCH_COLUMNS = ["startup", "need", "scope", "score", "rank", "trl", "explanation", "tag", "termini", "correlate"]


def _tags(value) -> list[str]:
    """A startup's technologies as a list of text (a table built by hand may hold numbers or None in it)."""
    return [t if isinstance(t, str) else str(t) for t in value if t is not None] if isinstance(value, (list, tuple)) else []


def _text(value) -> str:
    """A description as text: missing is empty, and a number or a date (a table built by hand) its text."""
    return value if isinstance(value, str) else "" if value is None or pd.isna(value) else str(value)


def _listed(name: str, ev, text: str, trl, lex) -> dict:
    """One row of a need's list: a startup, its relevance, the explanation and the evidence behind it."""
    from analysis.startup_matching import explain, score

    f = ev.features()
    explanation = (explain(ev, text, lex, trl) if ev.tag_hits or ev.text_hits or ev.cues
                   else f"Indicata dallo scout per {lex.label}")
    return {"startup": name, "need": lex.key, "scope": ALL_SCOPE, "score": round(score(ev), 4), "trl": trl,
            "explanation": explanation, "tag": int(f["tag_term"]), "termini": int(f["text_terms"]),
            "correlate": round(f["text_related"], 4)}


def _ranked(table: pd.DataFrame, cb: Codebook, per_list: int) -> pd.DataFrame:
    """Each need's list in the codebook's order, best first (pairs a scout accepted before the others), cut to
    ``per_list`` and ranked from 1."""
    order = {k: n for n, k in enumerate(cb.need_keys)}
    accepted_last = table["verdetto"].ne(ACCEPTED).astype(int) if "verdetto" in table else 0
    table = table.assign(_acc=accepted_last).sort_values(
        ["need", "_acc", "score", "startup"], ascending=[True, True, False, True], kind="stable",
        key=lambda c: c.map(order) if c.name == "need" else c).drop(columns="_acc")
    table = table.groupby("need", sort=False).head(per_list).copy()
    table["rank"] = table.groupby("need", sort=False).cumcount() + 1
    return table


def match(startups: pd.DataFrame, cb: Codebook, trl_threshold: int = 5, min_score: float = DEFAULT_MIN_SCORE,
          per_list: int = 10) -> Matches:
    """Score every startup against every need on what it says about the need (:mod:`analysis.startup_matching`:
    its tags and description, Italian or English, against the need's vocabulary in the codebook), and keep,
    per need, the best ``per_list`` startups at or above the TRL threshold whose relevance is at least
    ``min_score`` (0-100, the calibrated probability in percent that the startup answers the need), ranked 1
    (best) down. A need no startup reaches has no list. The lists do not depend on who rated the need (the
    companies' answers add nothing to a startup's words), so there is one list per need, for every scope.
    Startups under the TRL threshold are returned apart, each with the need it fits best."""
    from analysis.startup_matching import assess, lexicons, model_text, score, text_model

    lex = {x.key: x for x in lexicons(cb)}
    eligible = startups.reset_index(drop=True)
    ok = (eligible["trl"].astype("Float64") >= trl_threshold).fillna(False).to_numpy()
    rows, best = [], {}
    texts = [_text(v) for v in eligible["descrizione"]]
    tag_lists = [_tags(v) for v in eligible["tecnologie"]]
    model = text_model()
    read = model.many([model_text(text, tags) for text, tags in zip(texts, tag_lists, strict=True)])
    for i, (name, tags, text, trl, said) in enumerate(zip(eligible["nome_startup"], tag_lists, texts,
                                                          eligible["trl"], read, strict=True)):
        for key, ev in assess(tuple(lex.values()), tags, text, model, said).items():
            s = score(ev)
            if s <= 0:
                continue
            if s > best.get(i, (None, -1.0))[1]:
                best[i] = (key, s)
            if ok[i] and s >= min_score:
                rows.append(_listed(name, ev, text, trl, lex[key]))
    table = pd.DataFrame(rows, columns=[c for c in MATCH_COLUMNS if c != "rank"]).astype({"trl": "Int64"})
    table = _ranked(table, cb, per_list)
    below = eligible[~ok].reset_index(drop=True)
    below["best_need"] = pd.Series([best.get(i, (None, np.nan))[0] for i in np.flatnonzero(~ok)], dtype=object)
    below["best_score"] = [best.get(i, (None, np.nan))[1] for i in np.flatnonzero(~ok)]
    return Matches(table[MATCH_COLUMNS].reset_index(drop=True), below, trl_threshold, min_score)


# --------------------------------------------------------------------------
# Scouts' verdicts

ACCEPTED, REJECTED = "accettata", "rifiutata"
_VERDICT_WORDS = {ACCEPTED: {"accettata", "accettato", "accettare", "accepted", "accept", "si", "yes", "ok", "confermata",
                             "confermato", "valida", "pertinente"},
                  REJECTED: {"rifiutata", "rifiutato", "rifiutare", "rejected", "reject", "no", "scartata", "scartato",
                             "non pertinente", "errata", "sbagliata"}}


@dataclass
class Verdict:
    """One row of the verdicts file: a scout's decision on a startup for a need."""

    line: int  # the row in the file
    startup: str  # as written
    need_text: str  # as written
    verdict_text: str
    note: str
    need: str | None = None  # the need key it names
    verdict: str | None = None  # ACCEPTED or REJECTED
    problem: str | None = None  # why it cannot be applied


def _need_named(text: str, cb: Codebook) -> str | None:
    n = normalise(text)
    for f in cb.needs:
        if n in {normalise(f.key), normalise(f.key.removeprefix("bisogno_")), normalise(f.it), normalise(f.en),
                 normalise(f.short)}:
            return f.key
    return None


def read_verdicts(path: str | Path, cb: Codebook) -> list[Verdict]:
    """The verdicts file (startup, need, verdict, note), read with the one table reader; a file that cannot be
    read raises :class:`analysis.workbooks.FileProblem`."""
    from analysis.tables import read_table
    from analysis.values import cell_text
    from analysis.workbooks import FileProblem

    table = read_table(path, cb, "verdicts")
    problem = table.only_file_problem()
    if problem:
        raise FileProblem(f"{problem} (servono le colonne 'startup', 'bisogno' e 'verdetto')")
    out = []
    for block, i in table.rows():
        if block.empty[i]:
            continue
        v = Verdict(block.source_rows[i], cell_text(block.get("startup")[i]), cell_text(block.get("bisogno")[i]),
                    cell_text(block.get("verdetto")[i]), cell_text(block.get("nota")[i]))
        v.need = _need_named(v.need_text, cb)
        word = normalise(v.verdict_text)
        v.verdict = next((k for k, words in _VERDICT_WORDS.items() if word in words), None)
        if not v.startup:
            v.problem = "startup mancante"
        elif v.need is None:
            v.problem = f"bisogno sconosciuto: {v.need_text!r}"
        elif v.verdict is None:
            v.problem = f"verdetto non riconosciuto: {v.verdict_text!r} (accettata o rifiutata)"
        out.append(v)
    return out


def apply_verdicts(matches: Matches, verdicts: list[Verdict], startups: pd.DataFrame, cb: Codebook,
                   per_list: int = 10) -> tuple[Matches, list[dict]]:
    """The lists with the scouts' verdicts applied, and what happened to every verdict. A rejected pair leaves
    the lists (it does not come back in a later wave while the file holds it); an accepted pair is marked, and
    enters the list even below the relevance threshold when the startup meets the TRL threshold."""
    from analysis.startup_matching import assess, lexicons

    table = matches.table.copy()
    table["verdetto"] = ""
    by_name = {normalise(n): n for n in startups["nome_startup"]}
    rows = startups.set_index("nome_startup")
    report = []
    lex = {x.key: x for x in lexicons(cb)}
    for v in verdicts:
        entry = {"riga": v.line, "startup": v.startup, "bisogno": cb.by_key[v.need].short if v.need else v.need_text,
                 "verdetto": v.verdict or v.verdict_text, "nota": v.note}
        name = by_name.get(normalise(v.startup))
        if v.problem:
            report.append({**entry, "esito": f"non applicato: {v.problem}"})
            continue
        if name is None:
            report.append({**entry, "esito": "non applicato: startup non presente nell'elenco"})
            continue
        here = (table["startup"] == name) & (table["need"] == v.need)
        if v.verdict == REJECTED:
            table = table[~here]
            report.append({**entry, "esito": "applicato: tolta dalla lista" if here.any()
                           else "applicato: non era in lista e non vi entrerà"})
            continue
        if here.any():
            table.loc[here, "verdetto"] = ACCEPTED
            report.append({**entry, "esito": "applicato: segnata come verificata"})
            continue
        r = rows.loc[name]
        trl = r["trl"]
        if pd.isna(trl) or trl < matches.threshold:
            report.append({**entry, "esito": f"non applicato: TRL sotto la soglia di {matches.threshold}"})
            continue
        text = _text(r["descrizione"])
        ev = assess(tuple(lex.values()), _tags(r["tecnologie"]), text)[v.need]
        table = pd.concat([table, pd.DataFrame([{**_listed(name, ev, text, trl, lex[v.need]), "verdetto": ACCEPTED}])],
                          ignore_index=True)
        report.append({**entry, "esito": "applicato: aggiunta alla lista (sotto la soglia di pertinenza)"})
    table = _ranked(table, cb, per_list).astype({"trl": "Int64"}).reset_index(drop=True)
    return Matches(table, matches.below_trl, matches.threshold, matches.min_score), report


# --------------------------------------------------------------------------
# Shortlists and pilots

def shortlist(matches: Matches, need: str, scope: str = ALL_SCOPE, top: int = 5) -> pd.DataFrame:
    t = matches.table
    return t[(t["need"] == need) & (t["scope"].isin([scope, ALL_SCOPE]))].drop_duplicates("startup").head(top)


def pilot_proposals(champions: pd.DataFrame, responses: pd.DataFrame, matches: Matches, priorities: pd.DataFrame,
                    needs_per_champion: int = 2) -> pd.DataFrame:
    """For each Champion: its own top needs (rated highest, ties by its segment's priority rank) and the
    startup that best fits each in its segment's list. A Champion not willing to pilot with startups gets
    no proposal, with the reason."""
    from analysis.values import STORED_ANSWER

    by_id = responses.set_index("company_id")
    rows = []
    for ch in champions.itertuples(index=False):
        r = by_id.loc[ch.company_id]
        willing = r.get("disponibilita_startup")
        rank = priorities[priorities["scope"] == ch.segment].set_index("need")["rank"]
        rated = [(int(r[k]), k) for k in rank.index if k in r and pd.notna(r[k]) and int(r[k]) >= 4]
        top = [k for _, k in sorted(rated, key=lambda x: (-x[0], rank[x[1]]))][:needs_per_champion]
        if willing == STORED_ANSWER["no"]:
            rows.append({"company_id": ch.company_id, "segment": ch.segment, "disponibilita_startup": willing,
                         "need": None, "startup": None, "score": np.nan, "explanation": None,
                         "note": "non disponibile a sperimentare con startup"})
            continue
        for k in top:
            best = shortlist(matches, k, ch.segment, 1)
            if best.empty:
                best = shortlist(matches, k, ALL_SCOPE, 1)
            note = "disponibilità a sperimentare da confermare" if willing != STORED_ANSWER["yes"] else ""
            rows.append({"company_id": ch.company_id, "segment": ch.segment, "disponibilita_startup": willing,
                         "need": k, "startup": None if best.empty else best["startup"].iloc[0],
                         "score": np.nan if best.empty else float(best["score"].iloc[0]),
                         "explanation": None if best.empty else best["explanation"].iloc[0],
                         "note": note if not best.empty else "nessuna startup dell'elenco risponde a questo bisogno"})
    return pd.DataFrame(rows, columns=["company_id", "segment", "disponibilita_startup", "need", "startup", "score",
                                       "explanation", "note"])


# --------------------------------------------------------------------------
# Tables for the report

def rejected_table(rejected: pd.DataFrame) -> pd.DataFrame:
    r = rejected
    return pd.DataFrame({"File": r["source_file"], "Foglio": r["source_sheet"], "Riga": r["source_row"],
                         "Motivo": r["message"]})


def no_match_sentence(summary: dict) -> str:
    """What the report says of a need no startup on the list answers."""
    from analysis.reporting import fmt_num

    return (f"nessuna startup dell'elenco risponde a questo bisogno (pertinenza almeno "
            f"{fmt_num(summary.get('min_score', DEFAULT_MIN_SCORE), 0)} su 100): qui lo scouting deve ancora cercare.")


def shortlist_table(matches: Matches, need: str, scope: str = ALL_SCOPE, top: int = 5) -> pd.DataFrame:
    """A shortlist for the report: startup, TRL, score and why."""
    from analysis.reporting import fmt_num

    t = shortlist(matches, need, scope, top)
    out = pd.DataFrame({"Posizione": t["rank"].to_numpy(), "Startup": t["startup"].to_numpy(),
                        "TRL": t["trl"].to_numpy(), "Pertinenza": [fmt_num(v, 0) for v in t["score"]],
                        "Perché": t["explanation"].to_numpy()})
    if "verdetto" in t and (t["verdetto"].fillna("") == ACCEPTED).any():
        out["Verifica"] = ["verificata dallo scout" if v == ACCEPTED else "" for v in t["verdetto"].fillna("")]
    return out


def pilots_table(pilots: pd.DataFrame, names: pd.Series, cb: Codebook,
                 explained: set[tuple[str, str]] = frozenset()) -> pd.DataFrame:
    """Pilot proposals for the report: the Champion by the naming rule, its need, the startup and why. A pair
    (startup, need) is explained once: where the report already did (``explained``, the pairs of the lists
    above) or an earlier row did, "Perché" says so."""
    from analysis.reporting import fmt_num

    seen, why = set(explained), []
    for startup, need, text in zip(pilots["startup"], pilots["need"], pilots["explanation"].fillna(""), strict=True):
        pair = (startup, need)
        why.append(text if not isinstance(startup, str) else "come nella lista del bisogno, sopra"
                   if pair in explained else "come sopra" if pair in seen else text)
        seen.add(pair)
    return pd.DataFrame({
        "Champion": pilots["company_id"].map(names).to_numpy(),
        "Bisogno": [cb.by_key[k].short if isinstance(k, str) else "–" for k in pilots["need"]],
        "Startup proposta": pilots["startup"].fillna("–").to_numpy(),
        "Pertinenza": [fmt_num(v, 0) for v in pilots["score"]],
        "Perché": why,
        "Nota": pilots["note"].fillna("").to_numpy()})


NEEDS_NAMED = 3  # needs named in the sentence on the startups under the TRL threshold


def below_trl_sentence(matches: Matches, cb: Codebook, threshold: int) -> str:
    """The startups under the TRL threshold in one sentence: how many, and the needs most of them come closest
    to (the list by name is analyst material)."""
    from analysis.text import and_list, quantity

    b = matches.below_trl
    near = b["best_need"][b["best_need"].map(lambda k: isinstance(k, str))].value_counts()
    near = near.sort_index().sort_values(ascending=False, kind="stable")
    text = (f"{quantity(len(b), 'startup è', 'startup sono')} sotto la soglia di TRL {threshold} o senza TRL: "
            "da seguire, non ancora pronte per una sperimentazione.")
    if len(near):
        named = and_list([f"{cb.by_key[k].short} ({n})" for k, n in near.head(NEEDS_NAMED).items()])
        more = ("" if len(near) <= NEEDS_NAMED else
                f" e altri {quantity(len(near) - NEEDS_NAMED, 'bisogno', 'bisogni')}")
        text += (f" Di queste, {quantity(int(near.sum()), 'è vicina', 'sono vicine')} a un bisogno: {named}{more}."
                 if near.sum() > 1 else f" Una di queste è vicina a un bisogno: {named}.")
    return text + " L'elenco per nome è a disposizione degli analisti."


def below_trl_table(matches: Matches, cb: Codebook) -> pd.DataFrame:
    """Startups under the TRL threshold, with the need each fits best (when any scores at all)."""
    from analysis.reporting import fmt_num

    b = matches.below_trl.sort_values(["best_score", "nome_startup"], ascending=[False, True], na_position="last")
    return pd.DataFrame({"Startup": b["nome_startup"].to_numpy(), "Paese": b["paese"].fillna("").to_numpy(),
                         "TRL": [str(v) if pd.notna(v) else "non indicato" for v in b["trl"]],
                         "Bisogno più vicino": [cb.by_key[k].short if isinstance(k, str) else "–"
                                                for k in b["best_need"]],
                         "Pertinenza": [fmt_num(v, 0) for v in b["best_score"]]})
