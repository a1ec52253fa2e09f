# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,-all
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (analysis)
#     language: python
#     name: python3
# ---

# %% tags=["parameters"]
processed_dir = ""  # a run's processed folder (startup_matches.csv, ...); empty means data/processed
wave = ""  # survey wave shown in the header
sample_run = False  # True when the run used the bundled sample survey
audience = "board"  # board for exports, analyst for real names (never exported)
codebook_path = ""  # project codebook file; empty means the package codebook only
report_formato_figure = "png"  # report.formato_figure: png, or svg so that the text inside figures can be searched
startup_per_lista = 5  # startup.per_lista: startups per shortlist
startup_priorita_con_lista = 5  # startup.priorita_con_lista: supply-chain priorities (all companies) with a shortlist
startup_priorita_per_segmento = 2  # startup.priorita_per_segmento: priorities per segment with a shortlist

# %%
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

from analysis import figures, paths, priorities, startups
from analysis.disclosure import Gate
from analysis.quality import reason_in_words
from analysis.reporting import fmt_int, load_processed, report_header, setup_plots, table
from analysis.text import markdown_text

gate = Gate(audience)
data = load_processed(processed_dir or paths.PROCESSED, codebook_path, need=("segmentation", "segments", "priorities"))
cb, responses, cfg = data.codebook, data.responses, data.config
report_header("Scouting di startup per le priorità di filiera", wave or "non indicata", data.summary, sample_run,
              gate)

# %% [markdown]
# ## Il metodo
#
# PoliHub segnala startup deep-tech, italiane ed estere, la cui tecnologia risponde alle priorità della filiera. Per
# ogni startup e ogni bisogno guardiamo **che cosa dice la startup** di quel bisogno, in italiano o in inglese: le
# tecnologie che dichiara e la sua descrizione, confrontate con il vocabolario del bisogno e lette da un modello
# che ha imparato da circa 2.200 descrizioni di startup già classificate come le startup parlano di ogni bisogno
# anche con parole non in elenco ("basta fermi macchina imprevisti"). La **pertinenza** (0-100)
# dice quanto la startup parla di quel bisogno, sulla stessa scala per ogni bisogno (100: quanto le startup di un
# elenco di prova che rispondevano tutte al bisogno; su un elenco nuovo, vedi sotto, non è una certezza): entrano
# nelle liste solo le startup con pertinenza almeno pari alla soglia scelta e una **maturità tecnologica** (TRL, da 1
# idea a 9 prodotto sul mercato) almeno pari alla soglia di TRL; **un bisogno a cui nessuna startup risponde resta
# senza lista**, e lo diciamo. Ogni abbinamento è spiegato con le parole della startup; il metodo è nella nota
# metodologica.
#
# **Quanto fidarsi delle liste.** Su un elenco di prova scritto da chi non conosceva né il vocabolario né il
# modello, 39 startup elencate su 40 rispondono davvero al bisogno, 39 startup pertinenti su 40 entrano nelle
# prime cinque, descritte in italiano o in inglese, con o senza tecnologie dichiarate, e i bisogni a cui nessuna
# startup rispondeva sono rimasti senza lista. Su elenchi di altri autori le startup descritte in inglese senza
# tecnologie dichiarate sono trovate un po' meno spesso e circa una startup elencata su 20 è sbagliata. Ogni nome
# va verificato dagli scout prima di un contatto, e i verdetti degli scout (sotto) tolgono dalle liste gli abbinamenti respinti.

# %%
has_list = data.has("startup_matches")
if has_list:
    found = data.read("startups_summary")
    totals = found["totals"]
    matches = startups.Matches(data.read("startup_matches"), data.read("startups_below_trl"), found["trl_threshold"])
    prio = data.read("priorities")
    display(Markdown(f"Elenco startup: {fmt_int(totals['read'])} righe lette, {fmt_int(totals['accepted'])} startup "
                     f"accettate, {fmt_int(totals['rejected'])} scartate, {fmt_int(totals['empty'])} vuote; "
                     f"{fmt_int(len(found['cell_issues']))} celle segnalate."
                     + "".join(f"\n\nUn file dell'elenco escluso: {reason_in_words(x['reason'])}."
                               for x in found["left_out"])))
else:
    display(Markdown("**Nessun elenco di startup** in questa rilevazione: questa sezione resta vuota. Per lo "
                     "scouting mettete l'elenco in `data/startups/` o indicatelo con `--startups FILE`."))

# %%
# Rejected rows name the list's file and rows: analyst material (the board reads their count above).
if has_list and found["rejected"] and not gate.board:
    display(table(startups.rejected_table(pd.DataFrame(found["rejected"])), "Righe dell'elenco startup scartate"))

# %%
if has_list:
    display(Markdown(f"Startup con TRL almeno {found['trl_threshold']}: {fmt_int(found['eligible'])}"
                     f"; sotto la soglia o senza TRL: {fmt_int(len(matches.below_trl))} (in fondo alla sezione)."))

# %% [markdown]
# ## Startup per le priorità della filiera
#
# Per ogni bisogno della prima fascia delle priorità di tutte le imprese (o delle prime fasce, quando la prima ne
# conta pochi; in ordine alfabetico: i dati non li ordinano), le startup più pertinenti.

# %%
setup_plots(report_formato_figure)
if has_list and gate.analyst:  # the board reads the lists below; the analysts see every need at a glance
    ordered = prio[prio["scope"] == priorities.ALL_SCOPE].sort_values("rank")["need"].tolist()
    fig = figures.startup_coverage(matches.table, cb, ordered, priorities.ALL_SCOPE, found.get("min_score", 40))
    plt.show()

# %%
explained = set()  # the (startup, need) pairs the lists explain: the pilots below do not repeat them
if has_list:
    # Whole tiers (the data cannot order a tier's needs), at most twice the number asked for.
    top_needs = priorities.leading(prio, priorities.ALL_SCOPE, startup_priorita_con_lista, 2 * startup_priorita_con_lista)
    tier_of = prio[prio["scope"] == priorities.ALL_SCOPE].set_index("need")["tier"]
    for need in sorted(top_needs, key=lambda k: (tier_of[k], cb.by_key[k].it.casefold())):
        title = f"{priorities.tier_name(tier_of[need])}: {cb.by_key[need].it}"
        listed = startups.shortlist_table(matches, need, priorities.ALL_SCOPE, startup_per_lista)
        explained |= {(s, need) for s in listed["Startup"]}
        display(table(listed, title) if len(listed) else Markdown(f"**{title}**: {startups.no_match_sentence(found)}"))

# %% [markdown]
# ## Startup per segmento
#
# Le prime priorità di ogni segmento. Una startup risponde a un bisogno allo stesso modo per ogni segmento: una
# priorità che ha già la sua lista sopra non la ripete.

# %%
if has_list:
    seg_names = data.read("segmentation")["names"]
    segments = data.read("segments")["segment"].value_counts()
    listed_needs = set(top_needs)
    # A segment of fewer than 3 companies has no lists of its own for the board (its needs would describe them).
    for scope in [seg_names[k] for k in sorted(seg_names, key=int) if not gate.small(segments.get(seg_names[k], 0))]:
        needs = prio[prio["scope"] == scope].nsmallest(startup_priorita_per_segmento, "rank")["need"].tolist()
        above = [cb.by_key[k].short for k in needs if k in listed_needs]
        if above:
            display(Markdown(f"**{markdown_text(scope)}**: {', '.join(above)} (liste sopra)."))
        for need in [k for k in needs if k not in listed_needs]:
            listed_needs.add(need)
            title = f"{scope}: {cb.by_key[need].short}"
            listed = startups.shortlist_table(matches, need, scope, 2)  # the segments' lists: the first two
            explained |= {(s, need) for s in listed["Startup"]}
            display(table(listed, title) if len(listed) else Markdown(f"**{title}**: "
                                                                      f"{startups.no_match_sentence(found)}"))

# %% [markdown]
# ## Proposte di sperimentazione con i Champion
#
# Ogni Champion viene abbinato alle startup che meglio rispondono ai suoi bisogni principali (quelli a cui ha dato
# il voto più alto, a parità di voto i più prioritari per il suo segmento), se si è detto disponibile a
# sperimentare con startup.

# %%
if has_list:
    pilots = data.read("startup_pilots")
    shown = gate.names(responses, data.key(), mark=True)
    # Champions not willing to pilot with startups in one sentence, not as rows of dashes.
    unwilling = pilots["startup"].isna() & pilots["need"].isna()
    proposals = pilots[~unwilling]
    display(table(startups.pilots_table(proposals, shown, cb, explained), "Proposte di sperimentazione")
            if len(proposals) else Markdown("Nessuna proposta di sperimentazione."))
    if unwilling.any():
        names_ = [markdown_text(shown[c]) for c in pilots.loc[unwilling, "company_id"].drop_duplicates()]
        listed = "; ".join(names_)  # a name ending in "S.a.s." ends the sentence too
        display(Markdown(f"Non {'disponibile' if len(names_) == 1 else 'disponibili'} a sperimentare con startup: "
                         f"{listed}{'' if listed.endswith('.') else '.'}"))

# %% [markdown]
# ## Verdetti degli scout
#
# Gli scout di PoliHub verificano a mano ogni startup proposta: il loro verdetto su una coppia startup-bisogno vale
# per questa e per le prossime rilevazioni (una coppia rifiutata non torna nelle liste, una accettata è segnata come
# verificata).

# %%
if has_list:
    verdicts = found.get("verdicts", [])
    vfile = found.get("verdicts_file") or {}
    if vfile.get("error"):
        display(Markdown(f"Il file dei verdetti non si legge: {vfile['error']}. Le liste sono senza verdetti."))
    elif not verdicts:
        display(Markdown("Nessun verdetto per questa rilevazione."))
    else:
        shown_verdicts = pd.DataFrame(verdicts)
        cols = ["startup", "bisogno", "verdetto", "esito"] + (["nota"] if gate.analyst else [])
        display(table(shown_verdicts[cols].rename(columns=str.capitalize), "Verdetti degli scout e che cosa è successo"))

# %%
if has_list and len(matches.below_trl) and gate.analyst:
    display(table(startups.below_trl_table(matches, cb), f"Startup sotto la soglia di TRL {found['trl_threshold']} "
                                                     "(da seguire, non ancora pronte per una sperimentazione)"))
elif has_list and len(matches.below_trl):  # the board reads how many; the scouts follow them up by name
    display(Markdown(startups.below_trl_sentence(matches, cb, found["trl_threshold"])))
