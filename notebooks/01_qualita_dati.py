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
processed_dir = ""  # folder written by the ingest step; empty means data/processed
wave = ""  # survey wave shown in the header
sample_run = False  # True when the run used the bundled sample survey
audience = "board"  # board for exports, analyst for real names (never exported)
codebook_path = ""  # project codebook file; empty means the package codebook only
report_formato_figure = "png"  # report.formato_figure: png, or svg so that the text inside figures can be searched

# %%
import matplotlib.pyplot as plt
from IPython.display import Markdown, display

from analysis import paths, quality
from analysis.disclosure import Gate
from analysis.reporting import (
    fmt_int,
    load_processed,
    report_header,
    setup_plots,
    table,
)

gate = Gate(audience)
data = load_processed(processed_dir or paths.PROCESSED, codebook_path)
cb = data.codebook
setup_plots(report_formato_figure)
report_header("Qualità dei dati del questionario", wave or "non indicata", data.summary, sample_run, gate)

# %% [markdown]
# ## Come sono state lette le risposte
#
# Ogni file della cartella dei dati grezzi è letto senza essere modificato; in ogni foglio visibile si cerca, tra le
# prime 11 righe, l'intestazione che riconosce più domande del questionario (almeno cinque). Ogni riga letta è
# **accettata** (entra nell'analisi), **scartata** con il primo motivo che si applica (senza ragione sociale né
# partita IVA valida; fuori dai due gruppi merceologici; nessun bisogno leggibile; risposta ripetuta della stessa
# impresa, vale la più recente) o **vuota**, e in ogni file e foglio vale il bilancio *lette = accettate + scartate +
# vuote*. Le celle che non si possono leggere come scritte (per esempio "50-249" come numero di dipendenti) sono
# segnalate e trattate come mancanti; l'elenco completo è a disposizione degli analisti.

# %%
balance = quality.balance_table(data.summary)
assert (balance["Quadra"] == "sì").all(), "il bilancio delle righe non quadra"
t = data.summary["totals"]
display(Markdown(f"Bilancio delle righe: {fmt_int(t['rows_read'])} lette = {fmt_int(t['accepted'])} accettate + "
                 f"{fmt_int(t['rejected'])} scartate + {fmt_int(t['rows_read'] - t['accepted'] - t['rejected'])} "
                 "vuote; il bilancio quadra in ogni file e foglio."))
# File names can carry company names: the board sees how many files and why, the analysts see which.
display(table(quality.files_overview(data.summary), "File letti, esclusi e ignorati"))
if gate.analyst:
    display(table(quality.format_counts(quality.files_table(data.summary)), "File (solo vista analista)"))
    display(table(quality.format_counts(balance), "Bilancio delle righe per file e foglio (solo vista analista)"))

# %% [markdown]
# ## Righe scartate e celle segnalate
#
# Nei report per il Consiglio i conteggi che riguardano meno di tre imprese sono nascosti ("n.p.", non
# pubblicabile), insieme agli altri conteggi che permetterebbero di ricavarli per differenza dai totali.

# %%
reasons = quality.rejections_by_reason(data.summary, gate)
display(table(reasons, "Righe scartate per motivo") if len(reasons) or reasons.attrs else
        Markdown("Nessuna riga scartata."))

# %%
by_field = quality.issues_by_field(data.cell_issues, cb, gate)
display(table(by_field, "Celle segnalate per domanda") if len(by_field) or by_field.attrs else
        Markdown("Nessuna cella segnalata."))

# %%
if gate.analyst:
    display(table(quality.issues_by_file(data.cell_issues), "Celle segnalate per file (solo vista analista)"))
    display(table(data.rejected.drop(columns=["original"]), "Righe scartate (solo vista analista)"))

# %% [markdown]
# ## Completezza delle risposte
#
# Quota delle imprese accettate che hanno risposto a ciascuna domanda (i dati personali non sono mostrati).
# Un bisogno non risposto non esclude l'impresa: le analisi successive dichiarano come trattano i valori mancanti.

# %%
comp = quality.completeness(data.responses, cb)
if gate.analyst:  # the board reads the questions with the fewest answers, below
    fig, axes = plt.subplots(1, 3, figsize=(15, 7), gridspec_kw={"width_ratios": [1.1, 1, 0.8]})
    for ax, section in zip(axes, ["Profilo", "Bisogni", "Maturità digitale"], strict=True):
        part = comp[comp["Sezione"] == section].sort_values("Quota")
        ax.barh(part["Domanda"], part["Quota"] * 100, color="#1F4E79")
        ax.set_xlim(0, 100)
        ax.set_xlabel("Imprese che hanno risposto (%)")
        ax.set_title(section)
        ax.tick_params(axis="y", labelsize=9)
    fig.suptitle("Completezza delle risposte per domanda", fontweight="bold")
    plt.show()

# %%
Markdown(quality.completeness_sentence(comp))

# %% [markdown]
# ## Chi ha risposto
#
# Imprese accettate per gruppo merceologico e classe dimensionale (definizione UE per numero di dipendenti:
# micro sotto 10, piccola 10-49, media 50-249, grande da 250).

# %%
table(quality.sector_size_table(data.responses, cb, gate), "Imprese per gruppo merceologico e dimensione")
