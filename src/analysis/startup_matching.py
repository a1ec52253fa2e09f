"""What a startup says about a need, in Italian or English (issue 16): evidence, a calibrated score, words.

The need's vocabulary is the codebook's, never the companies' answers: its Italian and English labels, short
name and ``synonyms`` (terms that on their own say a startup works on the need: "cobot", "manutenzione
predittiva", "machine vision") and ``related`` words (that support a match but say nothing alone: "robot",
"sicurezza", "AI").

A term is found in a text when every content word of the term appears, by its stem in Italian or in English
(Snowball), within a short window and in any order: "celle robotizzate collaborative" and "collaborative
robotic cells" both hold "cella robotizzata"; "robots that collaborate" holds "collaborative robot". Startups
also say what they do in words no vocabulary lists ("basta fermi macchina imprevisti"): a text model
(:class:`TextModel`, tf-idf of the same stems and a logistic regression per need) learnt from the labelled
descriptions of the evaluation set's calibration part reads those. A startup's evidence for a need is what its
tags and its description hold and what the text model says; the score is the probability that the startup
answers the need, from a logistic model of that evidence fitted on the calibration part of the evaluation set
(:mod:`analysis.startup_eval`), so that a score means the same for every need and every list.

Explanations quote the startup's own words, as written: the terms found, or the words the text model weighs most.
"""

from __future__ import annotations

import functools
import json
import math
import re
import unicodedata
from dataclasses import dataclass, field
from importlib import resources

from analysis.codebook import Codebook, Field
from analysis.text import and_list

WINDOW = 3  # extra words a term's words may be spread over ("robot che collaborano" for "robot collaborativo")
CAP = 3  # distinct terms counted at most, per kind of evidence
FEATURES = ("tag_term", "tag_related", "text_terms", "text_related", "best", "manufacturing", "other_sector", "text_model")
MODEL_FLOOR = 0.3  # a text model probability under this is no evidence on its own (see Evidence.found)
MODEL_CLIP = 0.001  # the text model's probability enters the score as log-odds, kept within logit(0.001)..logit(0.999)
MODEL_C = 10.0  # inverse regularisation of the text model (chosen on leave-one-writer-out runs of the calibration part)
CALIBRATION = "startup_calibration.json"


# --------------------------------------------------------------------------
# Words and stems

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?(?:-[^\W_]+)*", re.UNICODE)


@functools.lru_cache(maxsize=2)
def _stemmers():
    import snowballstemmer

    return snowballstemmer.stemmer("italian"), snowballstemmer.stemmer("english")


@functools.lru_cache(maxsize=1)
def _stop_words() -> frozenset[str]:
    """Italian and English stop words shipped with the project, normalised like the text."""
    from analysis.text import normalise

    out: set[str] = set()
    for name in ("stopwords_it.txt", "stopwords_en.txt"):
        text = resources.files("analysis").joinpath(f"resources/{name}").read_text("utf-8")
        for line in text.splitlines():
            if not line.startswith("#"):
                out.update(normalise(w) for w in line.split())
    return frozenset(w for w in out if w)


@functools.lru_cache(maxsize=1)
def _market_stems() -> dict[str, frozenset[str]]:
    """Stems of the words that place a startup's market in manufacturing or outside it
    (``resources/market_words.txt``: sections ``[manufacturing]`` and ``[other]``)."""
    text = resources.files("analysis").joinpath("resources/market_words.txt").read_text("utf-8")
    out: dict[str, set[str]] = {}
    section = ""
    for line in text.splitlines():
        if line.startswith("["):
            section = line.strip("[] ")
        elif section and line[:3] in ("en:", "it:"):
            stemmer = _stemmers()[line[:3] == "en:"]
            out.setdefault(section, set()).update(stemmer.stemWord(_plain(w)) for w in line[3:].split())
    return {k: frozenset(v) for k, v in out.items()}


def markets(text_words: list[Word]) -> dict[str, int]:
    """How many of a description's words speak of manufacturing (presses, foundries, shop floors) and how many of
    a market outside it (patients, schools, shops, food)."""
    found = _market_stems()
    return {m: sum(bool(w.stems & found[m]) for w in text_words) for m in ("manufacturing", "other")}


def _plain(word: str) -> str:
    word = unicodedata.normalize("NFKD", word.lower())
    return "".join(ch for ch in word if not unicodedata.combining(ch)).replace("’", "'")


@functools.lru_cache(maxsize=200_000)
def stems(word: str) -> frozenset[str]:
    """The Italian and English stems of a word (lower case, accents dropped; an elided article such as
    ``l'automazione`` counts as its noun)."""
    plain = _plain(word)
    if "'" in plain:
        plain = plain.split("'")[-1]
    it, en = _stemmers()
    return frozenset({it.stemWord(plain), en.stemWord(plain)})


@dataclass(frozen=True)
class Word:
    stems: frozenset[str]
    start: int  # character offsets in the original text
    end: int
    capitals: bool = False  # letters written in capitals ("SOC", "MES"), as an acronym is


def words(text: str) -> list[Word]:
    """The content words of a text with their stems and where they are. Stop words are dropped, but not an
    acronym written in capitals ("AI" is not the Italian "ai"). A hyphenated compound is one word
    ("e-learning" is not "learning") and also its parts ("machine-vision" holds "machine vision")."""
    stop = _stop_words()
    out = []
    for m in _WORD.finditer(text or ""):
        token = m.group()
        pieces = [(token, m.start(), m.end())]
        if "-" in token:
            pieces = [(token.replace("-", ""), m.start(), m.end())]
            offset = m.start()
            for part in token.split("-"):
                pieces.append((part, offset, offset + len(part)))
                offset += len(part) + 1
        for piece, start, end in pieces:
            plain = _plain(piece)
            acronym = piece.isupper() and len(piece) >= 2
            if not acronym and (plain in stop or plain.split("'")[-1] in stop) or plain.isdigit():
                continue
            # Letters only: "3D" and "CO2" are the same written "3d", "co2".
            out.append(Word(stems(piece), start, end, acronym and piece.isalpha()))
    return out


# --------------------------------------------------------------------------
# The vocabulary of a need

@dataclass(frozen=True)
class Term:
    text: str  # as the codebook writes it
    parts: tuple[frozenset[str], ...]  # the stems of each content word
    strong: bool  # a term of the need (label, synonym), not a related word
    weight: float = 1.0  # a related word shared by n needs counts 1/n ("forni" says less than "vibrazioni")
    # Per word, whether the codebook writes it in capitals: an acronym is found only written so ("SOC" is not
    # the Italian "soci", "MES" not "mese").
    capitals: tuple[bool, ...] = ()


@dataclass(frozen=True)
class Lexicon:
    key: str
    label: str  # the Italian label, for explanations
    terms: tuple[Term, ...]


def _term(text: str, strong: bool) -> Term | None:
    found = words(text)
    if "-" in text:  # a hyphenated term is its compound word, not its parts one by one
        found = [w for w in found if not any(v is not w and v.start <= w.start and w.end < v.end for v in found)]
    parts = tuple(w.stems for w in found)
    if len(parts) < 2 and len(_WORD.findall(text)) > 1:
        return None  # "man down", "ISO 50001": the one word left of a phrase ("man", "iso") is not what it says
    return Term(text, parts, strong, capitals=tuple(w.capitals for w in found)) if parts else None


def _label_phrases(f: Field) -> list[str]:
    """A need's labels cut into the phrases they join ("Robotica collaborativa e automazione flessibile" says
    two things), without the parenthesised examples (which the synonyms hold). The short name is left out: it
    abbreviates for figures ("Logistica e supply chain") and would make a generic phrase a term."""
    out = []
    for label in (f.it, f.en):
        label = re.sub(r"\([^)]*\)", " ", label)
        out += [p.strip() for p in re.split(r",| e | ed | and |/", label) if p.strip()]
    return out


def lexicon(f: Field) -> Lexicon:
    """The need's terms (labels cut into phrases, synonyms) and related words (``related``, and each content
    word of its description and labels, which say something only together)."""
    # A label phrase of one word ("Simulazione", "Logistica") is a related word unless the synonyms list it.
    labels = [p for p in _label_phrases(f) if len(words(p)) > 1]
    strong = [t for t in (_term(s, True) for s in dict.fromkeys([*labels, *f.synonyms])) if t]
    seen = {t.parts for t in strong}
    single = [w.group() for text in (f.description, f.it, f.en) for w in _WORD.finditer(text)]
    related = []
    for text in dict.fromkeys([*f.related, *single]):
        t = _term(text, False)
        if t and t.parts not in seen:
            related.append(t)
            seen.add(t.parts)
    return Lexicon(f.key, f.it, tuple(strong + related))


def lexicons(cb: Codebook) -> tuple[Lexicon, ...]:
    """The vocabulary of every need, in the codebook's order; each related word weighs 1 over the number of
    needs whose vocabulary holds it."""
    plain = [lexicon(f) for f in cb.needs]
    holders: dict[tuple, int] = {}
    for lex in plain:
        for parts in {t.parts for t in lex.terms}:
            holders[parts] = holders.get(parts, 0) + 1
    return tuple(Lexicon(lex.key, lex.label, tuple(
        t if t.strong else Term(t.text, t.parts, False, 1 / holders[t.parts], t.capitals) for t in lex.terms))
        for lex in plain)


# --------------------------------------------------------------------------
# Finding terms

@dataclass(frozen=True)
class Hit:
    term: Term
    start: int  # character span of the words found, in the original text
    end: int


def find(term: Term, text_words: list[Word], index: dict[str, list[int]]) -> Hit | None:
    """The first place where every word of ``term`` appears within ``len(term) + WINDOW`` words."""
    span = len(term.parts) + WINDOW
    caps = term.capitals or (False,) * len(term.parts)

    def fits(i: int, q: int) -> bool:
        return bool(term.parts[i] & text_words[q].stems) and (not caps[i] or text_words[q].capitals)

    first = sorted({p for s in term.parts[0] for p in index.get(s, ()) if fits(0, p)})
    for p in first:
        lo, hi = max(0, p - span + 1), min(len(text_words), p + span)
        used = {p}
        for i in range(1, len(term.parts)):
            q = next((q for q in range(lo, hi) if q not in used and fits(i, q)), None)
            if q is None:
                break
            used.add(q)
        else:
            if max(used) - min(used) < span:
                return Hit(term, text_words[min(used)].start, text_words[max(used)].end)
    return None


def _index(text_words: list[Word]) -> dict[str, list[int]]:
    index: dict[str, list[int]] = {}
    for i, w in enumerate(text_words):
        for s in w.stems:
            index.setdefault(s, []).append(i)
    return index


@dataclass
class Evidence:
    """What a startup's tags and description hold of one need."""

    need: str
    tag_hits: list[tuple[str, Hit]] = field(default_factory=list)  # (the tag as written, what it holds)
    text_hits: list[Hit] = field(default_factory=list)
    best: bool = False  # no other need has more evidence in this startup (see :func:`assess`)
    market: tuple[int, int] = (0, 0)  # the description's words of manufacturing and of other markets (markets)
    model: float = 0.0  # the text model's probability that the description speaks of the need (TextModel)
    cues: list[Hit] = field(default_factory=list)  # the description's words that weigh most for it

    @property
    def manufacturing(self) -> bool:  # the description speaks of manufacturing
        return self.market[0] > 0

    @property
    def other_sector(self) -> bool:  # ... or of a market outside it
        return self.market[1] > 0

    @property
    def elsewhere(self) -> bool:  # ... more of that market than of manufacturing: its customers are not factories
        return self.market[1] > self.market[0]

    def strength(self) -> float:
        f = self._counts()
        return 2 * f["tag_term"] + 2 * f["text_terms"] + f["text_related"]

    def _counts(self) -> dict[str, float]:
        strong = {h.term.parts for h in self.text_hits if h.term.strong}
        related = {h.term.parts: h.term.weight for h in self.text_hits if not h.term.strong}
        tags = [h for _, h in self.tag_hits]
        return {"tag_term": float(any(h.term.strong for h in tags)),
                "tag_related": float(any(not h.term.strong for h in tags)),
                "text_terms": float(min(CAP, len(strong))),
                "text_related": float(min(CAP, sum(related.values())))}

    def features(self) -> dict[str, float]:
        # The text model as log-odds: 0.99 against 0.9 is as telling as 0.5 against 0.1 (as a probability, a
        # confident model weighed little more than a hesitant one, and untagged descriptions fell short).
        p = min(max(self.model, MODEL_CLIP), 1 - MODEL_CLIP)
        return {**self._counts(), "best": float(self.best), "manufacturing": float(self.manufacturing),
                "other_sector": float(self.other_sector), "text_model": math.log(p / (1 - p))}

    def found(self) -> bool:
        """Whether there is anything to score: some evidence (a term, or a text model probability of at least
        :data:`MODEL_FLOOR`), from a startup whose market is not elsewhere: a description that speaks more of
        patients, shops or food than of manufacturing does not answer a metalworking need, whatever words it shares
        with it ("un esoscheletro per gli infermieri che sollevano i pazienti nei reparti ospedalieri": one factory
        word, "reparti", against two of care)."""
        said = self.tag_hits or self.text_hits or self.model >= MODEL_FLOOR
        return bool(said) and not self.elsewhere


@functools.lru_cache(maxsize=1024)
def _read(text: str) -> tuple[tuple[Word, ...], dict[str, list[int]]]:
    """A text's words and their index, once per text: a startup's description is searched for every need's terms."""
    found = tuple(words(text))
    return found, _index(found)


def evidence(lex: Lexicon, tags: list[str], description: str) -> Evidence:
    ev = Evidence(lex.key)
    for tag in tags:
        tw, idx = _read(tag)
        for term in lex.terms:
            hit = find(term, tw, idx)
            if hit:
                ev.tag_hits.append((tag, hit))
                break
    dw, idx = _read(description)
    taken: list[tuple[int, int]] = []
    for term in lex.terms:  # strong terms first: words already part of a hit add nothing
        hit = find(term, dw, idx)
        if hit and not any(hit.start < b and a < hit.end for a, b in taken):
            ev.text_hits.append(hit)
            taken.append((hit.start, hit.end))
    return ev


def assess_terms(lexicons_: tuple[Lexicon, ...], tags: list[str], description: str) -> dict[str, Evidence]:
    """A text's evidence for every need from the vocabulary alone (the companies' challenges are read so, see
    :mod:`analysis.themes`); the need(s) with the most evidence are marked ``best`` (a startup that speaks of
    vibrations and spindles answers maintenance, not the furnace it mentions in passing)."""
    found = {lex.key: evidence(lex, tags, description) for lex in lexicons_}
    top = max((ev.strength() for ev in found.values()), default=0.0)
    market = markets(_read(description)[0])
    for ev in found.values():
        ev.best = top > 0 and ev.strength() == top
        ev.market = (market["manufacturing"], market["other"])
    return found


def assess(lexicons_: tuple[Lexicon, ...], tags: list[str], description: str,
           model: TextModel | None = None, probabilities: dict[str, float] | None = None) -> dict[str, Evidence]:
    """A startup's evidence for every need: :func:`assess_terms` and what the text model says. ``model`` is the
    text model (the one fitted on the whole calibration part by default); ``probabilities``, what it says of
    this description when already computed for a whole list (:meth:`TextModel.many`)."""
    found = assess_terms(lexicons_, tags, description)
    model = model or text_model()
    if probabilities is None:
        probabilities = model.probabilities(model_text(description, tags))
    for ev in found.values():
        ev.model = probabilities.get(ev.need, 0.0)
        if ev.model >= MODEL_FLOOR and description.strip():  # cues quote the description, never the tags
            ev.cues = model.cues(description, _read(description)[0], ev.need)
    return found


def model_text(description: str, tags: list[str]) -> str:
    """What the text model reads of a startup: its description; without one, its tags (all it says of itself:
    a scout's list may give only "manutenzione predittiva; cobot")."""
    return description if description.strip() else "; ".join(tags)


# --------------------------------------------------------------------------
# The text model

def _tokens(text: str) -> list[str]:
    return [s for w in words(text) for s in sorted(w.stems)]


class TextModel:
    """Which needs a description speaks of, learnt from descriptions whose need is known (the calibration part
    of the evaluation set, :func:`analysis.startup_eval.training_texts`): the Italian and English stems of its
    words, weighted tf-idf, and one logistic regression per need (that need against all other descriptions,
    near-misses and unrelated startups included). It reads paraphrases the vocabulary does not list ("fermi
    macchina imprevisti", "stop guessing at die design"); its probability is one feature of the calibrated
    score, and the words that weigh most are quoted in the explanation."""

    def __init__(self, texts: list[tuple[str, str | None]]) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        self.vectorizer = TfidfVectorizer(analyzer=_tokens, sublinear_tf=True)
        x = self.vectorizer.fit_transform([t for t, _ in texts])
        self.models = {}
        for need in sorted({n for _, n in texts if n}):  # a need no text speaks of (a project's own) has none
            y = [n == need for _, n in texts]
            self.models[need] = LogisticRegression(C=MODEL_C, max_iter=2000, class_weight="balanced").fit(x, y)

    def probabilities(self, description: str) -> dict[str, float]:
        return self.many([description])[0]

    def many(self, descriptions: list[str]) -> list[dict[str, float]]:
        """:meth:`probabilities` of a whole list at once (one matrix product per need, not one per startup)."""
        if not descriptions:
            return []
        x = self.vectorizer.transform([d or "" for d in descriptions])
        columns = {need: m.predict_proba(x)[:, 1] for need, m in self.models.items()}
        return [{need: float(p[i]) for need, p in columns.items()} for i in range(len(descriptions))]

    def cues(self, description: str, text_words: tuple[Word, ...], need: str, count: int = 3) -> list[Hit]:
        """The description's words that weigh most for ``need`` (at most ``count``, in the text's order), as
        spans of the text, for the explanation."""
        model = self.models.get(need)
        if model is None:
            return []
        vocabulary, coef = self.vectorizer.vocabulary_, model.coef_[0]
        weight = [(max((coef[vocabulary[s]] for s in w.stems if s in vocabulary), default=0.0), i)
                  for i, w in enumerate(text_words)]
        chosen = sorted(i for c, i in sorted(weight, reverse=True)[:count] if c > 0)
        spans: list[list[int]] = []  # words at most two apart are quoted together ("fermi macchina imprevisti")
        for i in chosen:
            if spans and i - spans[-1][-1] <= 2:
                spans[-1].append(i)
            else:
                spans.append([i])
        return [Hit(Term("", tuple(text_words[i].stems for i in span), False), text_words[span[0]].start,
                    text_words[span[-1]].end) for span in spans]


@functools.lru_cache(maxsize=4)
def text_model(test: str | None = None) -> TextModel:
    """The text model fitted on the calibration part of the evaluation set (without writer ``test``, by default
    the one kept to measure)."""
    from analysis.startup_eval import training_texts

    return TextModel([(t, n) for t, n, _ in training_texts(test)])


# --------------------------------------------------------------------------
# The calibrated score

@dataclass(frozen=True)
class Calibration:
    intercept: float
    weights: dict[str, float]
    fitted_on: str = ""

    def probability(self, features: dict[str, float]) -> float:
        z = self.intercept + sum(self.weights[k] * features[k] for k in FEATURES)
        return 1 / (1 + math.exp(-z))

    def as_dict(self) -> dict:
        return {"intercept": self.intercept, "weights": self.weights, "fitted_on": self.fitted_on}


@functools.lru_cache(maxsize=1)
def calibration() -> Calibration:
    """The model shipped with the project (``resources/startup_calibration.json``, written by
    :func:`analysis.startup_eval.calibrate`)."""
    raw = json.loads(resources.files("analysis").joinpath(f"resources/{CALIBRATION}").read_text("utf-8"))
    return Calibration(float(raw["intercept"]), {k: float(raw["weights"][k]) for k in FEATURES},
                       str(raw.get("fitted_on", "")))


def score(ev: Evidence, model: Calibration | None = None) -> float:
    """0-100: the probability, in percent, that the startup answers the need, given its evidence."""
    if not ev.found():
        return 0.0
    return 100 * (model or calibration()).probability(ev.features())


# --------------------------------------------------------------------------
# Explanations in words

def _quote(text: str, hit: Hit, limit: int = 80) -> str:
    """The words of the description around a hit, as written, cut at word boundaries."""
    quoted = text[hit.start:hit.end]
    if len(quoted) > limit:
        quoted = quoted[:limit].rsplit(" ", 1)[0] + "…"
    return " ".join(quoted.split())


def explain(ev: Evidence, description: str, lex: Lexicon, trl) -> str:
    """Why a startup is on a need's list, in Italian, quoting what the startup wrote."""
    strong_text = [h for h in ev.text_hits if h.term.strong]
    strong_tags = [t for t, h in ev.tag_hits if h.term.strong]
    said = []
    if strong_text:
        quotes = list(dict.fromkeys(_quote(description, h) for h in strong_text[:2]))
        said.append("la descrizione parla di " + " e di ".join(f"«{q}»" for q in quotes))
    if strong_tags:
        said.append("dichiara la tecnologia " + ", ".join(f"«{' '.join(t.split())}»" for t in strong_tags[:2]))
    if not strong_text and ev.cues:  # words the text model reads as the need's, where no term of it is written
        said.append("la descrizione parla di " + and_list([f"«{q}»" for q in dict.fromkeys(
            _quote(description, h) for h in ev.cues)]))
    if not said:
        quotes = [_quote(description, h) for h in ev.text_hits[:2]] + [t for t, _ in ev.tag_hits[:1]]
        said.append("cita " + ", ".join(f"«{q}»" for q in dict.fromkeys(quotes)))
    level = f" (TRL {int(trl)})" if trl is not None and not (isinstance(trl, float) and math.isnan(trl)) else ""
    text = "; ".join(said)
    return f"{text[0].upper()}{text[1:]}: corrisponde a {lex.label}{level}"
