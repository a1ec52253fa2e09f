"""The run configuration: every parameter in one place, validated before any work (spec section 9).

Parameters are named ``step.name`` (``segmentazione.k``, ``champion.max_totale``) plus the run-wide
``seed``. Each has a type, the values it allows, a default and a one-line description in Italian.
``-p NAME VALUE`` (a YAML scalar), ``--params FILE`` (nested mappings ``champion: {max_totale: 10}`` or
dotted keys) and the notebooks' ``parameters`` cells all go through :func:`configure`.

Notebooks receive the values they declare under the papermill name of the parameter: the dot becomes an
underscore (``startup.per_lista`` -> ``startup_per_lista``); :func:`notebook_name` is that one rule.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from analysis.errors import ConfigError


@dataclass(frozen=True)
class Param:
    name: str
    default: Any
    kind: str  # int, float, bool, str, choice, mapping
    help: str
    low: float | None = None
    high: float | None = None
    choices: tuple = ()

    def allowed(self) -> str:
        """What the parameter accepts, in words (for error messages and the docs)."""
        if self.kind == "choice":
            return "uno tra " + ", ".join(map(str, self.choices))
        if self.kind == "bool":
            return "true o false"
        if self.kind == "mapping":
            return ("una mappa numero del segmento (da 1) -> nome diverso per ogni segmento, testo semplice senza "
                    "< > ` [ ] * _ \\, per esempio {1: \"Dati e filiera\"}")
        if self.kind == "str":
            return "un testo"
        what = "un numero intero" if self.kind == "int" else "un numero"
        if self.low is not None and self.high is not None:
            return f"{what} tra {_fmt(self.low)} e {_fmt(self.high)}"
        if self.low is not None:
            return f"{what} maggiore o uguale a {_fmt(self.low)}"
        return what

    def check(self, value: Any) -> Any:
        """The value converted to the parameter's type; :class:`ConfigError` when it is not allowed."""
        ok, converted = _convert(self, value)
        if not ok:
            shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
            raise ConfigError(f"parametro {self.name}: valore {shown} non ammesso; atteso {self.allowed()}")
        return converted


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x).replace(".", ",")


def _convert(p: Param, v: Any) -> tuple[bool, Any]:
    if p.kind == "bool":
        return (isinstance(v, bool), v)
    if p.kind == "str":
        return (isinstance(v, str), v)
    if p.kind == "choice":
        return (v in p.choices and isinstance(v, str), v)
    if p.kind == "mapping":
        if not isinstance(v, Mapping):
            return False, v
        out = {}
        for k, name in v.items():
            # Segment numbers: whole numbers from 1 (as numbers or digits); names: short plain text.
            if isinstance(k, bool) or not (isinstance(k, int) or (isinstance(k, str) and k.strip().isdigit())):
                return False, v
            key = int(k)
            if key < 1 or key > 1000 or key in out or not _plain_name(name):
                return False, v
            out[key] = name.strip()
        return len(set(out.values())) == len(out), out
    if isinstance(v, bool) or not isinstance(v, (int, float)) or (isinstance(v, float) and not math.isfinite(v)):
        return False, v
    if p.kind == "int":
        if isinstance(v, float) and not v.is_integer():
            return False, v
        v = int(v)
    else:
        v = float(v)
    if (p.low is not None and v < p.low) or (p.high is not None and v > p.high):
        return False, v
    return True, v


def _plain_name(name: Any) -> bool:
    """A name shown to the board as written: text, not markup, no control characters."""
    return (isinstance(name, str) and 0 < len(name.strip()) <= 80 and not any(c in name for c in "<>`[]*_\\")
            and all(ord(c) >= 32 for c in name))


def _weights(step: str, defaults: dict[str, float], what: str) -> list[Param]:
    return [Param(f"{step}.peso_{k}", v, "float", f"peso del criterio '{what[k]}' (relativo agli altri)", 0, 100)
            for k, v in defaults.items()]


PRIORITY_COMPONENTS = {"diffusione": "quota di imprese con voto 4-5", "intensita": "quota di 5 tra chi vota 4-5",
                       "divario": "divario di maturità di chi vota 4-5",
                       "urgenza": "orizzonte di investimento di chi vota 4-5",
                       "filiera": "peso nella filiera di chi vota 4-5"}
CHAMPION_CRITERIA = {"rappresentativita": "rappresentatività", "copertura": "copertura delle priorità",
                     "prontezza": "prontezza all'innovazione", "influenza": "influenza nella filiera",
                     "disponibilita": "disponibilità"}

PARAMETERS: tuple[Param, ...] = (
    Param("seed", 42, "int", "seme casuale di tutta l'analisi: stesso input e stesso seme danno gli stessi "
          "risultati", 0, 2**31 - 1),
    Param("report.formato_figure", "png", "choice", "formato delle figure nei report (svg rende cercabile il "
          "testo delle figure)", choices=("png", "svg")),
    Param("lettura.memoria_mb", 2048, "int", "memoria massima (MB) per leggere un file: oltre, il file è escluso con "
          "il motivo e gli altri sono letti", 256, 1_000_000),
    Param("lettura.secondi_massimi", 60.0, "float", "tempo massimo (secondi) per leggere un file: oltre, il file è "
          "escluso con il motivo", 1, 86_400),
    Param("lettura.foglio_mb_massimo", 500, "int", "dimensione massima (MB) di un foglio una volta decompresso "
          "(xlsx, xlsm, ods), controllata prima di leggerlo", 1, 1_000_000),
    Param("lettura.celle_massime", 3_000_000, "int", "celle massime di un foglio (righe per colonne, circa 50.000 "
          "risposte di 60 colonne), controllate prima di leggerlo e prima di convertirne le celle", 1000, 10**12),
    Param("bisogni.alfa", 0.05, "float", "tasso di falsa scoperta per le differenze tra i gruppi merceologici",
          0.001, 0.5),
    Param("bisogni.test_settori", "mannwhitney", "choice", "test del confronto tra gruppi merceologici: "
          "Mann-Whitney, o Brunner-Munzel quando i gruppi differiscono anche nella dispersione dei voti",
          choices=("mannwhitney", "brunnermunzel")),
    Param("bisogni.correlazione_famiglie", 0.3, "float", "correlazione media minima perché due bisogni formino "
          "una famiglia", 0, 1),
    Param("pesi.file_pesi", "", "str", "tabella dei pesi (gruppo, classe dimensionale, peso), usata quando manca "
          "il registro dei soci; vuoto: nessuna"),
    Param("pesi.min_rispondenti_cella", 3, "int", "sotto questo numero di rispondenti una cella di ponderazione "
          "si unisce alla classe dimensionale vicina", 1, 100),
    Param("pesi.limite", 3.0, "float", "nessun peso oltre questo multiplo del peso medio (l'eccesso va alle altre "
          "imprese)", 1.5, 20),
    Param("segmentazione.metodo", "kmeans", "choice", "metodo di segmentazione", choices=("kmeans", "ward",
                                                                                            "kmodes")),
    Param("segmentazione.k", 0, "int", "numero di segmenti; 0 lo sceglie automaticamente tra k_min e k_max", 0, 30),
    Param("segmentazione.k_min", 2, "int", "numero minimo di segmenti provati", 2, 30),
    Param("segmentazione.k_max", 8, "int", "numero massimo di segmenti provati", 2, 30),
    Param("segmentazione.con_maturita", False, "bool", "usa anche le sei risposte sulla maturità digitale"),
    Param("segmentazione.centra_voti", True, "bool", "segmenta sui voti di ogni impresa rispetto alla sua media, "
          "così chi vota tutto più alto (o solo 4-5) non diventa un segmento"),
    Param("segmentazione.imputazione", "sector_median", "choice", "come sostituire un voto mancante: mediana "
          "del bisogno nel gruppo merceologico o media dell'impresa", choices=("sector_median", "company_mean")),
    Param("segmentazione.quota_minima", 0.05, "float", "i segmenti sotto questa quota di imprese sono uniti o "
          "segnalati", 0, 0.5),
    Param("segmentazione.segmenti_piccoli", "flag", "choice", "segmenti sotto la quota minima: segnalati e tenuti "
          "(flag) o uniti al segmento più vicino (merge)", choices=("merge", "flag")),
    Param("segmentazione.ricampionamenti", 20, "int", "ricampionamenti per la stabilità di ogni numero di "
          "segmenti", 2, 500),
    Param("segmentazione.classi_latenti", True, "bool", "verifica la segmentazione con modelli a classi latenti "
          "sulle risposte come categorie (circa 6 secondi)"),
    Param("segmentazione.nomi", {}, "mapping", "nomi dei segmenti scelti dall'analista, per numero di segmento"),
    *_weights("priorita", {"diffusione": 0.40, "intensita": 0.15, "divario": 0.15, "urgenza": 0.15,
                           "filiera": 0.15}, PRIORITY_COMPONENTS),
    Param("priorita.ricampionamenti", 200, "int", "ricampionamenti delle imprese per gli intervalli di punteggio e "
          "posizione e per le fasce di priorità", 0, 2000),
    Param("priorita.mostrate", 5, "int", "priorità nominate e messe in evidenza nelle figure", 1, 30),
    Param("champion.max_totale", 12, "int", "numero massimo di Champion", 1, 200),
    Param("champion.max_per_segmento", 4, "int", "numero massimo di Champion in un segmento", 1, 200),
    Param("champion.min_per_segmento", 1, "int", "numero minimo di Champion in ogni segmento", 0, 50),
    Param("champion.extra_per_quota", 0.2, "float", "un Champion in più in un segmento per ogni quota intera di "
          "imprese che contiene (0: nessuno)", 0, 1),
    Param("champion.priorita_coperte", 3, "int", "priorità del segmento che una candidata dovrebbe giudicare 4-5 "
          "(criterio di copertura)", 1, 30),
    *_weights("champion", {"rappresentativita": 0.25, "copertura": 0.25, "prontezza": 0.20, "influenza": 0.20,
                           "disponibilita": 0.10}, CHAMPION_CRITERIA),
    Param("champion.ricampionamenti", 100, "int", "sottocampioni del 90% delle imprese su cui segmentazione, "
          "priorità e scelta dei Champion sono rifatte (robustezza ai dati)", 0, 1000),
    Param("champion.sorteggi", 300, "int", "sorteggi dei pesi per la verifica di robustezza", 0, 10_000),
    Param("champion.variazione_pesi", 0.25, "float", "ogni peso varia al più di questa quota nei sorteggi", 0, 1),
    Param("champion.alternative_per_segmento", 2, "int", "alternative elencate per segmento", 0, 20),
    Param("startup.soglia_trl", 5, "int", "le startup sotto questo livello di maturità tecnologica (TRL) sono "
          "elencate a parte", 1, 9),
    Param("startup.soglia_pertinenza", 60.0, "float", "pertinenza minima (0-100, la probabilità stimata che la "
          "startup risponda al bisogno) per entrare in una lista; un bisogno che nessuna startup raggiunge non ha "
          "lista", 0, 100),
    Param("startup.per_lista", 5, "int", "startup per ogni lista di priorità", 1, 50),
    Param("startup.priorita_con_lista", 5, "int", "priorità di tutte le imprese che ricevono una lista di "
          "startup", 1, 30),
    Param("startup.priorita_per_segmento", 2, "int", "priorità di ogni segmento che ricevono una lista", 0, 30),
    Param("startup.proposte_per_champion", 2, "int", "proposte di sperimentazione per ogni Champion", 1, 10),
    Param("sintesi.priorita_mostrate", 5, "int", "priorità elencate nella sintesi per il Consiglio", 1, 30),
)
BY_NAME: dict[str, Param] = {p.name: p for p in PARAMETERS}
STEPS = tuple(dict.fromkeys(p.name.split(".")[0] for p in PARAMETERS if "." in p.name))


def notebook_name(name: str) -> str:
    """The name a notebook's ``parameters`` cell uses for a parameter (papermill needs an identifier)."""
    return name.replace(".", "_")


class Config(Mapping):
    """The validated, complete configuration of a run: every parameter with its effective value."""

    def __init__(self, values: Mapping[str, Any] | None = None):
        self._values = {p.name: p.default for p in PARAMETERS}
        self._given: set[str] = set()
        for name, value in (values or {}).items():
            self._values[name] = _param(name).check(value)
            self._given.add(name)
        _check_together(self._values)

    def __getitem__(self, name: str) -> Any:
        return self._values[_param(name).name]

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def step(self, step: str) -> dict[str, Any]:
        """The values of one step, by their short name (``segmentazione`` -> ``{"k": 0, ...}``)."""
        prefix = step + "."
        return {n[len(prefix):]: v for n, v in self._values.items() if n.startswith(prefix)}

    def weights(self, step: str) -> dict[str, float]:
        """The ``peso_*`` parameters of a step, by criterion."""
        return {k[len("peso_"):]: v for k, v in self.step(step).items() if k.startswith("peso_")}

    @property
    def given(self) -> dict[str, Any]:
        """Only the values set by the user (the rest are defaults)."""
        return {n: self._values[n] for n in sorted(self._given)}

    def as_dict(self) -> dict[str, Any]:
        """Every parameter, JSON-ready (mapping keys as text)."""
        return {n: ({str(k): x for k, x in v.items()} if isinstance(v, dict) else v) for n, v in self._values.items()}

    def for_notebook(self, declared: set[str]) -> dict[str, Any]:
        """The values a notebook declares in its ``parameters`` cell, under their papermill names."""
        out = {}
        for n, v in self._values.items():
            if notebook_name(n) in declared:
                out[notebook_name(n)] = {str(k): x for k, x in v.items()} if isinstance(v, dict) else v
        return out


def _param(name: str) -> Param:
    if name in BY_NAME:
        return BY_NAME[name]
    close = difflib.get_close_matches(str(name), list(BY_NAME), n=3, cutoff=0.6)
    # A bare short name ("k") or a papermill name ("segmentazione_k") points to its full name.
    close += [p.name for p in PARAMETERS
              if p.name not in close and (p.name.split(".")[-1] == name or notebook_name(p.name) == name)]
    hint = f"; forse {', '.join(close[:4])}" if close else f"; i passi sono {', '.join(STEPS)} (più seed)"
    raise ConfigError(f"parametro sconosciuto {name!r}{hint}")


def _check_together(v: dict[str, Any]) -> None:
    """Rules that involve more than one parameter."""
    if v["segmentazione.k_min"] > v["segmentazione.k_max"]:
        raise ConfigError(f"parametri segmentazione.k_min ({v['segmentazione.k_min']}) e segmentazione.k_max "
                          f"({v['segmentazione.k_max']}): k_min non può superare k_max")
    if v["champion.min_per_segmento"] > v["champion.max_per_segmento"]:
        raise ConfigError("parametri champion.min_per_segmento e champion.max_per_segmento: il minimo non può "
                          "superare il massimo")
    for step in ("priorita", "champion"):
        weights = [v[n] for n in v if n.startswith(step + ".peso_")]
        if sum(weights) <= 0:
            raise ConfigError(f"parametri {step}.peso_*: almeno un peso deve essere maggiore di 0")


def _flatten(mapping: Mapping, prefix: str = "") -> dict[str, Any]:
    """``{champion: {max_totale: 10}}`` -> ``{"champion.max_totale": 10}`` (a mapping parameter stays whole); a
    parameter given twice (nested and dotted) is an error."""
    out: dict[str, Any] = {}
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        parts = _flatten(value, name + ".") if isinstance(value, Mapping) and name not in BY_NAME else {name: value}
        for n, v in parts.items():
            if n in out:
                raise ConfigError(f"parametro {n} indicato due volte nel file dei parametri")
            out[n] = v
    return out


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML that refuses a key written twice in one mapping (plain YAML keeps the last one, silently)."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise ConfigError(f"chiave {key!r} ripetuta nel file dei parametri (riga {key_node.start_mark.line + 1})")
            seen.add(key)
        return super().construct_mapping(node, deep)


def read_params_file(path: str | Path) -> dict[str, Any]:
    """A YAML file of parameters, nested by step or with dotted names."""
    path = Path(path)
    try:
        if path.is_file() and path.stat().st_size > 1_000_000:
            raise ConfigError(f"{path}: file dei parametri troppo grande (oltre 1 MB)")
        loaded = yaml.load(path.read_text("utf-8"), Loader=_UniqueKeyLoader) or {}  # noqa: S506 (safe loader)
        if not isinstance(loaded, Mapping):
            raise ConfigError(f"{path}: il file dei parametri deve essere una mappa nome: valore")
        flat = _flatten(loaded)
    except ConfigError:
        raise
    except (OSError, UnicodeDecodeError, yaml.YAMLError, ValueError, RecursionError, TypeError) as exc:
        # ValueError: an integer of thousands of digits; RecursionError: a mapping that contains itself.
        raise ConfigError(f"{path}: file dei parametri illeggibile ({type(exc).__name__}: "
                          f"{' '.join(str(exc).split())[:200]})") from exc
    return flat


def parse_value(text: str) -> Any:
    """A ``-p`` value as a YAML scalar: ``4`` is a number, ``"007"`` stays a text, ``{1: Dati}`` a mapping."""
    if text == "":
        return ""
    try:
        return yaml.safe_load(text)
    except (yaml.YAMLError, ValueError, RecursionError):  # ValueError: an integer of thousands of digits
        return text


def configure(pairs: list[tuple[str, str]] | list[list[str]] = (), params_file: str | Path | None = None) -> Config:
    """The configuration of a run: defaults, then the file, then ``-p`` pairs; checked as a whole."""
    values: dict[str, Any] = {}
    if params_file is not None:
        values.update(read_params_file(params_file))
    for name, raw in pairs:
        values[name] = parse_value(raw)
    return Config(values)


def reference_table() -> str:
    """Every parameter as a Markdown table (the docs page holds this table; a test keeps them in step)."""
    lines = ["| parametro | predefinito | ammesso | descrizione |", "|---|---|---|---|"]
    for p in PARAMETERS:
        default = "vuoto" if p.default == "" else "{}" if p.default == {} else str(p.default).lower() \
            if isinstance(p.default, bool) else str(p.default)
        lines.append(f"| `{p.name}` | `{default}` | {p.allowed()} | {p.help} |")
    return "\n".join(lines)
