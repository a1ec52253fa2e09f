"""The evaluation set of startup scouting (issue 16): labelled startups to calibrate and to test the matching.

Kept apart from the bundled sample list (:mod:`analysis.startup_sample`), with its own phrases. Each startup
has a description in Italian or English, tags or only generic ones ("Deep tech", "Manufacturing",
"Industria 4.0"), and the needs it answers (none for the near-misses, which share words with a need without
answering it, and for startups of unrelated sectors).

The set is split in two: the **calibration** part fits the score and the threshold (:func:`calibrate`); the
**test** part measures them (``benchmarks/bench_scouting.py``). Calibration holds the phrases below, written
with the codebook in view, and a first set of startups written blind (by a writer who saw only the needs'
labels); the codebook's vocabulary was extended while looking at that set's misses. The test part is a
second set written blind, by another writer, read only to measure: descriptions that hold one of the
codebook's synonym phrases verbatim are left out of it, so that it measures the matching of other word
forms, orders and words, as startups write them. A few needs have no answering startup in the test list:
their shortlists must be empty.
"""

from __future__ import annotations

import functools
import json
import random
from dataclasses import dataclass
from importlib import resources

import pandas as pd

from analysis.codebook import Codebook
from analysis.text import normalise

CAL, TEST = "calibrazione", "test"
PHRASE_WRITER = "frasi"  # the phrases of this module, as the writer of a description
CODEBOOK_WRITER = "codebook"  # the needs' own words, which every text model reads
BLIND = "startup_eval_blind.json"
GENERIC_TAGS = ["Deep tech", "Manufacturing", "Industria 4.0", "Industry 4.0", "B2B", "SaaS"]
# Needs no startup of the test list answers (their shortlists must come back empty).
UNANSWERED_IN_TEST = ("bisogno_finanza_incentivi", "bisogno_competenze", "bisogno_logistica")

# need -> language -> calibration phrases (written with the codebook in view; they may use its terms).
PHRASES: dict[str, dict[str, list[str]]] = {
    "bisogno_integrazione_dati": {
        "it": [
            "un sistema che legge i dati dei macchinari e li porta nel gestionale di fabbrica",
            "una piattaforma IIoT che collega le macchine al MES e all'ERP",
            "raccolta dati di produzione in tempo reale con gateway OPC UA",
            "software che connette tra loro i macchinari del reparto e porta i loro dati nel gestionale",
            "dispositivi edge che leggono i PLC e integrano i dati produttivi con i sistemi aziendali",
        ],
        "en": [
            "software that pulls data from every machine into the factory's business systems",
            "an IIoT platform connecting shop floor machines to MES and ERP",
            "edge computing gateways that stream production data to a data platform",
            "middleware that links CNC machines with the plant's execution system and business software",
            "retrofit kits that make legacy machines connected and feed their data into one repository",
        ],
    },
    "bisogno_digital_twin": {
        "it": [
            "una copia digitale della linea per provare i cambi di formato al computer",
            "gemelli digitali di linee produttive per la messa in servizio virtuale",
            "simulazione di processo e analisi agli elementi finiti per stampi e presse",
            "modelli virtuali dell'impianto su cui provare le modifiche prima di farle in officina",
            "simulazioni numeriche dei processi di fusione per prevedere il riempimento degli stampi",
        ],
        "en": [
            "a computer model of the press line to try process changes before production",
            "digital twins of production lines for virtual commissioning",
            "process simulation and finite element models of forging presses",
            "a virtual replica of the factory floor to test layout changes before making them",
            "simulated models of machining processes that predict cycle times before the first part",
        ],
    },
    "bisogno_cybersecurity": {
        "it": [
            "protegge i controllori di fabbrica da accessi non autorizzati e virus",
            "sicurezza informatica delle reti OT e rilevamento intrusioni negli impianti",
            "protezione dai ransomware per le PMI manifatturiere",
            "difende le reti di fabbrica da attacchi e intrusioni informatiche e segnala gli accessi anomali",
            "monitoraggio continuo delle vulnerabilità dei PLC e delle reti dell'officina",
        ],
        "en": [
            "shields factory controllers from unauthorised access and malicious software",
            "OT security and intrusion detection for industrial control systems",
            "network security and zero trust access for factories",
            "protects plant networks against cyber-attack campaigns and flags anomalous access to controllers",
            "continuous vulnerability scanning of PLCs and shop floor networks against intruders",
        ],
    },
    "bisogno_robotica": {
        "it": [
            "bracci robotici leggeri che lavorano accanto agli operai senza barriere",
            "cobot e celle robotizzate per l'asservimento macchine",
            "automazione flessibile con bin picking",
            "robot che collaborano con gli operatori nelle celle di sbavatura dei getti",
            "isole robotizzate riconfigurabili per lotti piccoli e variabili",
        ],
        "en": [
            "lightweight robot arms working next to people without fences",
            "cobots and robotic cells for machine tending",
            "flexible automation with pick and place robots",
            "robotic arms that collaborate with operators to deburr castings",
            "reconfigurable robotic work cells for small and changing batches",
        ],
    },
    "bisogno_manutenzione_predittiva": {
        "it": [
            "avvisa prima che un motore si rompa, dai dati di temperatura e vibrazione",
            "manutenzione predittiva con analisi delle vibrazioni dei motori",
            "prognostica e stima della vita utile residua dei cuscinetti",
            "sensori che prevedono quando un mandrino si guasterà, analizzando le sue vibrazioni",
            "algoritmi che anticipano i guasti dei macchinari prima del fermo",
        ],
        "en": [
            "warns before a motor breaks down, from temperature and vibration data",
            "predictive maintenance from vibration analysis of motors",
            "condition monitoring and remaining useful life of bearings",
            "sensors that predict when a spindle will fail by listening to its vibrations",
            "models that anticipate failures of presses and machines days before a breakdown",
        ],
    },
    "bisogno_qualita_visione": {
        "it": [
            "telecamere in linea che trovano graffi e bolle sui pezzi verniciati",
            "visione artificiale per il rilevamento dei difetti superficiali",
            "ispezione ottica automatica dei pezzi lavorati",
            "telecamere e algoritmi di visione che scartano i getti con porosità o cricche",
            "un sistema di visione che ispeziona ogni pezzo in linea e misura i difetti",
        ],
        "en": [
            "inline cameras that spot scratches and bubbles on painted parts",
            "machine vision for surface defect detection",
            "automated optical inspection of machined parts",
            "camera-based inspection of castings that rejects parts with porosity or cracks",
            "vision algorithms that inspect every part on the line and classify its defects",
        ],
    },
    "bisogno_ottimizzazione_ai": {
        "it": [
            "algoritmi che imparano dai dati e regolano le presse per ridurre gli scarti",
            "ottimizzazione dei processi con intelligenza artificiale e pianificazione della produzione",
            "schedulazione della produzione con machine learning",
            "algoritmi di apprendimento automatico che ottimizzano i parametri dei forni in tempo reale",
            "un pianificatore intelligente che ottimizza la sequenza degli ordini in reparto",
        ],
        "en": [
            "algorithms that learn from data and tune presses to reduce rejects",
            "AI process optimisation and production planning",
            "production scheduling with machine learning",
            "learning algorithms that optimize furnace parameters in real time",
            "an intelligent planner that optimizes the sequence of production orders",
        ],
    },
    "bisogno_additive": {
        "it": [
            "stampa strato per strato di ingranaggi in acciaio da polvere",
            "stampa 3D metallica con fusione a letto di polvere (LPBF)",
            "manifattura additiva di ricambi in acciaio",
            "stampanti tridimensionali a deposizione di filo metallico per componenti di grandi dimensioni",
            "produzione additiva di componenti in titanio e ricambi metallici su richiesta",
        ],
        "en": [
            "layer by layer printing of steel gears from powder",
            "metal additive manufacturing with laser powder bed fusion",
            "binder jetting of steel spare parts",
            "wire-based additive production of large metal components",
            "on-demand printed titanium parts and metal spares built layer by layer",
        ],
    },
    "bisogno_materiali": {
        "it": [
            "una lega più leggera e resistente per le ruote dei carrelli",
            "nuovi materiali e rivestimenti per utensili",
            "trattamenti termici e leghe leggere",
            "un rivestimento nanostrutturato che allunga la durata degli stampi",
            "una nuova lega di alluminio e un trattamento delle superfici contro l'usura",
        ],
        "en": [
            "a lighter and stronger alloy for forklift wheels",
            "advanced materials and coatings for tools",
            "heat treatment of light alloys",
            "nanostructured coatings that extend the life of dies and moulds",
            "new aluminium alloys and wear-resistant treatments of surfaces",
        ],
    },
    "bisogno_efficienza_energetica": {
        "it": [
            "riduce la bolletta elettrica delle officine controllando compressori e luci",
            "efficienza energetica e recupero di calore dai forni",
            "monitoraggio consumi e gestione energia",
            "scambiatori che recuperano il calore dei fumi dei forni e tagliano i consumi",
            "contatori intelligenti che riducono i consumi energetici di compressori e forni",
        ],
        "en": [
            "cuts the power bill of workshops by controlling compressors and lights",
            "energy efficiency and heat recovery from furnaces",
            "energy management and energy monitoring",
            "exchangers that recover heat from furnace exhaust and cut consumption",
            "smart meters that make compressors and furnaces more energy efficient",
        ],
    },
    "bisogno_decarbonizzazione": {
        "it": [
            "forni a induzione al posto dei forni a gas per tagliare la CO2",
            "decarbonizzazione con forni elettrici a induzione",
            "idrogeno verde per i processi termici",
            "bruciatori alimentati da gas verdi che riducono l'emissione di CO2 delle fonderie",
            "elettrifica i forni di trattamento e calcola l'impronta carbonica dei pezzi",
        ],
        "en": [
            "induction furnaces replacing gas furnaces to cut CO2",
            "decarbonisation with electric induction furnaces",
            "green hydrogen for thermal processes",
            "burners fired by green gases that cut the CO2 emitted by foundries",
            "electrifies annealing furnaces and computes the carbon footprints of every part",
        ],
    },
    "bisogno_economia_circolare": {
        "it": [
            "ritira i trucioli di alluminio e li trasforma in nuovi lingotti",
            "economia circolare: recupero dei rottami e delle scorie",
            "riciclo dei metalli e LCA",
            "valorizza la scoria di acciaieria come materia prima seconda per il cemento",
            "seleziona e ricicla lo sfrido di lavorazione per riportarlo in fusione",
        ],
        "en": [
            "collects aluminium chips and turns them into new ingots",
            "circular economy: scrap recovery and slag reuse",
            "metal recycling and life cycle assessment",
            "turns steelmaking slags into secondary raw material for cement",
            "sorts machining swarf and recycles it back into the melt",
        ],
    },
    "bisogno_tracciabilita": {
        "it": [
            "segue ogni lotto di barre dal laminatoio al cliente",
            "tracciabilità di filiera con blockchain e passaporto digitale di prodotto",
            "tracciamento dei lotti con RFID",
            "registra la storia di ogni lotto di materiale dal fornitore al cliente finale",
            "etichette intelligenti che tracciano ogni componente lungo la filiera",
        ],
        "en": [
            "follows every batch of bars from the rolling mill to the customer",
            "supply chain traceability with blockchain and digital product passport",
            "lot tracking with RFID tags",
            "records the history of every material lot from supplier to end customer",
            "smart labels that trace every component across the supply network",
        ],
    },
    "bisogno_logistica": {
        "it": [
            "prevede quanta materia prima ordinare e quando",
            "logistica e gestione del magazzino con previsione della domanda",
            "ottimizzazione delle scorte e degli approvvigionamenti",
        ],
        "en": [
            "forecasts how much raw material to order and when",
            "logistics and warehouse management with demand forecasting",
            "inventory optimisation and procurement",
        ],
    },
    "bisogno_competenze": {
        "it": [
            "corsi pratici per insegnare ai tecnici a usare i nuovi macchinari digitali",
            "formazione tecnica degli operatori in realtà aumentata",
            "upskilling e competenze digitali",
        ],
        "en": [
            "hands-on courses teaching technicians to use new digital machines",
            "operator training with augmented reality",
            "digital skills and reskilling",
        ],
    },
    "bisogno_sicurezza_lavoro": {
        "it": [
            "un gilet con sensori che segnala posture pericolose e cadute",
            "esoscheletri per la movimentazione manuale dei carichi",
            "sensori indossabili per la sicurezza sul lavoro",
            "un esoscheletro leggero che sostiene la schiena degli operai durante il sollevamento dei pezzi",
            "braccialetti che avvisano l'operaio quando si avvicina troppo a un carrello in movimento",
        ],
        "en": [
            "a vest with sensors that flags dangerous postures and falls",
            "exoskeletons for manual handling",
            "wearable sensors for workplace safety",
            "a lightweight exoskeleton that supports workers' backs while lifting parts",
            "wristbands that warn workers when they get too close to a moving forklift, preventing injuries",
        ],
    },
    "bisogno_finanza_incentivi": {
        "it": [
            "aiuta le imprese a ottenere contributi pubblici per i macchinari nuovi",
            "finanza agevolata: bandi e credito d'imposta per l'innovazione",
            "consulenza su Transizione 5.0",
        ],
        "en": [
            "helps firms obtain public grants for new machinery",
            "innovation grants and tax credits for SMEs",
            "public funding for innovation projects",
        ],
    },
}

# Calibration descriptions that share words with a need without answering it (label: no need).
NEAR_MISSES: list[str] = [
    "sicurezza alimentare e tracciabilità HACCP nelle mense scolastiche",
    "robot da cucina per la casa che preparano ricette",
    "formazione di cristalli nei vini frizzanti",
    "visione strategica e coaching per manager",
    "energy drink naturali per sportivi",
    "app di finanza personale per studenti",
    "robotic process automation for invoice processing in accounting offices",
    "home security cameras for apartments",
    "simulation games for language learning",
    "a logistics marketplace for moving house",
    "materials for children's educational toys",
    "digital twin avatars for fashion e-commerce",
    "sensori per il parcheggio nei centri commerciali",
    "ottimizzazione dei percorsi per i rider del cibo",
    "cameras and inspection of hotel rooms by cleaning staff",
    "a training app for marathon runners",
    "materiali per l'edilizia in legno",
    "energy coaching for households",
    "telecamere per la sorveglianza di negozi e abitazioni",
    "intelligenza artificiale che suggerisce capi di abbigliamento agli utenti",
    "un assistente virtuale per prenotare tavoli al ristorante",
    "corsi di cucina online per appassionati",
    "sensori per monitorare l'umidità delle piante d'appartamento",
    "tessuti riciclati per la moda sostenibile",
    "AI chatbots that answer hotel guests' questions",
    "a fitness tracker that counts steps and sleep hours",
    "3D printed chocolate for pastry shops",
    "crypto collectibles for football fans",
    "an app that compares electricity tariffs for households",
    "predictive analytics for retail shelf prices",
]
# Calibration startups of unrelated sectors.
UNRELATED: list[str] = [
    "piattaforma di prenotazione per parrucchieri",
    "biotecnologie per nuovi farmaci oncologici",
    "a travel app for backpackers",
    "pet food delivered by subscription",
    "vertical farming of salad leaves",
    "video editing tools for influencers",
    "marketplace di prodotti artigianali",
    "terapie geniche per malattie rare",
    "a dating app for hikers",
    "language tutoring for children",
    "craft beer subscriptions",
    "insurance comparison for cars",
]
_INTROS = {"it": ["Sviluppiamo {p}.", "La startup offre {p}.", "{P}, già in prova presso due clienti.",
                  "Proponiamo {p} per le PMI manifatturiere."],
           "en": ["We build {p}.", "The startup offers {p}.", "{P}, already piloted with two customers.",
                  "We provide {p} for mid-sized manufacturers."]}
_SYLLABLES = ["ta", "ri", "no", "ve", "lu", "ca", "mi", "so", "ze", "ra", "do", "pi", "ne", "fo", "ga", "li"]


@dataclass(frozen=True)
class Example:
    name: str
    description: str
    tags: tuple[str, ...]
    language: str
    part: str
    kind: str  # answering | near_miss | unrelated
    needs: tuple[str, ...]  # the needs it answers (empty for near-misses and unrelated)
    tagged: bool
    writer: str = PHRASE_WRITER  # who wrote the description: a blind writer, or the phrases of this module


def _language(text: str) -> str:
    english = {"the", "and", "that", "for", "with", "of", "a", "an", "we", "every", "from"}
    return "en" if len(english & set(text.lower().split())) >= 1 else "it"


@functools.lru_cache(maxsize=1)
def _blind_file() -> dict:
    """``resources/startup_eval_blind.json``, parsed once (read, never changed, by every function below)."""
    return json.loads(resources.files("analysis").joinpath(f"resources/{BLIND}").read_text("utf-8"))


def blind_sets() -> tuple[dict[str, list[dict]], str]:
    """The startups written blind (``resources/startup_eval_blind.json``), by writer, and the writer whose set is
    the test part. Each writer saw the needs' labels but neither the codebook's vocabulary nor the matching."""
    raw = _blind_file()
    return raw["writers"], raw["test"]


def held_out() -> tuple[str, ...]:
    """The writers that never calibrate nor teach the text model: the test part's, and those written after the
    matching was settled to check it once more (``held_out`` in the blind sets' file)."""
    raw = _blind_file()
    return (raw["test"], *raw.get("held_out", []))


def _calibrating(writer: str, test: str | None) -> bool:
    return writer != test and writer not in held_out()


def contains_synonym(text: str, cb: Codebook) -> str | None:
    """The first of the codebook's synonym phrases written verbatim (normalised) in ``text``, if any."""
    padded = f" {normalise(text)} "
    return next((s for f in cb.needs for s in f.synonyms if normalise(s) and f" {normalise(s)} " in padded), None)


def build(cb: Codebook, seed: int = 16, test: str | None = None) -> list[Example]:
    """Every startup of the evaluation set.

    Calibration: the phrases above and the blind sets of the other writers; each answering description appears
    twice, tagged with the need (its label, short name or a synonym) and untagged (generic tags only).

    Test: the blind set of writer ``test`` (by default the one kept to measure), each description once; with
    another writer, the set kept to measure is left out altogether (see :func:`cross_writer`). Kept: descriptions without any of the codebook's synonym
    phrases (the test measures the matching, not the codebook's wording), at most two per need and language
    (a need has at most 4 answering startups, so a shortlist of 5 can hold them all), none for the needs of
    ``UNANSWERED_IN_TEST``. The first Italian one is tagged with the need's label and the second is untagged;
    the English ones the other way round."""
    rng = random.Random(seed)
    names: set[str] = set()

    def name() -> str:
        while True:
            n = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()
            n += rng.choice(["", " Tech", " Labs", " AI", " Systems", "ix"])
            if n not in names:
                names.add(n)
                return n

    def sentence(phrase: str, lang: str) -> str:
        intro = rng.choice(_INTROS[lang])
        return intro.format(p=phrase, P=phrase[0].upper() + phrase[1:])

    def need_tags(f, lang: str, varied: bool) -> tuple[str, str]:
        label = f.it if lang == "it" else f.en
        return (rng.choice([label, f.short] + list(f.synonyms[:3])) if varied else label, rng.choice(GENERIC_TAGS))

    out: list[Example] = []

    def add(text: str, lang: str, part: str, kind: str, needs: tuple[str, ...], tags: tuple[str, ...] | None,
            writer: str = PHRASE_WRITER):
        tagged = tags is not None
        out.append(Example(name(), text, tags if tagged else tuple(rng.sample(GENERIC_TAGS, 2)), lang, part, kind,
                           needs, tagged, writer))

    writers, final = blind_sets()
    test = test or final
    calibrating = [{**r, "writer": w} for w, records in writers.items() if _calibrating(w, test) for r in records]
    for need, langs in PHRASES.items():
        for lang, phrases in langs.items():
            for phrase in phrases:
                for tagged in (True, False):
                    add(sentence(phrase, lang), lang, CAL, "answering", (need,),
                        need_tags(cb.by_key[need], lang, True) if tagged else None)
    for r in calibrating:
        if r["kind"] == "answering":
            for tagged in (True, False):
                add(r["description"], r["lang"], CAL, "answering", (r["need"],),
                    need_tags(cb.by_key[r["need"]], r["lang"], True) if tagged else None, r["writer"])
    for phrase in NEAR_MISSES + UNRELATED:
        lang = _language(phrase)
        add(sentence(phrase, lang), lang, CAL, "near_miss" if phrase in NEAR_MISSES else "unrelated", (), None)
    for r in calibrating:
        if r["kind"] != "answering":
            add(r["description"], r["lang"], CAL, r["kind"], (), None, r["writer"])

    kept: dict[tuple[str, str], int] = {}
    for r in writers[test]:
        if r["kind"] != "answering":
            add(r["description"], r["lang"], TEST, r["kind"], (), None, test)
            continue
        n = kept.get((r["need"], r["lang"]), 0)
        if r["need"] in UNANSWERED_IN_TEST or n >= 2 or contains_synonym(r["description"], cb):
            continue
        kept[(r["need"], r["lang"])] = n + 1
        tagged = (n == 0) == (r["lang"] == "it")
        add(r["description"], r["lang"], TEST, "answering", (r["need"],),
            need_tags(cb.by_key[r["need"]], r["lang"], False) if tagged else None, test)
    return out


def training_texts(test: str | None = None) -> list[tuple[str, str | None, str]]:
    """What the text model learns from (:class:`analysis.startup_matching.TextModel`): each need's own words in
    the package codebook (its labels in both languages and its description: the blind writers were asked
    not to copy the labels, so without them a description that names the need would read as if it did not), and
    every description of the calibration part once, as ``(text, need or None, writer)``; without writer ``test``
    (by default the one kept to measure), as :func:`build` leaves it out."""
    from analysis.codebook import load_codebook

    writers, _ = blind_sets()
    out = [(text, f.key, CODEBOOK_WRITER) for f in load_codebook().needs
           for text in dict.fromkeys([f.it, f.en, f.description]) if text]
    out += [(p, need, PHRASE_WRITER) for need, langs in PHRASES.items() for phrases in langs.values() for p in phrases]
    out += [(p, None, PHRASE_WRITER) for p in NEAR_MISSES + UNRELATED]
    for w, records in writers.items():
        if _calibrating(w, test):
            out += [(r["description"], r["need"] if r["kind"] == "answering" else None, w) for r in records]
    return out


def frame(examples: list[Example]) -> pd.DataFrame:
    """The set as a startup list (the columns the matching reads) with its labels."""
    return pd.DataFrame({
        "nome_startup": [e.name for e in examples], "descrizione": [e.description for e in examples],
        "tecnologie": [list(e.tags) for e in examples], "trl": pd.array([6] * len(examples), dtype="Int64"),
        "lingua": [e.language for e in examples], "parte": [e.part for e in examples],
        "tipo": [e.kind for e in examples], "bisogni": [list(e.needs) for e in examples],
        "con_tag": [e.tagged for e in examples]})


# --------------------------------------------------------------------------
# Calibration and evaluation

def pairs(examples: list[Example], cb: Codebook, model_of=None) -> pd.DataFrame:
    """Every (startup, need) of a list of examples with its evidence features and whether it answers;
    ``model_of(example)`` is the text model that reads it (the shipped one by default)."""
    from analysis.startup_matching import FEATURES, assess, lexicons, model_text, text_model

    rows = []
    lexicons_ = lexicons(cb)
    models = [model_of(e) if model_of else text_model() for e in examples]
    said: list = [None] * len(examples)
    for model in {id(m): m for m in models}.values():  # each model reads its descriptions at once
        mine = [i for i, m in enumerate(models) if m is model]
        read = model.many([model_text(examples[i].description, list(examples[i].tags)) for i in mine])
        for i, p in zip(mine, read, strict=True):
            said[i] = p
    for e, model, p in zip(examples, models, said, strict=True):
        for key, ev in assess(lexicons_, list(e.tags), e.description, model, p).items():
            rows.append({"startup": e.name, "need": key, "answers": key in e.needs, "language": e.language,
                         "tagged": e.tagged, "kind": e.kind, "any": ev.found(),
                         **ev.features()})
    return pd.DataFrame(rows, columns=["startup", "need", "answers", "language", "tagged", "kind", "any",
                                       *FEATURES])


def _models(part: str, test: str | None):
    """Which text model reads each example: for the test part, the one fitted on the whole calibration part; for
    the calibration part, one fitted without the example's own writer, so that its probabilities are those of a
    writer the model never read, as the test part's and the scouts' are (the score is fitted on them)."""
    from analysis.startup_matching import TextModel, text_model

    if part == TEST:
        model = text_model(test)
        return lambda e: model
    texts = training_texts(test)
    fitted: dict[str, TextModel] = {}

    def model_of(e: Example):
        if e.writer not in fitted:
            fitted[e.writer] = TextModel([(t, n) for t, n, w in texts if w != e.writer])
        return fitted[e.writer]

    return model_of


_PAIRS: dict[tuple, pd.DataFrame] = {}


def part_pairs(cb: Codebook, part: str, seed: int = 16, test: str | None = None) -> pd.DataFrame:
    """:func:`pairs` of one part of :func:`build` (computed once per codebook, seed and test writer)."""
    key = (id(cb), part, seed, test)
    if key not in _PAIRS:
        _PAIRS[key] = pairs([e for e in build(cb, seed, test) if e.part == part], cb, _models(part, test))
    return _PAIRS[key].copy()


def calibrate(cb: Codebook, seed: int = 16, test: str | None = None):
    """The logistic model of the score, fitted on the calibration part (pairs with some evidence only: a
    pair without any scores 0 whatever the model)."""
    from sklearn.linear_model import LogisticRegression

    from analysis.startup_matching import FEATURES, Calibration

    data = part_pairs(cb, CAL, seed, test)
    data = data[data["any"]]
    model = LogisticRegression(C=1.0, max_iter=1000).fit(data[list(FEATURES)].to_numpy(float),
                                                         data["answers"].to_numpy())
    return Calibration(round(float(model.intercept_[0]), 4),
                       {k: round(float(w), 4) for k, w in zip(FEATURES, model.coef_[0], strict=True)},
                       f"analysis.startup_eval, parte {CAL}, seme {seed}: {len(data)} coppie startup-bisogno con "
                       f"qualche evidenza, {int(data['answers'].sum())} pertinenti")


def scored_pairs(cb: Codebook, part: str, seed: int = 16, model=None, test: str | None = None) -> pd.DataFrame:
    """:func:`pairs` of one part with the relevance (0-100) ``model`` gives them (the shipped one by default;
    a pair without any evidence scores 0, as in :func:`analysis.startup_matching.score`)."""
    from analysis.startup_matching import FEATURES, calibration

    data = part_pairs(cb, part, seed, test)
    model = model or calibration()
    data["score"] = [100 * model.probability(dict(zip(FEATURES, row, strict=True))) if has else 0.0
                     for has, row in zip(data["any"], data[list(FEATURES)].to_numpy(float), strict=True)]
    return data


@dataclass
class Evaluation:
    precision: float  # of the shortlists as returned (up to 5, at or above the threshold)
    recall: float  # answering startups in the top 5 of their need, over needs with any
    recall_by_group: dict[str, float]  # (language, tagged) groups of answering startups
    empty_when_unanswered: float  # share of needs without an answering startup that get an empty shortlist
    shortlisted: int
    detail: pd.DataFrame  # the shortlists


def evaluate(cb: Codebook, part: str = TEST, threshold: float = 50.0, top: int = 5, seed: int = 16,
             model=None, test: str | None = None) -> Evaluation:
    """The matching's shortlists on one part of the set, and how right they are."""
    data = scored_pairs(cb, part, seed, model, test)
    listed = (data[data["score"] >= threshold].sort_values(["need", "score", "startup"], ascending=[True, False, True])
              .groupby("need").head(top))
    answering = data[data["answers"]]
    found = answering.merge(listed[["startup", "need"]], on=["startup", "need"], how="left", indicator=True)
    found["hit"] = found["_merge"] == "both"
    groups = {f"{'italiano' if lang == 'it' else 'inglese'} {'con tag' if tagged else 'senza tag'}": float(g["hit"].mean())
              for (lang, tagged), g in found.groupby(["language", "tagged"])}
    unanswered = [k for k in cb.need_keys if k not in set(answering["need"])]
    empty = [k for k in unanswered if k not in set(listed["need"])]
    return Evaluation(
        precision=float(listed["answers"].mean()) if len(listed) else 1.0,
        recall=float(found["hit"].mean()) if len(found) else 1.0,
        recall_by_group=groups,
        empty_when_unanswered=len(empty) / len(unanswered) if unanswered else 1.0,
        shortlisted=len(listed), detail=listed)


def left_out(cb: Codebook, seed: int = 16) -> list[tuple[str, object]]:
    """Each calibrating blind writer with the score fitted without it (text model and logistic model alike): the
    matching as it meets a writer it never read."""
    writers, _ = blind_sets()
    return [(w, calibrate(cb, seed, test=w)) for w in writers if _calibrating(w, None)]


def suggested_threshold(cb: Codebook, target: float = 0.95, seed: int = 16) -> float:
    """The lowest round relevance (10, 20, ... 90) at which the shortlists are right at least ``target`` of the
    time for writers the matching never read: each calibrating writer is left out in turn (:func:`left_out`) and
    the precision of its shortlists averaged. The default of ``startup.soglia_pertinenza`` (a scout who finds
    one wrong match stops reading). Shortlists, not single pairs: a need no startup answers lists whatever
    scores highest, so the threshold must hold there."""
    runs = left_out(cb, seed)
    for t in range(10, 100, 10):
        precision = [evaluate(cb, TEST, float(t), seed=seed, model=m, test=w).precision for w, m in runs]
        if sum(precision) / len(precision) >= target:
            return float(t)
    return 90.0


def cross_writer(cb: Codebook, threshold: float, seed: int = 16) -> list[tuple[str, Evaluation]]:
    """Leave one writer out (:func:`left_out`) and measure the shortlists at ``threshold`` on that writer's
    startups, as the test part is built: how the matching fares on wording it was not fitted on, without
    touching the test part."""
    return [(w, evaluate(cb, TEST, threshold, seed=seed, model=m, test=w)) for w, m in left_out(cb, seed)]
