# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,-all
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (analysis)
#     language: python
#     name: python3
# ---

# %% tags=["parameters"]
processed_dir = ""  # folder with the survey outputs, priorities.csv and champions.csv; startup_matches.csv goes there
wave = ""  # survey wave shown in the header
sample_run = False  # True when the run used the bundled sample survey
audience = "board"  # board for exports, analyst for real names (never exported)
codebook_path = ""  # project codebook file; empty means the package codebook only
figure_format = "png"  # png, or svg so that the text inside figures can be searched
startups_path = ""  # startup spreadsheet or folder; empty means data/startups
trl_threshold = 5  # startups below this technology readiness level are listed apart
weight_tag = 0.5  # weight of the overlap between technology tags and the need
weight_testo = 0.5  # weight of the text similarity between description and need
top_startups = 5  # startups per shortlist
priorities_shown = 5  # supply-chain priorities (all companies) with a shortlist
segment_priorities = 2  # priorities per segment with a shortlist
needs_per_champion = 2  # pilot proposals per Champion

# %%
from pathlib import Path

import matplotlib.pyplot as plt
from IPython.display import Markdown, display

from analysis import champions, figures, paths, priorities, segmentation, startups
from analysis.confidentiality import check_audience, pseudonym_key
from analysis.reporting import fmt_int, load_processed, report_header, setup_plots, table

check_audience(audience)
data = load_processed(processed_dir or paths.PROCESSED, codebook_path)
cb, responses = data.codebook, data.responses
report_header("Scouting di startup per le priorità di filiera", wave or "non indicata", data.summary, sample_run,
              audience)

# %% [markdown]
# ## Il metodo
#
# PoliHub segnala startup deep-tech, italiane ed estere, la cui tecnologia risponde alle priorità della filiera.
# Per ogni startup e ogni bisogno calcoliamo un **punteggio di pertinenza** da 0 a 100 che combina:
#
# - le **tecnologie dichiarate** dalla startup confrontate con i nomi del bisogno (etichette italiane e inglesi e
#   sinonimi del codebook);
# - la **somiglianza del testo** (TF-IDF) tra la descrizione della startup e il testo del bisogno: la sua
#   descrizione, i sinonimi e le sfide tecnologiche scritte dalle imprese che lo giudicano prioritario; la
#   descrizione più vicina vale 1;
# - la **maturità tecnologica** (TRL): entrano nelle liste solo le startup con TRL almeno pari alla soglia scelta.
#
# Ogni abbinamento riporta i tag e i termini che lo hanno determinato. Le spiegazioni citano solo etichette dei
# bisogni e descrizioni delle startup, mai la sfida scritta da un'impresa che non ha dato il consenso a essere citata.

# %%
source = Path(startups_path) if startups_path else paths.STARTUPS
has_list = source.is_file() or (source.is_dir() and any(p.is_file() and not p.name.startswith(".")
                                                        for p in source.rglob("*")))
if has_list:
    slist = startups.read_startups(source, cb)
    totals = slist.summary()["totals"]
    display(Markdown(f"Elenco startup: {fmt_int(totals['read'])} righe lette, {fmt_int(totals['accepted'])} startup "
                     f"accettate, {fmt_int(totals['rejected'])} scartate, {fmt_int(totals['empty'])} vuote; "
                     f"{fmt_int(len(slist.cell_issues))} celle segnalate."
                     + "".join(f"\n\nFile escluso: {x['file']} ({x['reason']})." for x in slist.left_out)))
else:
    slist = None
    display(Markdown(f"**Nessun elenco di startup** in `{source}`: questa sezione resta vuota. Per lo scouting "
                     "mettete l'elenco in `data/startups/` o indicatelo con `--startups FILE`."))

# %%
if slist is not None and len(slist.rejected):
    display(table(startups.rejected_table(slist), "Righe dell'elenco startup scartate"))

# %%
if slist is not None:
    names, _ = segmentation.load_segments(data.folder, responses, cb)
    prio = priorities.load_priorities(data.folder)
    matches = startups.match(slist.startups, cb, responses, names, trl_threshold,
                             {"tag": weight_tag, "testo": weight_testo})
    startups.write_matches(matches, slist, data.folder)
    display(Markdown(f"Startup con TRL almeno {trl_threshold}: {fmt_int(slist.startups['trl'].ge(trl_threshold).sum())}"
                     f"; sotto la soglia o senza TRL: {fmt_int(len(matches.below_trl))} (elencate in fondo)."))

# %% [markdown]
# ## Startup per le priorità della filiera
#
# Per ciascuna delle prime priorità di tutte le imprese, le startup più pertinenti.

# %%
if slist is not None:
    setup_plots(figure_format)
    ordered = prio[prio["scope"] == priorities.ALL_SCOPE].sort_values("rank")["need"].tolist()
    fig = figures.startup_coverage(matches.table, cb, ordered, priorities.ALL_SCOPE)
    plt.show()

# %%
if slist is not None:
    top_needs = prio[prio["scope"] == priorities.ALL_SCOPE].nsmallest(priorities_shown, "rank")["need"]
    for rank, need in enumerate(top_needs, start=1):
        display(table(startups.shortlist_table(matches, need, priorities.ALL_SCOPE, top_startups),
                      f"Priorità {rank}: {cb.by_key[need].it}"))

# %% [markdown]
# ## Startup per segmento
#
# Le stesse liste per le prime priorità di ogni segmento: qui il testo del bisogno usa le sfide delle imprese di
# quel segmento.

# %%
if slist is not None:
    for scope in segmentation.segment_order(data.folder):
        needs = prio[prio["scope"] == scope].nsmallest(segment_priorities, "rank")["need"]
        for need in needs:
            display(table(startups.shortlist_table(matches, need, scope, 3),
                          f"{scope}: {cb.by_key[need].short}"))

# %% [markdown]
# ## Proposte di sperimentazione con i Champion
#
# Ogni Champion viene abbinato alle startup che meglio rispondono ai suoi bisogni principali (quelli a cui ha dato
# il voto più alto, a parità di voto i più prioritari per il suo segmento), se si è detto disponibile a
# sperimentare con startup.

# %%
champ_file = data.folder / "champions.csv"
if slist is not None and champ_file.is_file():
    champs = champions.load_champions(data.folder)
    pilots = startups.pilot_proposals(champs, responses, matches, prio, needs_per_champion)
    shown = champions.board_names(responses, pseudonym_key(data.folder), audience)
    display(table(startups.pilots_table(pilots, shown, cb), "Proposte di sperimentazione"))
elif slist is not None:
    display(Markdown("Nessun elenco di Champion: eseguite prima il notebook 04."))

# %%
if slist is not None and len(matches.below_trl):
    display(table(startups.below_trl_table(matches, cb), f"Startup sotto la soglia di TRL {trl_threshold} "
                                                     "(da seguire, non ancora pronte per una sperimentazione)"))
