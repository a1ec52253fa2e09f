"""The needs the questionnaire did not ask about: themes in the free-text challenge (issue 18).

Each company may describe its main technology challenge (``sfida_principale``)
in its own words, Italian or English. Two things are read from those texts,
offline and deterministically:

* **support for a known need**: a text that speaks of a need in the codebook's
  vocabulary (the same stems and terms as the startup matching,
  :mod:`analysis.startup_matching`) counts for that need;
* **candidate new needs**: the texts that speak of no known need are grouped
  by the words the same companies share (words joined by the overlap of the
  companies that use them; no random step); a group of at least 3 companies
  (as the disclosure gate counts) is a candidate, described by its
  characteristic words.

A theme is described only by words that at least 3 of its companies use, and
never by a word that could point to someone: a capitalised word inside a
sentence (a person's or a company's name), a word of any respondent's company
name, an e-mail, a number. Who may read the texts themselves is decided where
they are shown (analysts only); here they are only counted.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections import Counter
from dataclasses import dataclass, field
from importlib import resources

import numpy as np
import pandas as pd

from analysis import startup_matching as sm
from analysis.codebook import Codebook
from analysis.disclosure import SUPPRESSED
from analysis.reporting import fmt_int
from analysis.text import and_list

TEXT = "sfida_principale"
JOIN = 0.7  # words whose users overlap more than this (Jaccard distance under it) describe one theme
GENERIC = 0.4  # a word in more than this share of all challenge texts describes no theme
# Without a term of its own, a need needs this much related vocabulary: two words. One ("clienti", "mercato",
# "manutenzione") is chance: on blind texts, counting one word the codebook lists cut precision from 0.97 to 0.80.
RELATED = 2.0
_NONE = {"nessuna", "nessuno", "nessun", "niente", "nulla", "none", "nothing", "no", "nd", "na"}
# Short answers that say there is nothing to say, wherever the negation sits ("Al momento nessuna").
_NON_ANSWER = re.compile(r"^(?:al momento|per ora|ad oggi|attualmente|for now|at the moment)?\s*(?:nessuna|nessuno|"
                         r"niente|nulla|none|nothing)\b|\b(?:non (?:saprei|so|sappiamo)|not sure|da definire|"
                         r"to be defined|n/?a)\b", re.IGNORECASE)
_MARKUP = re.compile(r"<(script|style)\b.*?</\1\s*>|<[^>]*>", re.IGNORECASE | re.DOTALL)
_NUMBERS = set("zero uno una due tre quattro cinque sei sette otto nove dieci venti cento mille one two three four "
               "five six seven eight nine ten hundred thousand".split())
_SPLIT = re.compile(r"(?<=[.!?\n])\s+|\n+")
# A title or a role before a name: the word after it is a person ("ing. bianchi", "referente rossi").
_TITLES = "ing|dott|sig|geom|arch|avv|prof|rag"
_TITLE = re.compile(rf"\b(?:{_TITLES}|dott\.ssa|sig\.ra|referente|responsabile|mr|mrs|ms|dr)\.?\s+([\w'’]+)",
                    re.IGNORECASE)
_ABBREVIATION = re.compile(rf"\b(?:{_TITLES}|tel|ecc|es)\.$", re.IGNORECASE)
# A contact: an e-mail (also written "chiocciola" or "at"), a web address, a phone number, a street address.
_CONTACT = re.compile(
    r"\S+@\S+|\bchiocciola\b|\w\s+(?:at|\(at\)|\[at\])\s+[\w-]+\s*(?:\.|\bdot\b|\bpunto\b)"
    r"|\b(?:www|https?)\S*|\b[\w-]+\.(?:it|com|eu|net|org|info|biz)\b|\b(?:punto|dot)\s+(?:it|com|eu|net|org)\b"
    r"|\+?\d[\d\s./-]{5,}\d"
    r"|\b(?:via|viale|v\.le|piazza|p\.zza|piazzale|corso|largo|vicolo|strada|localit[àa]|loc\.)\s+(?:[\w'’]+\s+){0,2}[\w'’]+,?\s*(?!(?:19|20)\d\d\b)\d{1,4}\b",
    re.IGNORECASE)


@dataclass
class Theme:
    words: list[str]  # the characteristic words, most characteristic first, as the companies wrote them
    companies: list[str] = field(default_factory=list)  # company_id
    label: str = ""  # two of its words as 3 or more companies write them together ("mercati esteri"), or the first


def _label(named: dict[str, str], texts: list[list[tuple[str, str]]], gate) -> str:
    """A theme's name: the pair of its words that 3 or more of its companies write one after the other, in their
    order (the pair most of them write); else its first word."""
    pairs: dict[tuple[str, str], set[int]] = {}
    for k, toks in enumerate(texts):
        for (a, _), (b, _) in itertools.pairwise(toks):
            if a in named and b in named and a != b:
                pairs.setdefault((a, b), set()).add(k)
    common = [(len(who), pair) for pair, who in pairs.items() if not gate.small(len(who))]
    if not common:
        return next(iter(named.values()))
    a, b = max(common, key=lambda t: (t[0], [-list(named).index(x) for x in t[1]]))[1]
    return f"{named[a]} {named[b]}"


def _challenges(responses: pd.DataFrame):
    """(company_id, challenge text) of every company; the text is missing when the survey has no such column."""
    return zip(responses["company_id"], responses.get(TEXT, pd.Series(index=responses.index, dtype=object)),
               strict=True)


def _clean(text: str) -> str:
    return _CONTACT.sub(" ", text or "")


def said(text) -> bool:
    """Whether a challenge says something: not blank, and not a short non-answer ("Nessuna sfida particolare per
    quest'anno", "Niente di specifico", "Non saprei", "n.d."): up to 6 words, saying there is none or not knowing.
    A sentence with a contact is not what the company says."""
    if not isinstance(text, str) or not text.strip():
        return False
    # What the company says besides its contacts; a text that is one sentence with a contact, less the contact.
    content = (" ".join(s for s in _sentences(text) if not _CONTACT.search(s)) or _clean(text)).lower()
    words = re.findall(r"\w+", content)
    return bool(words) and re.sub(r"\W", "", content) not in _NONE and not (
        len(words) <= 6 and (words[0] in _NONE or _NON_ANSWER.search(content)))


def _sentences(text: str) -> list[str]:
    """The sentences of a text; a title or an abbreviation ("tel.", "ing.") does not end one."""
    out: list[str] = []
    for piece in _SPLIT.split(text or ""):
        if out and _ABBREVIATION.search(out[-1]):
            out[-1] += " " + piece
        else:
            out.append(piece)
    return out


def mapped_needs(responses: pd.DataFrame, cb: Codebook) -> pd.DataFrame:
    """(company_id, need) for every challenge text that speaks of a codebook need: a term of the need (a label
    phrase or synonym) among the needs the text holds most evidence of, or related words of the need that no
    other need has more of. One text may support more than one need when they tie ("tecnici formati e crediti
    d'imposta")."""
    lex = sm.lexicons(cb)
    rows = []
    for cid, text in _challenges(responses):
        if not said(text):
            continue
        text = _clean(text)
        found = sm.assess_terms(lex, [], text)  # the vocabulary: the text model reads startups, not challenges
        # The needs the text says most of, by a term of their own: a certification that touches quality, safety
        # and traceability in passing supports none of them more than the others.
        strong = [k for k, ev in found.items()
                  if ev.best and any(h.term.strong for h in ev.text_hits)]
        if not strong:
            related = {k: sum(h.term.weight for h in ev.text_hits if not h.term.strong)
                       for k, ev in found.items() if ev.best}
            strong = [k for k, w in related.items() if w >= RELATED]
        rows += [{"company_id": cid, "need": k} for k in strong]
    return pd.DataFrame(rows, columns=["company_id", "need"])


def _tokens(text: str, banned: set[str]) -> list[tuple[str, str]]:
    """(stem, word as written) for the content words of a text that may describe a theme: no capitalised word
    after a sentence's first character, no first name nor the word after it (a surname, in any case), no word
    after a title, no word of a name the survey holds (``banned``, as stems), no sentence with a contact, no
    number (in digits or in words), no markup."""
    out = []
    names = _first_names()
    for sentence in _sentences(_MARKUP.sub(" ", text or "")):
        if _CONTACT.search(sentence):
            continue  # a sentence with an e-mail, a phone number or an address is a contact: personal data
        if sentence.isupper():  # written in capitals: its names cannot be told apart, its words are lower case
            sentence = sentence.lower()
        start = len(sentence) - len(sentence.lstrip(" \t\"'«(-"))
        titled = {i for m in _TITLE.finditer(sentence) for i in (m.start(), m.start(1))}
        found = sm.words(sentence)
        # A first name and the words beside it are a person: "mario rossi", "pellegrini antonio".
        first = [k for k, w in enumerate(found) if sentence[w.start:w.end].lower() in names]
        person = {k + d for k in first for d in (-1, 0, 1)}
        for k, w in enumerate(found):
            written = sentence[w.start:w.end]
            if w.start in titled or k in person:
                continue  # "ing. bianchi": a title and a person
            if w.start > start and written[:1].isupper() and not written.isupper():
                continue  # a name (a person, a company, a place), not a theme: "Per Santoro è urgente"
            if any(ch.isdigit() for ch in written) or written.lower() in _NUMBERS or w.stems & banned:
                continue  # a code, a number, or a word of a name the survey holds
            out.append((min(w.stems), written.lower()))
    return out


# Who and where, not what: the respondents' names, contacts, towns and the companies they name as customers
# and suppliers (with the personal-data fields of the codebook) never describe a theme.
_WHO = ("ragione_sociale", "comune", "clienti_principali", "fornitori_principali")


@functools.lru_cache(maxsize=1)
def _first_names() -> frozenset[str]:
    text = resources.files("analysis").joinpath("resources/first_names.txt").read_text("utf-8")
    return frozenset(w for line in text.splitlines() if not line.startswith("#") for w in line.split())


def _banned(responses: pd.DataFrame, cb: Codebook) -> set[str]:
    """The stems of every word of the respondents' names, contacts and towns, and of the companies they name:
    none may describe a theme, in any case."""
    banned = set()
    for col in dict.fromkeys([*_WHO, *cb.personal_keys]):
        if col not in responses:
            continue
        for value in responses[col].dropna():
            for text in (value if isinstance(value, (list, tuple, np.ndarray)) else [value]):
                for w in sm.words(str(text)):
                    banned |= set(w.stems)
    return banned


def new_themes(responses: pd.DataFrame, cb: Codebook, mapped: pd.DataFrame, gate) -> list[Theme]:
    """The candidate new needs: the challenge texts that support no known need (``mapped`` from
    :func:`mapped_needs`), grouped by the words they share. Words used by enough of these companies for the
    ``gate`` (3), and by at most :data:`GENERIC` of all challenges ("impresa" says nothing), are joined when the
    same companies use them (average-linkage clustering of their company sets, Jaccard distance under
    :data:`JOIN`); a group of words is a theme, its companies those that use at least two of its words (one, for a
    one-word theme). Themes of at least 3 companies, largest first, each described by up to 5 of its words in a
    form 3 or more companies write, most used first, and named by :func:`_label`. Deterministic: no random step."""
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import pdist

    banned = _banned(responses, cb)
    done = set(mapped["company_id"])
    users: dict[str, set[str]] = {}
    everywhere: Counter = Counter()  # companies using a stem, over every challenge text
    surface: dict[tuple[str, str], set[str]] = {}  # (stem, word as written): the companies writing it so
    said_as: dict[str, list[tuple[str, str]]] = {}  # per company, its words in order
    companies, texts = [], 0
    for cid, text in _challenges(responses):
        if not said(text):
            continue
        toks = _tokens(text, banned)
        texts += 1
        everywhere.update({s for s, _ in toks})
        if cid in done or not toks:
            continue
        companies.append(cid)
        said_as[cid] = toks
        for stem, written in toks:
            users.setdefault(stem, set()).add(cid)
            surface.setdefault((stem, written), set()).add(cid)
    n = len(companies)
    # A word most challenges use ("impresa", "azienda") says nothing of a theme.
    # The disclosure gate decides how many companies a theme and each of its words need (spec section 8).
    stems_ = sorted(k for k, v in users.items() if not gate.small(len(v)) and everywhere[k] <= GENERIC * texts)
    if not stems_:
        return []
    index = {c: i for i, c in enumerate(companies)}
    use = np.zeros((len(stems_), n), dtype=bool)
    for i, stem in enumerate(stems_):
        use[i, [index[c] for c in users[stem]]] = True
    groups = (fcluster(linkage(pdist(use, metric="jaccard"), method="average"), t=JOIN, criterion="distance")
              if len(stems_) > 1 else np.array([1]))
    themes = []
    for g in sorted(set(groups)):
        members = [i for i in np.flatnonzero(groups == g)]
        hits = use[members].sum(axis=0)
        who = hits >= (2 if len(members) > 1 else 1)
        if gate.small(int(who.sum())):
            continue
        ranked = sorted(members, key=lambda i: (-int(use[i, who].sum()), stems_[i]))[:5]
        theme_companies = sorted(companies[j] for j in np.flatnonzero(who))
        # Each word as 3 or more companies write it ("Costa" written by one company is not "costi").
        named = {}
        for i in ranked:
            forms = [(len(c), w) for (st, w), c in surface.items() if st == stems_[i] and not gate.small(len(c))]
            if forms and not gate.small(int(use[i, who].sum())):
                named[stems_[i]] = max(forms)[1]
        if named:
            themes.append(Theme(list(named.values()), theme_companies,
                                _label(named, [said_as[c] for c in theme_companies], gate)))
    # A smaller group whose companies are mostly in a larger theme is a way of saying that theme, not another.
    kept, covered = [], set()
    for theme in sorted(themes, key=lambda t: (-len(t.companies), t.words)):
        if len(set(theme.companies) & covered) < len(theme.companies) / 2:
            kept.append(theme)
            covered |= set(theme.companies)
    return kept


# --------------------------------------------------------------------------
# The table the run keeps, and what is shown of it

KNOWN, NEW = "bisogno", "nuovo"  # the two kinds of theme in challenge_themes.csv
COLUMNS = ["company_id", "tipo", "tema", "etichetta", "parole"]


def themes_table(responses: pd.DataFrame, cb: Codebook, gate) -> pd.DataFrame:
    """``challenge_themes.csv``: one row per company and theme its challenge speaks of. ``tipo`` is
    :data:`KNOWN` (``tema`` is the codebook need it supports) or :data:`NEW` (``tema`` is ``T1``, ``T2``, ...
    largest first, ``etichetta`` its name, ``parole`` its characteristic words)."""
    mapped = mapped_needs(responses, cb)
    order = {k: i for i, k in enumerate(cb.need_keys)}
    known = mapped.assign(tipo=KNOWN, tema=mapped["need"], etichetta="", parole="",
                          _o=mapped["need"].map(order)).sort_values(["_o", "company_id"], kind="stable")
    new = [{"company_id": c, "tipo": NEW, "tema": f"T{i}", "etichetta": t.label, "parole": ", ".join(t.words)}
           for i, t in enumerate(new_themes(responses, cb, mapped, gate), 1) for c in t.companies]
    return pd.concat([known[COLUMNS], pd.DataFrame(new, columns=COLUMNS)], ignore_index=True)


def written(responses: pd.DataFrame) -> int:
    """How many companies describe their challenge in words (:func:`said`)."""
    return sum(said(text) for _, text in _challenges(responses))


def support(table: pd.DataFrame, cb: Codebook) -> pd.Series:
    """Per codebook need, the companies whose challenge speaks of it: most first, ties in codebook order."""
    known = table[table["tipo"] == KNOWN]
    counts = known.groupby("tema")["company_id"].nunique().reindex(list(cb.need_keys), fill_value=0)
    return counts[counts > 0].sort_values(ascending=False, kind="stable")


def support_sentence(table: pd.DataFrame, responses: pd.DataFrame, cb: Codebook, gate, at_most: int = 5) -> str:
    """The challenges that speak of the questionnaire's needs, in one sentence: how many, and the needs most
    spoken of (a need named by fewer than 3 companies is not named)."""
    n = written(responses)
    if not n:
        return "Nessuna impresa ha descritto a parole la sua sfida principale."
    companies = table.loc[table["tipo"] == KNOWN, "company_id"].nunique()
    counts = support(table, cb)
    counts = counts[~np.asarray(gate.small(counts.to_numpy()), dtype=bool)].head(at_most)
    text = f"{fmt_int(n)} imprese descrivono a parole la loro sfida principale"
    answered = sum(isinstance(v, str) and bool(v.strip()) for _, v in _challenges(responses))
    if answered > n:  # the completeness table counts these too
        text += f" (altre {fmt_int(answered - n)} hanno risposto senza indicarne una, per esempio «nessuna»)"
    if gate.share(companies / n, n):
        text += "; alcune parlano di un bisogno del questionario"
    else:
        text += f"; {fmt_int(companies)} parlano di un bisogno del questionario"
    if len(counts):
        text += (", più spesso di " + and_list([f"{cb.by_key[k].short} ({fmt_int(v)})" for k, v in counts.items()]))
    return text + "."


def new_table(table: pd.DataFrame, responses: pd.DataFrame, cb: Codebook, gate, by_sector: bool = True) -> pd.DataFrame:
    """The candidate new needs as the board sees them: the words, how many companies, and (``by_sector``) how
    many in each sector group, hidden where a group holds 1 or 2 of them or could be worked out from the
    others."""
    new = table[table["tipo"] == NEW]
    if new.empty:
        return pd.DataFrame(columns=["Tema (e parole ricorrenti)", "Imprese"])
    first = new.groupby("tema", sort=False)[["etichetta", "parole"]].first()
    def named(label: str, words: str) -> str:  # the name, then the other words ("mercati esteri (aprire, nuovi)")
        rest = [w for w in words.split(", ") if w and w not in label.split()]
        return f"{label} ({', '.join(rest)})" if rest else label

    words = pd.Series([named(a, b) for a, b in zip(first["etichetta"], first["parole"], strict=True)], index=first.index)
    size = new.groupby("tema", sort=False)["company_id"].nunique()
    out = pd.DataFrame({"Tema (e parole ricorrenti)": words, "Imprese": size.map(fmt_int)})
    if by_sector:
        sector = new["company_id"].map(responses.set_index("company_id")["gruppo_merceologico"]).fillna("n.d.")
        counts = pd.crosstab(new["tema"], sector).reindex(index=words.index)
        counts = counts.reindex(columns=[*[s for s in cb.sector_labels if s in counts], *[
            s for s in counts if s not in cb.sector_labels]], fill_value=0)
        published = gate.counts(counts, "Imprese per tema nuovo e gruppo merceologico", column_totals=False)
        for s in counts:
            out[cb.sector_short.get(s, s)] = [SUPPRESSED if published.hidden.at[t, s] else fmt_int(v)
                                              for t, v in counts[s].items()]
    return out.reset_index(drop=True)


def examples(table: pd.DataFrame, responses: pd.DataFrame, cb: Codebook, per_theme: int = 3) -> pd.DataFrame:
    """For the analysts only: up to ``per_theme`` challenges of each theme, with the company's name."""
    by_id = responses.set_index("company_id")
    rows = []
    for (kind, theme), group in table.groupby(["tipo", "tema"], sort=False):
        label = cb.by_key[theme].short if kind == KNOWN else table.loc[table["tema"] == theme, "etichetta"].iloc[0]
        for cid in group["company_id"].head(per_theme):
            rows.append({"Tema": label, "Impresa": by_id.at[cid, "ragione_sociale"], "Sfida": by_id.at[cid, TEXT]})
    return pd.DataFrame(rows, columns=["Tema", "Impresa", "Sfida"])
