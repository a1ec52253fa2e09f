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
processed_dir = ""  # a run's processed folder (segments.csv, priorities.csv, ...); empty means data/processed
wave = ""  # survey wave shown in the header
sample_run = False  # True when the run used the bundled sample survey
audience = "board"  # board for exports, analyst for real names (never exported)
codebook_path = ""  # project codebook file; empty means the package codebook only
report_formato_figure = "png"  # report.formato_figure: png, or svg so that the text inside figures can be searched
priorita_mostrate = 5  # priorita.mostrate: priorities named in the summary and highlighted in the figures

# %%
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

from analysis import champions, figures, network, paths, priorities, quality, segmentation
from analysis.disclosure import Gate
from analysis.reporting import fmt_int, fmt_num, fmt_pct, load_processed, report_header, setup_plots, table

gate = Gate(audience)
data = load_processed(processed_dir or paths.PROCESSED, codebook_path, need=("segmentation", "segments", "priorities"))
cb, responses, cfg = data.codebook, data.responses, data.config
seg = data.segmentation()
settings_forced = bool(data.read("segmentation").get("forced"))
prio = data.read("priorities")
setup_plots(report_formato_figure)
display(report_header("Segmenti di imprese e priorità di filiera", wave or "non indicata", data.summary, sample_run, gate))
# For the board, segments (and sector groups) under 3 companies are merged into "altre imprese".
segments = segmentation.board_segments(seg, gate)
sectors = quality.board_sectors(responses, cb, gate)
board_labels = segments.labels(seg.labels)
# The Champion section shows some companies one by one, with their segment, group and supply-chain position: the
# tables below treat them as known to every reader.
named = champion_positions = None
if data.has("champions") and data.has("champion_candidates"):
    champs = data.read("champions")
    named = champions.shown_one_by_one(champs, data.read("champion_candidates"),
                                       cfg["champion.alternative_per_segmento"])
    champion_positions = champs["company_id"]

# %% [markdown]
# ## Il metodo
#
# Raggruppiamo in **segmenti** le imprese che chiedono le stesse cose. Conta che cosa un'impresa chiede **più degli
# altri suoi bisogni**, non quanto è generosa nel votare: un'impresa che dà a tutto un punto in più non forma un
# segmento a sé, e il **voto medio** di ogni segmento è riportato a parte. Un voto lasciato in bianco non esclude
# l'impresa. Il numero di segmenti non è fissato a priori: prima verifichiamo se le imprese si dividono davvero in
# gruppi, poi scegliamo il numero che descrive meglio le risposte senza spezzarle più del necessario, e verifichiamo
# che i segmenti si ritrovino rifacendo l'analisi su parti delle imprese. Per il consiglio, i segmenti sotto 3
# imprese confluiscono in "altre imprese". I criteri e le verifiche sono nella nota metodologica.

# %%
sel = seg.selection
notes = []
if not sel.structured:
    notes.append(segmentation.NO_SEGMENTS_SENTENCE)
else:
    notes.append(f"**{fmt_int(seg.k)} segmenti**, " + ("numero fissato dagli analisti." if settings_forced else
                                                       "numero scelto automaticamente dai dati."))
    if not sel.stable:
        notes.append("**Attenzione**: rifacendo l'analisi su parti delle imprese la divisione cambia: i segmenti vanno "
                     "letti con cautela.")
notes += [f"Nota: {m}." for m in seg.merged]
if seg.small:
    notes.append(f"Segmenti sotto il {fmt_pct(cfg['segmentazione.quota_minima'], 0)} delle imprese, tenuti e "
                 f"segnalati: {', '.join(map(str, seg.small))}.")
after = seg.assigned_afterwards
if after:
    notes.append(f"{fmt_int(after)} imprese hanno dato voti compresi in un solo punto (per esempio solo 4 e 5): dicono "
                 "poco di che cosa chiedono più degli altri bisogni, quindi non formano i segmenti e sono assegnate "
                 "a quello a cui somigliano di più.")
if seg.unstable:
    notes.append("Segmenti poco stabili (si ritrovano solo in parte rifacendo l'analisi su parti delle imprese): "
                 f"{', '.join(map(str, seg.unstable))}.")
Markdown("\n\n".join(notes))

# %% [markdown]
# ## I segmenti
#
# Ogni segmento prende il nome dai due bisogni che lo distinguono di più: quelli con il rapporto più alto tra
# l'importanza media nel segmento e quella di tutte le imprese (tra parentesi nella tabella, per esempio 2,1x). Contano
# solo i bisogni che il segmento vota almeno il 10% sopra la media di tutte le imprese: un segmento che non ne ha
# si chiama "Senza bisogni distintivi".

# %%
# With a member register, each segment's share of the membership too (post-stratification weights, section 02).
survey_weights = None
if data.has("weighting") and data.read("weighting")["source"] != "nessuna":
    survey_weights = (data.read("weights").set_index("company_id")["weight"].reindex(responses["company_id"])
                      .set_axis(responses.index))
table(segmentation.segment_overview(responses, seg, cb, gate, segments, sectors, named=named, weights=survey_weights),
      "Segmenti di imprese")

# %%
if not segments.omitted:
    means, lift = segmentation.need_lift(responses, board_labels, cb)
    order = [s for s in segments.order if s in means.index]
    fig = figures.profile_heatmap(means.loc[order], lift.loc[order], {s: s for s in order}, cb, gate,
                                  board_labels.value_counts())
    plt.show()

    coords, point_labels, explained = segmentation.pca_map(seg)
    fig = figures.segment_map(coords, pd.Series(point_labels).map(segments.board).to_numpy(), segments.order,
                              explained)
    plt.show()

# %%
size_values = responses["size_class"].fillna("n.d.")
sizes = quality.board_sizes(responses, cb, gate)
positions = list(cb.by_key["posizione_filiera"].options)
position_values = responses["posizione_filiera"].fillna("Non indicata")
position_groups = gate.categories(position_values.value_counts().reindex([*positions, "Non indicata"], fill_value=0),
                                  what="posizione nella filiera")
display(table(segmentation.segment_mix(responses, seg, segments, sizes, size_values, gate,
                                       "Imprese per segmento e classe dimensionale"),
              "Imprese per segmento e classe dimensionale"))
display(table(segmentation.segment_mix(responses, seg, segments, position_groups, position_values, gate,
                                       "Imprese per segmento e posizione nella filiera", named=champion_positions),
              "Imprese per segmento e posizione nella filiera"))

# %% [markdown]
# ## Le priorità di filiera
#
# Per ogni bisogno, per tutte le imprese e dentro ogni segmento, un **punteggio di priorità** da 0 a 100 mette
# insieme **quante** imprese lo giudicano molto rilevante o prioritario (voto 4-5: la **diffusione**) e **chi sono**:
# quanto lo sentono (**intensità**), quanto sono lontane dalla piena maturità digitale (**divario di maturità**),
# quanto presto intendono investire (**urgenza**) e quanto pesano nella filiera (**peso nella filiera**). Il calcolo
# e la sua incertezza sono spiegati nella nota metodologica; i pesi sono nella tabella seguente. Con il registro dei
# soci, ogni impresa conta con il suo peso (sezione 3).

# %%
edges, unmatched = network.supply_edges(responses, cb)
table(priorities.weights_table(cfg.weights("priorita")), "Pesi del punteggio di priorità")

# %%
Markdown(f"Rete di fornitura: {fmt_int(len(edges))} legami cliente-fornitore tra imprese rispondenti; "
         f"{fmt_int(unmatched)} citazioni riguardano imprese che non hanno risposto.")

# %%
table(priorities.top_table(prio, cb, priorities.ALL_SCOPE, gate, priorita_mostrate),
      "Le priorità della filiera (tutte le imprese)")

# %%
# The first tier is the summary's first finding; the table above gives each priority's tier.
Markdown(priorities.tier_sentence())

# %%
fig = figures.priority_matrix(prio, cb, priorities.ALL_SCOPE, "Matrice delle priorità: tutte le imprese", gate,
                              priorita_mostrate)
plt.show()

# %%
# Priorities of a segment merged into "altre imprese" for the board are not shown (fewer than 3 companies).
own = {s: seg.names[s] for s in sorted(seg.names) if segments.board.get(s) == f"{s}. {seg.names[s]}"}
scopes = [priorities.ALL_SCOPE] + list(own.values())
fig = figures.priority_heatmap(prio, cb, scopes)
plt.show()

# %%
merged = ("" if len(own) == len(seg.names) else "I segmenti con meno di 3 imprese sono uniti in \"altre imprese\" e "
          "le loro priorità non sono mostrate.")
if not seg.selection.structured:
    display(Markdown(segmentation.NO_SEGMENTS_SENTENCE))
elif gate.analyst:  # the board reads them in the figure above (the stars)
    display(Markdown("### Le prime tre priorità di ogni segmento\n\n" + priorities.segment_lines(prio, cb, own)
                     + ("\n\n" + merged if merged else "")))
elif merged:
    display(Markdown(merged))
