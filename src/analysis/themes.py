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

import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis import startup_matching as sm
from analysis.codebook import Codebook

TEXT = "sfida_principale"
JOIN = 0.7  # words whose users overlap more than this (Jaccard distance under it) describe one theme
GENERIC = 0.4  # a word in more than this share of all challenge texts describes no theme
_SPLIT = re.compile(r"(?<=[.!?\n])\s+|\n+")
_EMAIL_OR_PHONE = re.compile(r"\S+@\S+|\+?\d[\d\s./-]{5,}\d")


@dataclass
class Theme:
    words: list[str]  # the characteristic words, most characteristic first, as the companies wrote them
    companies: list[str] = field(default_factory=list)  # company_id


def _clean(text: str) -> str:
    return _EMAIL_OR_PHONE.sub(" ", text or "")


def mapped_needs(responses: pd.DataFrame, cb: Codebook) -> pd.DataFrame:
    """(company_id, need) for every challenge text that speaks of a codebook need: a term of the need (a label
    phrase or synonym) among the needs the text holds most evidence of, or related words of the need that no
    other need has more of. One text may support more than one need when they tie ("tecnici formati e crediti
    d'imposta")."""
    lex = sm.lexicons(cb)
    rows = []
    for cid, text in zip(responses["company_id"], responses.get(TEXT, pd.Series(index=responses.index)), strict=True):
        if not isinstance(text, str) or not text.strip():
            continue
        text = _clean(text)
        found = sm.assess(lex, [], text)
        # The needs the text says most of, by a term of their own: a certification that touches quality, safety
        # and traceability in passing supports none of them more than the others.
        strong = [k for k, ev in found.items()
                  if ev.best and any(h.term.strong and _as_written(h, text) for h in ev.text_hits)]
        if not strong:
            related = {k: sum(h.term.weight for h in ev.text_hits if not h.term.strong)
                       for k, ev in found.items() if ev.best}
            strong = [k for k, w in related.items() if w >= 1.0]
        rows += [{"company_id": cid, "need": k} for k in strong]
    return pd.DataFrame(rows, columns=["company_id", "need"])


def _as_written(hit, text: str) -> bool:
    """An acronym of the vocabulary ("SOC", "MES") counts only written in capitals: "soci" is not a security
    operations centre."""
    term = hit.term.text
    return not (term.isupper() and len(term) <= 5) or text[hit.start:hit.end].isupper()


def _tokens(text: str, banned: set[str]) -> list[tuple[str, str]]:
    """(stem, word as written) for the content words of a text that may describe a theme: no capitalised word
    inside a sentence, no word of a company name (``banned``, as stems), no e-mail or number."""
    out = []
    for sentence in _SPLIT.split(text or ""):
        if _EMAIL_OR_PHONE.search(sentence):
            continue  # a sentence with an e-mail or a phone number is a contact: personal data, not a theme
        for i, w in enumerate(sm.words(sentence)):
            written = sentence[w.start:w.end]
            if i > 0 and written[:1].isupper() and not written.isupper():
                continue  # a name (a person, a company, a place), not a theme
            stem = min(w.stems)
            if stem in banned or any(s in banned for s in w.stems):
                continue
            out.append((stem, written.lower()))
    return out


def _banned(responses: pd.DataFrame) -> set[str]:
    """The stems of every word of the respondents' company names (and of any personal-data text the survey
    holds besides the challenge): none may describe a theme."""
    banned = set()
    for col in ("ragione_sociale", "referente", "email"):
        if col in responses:
            for text in responses[col].dropna().astype(str):
                for w in sm.words(text):
                    banned |= set(w.stems)
    return banned


def new_themes(responses: pd.DataFrame, cb: Codebook, mapped: pd.DataFrame, gate) -> list[Theme]:
    """The candidate new needs: the challenge texts that support no known need (``mapped`` from
    :func:`mapped_needs`), grouped by the words they share. Words used by enough of these companies for the ``gate`` (3) of these
    companies (and by at most :data:`GENERIC` of all challenges: "impresa" says nothing) are joined when the same
    companies use
    them (average-linkage clustering of their company sets, Jaccard distance under :data:`JOIN`); a group of
    words is a theme, its companies those that use at least two of its words (one, for a one-word theme).
    Themes of at least 3 companies, largest first, each described by up to 5 of its words, most used first.
    Deterministic: no random step."""
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import pdist

    banned = _banned(responses)
    done = set(mapped["company_id"])
    users: dict[str, set[str]] = {}
    everywhere: Counter = Counter()  # companies using a stem, over every challenge text
    surface: Counter = Counter()
    companies, texts = [], 0
    for cid, text in zip(responses["company_id"], responses.get(TEXT, pd.Series(index=responses.index)), strict=True):
        if not isinstance(text, str) or not text.strip():
            continue
        toks = _tokens(text, banned)
        texts += 1
        everywhere.update({s for s, _ in toks})
        if cid in done or not toks:
            continue
        companies.append(cid)
        for stem, written in toks:
            users.setdefault(stem, set()).add(cid)
            surface[(stem, written)] += 1
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
        named = [max(((w, c) for (st, w), c in surface.items() if st == stems_[i]), key=lambda t: (t[1], t[0]))[0]
                 for i in ranked if not gate.small(int(use[i, who].sum()))]
        if named:
            themes.append(Theme(named, sorted(companies[j] for j in np.flatnonzero(who))))
    # A smaller group whose companies are mostly in a larger theme is a way of saying that theme, not another.
    kept, covered = [], set()
    for theme in sorted(themes, key=lambda t: (-len(t.companies), t.words)):
        if len(set(theme.companies) & covered) < len(theme.companies) / 2:
            kept.append(theme)
            covered |= set(theme.companies)
    return kept
