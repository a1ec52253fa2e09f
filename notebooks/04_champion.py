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
processed_dir = ""  # a run's processed folder (champions.csv, champion_candidates.csv, ...); empty: data/processed
wave = ""  # survey wave shown in the header
sample_run = False  # True when the run used the bundled sample survey
audience = "board"  # board for exports, analyst for real names (never exported)
codebook_path = ""  # project codebook file; empty means the package codebook only
report_formato_figure = "png"  # report.formato_figure: png, or svg so that the text inside figures can be searched

# %%
import matplotlib.pyplot as plt
from IPython.display import Markdown, display

from analysis import board, catalog, champions, figures, network, paths, quality, segmentation
from analysis.disclosure import SUPPRESSED, Gate
from analysis.reporting import fmt_int, fmt_num, fmt_pct, load_processed, report_header, setup_plots, table
from analysis.steps import champion_rules
from analysis.text import markdown_text

gate = Gate(audience)
data = load_processed(processed_dir or paths.PROCESSED, codebook_path,
                      need=("segmentation", "segments", "champions", "champion_candidates", "champion_selection"))
cb, responses, cfg = data.codebook, data.responses, data.config
setup_plots(report_formato_figure)
report_header("Le imprese Champion", wave or "non indicata", data.summary, sample_run, gate)

# %% [markdown]
# ## Chi può essere Champion e come lo scegliamo
#
# Le imprese Champion sono i punti di riferimento per l'innovazione della filiera: raccolgono i bisogni principali del
# loro segmento e aiutano a definire la strategia. Sono **candidate** solo le imprese che si sono dette disponibili
# ("Sì") o che devono ancora decidere ("Da valutare", segnate *da confermare*); mai un'impresa che ha risposto no.
#
# Ogni candidata riceve cinque punteggi da 0 a 100:
#
# - **rappresentatività**: quanto i suoi bisogni sono vicini al profilo medio del suo segmento;
# - **copertura delle priorità**: quante delle prime priorità del suo segmento giudica molto rilevanti (4-5);
# - **prontezza all'innovazione**: indice di maturità digitale, funzione R&S interna, innovation manager, esperienza
#   di open innovation;
# - **influenza nella filiera**: quanto è collegata nella rete locale di clienti e fornitori, e la sua dimensione;
# - **disponibilità**: "Sì" vale 100, "Da valutare" 50.
#
# Il punteggio complessivo è la media pesata dei cinque. La scelta non prende semplicemente i punteggi più alti:
# cerca, tra tutte le combinazioni possibili, quella con il punteggio totale più alto che rispetta i
# vincoli: un numero massimo di Champion, almeno un Champion per ogni segmento (di più
# per i segmenti più grandi), un massimo per segmento, entrambi i gruppi merceologici presenti.

# %%
seg = data.segmentation()
# For the board a segment of fewer than 3 companies is "altre imprese" here too, as in the segment section.
segments = segmentation.board_segments(seg, gate)
seg_board = segmentation.board_segment_names(seg, segments)
table_ = champions.board_view(data.read("champions"), seg_board)
cands = data.read("champion_candidates")
selection = data.read("champion_selection")
frequency = cands.set_index("company_id")["frequenza_selezione"]
chosen = table_["company_id"].tolist()
weights = cfg.weights("champion")
Markdown(f"Candidate: {fmt_int(len(cands))} imprese ({fmt_int((cands['disponibilita'] == 1).sum())} disponibili, "
         f"{fmt_int((cands['disponibilita'] < 1).sum())} da confermare). Champion scelti: {len(table_)}.")

# %%
if selection["messages"] and gate.analyst:
    display(Markdown("**Vincoli che non si possono rispettare** (la scelta li ha allentati):\n\n"
                     + "\n".join(f"- {markdown_text(m)}" for m in selection["messages"])))
elif selection["messages"]:  # they count candidates of single segments and groups: the board gets how many
    display(Markdown(f"**{len(selection['messages'])} vincoli non si potevano rispettare** e la scelta li ha "
                     "allentati (il dettaglio è nella vista per gli analisti)."))
minimum = {s: n for s, n in selection["minimum"].items() if seg_board.get(s, s) == s}
Markdown(markdown_text(champions.rules_sentence(champion_rules(cfg, seg.k), minimum, weights)))

# %% [markdown]
# ## I Champion
#
# Ogni Champion è nominato solo se ha dato il consenso a essere citato; altrimenti compare con uno pseudonimo stabile
# e la nota *consenso da richiedere*. Due colonne dicono quanto la scelta è solida (robustezza, sotto): "Scelto nei
# sorteggi dei pesi" è quante volte l'impresa resta Champion quando i pesi dei criteri vengono cambiati a caso fino al
# ±25%; "Scelto nei sottocampioni" quante volte resta Champion quando si rifà tutto (segmenti, priorità, scelta) su
# un sottocampione del 90% delle imprese, contando solo i sottocampioni che la comprendono.

# %%
shown = gate.names(responses, data.key(), mark=True)
kept = cands.set_index("company_id")["frequenza_ricampionamento"] if "frequenza_ricampionamento" in cands else None
# A Champion's sector group is named only where the board sees the sector groups (none of 1-2 companies).
sector_shown = quality.sector_names(responses, cb, gate)
by_sector = SUPPRESSED not in sector_shown.values()
table(champions.champions_report(table_, frequency, shown, cb, kept, sector_shown), "Le imprese Champion")

# %%
# The reasons as a list below the table (in a table column they took a page per three Champions); the board reads
# them, in short, in the summary.
Markdown("### Perché ognuno\n\n" + "\n".join(board.champion_lines(table_, shown)) if gate.analyst else
         "Il perché di ogni scelta, impresa per impresa, è nella sintesi per il Consiglio; qui sotto i cinque "
         "criteri di ogni Champion.")

# %%
for start in range(0, len(chosen), figures.MAX_ROWS):  # a long list in more figures, each printable
    fig = figures.champion_criteria(cands, chosen[start:start + figures.MAX_ROWS], shown.to_dict(), cb, by_sector)
    plt.show()

# %%
edges, _ = network.supply_edges(responses, cb)
fig = figures.supply_chain(responses, edges, chosen, shown.to_dict(), cb, gate, by_sector=by_sector)
plt.show()

# %% [markdown]
# ## Robustezza della scelta
#
# Una scelta credibile non deve dipendere da un peso arbitrario né da poche risposte: per questo la ripetiamo con pesi
# dei criteri sorteggiati e su sottocampioni delle imprese (le due colonne della tabella dei Champion; il metodo è
# nella nota metodologica). Un Champion che resta tale in almeno il 70% dei sottocampioni che lo comprendono è
# **robusto ai dati**. Per ogni segmento indichiamo anche le migliori alternative: le imprese non scelte che entrano
# più spesso nei sorteggi.

# %%
resampling = selection.get("resampling")
if resampling and resampling.get("resamples") and kept is not None:
    robust = int((kept[chosen] >= champions.ROBUST).sum())
    try:  # the run's timings (run metadata, so only in the analyst view)
        seconds = catalog.read_manifest(data.folder).get("timings_s", {}).get("champion_resampling")
    except catalog.IncompleteSet:
        seconds = None
    took = f" (calcolati in {fmt_num(seconds, 1)} secondi)" if gate.analyst and seconds is not None else ""
    display(Markdown(f"Robustezza ai dati: {robust} dei {len(chosen)} Champion restano tali in almeno il "
                     f"{fmt_pct(champions.ROBUST, 0)} di {fmt_int(resampling['resamples'])} sottocampioni del "
                     f"{fmt_pct(resampling['share'], 0)} delle imprese{took}."))

# %%
alt = champions.alternates(cands, cands["score"], chosen, frequency, cfg["champion.alternative_per_segmento"])
(table(champions.alternates_report(champions.board_view(alt, seg_board), shown, cb, sector_shown),
       "Alternative per segmento") if len(alt) else
 Markdown("Nessuna alternativa da proporre: non ci sono altre candidate."))
