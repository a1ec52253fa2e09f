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
processed_dir = ""  # folder with every output of the analysis steps
wave = ""  # survey wave shown in the header
sample_run = False  # True when the run used the bundled sample survey
audience = "board"  # board for exports, analyst for real names (never exported)
codebook_path = ""  # project codebook file; empty means the package codebook only
report_formato_figure = "png"  # report.formato_figure: png, or svg so that the text inside figures can be searched

# %%
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

from analysis import board, figures, paths, priorities, segmentation, weights
from analysis.disclosure import Gate
from analysis.reporting import fmt_num, load_processed, report_header, setup_plots, table

gate = Gate(audience)
data = load_processed(processed_dir or paths.PROCESSED, codebook_path,
                      need=("segmentation", "segments", "priorities", "weighting"))
cb, cfg = data.codebook, data.config
setup_plots(report_formato_figure)
display(report_header("Nota metodologica", wave or "non indicata", data.summary, sample_run, gate))
seg = data.segmentation()
settings = data.read("segmentation")
weighted = data.read("weighting")["source"] != weights.UNWEIGHTED

# %% [markdown]
# Come sono ottenute le cifre del rapporto, per chi non fa statistica di mestiere: ogni termine tecnico è spiegato
# qui una volta (configurazione completa ed elenco dei file restano agli analisti).

# %%
Markdown(board.choices_line({**settings, "structured": seg.selection.structured}, weighted))

# %% [markdown]
# ## Riservatezza
#
# Nessuna cifra riguarda meno di 3 imprese: un conteggio, una quota o una media su 1 o 2 imprese è sostituito da
# **n.p.** (non pubblicabile), e così anche le cifre che permetterebbero di ricavarlo per differenza da un totale
# mostrato altrove. Un gruppo con meno di 3 imprese è unito a un gruppo vicino o ad "altre imprese". Un'impresa è
# citata per nome solo se ha dato il consenso; le altre compaiono con uno pseudonimo stabile, che non si può
# ricondurre all'impresa.
#
# ## Pesi
#
# Con il registro dei soci ogni impresa pesa quanto le imprese associate del suo gruppo e della sua classe
# dimensionale (**post-stratificazione**): le cifre descrivono l'intera base associativa.
#
# ## Bisogni e gruppi merceologici
#
# - **Quota con voto 4-5**: la parte delle imprese che giudica un bisogno molto rilevante o prioritario.
# - **Media e intervallo di confidenza al 95% (IC 95%)**: l'importanza media da 1 a 5, con l'intervallo in cui cade
#   la media vera con il 95% di probabilità, dato il numero di risposte: più risposte, intervallo più stretto.
# - **Differenze tra i due gruppi.** Per ogni bisogno confrontiamo i voti delle Meccaniche con quelli delle
#   Metallurgiche con il **test di Mann-Whitney** (o, a scelta, di **Brunner-Munzel**, che regge anche quando un
#   gruppo ha voti più dispersi dell'altro): un test risponde alla domanda "una differenza così potrebbe nascere per
#   caso?". Il **valore p** è la probabilità di vedere una differenza almeno così grande se i due gruppi in realtà
#   non differissero. Poiché i confronti sono 17, alcuni sembrerebbero differenze per puro caso: i valori p sono
#   **corretti con il metodo di Benjamini-Hochberg (BH)**, e una differenza è detta **credibile** quando il valore p
#   corretto è sotto la soglia scelta.
# - **Ampiezza della differenza** (correlazione **rank-biserial**, o **delta di Cliff**): da -1 a +1; 0 se nessun
#   gruppo tende a dare voti più alti, ±1 se ogni impresa di un gruppo vota più in alto di ogni impresa dell'altro.
#   Sotto 0,147 è trascurabile, fino a 0,33 piccola, fino a 0,474 media, oltre grande.
# - **Famiglie di bisogni.** La **correlazione di Spearman** misura quanto i voti di due bisogni vanno di pari
#   passo tra le imprese (1: sempre insieme; 0: nessun legame). Un **raggruppamento gerarchico** unisce in una
#   famiglia i bisogni la cui correlazione media raggiunge la soglia scelta.
# - **Maturità digitale.** Le sei dimensioni seguono il **Digital Maturity Assessment (DMA)** dell'Unione Europea: ogni
#   risposta da 0 a 5 diventa un punteggio da 0 a 100, l'indice è la media delle dimensioni risposte (almeno quattro
#   su sei), e le fasce sono *Base* 0-25, *Intermedio* 26-50, *Moderatamente avanzato* 51-75, *Avanzato* 76-100.
#
# ## Segmenti
#
# I **segmenti** raggruppano le imprese con bisogni simili. Prima di confrontarle togliamo a ogni impresa la media
# dei suoi voti: conta che cosa chiede **più degli altri suoi bisogni**, non quanto è generosa nel votare (il voto
# medio del segmento è riportato a parte). Un voto mancante non esclude l'impresa: viene stimato dalle risposte del
# suo gruppo merceologico solo per scegliere il numero di segmenti.
#
# - **Metodo.** **k-means** raggruppa le imprese attorno a profili medi; il **metodo di Ward** costruisce i gruppi
#   unendo passo passo le imprese più simili; **k-modes** tratta i voti come categorie (basso, rilevante, alto).
# - **Ci sono segmenti?** La **statistica gap** confronta ogni divisione con dati di riferimento che hanno le stesse
#   risposte ma nessun gruppo: se nessuna divisione fa meglio, il rapporto dice che non ci sono segmenti distinti.
# - **Quanti segmenti.** Scegliamo il numero con il **BIC** (criterio bayesiano) più basso: premia quanto i segmenti
#   spiegano le risposte e penalizza ogni segmento in più. Accanto: la **silhouette** (quanto ogni impresa è più
#   vicina al suo segmento che agli altri, da -1 a 1) e l'indice di **Calinski-Harabasz** (quanto i segmenti sono
#   separati rispetto alla loro dispersione interna).
# - **Stabilità.** Rifacciamo la divisione su sottocampioni dell'80% delle imprese (**bootstrap**, ricampionamento) e
#   misuriamo quanto le soluzioni concordano con l'**indice di Rand corretto (ARI)**: 1 identiche, 0 = accordo casuale;
#   stabile da 0,75. Per ogni segmento, l'**indice di Jaccard** dice quanto si ritrova nei sottocampioni (sotto 0,6:
#   poco stabile). Una verifica indipendente usa i **modelli a classi latenti**, che trattano i voti come categorie.
# - **La mappa dei segmenti** usa le **componenti principali**: le due direzioni lungo cui le imprese differiscono di
#   più, per disegnare su un foglio imprese descritte da tanti voti quanti sono i bisogni.

# %%
sel = seg.selection
if sel.structured and len(sel.criteria):
    crit = sel.criteria
    if gate.analyst:  # the board reads the figure
        shown = crit.assign(**{"Segmenti": crit["k"], "BIC": crit["bic"].map(lambda v: fmt_num(v, 0)),
                               "Silhouette": crit["silhouette"].map(lambda v: fmt_num(v, 3)),
                               "Calinski-Harabasz": crit["calinski_harabasz"].map(lambda v: fmt_num(v, 1)),
                               "Stabilità (ARI)": crit["stability"].map(lambda v: fmt_num(v, 2)),
                               "Stabile": crit["stable"].map({True: "sì", False: "no"})})
        display(table(shown[["Segmenti", "BIC", "Silhouette", "Calinski-Harabasz", "Stabilità (ARI)", "Stabile"]],
                      "Criteri per il numero di segmenti"))
    fig = figures.k_criteria(crit, sel.k, segmentation.STABLE)
    plt.show()
    display(Markdown(f"**Scelta**: {sel.reason}."))
else:
    display(Markdown(f"**Scelta**: {sel.reason}."))

# %%
if seg.latent is not None and len(seg.latent.criteria):
    lc = seg.latent.criteria
    if gate.analyst:  # the board reads the verdict, in the sentence below
        display(table(pd.DataFrame({"Classi": lc["k"], "BIC": lc["bic"].map(lambda v: fmt_num(v, 0)),
                                    "Accordo con i segmenti (ARI)": lc["agreement"].map(lambda v: fmt_num(v, 2))}),
                      "Verifica con modelli a classi latenti (risposte come categorie)"))
    display(Markdown(seg.latent.sentence(seg.k)))

# %% [markdown]
# ## Priorità
#
# Il **punteggio di priorità** (0-100) di un bisogno è una media pesata di cinque componenti, ciascuna da 0 a 1:
# **diffusione** (quota di imprese con voto 4-5), **intensità** (tra queste, la quota che dà 5), **divario di
# maturità** (quanto queste imprese sono lontane dalla piena maturità nella dimensione digitale collegata), **urgenza**
# (quanto presto intendono investire) e **peso nella filiera** (la loro posizione nella catena di fornitura e quante
# altre imprese rispondenti le indicano come cliente o fornitore). Ognuna va da 0 a 1: l'urgenza vale 1 entro 12
# mesi, 0,5 da 1 a 3 anni, 0 oltre; la posizione vale 1 per il produttore finale, 0,83 per il primo livello, 0,67
# per il secondo, 0,5 per il conto terzi, e si somma ai legami con le altre imprese (rispetto all'impresa più
# collegata), riportata a 0-1. Perché un bisogno chiesto da due sole imprese non salga per le loro sole risposte, le
# ultime quattro sono avvicinate alla media di tutti i bisogni, come se vi si aggiungessero 10 imprese medie.
#
# Le posizioni hanno un'incertezza: ricampioniamo le imprese (**bootstrap**: si rifà il calcolo molte volte su
# campioni estratti dalle imprese stesse) e per ogni bisogno otteniamo un **intervallo al 90%** del punteggio e delle
# posizioni possibili. Una **fascia** raccoglie i bisogni che i dati non permettono di ordinare tra loro.

# %%
prio = data.read("priorities")
corr = priorities.component_correlations(prio)
if gate.analyst:  # the board reads the verdict below
    display(table(priorities.correlation_table(corr), "Correlazioni tra le componenti del punteggio (tra i bisogni)"))
Markdown("Le componenti devono dire cose diverse: due componenti con una correlazione sopra 0,8 misurerebbero la "
         "stessa cosa e il punteggio la conterebbe due volte. " + priorities.redundancy_sentence(corr))

# %% [markdown]
# ## Champion
#
# Ogni candidata riceve cinque punteggi da 0 a 100 (rappresentatività del segmento, copertura delle sue priorità,
# prontezza all'innovazione, influenza nella filiera, disponibilità). L'**influenza nella filiera** usa la
# **centralità PageRank**: un'impresa conta di più se molte imprese rispondenti la indicano come cliente o
# fornitore, e di più ancora se queste sono a loro volta molto collegate. La scelta non prende i punteggi più alti uno
# per uno: risolve un **problema di ottimizzazione** (**programmazione lineare intera**, che trova la combinazione
# migliore tra tutte quelle possibili) con i vincoli di almeno un Champion per segmento, di un massimo per segmento e
# di entrambi i gruppi merceologici presenti. La **robustezza** ripete la scelta cambiando a caso i pesi dei criteri
# (**sorteggi dei pesi**) e rifacendo tutto su **sottocampioni** delle imprese.
#
# ## Startup
#
# Per ogni startup e ogni bisogno confrontiamo le tecnologie dichiarate e la descrizione, in italiano o in inglese,
# con il vocabolario del bisogno: i suoi nomi, i termini che da soli lo indicano (come "cobot") e le parole che lo
# sostengono senza bastare da sole (come "robot"), per **radice** e in qualunque ordine; un **modello di testo**,
# addestrato su circa 2.200 descrizioni di startup già classificate (quasi tutte scritte da tredici autori diversi),
# legge anche le parole che nessun elenco prevede. La **pertinenza** (0-100) è la probabilità che la startup
# risponda davvero al bisogno, stimata sulle stesse descrizioni; entrano nelle liste solo le startup sopra la
# soglia, scelta perché le liste fossero giuste 95 volte su 100 per autori che il modello non aveva letto. Su un
# elenco di prova scritto da un altro autore, 39 startup elencate su 40 rispondono davvero: ogni nome va
# verificato dagli scout.
#
# Il **TRL** (Technology Readiness Level) misura la maturità di una tecnologia da 1 (idea) a 9 (prodotto sul
# mercato); 5-6 significa un prototipo provato in un ambiente simile a quello reale.
#
# ## Governance dell'innovazione
#
# Punteggi delle risposte: sì 1, no 0 (da valutare 0,5); spesa in R&S da 0 (0%) a 1 (3% e oltre); open innovation
# nessuna 0, occasionale 0,5, strutturata 1; investimento entro 12 mesi 1, da 1 a 3 anni 0,5, oltre 0. Il **legame
# con la maturità digitale** è la **correlazione dei ranghi di Spearman** (da -1 a 1; 0 nessun legame).
#
# ## Sfide descritte a parole
#
# Un testo sostiene un bisogno quando contiene un termine del suo vocabolario (lo stesso delle startup) o due parole
# collegate. Due parole formano un tema quando le usano in gran parte le stesse imprese (**raggruppamento
# gerarchico**, distanza di Jaccard sotto 0,7). Non descrivono mai un tema le parole di oltre il 40% delle sfide, i
# nomi propri, le parole delle ragioni sociali, le frasi con e-mail o telefono.
