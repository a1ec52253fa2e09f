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
processed_dir = ""  # a run's processed folder with the wave comparison (wave_needs.csv, ...)
wave = ""  # survey wave shown in the header
sample_run = False  # True when the run used the bundled sample survey
audience = "board"  # board for exports, analyst for real names (never exported)
codebook_path = ""  # project codebook file; empty means the package codebook only
report_formato_figure = "png"  # report.formato_figure: png, or svg so that the text inside figures can be searched

# %%
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

from analysis import figures, paths, waves
from analysis.disclosure import Gate
from analysis.reporting import fmt_int, fmt_num, fmt_pct, load_processed, report_header, setup_plots, table

gate = Gate(audience)
data = load_processed(processed_dir or paths.PROCESSED, codebook_path,
                      need=("wave_comparison", "wave_needs", "wave_segment_moves", "wave_champions"))
cb = data.codebook
setup_plots(report_formato_figure)
display(report_header("Confronto con la rilevazione precedente", wave or "non indicata", data.summary, sample_run,
                     gate))
info = data.read("wave_comparison")
label_before = f"precedente ({info['previous_wave']})" if info["previous_wave"] else "precedente"
label_now = f"attuale ({wave})" if wave else "attuale"

# %% [markdown]
# ## Chi ha risposto nelle due rilevazioni
#
# Le imprese sono riconosciute tra una rilevazione e l'altra dalla partita IVA (o, senza, dal nome normalizzato),
# con le stesse regole della lettura; ogni impresa senza consenso mantiene lo stesso pseudonimo.

# %%
# Companies in both waves, only now, only then: the accepted counts of both waves are public, so a small count is
# protected against them like any other table.
presence = gate.counts(pd.DataFrame({"ora": [info["both"], info["new"]], "non ora": [info["gone"], 0]},
                                    index=["prima", "non prima"]), "Imprese nelle due rilevazioni")
shown = presence.show()
Markdown(f"Imprese in entrambe le rilevazioni: **{shown.at['prima', 'ora']}**; nuove: {shown.at['non prima', 'ora']}; "
         f"presenti solo nella precedente: {shown.at['prima', 'non ora']}. Risposte accettate: "
         f"{fmt_int(info['accepted_before'])} allora, {fmt_int(info['accepted_now'])} ora."
         + (" (n.p.: non pubblicabile, riguarda meno di 3 imprese o permetterebbe di ricavarle.)"
            if presence.hidden.to_numpy().any() else ""))

# %% [markdown]
# ## Bisogni e priorità: allora e ora

# %%
needs = waves.published_needs(data.read("wave_needs"), gate)
fig = figures.needs_change(needs, cb, label_before, label_now)
plt.show()

# %%
if data.has("wave_priorities"):
    p = data.read("wave_priorities")
    display(table(pd.DataFrame({
        "Bisogno": [cb.by_key[k].short for k in p["need"]],
        "Posizione ora": p["rank_now"].map(lambda v: fmt_int(v)), "Posizione prima": p["rank_before"].map(fmt_int),
        "Variazione": [("+" if m > 0 else "") + fmt_int(m) if m == m and m != 0 else "=" if m == 0 else "–"
                       for m in p["moved"]],
        "Punteggio ora": p["score_now"].map(lambda v: fmt_num(v, 1)),
        "Punteggio prima": p["score_before"].map(lambda v: fmt_num(v, 1))}), "Priorità di filiera, allora e ora"))

# %% [markdown]
# ## Spostamenti tra segmenti
#
# Per le imprese presenti in entrambe le rilevazioni: in riga il segmento di allora, in colonna quello di oggi. I
# segmenti delle due rilevazioni sono calcolati separatamente e possono avere nomi diversi.

# %%
moves = waves.moves_table(data.read("wave_segment_moves"), gate)
display(table(moves, "Imprese per segmento precedente (righe) e attuale (colonne)") if len(moves) or moves.attrs
        else Markdown("Nessuna impresa in comune tra le due rilevazioni."))

# %% [markdown]
# ## Champion confermati e cambiati

# %%
changes = data.read("wave_champions")
# The latest wave's consent governs: a company that did not answer this wave has given no consent for it, so the
# board sees its pseudonym.
key = data.key()
gone = changes.loc[~changes["company_id"].isin(data.responses["company_id"]),
                   ["company_id", "ragione_sociale"]].assign(consenso_nominativo=False)
names = pd.concat([gate.names(data.responses, key, mark=True), gate.names(gone, key, mark=True)])
table(pd.DataFrame({"Champion": changes["company_id"].map(names), "Stato": changes["status"]}),
      f"Champion: {fmt_int((changes['status'] == 'confermato').sum())} confermati, "
      f"{fmt_int((changes['status'] == 'nuovo').sum())} nuovi, "
      f"{fmt_int((changes['status'] == 'non più Champion').sum())} non più Champion")

# %%
Markdown(f"Quota media di voti 4-5 sui bisogni: {fmt_pct(needs['share_before'].mean())} allora, "
         f"{fmt_pct(needs['share_now'].mean())} ora.")
