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
processed_dir = ""  # a run's processed folder (governance_scores.csv, ...); empty means data/processed
wave = ""  # survey wave shown in the header
sample_run = False  # True when the run used the bundled sample survey
audience = "board"  # board for exports, analyst for real names (never exported)
codebook_path = ""  # project codebook file; empty means the package codebook only
report_formato_figure = "png"  # report.formato_figure: png, or svg so that the text inside figures can be searched

# %%
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

from analysis import figures, governance, maturity, paths, quality, segmentation
from analysis import weights as weights_
from analysis.disclosure import Gate
from analysis.reporting import fmt_int, fmt_num, load_processed, report_header, setup_plots, table
from analysis.steps import restore_governance

gate = Gate(audience)
data = load_processed(processed_dir or paths.PROCESSED, codebook_path,
                      need=("governance_scores", "maturity_scores", "weights", "segmentation", "segments"))
cb, responses = data.codebook, data.responses
setup_plots(report_formato_figure)
display(report_header("Governance dell'innovazione", wave or "non indicata", data.summary, sample_run, gate))
d = governance.definition(cb)
scores = restore_governance(data)
w = data.read("weights").set_index("company_id")["weight"].reindex(responses["company_id"]).to_numpy()
weights = (None if data.read("weighting")["source"] == weights_.UNWEIGHTED else
           pd.Series(w, index=responses.index, dtype=float))  # with a register the means are weighted
sectors, sizes = quality.board_sectors(responses, cb, gate), quality.board_sizes(responses, cb, gate)

# %% [markdown]
# Prima fase del programma: l'**indice di governance** (0-100) dice quanto un'impresa ha organizzato l'innovazione,
# da sei risposte (innovation manager, funzione R&S, spesa in R&S, open innovation, orizzonte di investimento,
# disponibilità a sperimentare con startup; almeno quattro date). Fasce: *Iniziale* sotto 25, *In sviluppo* 25-50,
# *Strutturata* 50-75, *Avanzata* da 75.

# %%
# The board reads the sector groups here and the size classes in the targets below; the analysts see both.
breakdowns = [(sectors, responses["gruppo_merceologico"], "gruppo merceologico")]
breakdowns += [(sizes, responses["size_class"].fillna("n.d."), "classe dimensionale")] if gate.analyst else []
for groups, values, what in breakdowns:
    if groups.omitted:
        display(Markdown(groups.omitted))
        continue
    by_group = governance.by_group(scores, values, groups, weights, d)
    published = maturity.band_counts(by_group, gate, f"Fasce di governance per {what}", d.labels)
    fig = figures.maturity_bands(by_group, published, f"Governance dell'innovazione per {what}",
                                 maturity.mean_labels(by_group, published, gate), d.labels, "governance")
    plt.show()
    if gate.analyst:
        display(table(maturity.band_table(by_group, published, gate), f"Indice di governance per {what}"))

# %% [markdown]
# ## Dove concentrare i workshop
#
# I gruppi con la governance più debole, dal più debole (non quelli con meno di tre imprese con l'indice, né quelli
# da cui la loro media si ricaverebbe).

# %%
rows = sectors.labels(responses["gruppo_merceologico"]) if not sectors.omitted else None
cols = sizes.labels(responses["size_class"].fillna("n.d.")) if not sizes.omitted else None
if rows is None or cols is None:
    display(Markdown("Il dettaglio per gruppo e classe dimensionale non si può mostrare (vedi sopra)."))
else:
    t = governance.targets(scores, rows, cols, gate, weights)
    shown = t[~t["hidden"]].head(governance.TARGETS_SHOWN)
    display(table(shown.assign(**{"Gruppo merceologico": shown["row"], "Classe dimensionale": shown["col"],
                                  "Imprese": shown["companies"].map(fmt_int),
                                  "Indice medio di governance": shown["mean"].map(lambda v: fmt_num(v, 0))})
                  [["Gruppo merceologico", "Classe dimensionale", "Imprese", "Indice medio di governance"]]))

# %%
seg = data.segmentation()
lines = []
if seg.selection.structured:
    board_names = segmentation.board_segment_names(seg, segmentation.board_segments(seg, gate))
    labels = data.read("segments").set_index("company_id")["segment"].map(board_names)
    seg_of = responses["company_id"].map(labels)
    means = governance.segment_means(scores, seg_of, gate, weights)
    if means is not None:
        lines.append("Indice medio per segmento: " + "; ".join(f"«{s}» {fmt_num(m, 0)}" for s, m in means.items())
                     + ".")
rho, n = governance.maturity_link(scores, data.read("maturity_scores").set_index("company_id")[maturity.INDEX]
                                  .reindex(responses["company_id"]))
if rho == rho:
    lines.append(governance.maturity_sentence(rho, n))
weak = governance.weak_needs(responses, scores, cb, gate, d)
lines.append(governance.weak_needs_sentence(weak, cb, d))
Markdown("\n\n".join(lines))
