"""The board's executive summary as findings (issue 15): numbered sentences in plain Italian, each with its
number and what it means for the programme.

Every function reads the run's outputs as the board may see them (shares a gated summary publishes, band counts
the gate published, segments and Champions under the naming rule) and returns one sentence, or ``None`` when the
finding has nothing to say (no credible difference between the sector groups, no startup list). The notebook
``99_sintesi_consiglio`` numbers them in this order.
"""

from __future__ import annotations

import pandas as pd

from analysis import priorities
from analysis.codebook import Codebook
from analysis.needs import ALL_COMPANIES
from analysis.reporting import fmt_int, fmt_num, fmt_pct
from analysis.segmentation import NO_SEGMENTS_SENTENCE
from analysis.text import and_list, markdown_text, quantity


def basis(summary: dict, weighted: bool, response_rate: float | None = None) -> str:
    """The basis of every figure, in one line: companies, files read and left out with why (in words: file names
    can carry company names), weighting, response rate when a register is given."""
    from analysis.quality import reason_in_words

    t = summary["totals"]
    line = (f"Base delle cifre: {quantity(t['accepted'], 'impresa', 'imprese')} con una risposta valida, da "
            f"{quantity(t['files_read'], 'file letto', 'file letti')}")
    left = pd.Series([reason_in_words(f.get("reason")) for f in summary.get("files", [])
                      if f.get("status") == "left_out"], dtype=object)
    if len(left):
        line += (f" ({quantity(len(left), 'file escluso', 'file esclusi')}: "
                 + "; ".join(f"{fmt_int(n)} per {why}" for why, n in left.value_counts(sort=False).items()) + ")")
    line += ("; risposte ponderate sul registro dei soci (le cifre descrivono l'intera base associativa)" if weighted
             else "; risposte non ponderate (le cifre descrivono chi ha risposto)")
    if response_rate is not None:
        line += f"; tasso di risposta {fmt_pct(response_rate, 0)}"
    return line + "."


def _share(published: pd.DataFrame, need: str, group: str) -> float | None:
    """A need's share rating 4-5 in a group, if the board may see it."""
    row = published[(published["need"] == need) & (published["gruppo_merceologico"] == group)]
    if row.empty or bool(row["share_hidden"].iloc[0]) or pd.isna(row["share_high"].iloc[0]):
        return None
    return float(row["share_high"].iloc[0])


def needs(prio: pd.DataFrame, published: pd.DataFrame, cb: Codebook) -> str | None:
    """The first tier of the supply chain's priorities (in alphabetical order: the data do not order them) with
    the share of companies behind each need, and what a priority score says."""
    part = prio[prio["scope"] == priorities.ALL_SCOPE]
    if part.empty:
        return None
    first = part[part["tier"] == part["tier"].min()]
    named, shares = [], []
    for need in sorted(first["need"], key=lambda k: cb.by_key[k].short.casefold()):
        share = _share(published, need, ALL_COMPANIES)
        named.append(cb.by_key[need].short + (f" ({fmt_pct(share, 0)})" if share is not None else ""))
        shares += [share] if share is not None else []
    scores = first["score"]
    score_text = (f"{fmt_int(scores.min())}" if round(scores.min()) == round(scores.max())
                  else f"tra {fmt_int(scores.min())} e {fmt_int(scores.max())}")
    if len(named) == len(part) and len(named) > 1:  # no need stands out: say so, do not list them all
        return ("**Nessun bisogno emerge come priorità della filiera**: i dati non permettono di ordinare i "
                f"{fmt_int(len(named))} bisogni, che stanno tutti nella stessa fascia (punteggio {score_text} su 100).")
    many = len(named) > 1
    lead = (f"**{fmt_int(len(named))} bisogni formano la prima fascia delle priorità della filiera**, senza un ordine "
            f"certo tra loro: " if many else "**La prima priorità della filiera** è ")
    return (f"{lead}{and_list(named)}; tra parentesi la quota di imprese che giudica il bisogno molto rilevante o "
            f"prioritario (voto 4-5). Il punteggio di priorità ({score_text} su 100) tiene conto di quante imprese "
            "segnalano il bisogno, con quanta forza, di quanto sono lontane dalla maturità digitale in quell'area, "
            "di quanto presto intendono investire e del loro peso nella filiera. Sono i temi su cui concentrare "
            "Champion e scouting.")


def sectors(comparison: pd.DataFrame, published: pd.DataFrame, cb: Codebook, per_side: int = 3) -> str | None:
    """Where the two sector groups differ: the credible differences with the widest gap in the share rating the
    need 4-5, on each side (both shares visible to the board)."""
    if comparison.empty or len(cb.sector_labels) < 2:
        return None
    first, second = cb.sector_labels[:2]
    tested = comparison[comparison["p"].notna()] if "p" in comparison else comparison
    if tested.empty:  # too few answers in a group: nothing was compared, which is not "no difference"
        return ("**I due gruppi merceologici non si possono confrontare**: un gruppo ha troppo poche risposte per "
                "dire se chiede cose diverse dall'altro.")
    credible = tested[tested["credible"]]
    rows = []
    for r in credible.itertuples(index=False):
        a, b = _share(published, r.need, first), _share(published, r.need, second)
        if a is not None and b is not None:
            rows.append((r.need, a, b))
    if credible.empty:
        return (f"**I due gruppi merceologici segnalano gli stessi bisogni**: nessuno dei {fmt_int(len(tested))} "
                "bisogni confrontati mostra una differenza credibile tra Meccaniche e Metallurgiche. Le priorità di "
                "filiera valgono per entrambi.")
    if not rows:
        return (f"**I due gruppi merceologici si distinguono** su {quantity(len(credible), 'bisogno', 'bisogni')}, "
                "ma su pochi casi: le cifre non sono pubblicabili.")
    sides = []
    for hi, lo, sign in ((second, first, -1), (first, second, 1)):
        chosen = sorted((r for r in rows if (r[1] - r[2]) * sign > 0), key=lambda r: -abs(r[1] - r[2]))[:per_side]
        if chosen:
            mine, theirs = (2, 1) if sign < 0 else (1, 2)
            sides.append(f"le {cb.sector_short[hi]} segnalano più delle {cb.sector_short[lo]} " + and_list(
                [f"{cb.by_key[r[0]].short} ({fmt_pct(r[mine], 0)} contro {fmt_pct(r[theirs], 0)})" for r in chosen]))
    text = "; ".join(sides)
    return (f"**I due gruppi merceologici hanno bisogni diversi** ({fmt_int(len(credible))} dei "
            f"{fmt_int(len(tested))} bisogni confrontati mostrano una differenza credibile): {text} (quota di imprese con voto "
            "4-5). Le azioni del programma vanno calibrate per gruppo.")


def maturity(by_group: pd.DataFrame, published, gate, band: str = "Base") -> str | None:
    """Digital maturity from the band counts the board sees: each sector group's share in the lowest band (of
    the group's companies, the size the tables show, so no hidden count follows), its mean index where the
    gate shows it, and whether any company reaches the top band."""
    from analysis.maturity import BAND_LABELS, mean_hidden

    counts, hidden = published.counts, published.hidden
    row_hidden = (published.row_hidden if published.row_hidden is not None
                  else pd.Series(False, index=counts.index)).astype(bool)
    no_mean = pd.Series(mean_hidden(by_group, published, gate), index=by_group.index)
    shares, means, pooled = [], [], [0.0, 0.0]
    for group in counts.index:
        size = float(counts.loc[group].sum())
        if size <= 0 or row_hidden[group] or hidden.loc[group, band]:
            continue
        shares.append((group, float(counts.loc[group, band]) / size))
        pooled[0] += float(counts.loc[group, band])
        pooled[1] += size
        if not no_mean[group]:
            means.append((fmt_int(by_group.loc[group, "indice_medio"]), group))
    if not shares:
        return None
    overall = pooled[0] / pooled[1]
    lead = ("più della metà" if overall > 0.5 else "circa la metà" if overall >= 0.45 else
            "una parte importante" if overall >= 0.25 else "una minoranza")
    text = (f"**Maturità digitale**: {lead} delle imprese è al livello {band} del Digital Maturity Assessment "
            f"europeo ({and_list([f'{fmt_pct(s, 0)} delle {g}' for g, s in shares])})")
    if len(means) > 1 and len({v for v, _ in means}) == 1:  # the same index in every group: say it once
        text += f"; l'indice medio (su 100) è {means[0][0]} in {'entrambi i' if len(means) == 2 else 'tutti i'} gruppi"
    elif means:
        text += f"; l'indice medio (su 100) è {and_list([f'{v} per le {g}' for v, g in means])}"
    top = BAND_LABELS[-1]
    if not hidden[top].any() and int(counts[top].sum()) == 0:
        text += f"; nessuna impresa raggiunge il livello {top}"
    return text + "."


def segments(assigned: pd.DataFrame, order: list[str], responses: pd.DataFrame, cb: Codebook, gate,
             structured: bool, stable: bool) -> str:
    """The segments in one sentence, or the statement that there are none: each segment as the board sees it
    (under 3 companies merged into "altre imprese"), its companies and its average rating over all needs (a
    segment that rates everything high is not the same as one that asks for one thing)."""
    if not structured or len(order) <= 1:
        return f"**Segmenti**: {NO_SEGMENTS_SENTENCE}"
    counts = assigned["segment"].value_counts().reindex(order, fill_value=0)
    groups = gate.categories(counts, what="segmento")
    if groups.omitted:
        return f"**Segmenti**: {groups.omitted}"
    ratings = responses.set_index("company_id")[list(cb.need_keys)].astype(float)
    parts = []
    for label in groups.order:
        ids = assigned.loc[assigned["segment"].map(groups.board) == label, "company_id"]
        level = float(ratings.loc[ids].stack().mean())
        parts.append(f"«{markdown_text(label)}» ({quantity(len(ids), 'impresa', 'imprese')}, voto medio "
                     f"{fmt_num(level, 1)})")
    caution = "" if stable else " La divisione cambia se si ricampionano le imprese: va letta come indicativa."
    # The number of segments is the analysis's (the choices line states it), whatever the board sees merged.
    return (f"**Le imprese si dividono in {fmt_int(len(order))} segmenti con bisogni diversi**: {and_list(parts)}. "
            "Il nome di un segmento dice i bisogni che lo distinguono; il voto medio (da 1 a 5, su tutti i bisogni) "
            "dice quanto le sue imprese giudicano rilevanti i bisogni in generale; ogni segmento ha le sue priorità "
            f"(sezione 4).{caution}")


_WHY_FRAGILE = {  # what a less sure choice depends on: (one company, more companies)
    "pesi": ("che dipende dai pesi dei criteri", "che dipendono dai pesi dei criteri"),
    "dati": ("la cui scelta cambia rifacendo l'analisi su parti delle imprese",
             "le cui scelte cambiano rifacendo l'analisi su parti delle imprese"),
    "pesi e dati": ("che dipende dai pesi dei criteri e dai dati", "che dipendono dai pesi dei criteri e dai dati")}


def champions(n: int, fragile: list[str] | list[tuple[str, str]] | None) -> str | None:
    """The Champions: how many, and which choices are not robust (``fragile``: their names under the naming
    rule, each alone or with what it depends on, ``pesi``, ``dati`` or ``pesi e dati``; ``None`` when
    robustness was not checked). What is left to do before they start is a next step."""
    if n == 0:
        return None
    text = f"**{quantity(n, 'impresa è proposta', 'imprese sono proposte')} come Champion**"
    if fragile is not None:
        if not fragile:
            text += ("; la scelta regge sia cambiando i pesi dei criteri sia rifacendo l'analisi su parti delle "
                     "imprese")
        else:
            plain = [markdown_text(f) for f in fragile if isinstance(f, str)]
            why: dict[str, list[str]] = {}
            for f in fragile:
                if not isinstance(f, str):
                    why.setdefault(f[1], []).append(markdown_text(f[0]))
            # Grouped by what the choice depends on: no second bracket after a pseudonym's "(consenso ...)".
            named = plain + [f"{and_list(names)}, {_WHY_FRAGILE[w][len(names) > 1]}" for w, names in why.items()]
            text += (f"; la scelta è solida per {fmt_int(n - len(fragile))} su {fmt_int(n)} (regge cambiando i pesi "
                     f"dei criteri e rifacendo l'analisi su parti delle imprese), meno sicura per {and_list(named)}")
    return text + ": sono i punti di riferimento che raccoglieranno i bisogni della loro filiera."


def startups(matches: pd.DataFrame | None, prio: pd.DataFrame, cb: Codebook, n: int = 5) -> str | None:
    """Startups only where there is a real match: the first priorities (:func:`analysis.priorities.leading`,
    at least ``n``) with and without a startup."""
    if matches is None:
        return None
    top = priorities.leading(prio, priorities.ALL_SCOPE, n, 2 * n)
    listed = set(matches.loc[matches["scope"] == priorities.ALL_SCOPE, "need"])
    answered = [cb.by_key[k].short for k in top if k in listed]
    missing = [cb.by_key[k].short for k in top if k not in listed]
    share = (f"per tutte le prime {fmt_int(len(top))} priorità" if len(answered) == len(top)
             else f"per {fmt_int(len(answered))} delle prime {fmt_int(len(top))} priorità")
    text = f"**Startup**: {share} l'elenco degli scout ha startup pertinenti"
    if missing:
        text += f"; per {and_list(missing)} nessuna: lo scouting deve ancora cercare"
    from analysis.startups import ACCEPTED

    checked = int((matches["verdetto"] == ACCEPTED).sum()) if "verdetto" in matches else 0
    return text + (". Nessun abbinamento è ancora stato verificato dagli scout: ognuno va verificato prima di un "
                   "contatto." if not checked else
                   f"; {quantity(checked, 'abbinamento è già stato accettato', 'abbinamenti sono già stati accettati')}"
                   " dagli scout, gli altri vanno verificati prima di un contatto.")


def governance(scores: pd.DataFrame, weak_bands: list[str], targets: pd.DataFrame | None, gate) -> str | None:
    """The programme's first phase in one finding: the share of companies with a weak innovation governance
    (``weak_bands``; hidden as the gate hides a share), the mean index, and the weakest groups the board may see
    (``targets`` from :func:`analysis.governance.targets`): where the workshops start."""
    from analysis.governance import BAND, INDEX

    known = scores[INDEX].notna()
    if not known.any():
        return None
    share = float(scores.loc[known, BAND].isin(weak_bands).mean())
    hidden = bool(gate.share(share, int(known.sum())))
    text = "**Governance dell'innovazione**: " + (
        f"il {fmt_pct(share, 0)} delle imprese è nelle fasce {and_list(weak_bands)}" if not hidden else
        f"una parte delle imprese è nelle fasce {and_list(weak_bands)}")
    text += f" (indice medio {fmt_num(float(scores.loc[known, INDEX].mean()), 0)} su 100)"
    shown = targets[~targets["hidden"]].head(2) if targets is not None else pd.DataFrame()
    if len(shown):
        text += ("; i gruppi più deboli sono " + and_list(
            [f"{markdown_text(r.row)} di classe {markdown_text(str(r.col).lower())} ({fmt_num(r.mean, 0)})"
             for r in shown.itertuples(index=False)]) + ": lì cominciano i workshop della prima fase")
    return text + "."


def themes(said: pd.DataFrame | None, written: int, at_most: int = 2) -> str | None:
    """The needs the questionnaire did not ask about, in one finding: the largest new themes of the challenges
    (``said``: ``challenge_themes.csv``), each by its name and its companies (3 or more, as every new theme), out
    of the ``written`` companies that describe their challenge in words."""
    from analysis.themes import NEW

    if said is None:
        return None
    new = said[said["tipo"] == NEW]
    if new.empty:
        return None
    size = new.groupby("tema", sort=False)["company_id"].nunique().head(at_most)
    label = new.groupby("tema", sort=False)["etichetta"].first()
    parts = [f"{fmt_int(n)} di «{markdown_text(label[t])}»" for t, n in size.items()]
    return (f"**Bisogni che il questionario non chiede**: delle {fmt_int(written)} imprese che descrivono a parole "
            f"la loro sfida principale, {and_list(parts)}; temi, non sempre tecnologici, da valutare come nuove "
            "domande della prossima rilevazione.")


def waves(changes: pd.DataFrame | None, cb: Codebook, previous: str | None, at_least: float = 0.05) -> str | None:
    """What changed since the previous wave: the needs whose share rating them 4-5 moved the most (both shares
    visible)."""
    if changes is None or changes.empty:
        return None
    moved = changes.dropna(subset=["share_before", "share_now"]).assign(
        delta=lambda f: f["share_now"] - f["share_before"])
    moved = moved[moved["delta"].abs() >= at_least].sort_values("delta", key=abs, ascending=False).head(3)
    since = f"rispetto alla rilevazione {markdown_text(previous)}" if previous else "rispetto alla rilevazione precedente"
    if moved.empty:
        return f"**Cosa è cambiato** {since}: nessun bisogno si è spostato di più di {fmt_pct(at_least, 0)}."
    parts = [f"{cb.by_key[r.need].short} {'sale' if r.delta > 0 else 'scende'} da {fmt_pct(r.share_before, 0)} a "
             f"{fmt_pct(r.share_now, 0)}" for r in moved.itertuples(index=False)]
    return f"**Cosa è cambiato** {since}: {and_list(parts)} (quota di imprese con voto 4-5)."


def next_steps(steps: list[str]) -> str | None:
    """The next steps in one finding (the numbered list follows in the detail)."""
    if not steps:
        return None
    return "**Prossimi passi**: " + "; ".join(s[0].lower() + s[1:].rstrip(".") for s in steps) + "."
