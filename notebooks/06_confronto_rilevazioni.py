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
processed_dir = ""  # this wave's processed folder
wave = ""  # survey wave shown in the header
sample_run = False  # True when the run used the bundled sample survey
audience = "board"  # board for exports, analyst for real names (never exported)
codebook_path = ""  # project codebook file; empty means the package codebook only
report_formato_figure = "png"  # report.formato_figure: png, or svg so that the text inside figures can be searched
compare_to = ""  # a previous run's output folder; the pipeline runs this notebook only when it is given

# %%
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

from analysis import champions, figures, paths, waves
from analysis.confidentiality import check_audience
from analysis.reporting import fmt_int, fmt_num, fmt_pct, load_processed, report_header, setup_plots, table

check_audience(audience)
data = load_processed(processed_dir or paths.PROCESSED, codebook_path)
cb = data.codebook
setup_plots(report_formato_figure)
display(report_header("Confronto con la rilevazione precedente", wave or "non indicata", data.summary, sample_run,
                     audience))
assert compare_to, "compare_to: the previous run's output folder is needed for this section"
now = waves.load_wave(data.folder, cb)
before = waves.load_wave(compare_to, cb)
label_before = f"precedente ({before.wave})" if before.wave else "precedente"
label_now = f"attuale ({wave})" if wave else "attuale"

# %% [markdown]
# ## Chi ha risposto nelle due rilevazioni
#
# Le imprese sono riconosciute tra una rilevazione e l'altra dalla partita IVA (o, senza, dal nome normalizzato),
# con le stesse regole della lettura; ogni impresa senza consenso mantiene lo stesso pseudonimo.

# %%
both = waves.companies_in_both(before.responses, now.responses)
Markdown(f"Imprese in entrambe le rilevazioni: **{fmt_int(both['both'])}**; nuove: {fmt_int(both['new'])}; "
         f"presenti solo nella precedente: {fmt_int(both['gone'])}. Risposte accettate: {fmt_int(len(before.responses))}"
         f" allora, {fmt_int(len(now.responses))} ora.")

# %% [markdown]
# ## Bisogni e priorità: allora e ora

# %%
needs = waves.needs_then_and_now(before.responses, now.responses, cb)
fig = figures.needs_change(needs, cb, label_before, label_now)
plt.show()

# %%
if before.priorities is not None and now.priorities is not None:
    p = waves.priorities_then_and_now(before.priorities, now.priorities)
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
if before.segments is not None and now.segments is not None:
    moves = waves.segment_moves(before.segments, now.segments, audience)
    display(table(moves.reset_index().rename(columns={"prima": "Segmento precedente"}),
                  "Imprese per segmento precedente (righe) e attuale (colonne)") if len(moves)
            else Markdown("Nessuna impresa in comune tra le due rilevazioni."))

# %% [markdown]
# ## Champion confermati e cambiati

# %%
changes = waves.champion_changes(before.champions, now.champions)
people = pd.concat([now.responses, before.responses[~before.responses["company_id"].isin(now.responses["company_id"])]])
names = champions.board_names(people, data.key(), audience)
table(pd.DataFrame({"Champion": changes["company_id"].map(names), "Stato": changes["status"]}),
      f"Champion: {fmt_int((changes['status'] == 'confermato').sum())} confermati, "
      f"{fmt_int((changes['status'] == 'nuovo').sum())} nuovi, "
      f"{fmt_int((changes['status'] == 'non più Champion').sum())} non più Champion")

# %%
Markdown(f"Quota media di voti 4-5 sui bisogni: {fmt_pct(needs['share_before'].mean())} allora, "
         f"{fmt_pct(needs['share_now'].mean())} ora.")
