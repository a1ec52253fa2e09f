"""Startup scouting (notebook 05): read the startup list, match startups to the needs, shortlists, pilots.

Reading
    The list (spec section 7) is read with the survey's reader and rules: a
    header among the first 11 rows (at least three of its fields), labels,
    aliases and the value parsers of the codebook's ``startup_fields``. Every
    row is accounted for: accepted, empty, or rejected with a reason
    (``missing_name``; ``duplicate``: the same startup again, the later row
    holds). It is never read as a survey.

Matching, per startup, need and scope (all companies, or one segment)
    (a) **tags**: the startup's technology tags against the need's terms (its
        key, labels, short name and codebook synonyms): 1 for a tag equal to a
        term, else the best word overlap (Jaccard) of at least 0.5;
    (b) **text**: TF-IDF cosine similarity between the startup's description
        (and tags) and the need's text: labels, description, synonyms and the
        ``sfida_principale`` of the companies in the scope that rate the need
        4-5. Italian and English stop words ship with the project. The
        similarity is divided by the best one for that need and scope, so the
        closest description scores 1;
    (c) **TRL**: only startups at or above the threshold (default 5) enter the
        lists; the others are listed apart.
    ``score = 100 x (w_tag x tags + w_text x text) / (w_tag + w_text)``. Each
    match lists the tags and the terms that made it; the terms come from the
    startup's own text and from public text (need labels, descriptions,
    synonyms, and challenges of companies that consented to be named), never
    from the challenge of a company without consent.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import scoring
from analysis.codebook import Codebook, Field
from analysis.ingest import REJECTED_COLUMNS, original_cells
from analysis.text import normalise

DEFAULT_WEIGHTS = {"tag": 0.5, "testo": 0.5}
ALL_SCOPE = "tutte"


@dataclass
class StartupList:
    """The startups read, and what happened to every row."""

    startups: pd.DataFrame  # field keys + source_file, source_sheet, source_row
    rejected: pd.DataFrame  # REJECTED_COLUMNS
    cell_issues: pd.DataFrame  # source_file, source_sheet, source_row, column, field, value, reason, action
    balance: list[dict] = field(default_factory=list)  # per file and sheet: read, accepted, rejected, empty
    left_out: list[dict] = field(default_factory=list)  # files not read, with the reason

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

@functools.lru_cache(maxsize=1)
def stop_words() -> tuple[str, ...]:
    """Italian and English stop words shipped with the project, normalised like the text."""
    words: set[str] = set()
    for name in ("stopwords_it.txt", "stopwords_en.txt"):
        text = resources.files("analysis").joinpath(f"resources/{name}").read_text("utf-8")
        for line in text.splitlines():
            if not line.startswith("#"):
                words.update(normalise(w) for w in line.split())
    return tuple(sorted(w for w in words if w))


def need_terms(f: Field) -> set[str]:
    """How a need may be named in tags: key (without ``bisogno_``), labels, short name, synonyms."""
    names = [f.key.removeprefix("bisogno_").replace("_", " "), f.it, f.en, f.short, *f.synonyms]
    return {normalise(n) for n in names if normalise(n)}


def tag_overlap(tags: list[str], terms: set[str]) -> tuple[float, list[str]]:
    """(score 0-1, the tags that matched): 1 for a tag equal to a term, else the best word Jaccard >= 0.5."""
    best, matched = 0.0, []
    term_words = [set(t.split()) for t in terms]
    for tag in tags:
        n = normalise(tag)
        if not n:
            continue
        if n in terms:
            score = 1.0
        else:
            words = set(n.split())
            score = max((len(words & w) / len(words | w) for w in term_words), default=0.0)
            score = score if score >= 0.5 else 0.0
        if score > 0:
            matched.append(tag)
            best = max(best, score)
    return best, matched


def _need_text(f: Field) -> str:
    return " ".join([f.it, f.en, f.description, *f.synonyms])


@dataclass
class Matches:
    table: pd.DataFrame  # startup, need, scope, score, rank, trl, explanation (+ tag, text components)
    below_trl: pd.DataFrame  # startups under the TRL threshold (or without a TRL)
    threshold: int


def match(startups: pd.DataFrame, cb: Codebook, responses: pd.DataFrame, segments: pd.Series | None,
          trl_threshold: int = 5, weights: dict | None = None, per_list: int = 10, high: int = 4,
          min_score: float = 20.0) -> Matches:
    """Score every startup against every need, for all companies and for each segment.

    ``segments`` holds segment names indexed like ``responses`` (None: all companies only). Keeps, per need
    and scope, the best ``per_list`` startups at or above the TRL threshold that score at least
    ``min_score`` (weaker matches are noise, not suggestions), ranked 1 (best) down. Startups under the
    threshold are returned apart, each with the need it fits best.
    """
    w = scoring.check_weights({**DEFAULT_WEIGHTS, **(weights or {})}, tuple(DEFAULT_WEIGHTS), "matching")
    ok = (startups["trl"].astype("Float64") >= trl_threshold).fillna(False).to_numpy()
    eligible = startups.reset_index(drop=True)  # every startup is scored; only the eligible enter the lists
    scopes = [(ALL_SCOPE, np.ones(len(responses), bool))]
    if segments is not None:
        scopes += [(s, (segments == s).to_numpy()) for s in pd.unique(segments)]
    consent = responses["consenso_nominativo"].fillna(False).astype(bool).to_numpy()
    challenge = responses["sfida_principale"].fillna("").astype(str).to_numpy() \
        if "sfida_principale" in responses else np.full(len(responses), "")
    docs, public, keys = [], [], []
    for f in cb.needs:
        rates = responses[f.key].astype("Float64").fillna(0).to_numpy(float) >= high if f.key in responses \
            else np.zeros(len(responses), bool)
        for scope, mask in scopes:
            who = mask & rates
            docs.append(" ".join([_need_text(f), *challenge[who]]))
            public.append(" ".join([_need_text(f), *challenge[who & consent]]))
            keys.append((f, scope))
    texts = [f"{d} {' '.join(t)}" for d, t in zip(eligible["descrizione"].fillna(""), eligible["tecnologie"],
                                                   strict=True)]
    from sklearn.feature_extraction.text import TfidfVectorizer  # imported here: reports need not load it

    vec = TfidfVectorizer(strip_accents="unicode", lowercase=True, stop_words=list(stop_words()),
                          ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"(?u)\b[^\W\d_][\w]+\b")
    vec.fit(texts + docs)
    s_mat = vec.transform(texts)
    sim = (s_mat @ vec.transform(docs).T).toarray()  # rows: startups, cols: (need, scope); tf-idf rows are unit
    pub = vec.transform(public)
    vocab = np.asarray(vec.get_feature_names_out())
    tags = [(f, need_terms(f)) for f in cb.needs]
    tag_scores = {(i, f.key): tag_overlap(t, terms) for i, t in enumerate(eligible["tecnologie"]) for f, terms in tags}
    rows = []
    for j, (f, scope) in enumerate(keys):
        col = sim[:, j]
        top = col.max() if len(col) else 0.0
        text_norm = col / top if top > 0 else np.zeros_like(col)
        for i in range(len(eligible)):
            tag, matched = tag_scores[(i, f.key)]
            score = 100 * (w["tag"] * tag + w["testo"] * text_norm[i]) / sum(w.values())
            if score < min_score or score <= 0:
                continue
            rows.append({"startup": eligible.at[i, "nome_startup"], "need": f.key, "scope": scope,
                         "score": round(float(score), 6), "trl": eligible.at[i, "trl"],
                         "tag": round(float(tag), 6), "testo": round(float(text_norm[i]), 6),
                         "_i": i, "_j": j, "_tags": matched, "_ok": bool(ok[i])})
    table = pd.DataFrame(rows, columns=["startup", "need", "scope", "score", "trl", "tag", "testo", "_i", "_j",
                                        "_tags", "_ok"])
    overall = table[table["scope"] == ALL_SCOPE].sort_values(["score", "need"], ascending=[False, True])
    best = overall.drop_duplicates("_i").set_index("_i")
    below = eligible[~ok].assign(best_need=lambda b: b.index.map(best["need"]).astype(object),
                                 best_score=lambda b: b.index.map(best["score"]).astype(float))
    below = below.reset_index(drop=True)
    table = table[table["_ok"]].astype({"trl": "Int64"})
    table = table.sort_values(["need", "scope", "score", "startup"], ascending=[True, True, False, True],
                              kind="stable")
    table = table.groupby(["need", "scope"], sort=False).head(per_list).copy()
    table["rank"] = table.groupby(["need", "scope"], sort=False).cumcount() + 1
    table["explanation"] = [_explain(s_mat[i], pub[j], vocab, t) for i, j, t in
                            zip(table["_i"], table["_j"], table["_tags"], strict=True)]
    order = {k: n for n, k in enumerate(cb.need_keys)}
    scope_order = {s: n for n, (s, _) in enumerate(scopes)}
    table = table.sort_values(["scope", "need", "rank"], key=lambda c: c.map(scope_order) if c.name == "scope"
                              else c.map(order) if c.name == "need" else c, kind="stable")
    cols = ["startup", "need", "scope", "score", "rank", "trl", "explanation", "tag", "testo"]
    return Matches(table[cols].reset_index(drop=True), below, trl_threshold)


def _explain(startup_vec, public_vec, vocab: np.ndarray, tags: list[str], n_terms: int = 5) -> str:
    """The matched tags and the terms shared by the startup's text and the public text of the need."""
    shared = startup_vec.multiply(public_vec).tocoo()
    order = np.argsort(-shared.data, kind="stable")[:n_terms]
    terms = [str(vocab[shared.col[k]]) for k in order]
    parts = []
    if tags:
        parts.append("tag: " + ", ".join(tags))
    if terms:
        parts.append("termini: " + ", ".join(terms))
    return "; ".join(parts) if parts else "somiglianza generale del testo"


# --------------------------------------------------------------------------
# Shortlists and pilots

def shortlist(matches: Matches, need: str, scope: str = ALL_SCOPE, top: int = 5) -> pd.DataFrame:
    t = matches.table
    return t[(t["need"] == need) & (t["scope"] == scope)].head(top)


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
            note = "disponibilità da confermare" if willing != STORED_ANSWER["yes"] else ""
            rows.append({"company_id": ch.company_id, "segment": ch.segment, "disponibilita_startup": willing,
                         "need": k, "startup": None if best.empty else best["startup"].iloc[0],
                         "score": np.nan if best.empty else float(best["score"].iloc[0]),
                         "explanation": None if best.empty else best["explanation"].iloc[0],
                         "note": note if not best.empty else "nessuna startup sopra la soglia di TRL"})
    return pd.DataFrame(rows, columns=["company_id", "segment", "disponibilita_startup", "need", "startup", "score",
                                       "explanation", "note"])


# --------------------------------------------------------------------------
# Tables for the report

def rejected_table(rejected: pd.DataFrame) -> pd.DataFrame:
    r = rejected
    return pd.DataFrame({"File": r["source_file"], "Foglio": r["source_sheet"], "Riga": r["source_row"],
                         "Motivo": r["message"]})


def shortlist_table(matches: Matches, need: str, scope: str = ALL_SCOPE, top: int = 5) -> pd.DataFrame:
    """A shortlist for the report: startup, TRL, score and why."""
    from analysis.reporting import fmt_num

    t = shortlist(matches, need, scope, top)
    return pd.DataFrame({"Posizione": t["rank"].to_numpy(), "Startup": t["startup"].to_numpy(),
                         "TRL": t["trl"].to_numpy(), "Pertinenza": [fmt_num(v, 0) for v in t["score"]],
                         "Perché": t["explanation"].to_numpy()})


def pilots_table(pilots: pd.DataFrame, names: pd.Series, cb: Codebook) -> pd.DataFrame:
    """Pilot proposals for the report: the Champion by the naming rule, its need, the startup and why."""
    from analysis.reporting import fmt_num

    return pd.DataFrame({
        "Champion": pilots["company_id"].map(names).to_numpy(),
        "Bisogno": [cb.by_key[k].short if isinstance(k, str) else "–" for k in pilots["need"]],
        "Startup proposta": pilots["startup"].fillna("–").to_numpy(),
        "Pertinenza": [fmt_num(v, 0) for v in pilots["score"]],
        "Perché": pilots["explanation"].fillna("").to_numpy(),
        "Nota": pilots["note"].fillna("").to_numpy()})


def below_trl_table(matches: Matches, cb: Codebook) -> pd.DataFrame:
    """Startups under the TRL threshold, with the need each fits best (when any scores at all)."""
    from analysis.reporting import fmt_num

    b = matches.below_trl.sort_values(["best_score", "nome_startup"], ascending=[False, True], na_position="last")
    return pd.DataFrame({"Startup": b["nome_startup"].to_numpy(), "Paese": b["paese"].fillna("").to_numpy(),
                         "TRL": [str(v) if pd.notna(v) else "non indicato" for v in b["trl"]],
                         "Bisogno più vicino": [cb.by_key[k].short if isinstance(k, str) else "–"
                                                for k in b["best_need"]],
                         "Pertinenza": [fmt_num(v, 0) for v in b["best_score"]]})
