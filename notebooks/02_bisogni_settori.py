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
processed_dir = ""  # a run's processed folder (needs_summary.csv, weights.csv, ...); empty means data/processed
wave = ""  # survey wave shown in the header
sample_run = False  # True when the run used the bundled sample survey
audience = "board"  # board for exports, analyst for real names (never exported)
codebook_path = ""  # project codebook file; empty means the package codebook only
report_formato_figure = "png"  # report.formato_figure: png, or svg so that the text inside figures can be searched

# %%
import matplotlib.pyplot as plt
from IPython.display import Markdown, display

from analysis import figures, maturity, needs, paths, quality, themes, weights
from analysis.disclosure import SUPPRESSED, Gate
from analysis.reporting import fmt_int, fmt_num, fmt_pct, load_processed, report_header, setup_plots, table
from analysis.steps import restore_needs

gate = Gate(audience)
data = load_processed(processed_dir or paths.PROCESSED, codebook_path,
                      need=("weights", "weighting", "needs_summary", "sector_comparison", "need_families",
                            "maturity_scores", "maturity_by_sector", "maturity_by_size", "need_gap", "challenge_themes"))
cb, responses, cfg = data.codebook, data.responses, data.config
found = restore_needs(data)
weighting, register = found.weighting, found.register
min_correlation = cfg["bisogni.correlazione_famiglie"]
setup_plots(report_formato_figure)
display(report_header("Bisogni delle imprese per gruppo merceologico", wave or "non indicata", data.summary, sample_run,
              gate))
# For the board, a sector group or size class under 3 companies is merged or, where merging cannot help, its
# breakdown is left out (and the report says why).
sectors, sizes = quality.board_sectors(responses, cb, gate), quality.board_sizes(responses, cb, gate)

# %% [markdown]
# ## Come leggere questa sezione
#
# Ogni impresa ha dato a ciascuno dei bisogni di innovazione un voto da 1 (non rilevante) a 5 (prioritario). Il
# grafico riporta, per gruppo merceologico, la **quota di imprese che giudica il bisogno molto rilevante o
# prioritario (voto 4-5)**; una risposta lasciata in bianco non conta come voto basso. La vista per gli analisti
# aggiunge l'**importanza media** con il suo intervallo di confidenza al 95% e quante imprese hanno risposto.

# %%
if weighting.weighted:
    text = (f"**Dati ponderati** ({weighting.source}): ogni impresa pesa in proporzione a quante imprese associate "
            "del suo gruppo merceologico e della sua classe dimensionale rappresenta, così quote e medie descrivono "
            "l'intera base associativa e non solo chi ha risposto. Lo stesso vale per le priorità e per le quote dei "
            "segmenti (sezione 4).")
    if weighting.cap:
        text += (f" Nessun peso supera {fmt_num(weighting.cap, 1)} volte il peso medio (pesi limitati: "
                 f"{fmt_int(weighting.trimmed)} imprese). Numerosità effettiva: "
                 f"{fmt_num(weighting.effective, 0)} imprese su {fmt_int(len(weighting.weights))}: i pesi disuguali "
                 "rendono le stime incerte quanto lo sarebbero con quel numero di risposte a peso uguale.")
else:
    text = ("**Dati non ponderati**: quote e medie descrivono le imprese che hanno risposto. Con il registro dei "
            "soci le cifre diventano rappresentative dell'intera base associativa.")
Markdown(text)

# %%
summary = needs.published_summary(found.summary, gate, breakdown=not sectors.omitted)
if sectors.omitted:
    display(Markdown(sectors.omitted))
fig = figures.needs_by_sector(summary, cb, weighted=weighting.weighted)
plt.show()

# %%
# The board reads the shares in the figure; the analysts also get the means, intervals and counts.
if gate.analyst:
    display(table(needs.summary_table(summary, cb), "Bisogni per gruppo merceologico"))

# %% [markdown]
# ## Dove i due gruppi merceologici differiscono
#
# Per ogni bisogno verifichiamo se i voti delle Meccaniche e quelli delle Metallurgiche, Siderurgiche e Fonderie
# differiscono in modo **credibile**, cioè difficilmente per caso (tenendo conto che i bisogni confrontati sono molti),
# e quanto è **ampia** la differenza: da -1 a +1, dove 0 vuol dire nessuna differenza e ±1 che ogni impresa di un
# gruppo vota più in alto di ogni impresa dell'altro. Il metodo è spiegato nella nota metodologica.

# %%
comparison = found.comparison
if sectors.omitted:  # the comparison of the two groups is the breakdown that cannot be shown
    comparison = comparison.iloc[0:0]
    display(Markdown(sectors.omitted))
else:
    shown_needs = set(summary.loc[summary["gruppo_merceologico"] != needs.ALL_COMPANIES].groupby("need")
                      ["mean_hidden"].any().loc[lambda h: ~h].index)
    fig = figures.sector_differences(comparison[comparison["need"].isin(shown_needs)], cb)
    plt.show()
    if gate.analyst:  # the board reads the figure and the summary below it
        display(table(needs.comparison_table(comparison, summary, cb), "Differenze tra i gruppi merceologici"))

# %%
# Only needs whose figures the board may see are summed up (a verdict on a hidden need would describe it).
comparison = comparison if sectors.omitted else comparison[comparison["need"].isin(shown_needs)]
credible = comparison[comparison["credible"]]
first, second = (cb.sector_short[s] for s in cb.sector_labels[:2])
more_first = [cb.by_key[k].short for k in credible.loc[credible["rank_biserial"] > 0, "need"]]
more_second = [cb.by_key[k].short for k in credible.loc[credible["rank_biserial"] < 0, "need"]]
if len(comparison):  # nothing to sum up where the comparison is left out (said above)
    display(Markdown(f"**In sintesi**: {len(credible)} dei {len(comparison)} bisogni confrontati mostrano una "
                     f"differenza credibile. Più sentiti dalle {first}: {', '.join(more_first) or 'nessuno'}. "
                     f"Più sentiti dalle {second}: {', '.join(more_second) or 'nessuno'}."))

# %% [markdown]
# ## Famiglie di bisogni
#
# Alcuni bisogni vengono chiesti insieme: chi vuole integrare i dati di produzione spesso chiede anche
# tracciabilità e cybersecurity. Misuriamo quanto i voti di due bisogni vanno di pari passo tra le imprese (da 0,
# nessun legame, a 1, sempre insieme) e uniamo in una **famiglia** i bisogni chiesti insieme abbastanza spesso.
# L'albero a sinistra mostra come i bisogni si uniscono (la linea rossa è la soglia); la mappa a destra, nello
# stesso ordine, mostra quanto vanno insieme, con le famiglie riquadrate.

# %%
families = found.families
fig = figures.need_families(families, cb)
plt.show()

# %%
fam = needs.family_table(families, summary, cb)
table(fam.assign(**{"Famiglia": range(1, len(fam) + 1), "Bisogni": fam["needs"].map(", ".join),
                    "Voto 4-5 (media dei bisogni)": fam["share_high"].map(lambda v: SUPPRESSED if v != v else fmt_pct(v)),
                    "Correlazione interna": fam["mean_correlation"].map(lambda v: fmt_num(v, 2))})
      [["Famiglia", "Bisogni", "Voto 4-5 (media dei bisogni)", "Correlazione interna"]],
      f"Famiglie di bisogni (correlazione media almeno {fmt_num(min_correlation, 2)})")

# %% [markdown]
# ## Maturità digitale
#
# Le sei dimensioni del questionario seguono il Digital Maturity Assessment dell'Unione Europea. Ogni risposta da
# 0 a 5 diventa un punteggio da 0 a 100; l'**indice di maturità** è la media delle dimensioni a cui l'impresa ha
# risposto (almeno quattro su sei, altrimenti l'indice resta mancante). Le fasce sono quelle del DMA europeo: *Base*
# 0-25, *Intermedio* 26-50, *Moderatamente avanzato* 51-75, *Avanzato* 76-100. Con il registro dei soci, medie e
# indice medio sono ponderati; i conteggi per fascia restano quelli delle imprese che hanno risposto.

# %%
scores = found.scores
if not sectors.omitted:
    fig = figures.maturity_by_dimension(scores, sectors.labels(responses["gruppo_merceologico"]).map(
        {v: k for k, v in cb.sector_short.items()}), cb, gate, weighting.weights)
    plt.show()

# %%
breakdowns = [(sectors, responses["gruppo_merceologico"], "gruppo merceologico"),
              (sizes, responses["size_class"].fillna("n.d."), "classe dimensionale")]
for groups, values, what in breakdowns:
    if groups.omitted:
        display(Markdown(groups.omitted))
        continue
    by_group = maturity.board_groups(scores, values, groups, weighting.weights)
    published = maturity.band_counts(by_group, gate, f"Fasce di maturità per {what}")
    fig = figures.maturity_bands(by_group, published, f"Fasce di maturità per {what}",
                                 maturity.mean_labels(by_group, published, gate))
    plt.show()
    if gate.analyst:  # the board reads each group's mean index beside its bars
        display(table(maturity.band_table(by_group, published, gate), f"Indice di maturità per {what}"))

# %% [markdown]
# ### Bisogni e maturità: dove il divario è maggiore
#
# Ogni bisogno è collegato a una dimensione della maturità (per esempio la manutenzione predittiva
# all'automazione). Il grafico mette a confronto l'**intensità del bisogno** (importanza media riportata su 0-100)
# con la **maturità, nella dimensione collegata, delle imprese che lo giudicano 4-5**: i bisogni in alto a sinistra
# sono molto sentiti da imprese ancora poco mature in quell'area. La tabella della vista per gli analisti riporta
# anche di quanto queste imprese sono meno mature della media.

# %%
gap = found.gap
fig = figures.need_gap(gap, cb, gate)
plt.show()

# %%
if gate.analyst:
    display(table(maturity.gap_table(gap, cb, gate), "Bisogni e maturità collegata (dal divario maggiore)"))

# %% [markdown]
# ## I bisogni nelle parole delle imprese
#
# Il questionario chiede anche di descrivere a parole la **principale sfida tecnologica**. Leggiamo questi testi,
# in italiano o in inglese, con il vocabolario dei bisogni: un testo che parla di un bisogno del questionario
# conta come sostegno a quel bisogno. I testi che non parlano di nessuno sono raggruppati per le parole che le
# stesse imprese usano: un gruppo di almeno 3 imprese è un **tema nuovo**, un bisogno che il questionario non
# chiede. Ogni tema ha un nome e poche parole, usate ciascuna da almeno 3 delle sue imprese; nessun testo è citato.

# %%
said = found.themes
display(Markdown(themes.support_sentence(said, responses, cb, gate)))
new = themes.new_table(said, responses, cb, gate, by_sector=not sectors.omitted)
if len(new):
    display(table(new, "Temi nuovi: bisogni che il questionario non chiede"))
    display(Markdown("Le cifre per gruppo contano imprese, non quote: i due gruppi hanno numerosità diverse. Un "
                     "tema nuovo, anche non tecnologico, può diventare una domanda della prossima rilevazione."))
else:
    display(Markdown("Nessun tema nuovo: le sfide descritte a parole parlano dei bisogni del questionario, o di "
                     "temi che meno di 3 imprese condividono."))
if gate.analyst:  # the texts themselves, with the companies' names: never in the board report
    display(table(themes.examples(said, responses, cb), "Esempi di sfide per tema"))

# %%
# With a register or a weights table: what they mean, the response rates and the weights (without either, the
# section's first lines already say the figures are not weighted).
if register is not None or weighting.weighted:
    display(Markdown(
        "## Rappresentatività\n\nIl tasso di risposta per gruppo merceologico e classe dimensionale mostra quali "
        "parti della base associativa sono sotto- o sovra-rappresentate, e i pesi di post-stratificazione riportano "
        "ogni cella al suo peso reale. Le celle con meno di tre rispondenti sono unite alla classe dimensionale "
        "vicina dello stesso gruppo, perché nessuna singola impresa conti troppo."))
if register is not None:
    rates, outside = found.rates, found.outside
    display(table(weights.rates_table(rates, cb, gate), "Tasso di risposta per gruppo e classe dimensionale"))
    display(Markdown(f"Registro dei soci: {fmt_int(register.read)} righe lette, {fmt_int(register.used)} usate, "
                     f"{fmt_int(register.left_out)} escluse, {fmt_int(register.empty)} vuote. "
                     f"Imprese rispondenti non trovate nel registro: {fmt_int(outside)}."))
    if register.problems and gate.analyst:
        display(Markdown("\n".join(f"- {p}" for p in register.problems)))
if weighting.weighted:
    display(table(weights.cells_table(weighting, cb, gate), "Pesi di post-stratificazione"))
