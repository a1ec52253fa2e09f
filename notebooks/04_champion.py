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
processed_dir = ""  # folder with the ingest outputs, segments.csv and priorities.csv; champions.csv is written there
wave = ""  # survey wave shown in the header
sample_run = False  # True when the run used the bundled sample survey
audience = "board"  # board for exports, analyst for real names (never exported)
codebook_path = ""  # project codebook file; empty means the package codebook only
figure_format = "png"  # png, or svg so that the text inside figures can be searched
seed = 42  # random seed of the robustness draws and of the network layout
max_champions = 12  # at most this many Champions
max_per_segment = 4  # at most this many Champions in one segment
min_per_segment = 1  # at least this many Champions in every segment
extra_per_share = 0.2  # one more Champion in a segment for every full share of companies it holds (0 for none)
top_priorities = 3  # the priorities of its segment a candidate should rate 4-5 (coverage)
weight_rappresentativita = 0.25  # weight: closeness of the company's needs to its segment's profile
weight_copertura = 0.25  # weight: share of the segment's top priorities the company rates 4-5
weight_prontezza = 0.20  # weight: maturity index, in-house R&D, innovation manager, open innovation
weight_influenza = 0.20  # weight: centrality in the supply network and size
weight_disponibilita = 0.10  # weight: yes above to be confirmed
robustness_draws = 300  # weight draws for the robustness check
robustness_spread = 0.25  # each weight varies by up to this share in the draws
alternates_per_segment = 2  # alternates listed per segment

# %%
import matplotlib.pyplot as plt
from IPython.display import Markdown, display

from analysis import champions, figures, network, paths, priorities, segmentation
from analysis.confidentiality import check_audience, pseudonym_key
from analysis.reporting import fmt_int, load_processed, report_header, setup_plots, table

check_audience(audience)
data = load_processed(processed_dir or paths.PROCESSED, codebook_path)
cb, responses = data.codebook, data.responses
setup_plots(figure_format)
report_header("Le imprese Champion", wave or "non indicata", data.summary, sample_run, audience)

# %% [markdown]
# ## Chi può essere Champion e come lo scegliamo
#
# Le imprese Champion sono i punti di riferimento per l'innovazione della filiera: raccolgono i bisogni principali del
# loro segmento e aiutano a definire la strategia. Sono **candidate** solo le imprese che si sono dette disponibili
# ("Sì") o che devono ancora decidere ("Da valutare", segnate *da confermare*); mai un'impresa che ha risposto no.
#
# Ogni candidata riceve cinque punteggi da 0 a 1:
#
# - **rappresentatività**: quanto i suoi bisogni sono vicini al profilo medio del suo segmento;
# - **copertura delle priorità**: quante delle prime priorità del suo segmento giudica molto rilevanti (4-5);
# - **prontezza all'innovazione**: indice di maturità digitale, funzione R&S interna, innovation manager, esperienza
#   di open innovation;
# - **influenza nella filiera**: centralità nella rete locale clienti-fornitori (PageRank) e dimensione;
# - **disponibilità**: "Sì" vale 1, "Da valutare" 0,5.
#
# Il punteggio complessivo è la media pesata dei cinque. La scelta non prende semplicemente i punteggi più alti:
# risolve in modo esatto un **problema di ottimizzazione** (programmazione lineare intera) che massimizza il
# punteggio totale rispettando i vincoli: un numero massimo di Champion, almeno un Champion per ogni segmento (di più
# per i segmenti più grandi), un massimo per segmento, entrambi i gruppi merceologici presenti.

# %%
names, feats = segmentation.load_segments(data.folder, responses, cb)
prio = priorities.load_priorities(data.folder)
edges, _ = network.supply_edges(responses, cb)
linked = network.linked_companies(responses, edges)
graph = network.supply_graph(responses, edges)
weights = {"rappresentativita": weight_rappresentativita, "copertura": weight_copertura,
           "prontezza": weight_prontezza, "influenza": weight_influenza, "disponibilita": weight_disponibilita}
cands = champions.candidate_table(responses, cb, names, feats.X, prio, champions.influence_centrality(graph),
                                  linked, top_priorities)
scores = champions.score(cands, weights)
rules = champions.Rules(max_champions, max_per_segment, min_per_segment, extra_per_share)
shares = names.value_counts(normalize=True).to_dict()
selection = champions.select(cands, scores, shares, cb.sector_labels, rules)
table_ = champions.champions_table(cands, scores, selection, cb)
Markdown(f"Candidate: {fmt_int(len(cands))} imprese ({fmt_int((cands['disponibilita'] == 1).sum())} disponibili, "
         f"{fmt_int((cands['disponibilita'] < 1).sum())} da confermare). Champion scelti: {len(selection.chosen)}.")

# %%
if selection.messages:
    display(Markdown("**Vincoli che non si possono rispettare** (la scelta li ha allentati):\n\n"
                     + "\n".join(f"- {m}" for m in selection.messages)))
table(champions.rules_table(rules, selection.minimum, weights), "Vincoli e pesi della scelta")

# %% [markdown]
# ## I Champion
#
# Ogni Champion è nominato solo se ha dato il consenso a essere citato; altrimenti compare con uno pseudonimo stabile
# e la nota *consenso da richiedere*. La colonna "Scelto nei sorteggi" dice quante volte l'impresa resta Champion
# quando i pesi dei criteri vengono cambiati a caso fino al ±25% (robustezza, sotto).

# %%
frequency = champions.robustness(cands, shares, cb.sector_labels, rules, weights, robustness_draws,
                                 robustness_spread, seed)
shown = champions.board_names(responses, pseudonym_key(data.folder), audience)
table(champions.champions_report(table_, frequency, shown, cb), "Le imprese Champion")

# %%
fig = figures.champion_criteria(cands, selection.chosen, shown.to_dict(), cb)
plt.show()

# %%
fig = figures.supply_network(graph, dict(zip(responses["company_id"], names, strict=True)), selection.chosen,
                             shown.to_dict(), segmentation.segment_order(data.folder), seed)
plt.show()

# %% [markdown]
# ## Robustezza della scelta
#
# Una scelta credibile non deve dipendere da un peso arbitrario. Ripetiamo la selezione molte volte, ogni volta con
# pesi dei criteri estratti a caso intorno a quelli scelti, e contiamo quante volte ogni Champion resta selezionato.
# Per ogni segmento indichiamo anche le migliori alternative: le imprese non scelte che entrano più spesso nei
# sorteggi.

# %%
fig = figures.selection_frequency(frequency[selection.chosen], shown.to_dict())
plt.show()

# %%
alt = champions.alternates(cands, scores, selection.chosen, frequency, alternates_per_segment)
table(champions.alternates_report(alt, shown, cb), "Alternative per segmento")

# %%
champions.write_outputs(table_, cands, scores, frequency, data.folder)
Markdown(f"File scritti nella cartella dei dati elaborati: `champions.csv` ({len(table_)} Champion) e "
         f"`champion_candidates.csv` ({fmt_int(len(cands))} candidate con tutti i criteri).")
