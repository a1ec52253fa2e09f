"""The codebook: fields, labels, aliases, closed answers, needs, sectors, sizes.

The tables of the survey spec (section 3) live in ``resources/codebook.yaml``
and nowhere else. :func:`load_codebook` reads that file, applies an optional
project codebook on top of it, checks the result and returns a
:class:`Codebook` with the look-ups every other module uses.

A project codebook has the same layout as the package's and holds only what
changes:

* ``fields``, ``maturity``, ``needs``, ``sectors``: entries are matched by
  ``key`` (``label`` for sectors). A known key updates that entry (the given
  attributes replace the package's), a new key is appended in order.
* ``remove``: ``{needs: [key, ...], fields: [...], ...}`` drops entries.
* any other top-level entry replaces the package's entirely.

So adding a need is three lines in the project file, with no code change.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yaml

from analysis.text import normalise

FIELD_TYPES = {
    "text", "email", "date", "vat", "ateco", "sector", "integer", "number",
    "percent", "choice", "multi", "yes_no", "yes_no_maybe", "consent",
    "maturity", "importance", "size_class",
}
# The tables read besides the survey, each with its fields (spec sections 5 and 7, member register, weights).
TABLE_KINDS = ("startup", "register", "weights", "corrections", "verdicts")
_KEYED_SECTIONS = {"fields": "key", "maturity": "key", "needs": "key", "sectors": "label",
                   **{f"{kind}_fields": "key" for kind in TABLE_KINDS}}


class CodebookError(ValueError):
    """The codebook (package or project file) is not usable."""


@dataclass(frozen=True)
class Field:
    """One survey question: its key, labels, type and accepted answers."""

    key: str
    it: str
    en: str
    type: str
    group: str = "profile"  # profile | maturity | need
    aliases: tuple[str, ...] = ()
    options: tuple[str, ...] = ()  # canonical (Italian) values, in order
    option_labels: dict[str, tuple[str, ...]] = field(default_factory=dict)  # canonical -> other spellings
    pd: bool = False
    pd_unless_consent: bool = False
    form_only: bool = False
    min: float | None = None
    max: float | None = None
    short_it: str = ""
    maturity: str = ""  # for needs: the related maturity dimension
    dimension: str = ""  # for maturity fields
    description: str = ""
    synonyms: tuple[str, ...] = ()  # needs: terms that alone say a startup works on the need (startup matching)
    related: tuple[str, ...] = ()  # needs: words that support such a match but say nothing alone

    @property
    def short(self) -> str:
        """Short Italian name for figures (falls back to the Italian label)."""
        return self.short_it or self.it


@dataclass(frozen=True)
class Sector:
    label: str
    short: str
    aliases: tuple[str, ...]
    ateco_divisions: tuple[int, ...]


@dataclass(frozen=True)
class SizeClass:
    key: str
    it: str
    min: int
    max: int | None
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Codebook:
    """The checked codebook with its look-ups. Build it with :func:`load_codebook`."""

    fields: tuple[Field, ...]
    sectors: tuple[Sector, ...]
    size_classes: tuple[SizeClass, ...]
    yes_no_maybe: dict[str, tuple[str, ...]]
    importance_scale: tuple[dict, ...]
    maturity_scale: dict
    maturity_prefixes: tuple[str, ...]
    legal_forms: tuple[str, ...]
    source: str = "package"
    tables: dict = dataclasses.field(default_factory=dict)  # kind -> TableKind (startups, register, ...)
    governance: dict = dataclasses.field(default_factory=dict)  # the governance index (analysis.governance)

    # -- field groups -------------------------------------------------------
    @functools.cached_property
    def by_key(self) -> dict[str, Field]:
        return {f.key: f for f in self.fields}

    def field(self, key: str) -> Field:
        try:
            return self.by_key[key]
        except KeyError:
            raise CodebookError(f"campo sconosciuto {key!r}") from None

    @functools.cached_property
    def needs(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.group == "need")

    @functools.cached_property
    def need_keys(self) -> list[str]:
        return [f.key for f in self.needs]

    @functools.cached_property
    def maturity(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.group == "maturity")

    @functools.cached_property
    def maturity_keys(self) -> list[str]:
        return [f.key for f in self.maturity]

    @functools.cached_property
    def profile(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.group == "profile")

    @functools.cached_property
    def maturity_by_dimension(self) -> dict[str, str]:
        """Dimension name (``dati``) -> maturity field key (``maturita_dati``)."""
        return {f.dimension: f.key for f in self.maturity}

    @functools.cached_property
    def personal_keys(self) -> list[str]:
        return [f.key for f in self.fields if f.pd]

    # -- header names ------------------------------------------------------
    @functools.cached_property
    def header_names(self) -> dict[str, str]:
        """Normalised key, Italian label, English label or alias -> field key."""
        names: dict[str, str] = {}
        for f in self.fields:
            for name in (f.key, f.it, f.en, *f.aliases):
                n = normalise(name)
                if n and names.setdefault(n, f.key) != f.key:
                    raise CodebookError(
                        f"l'intestazione {name!r} indica due campi: {names[n]!r} e {f.key!r}"
                    )
        return names

    @functools.cached_property
    def row_label_names(self) -> dict[str, str]:
        """Names a form row label (``[label]`` or ``.label``) may use -> field key.

        A field's labels, plus maturity labels without their prefix.
        """
        names = {normalise(f.it): f.key for f in self.fields}
        names.update({normalise(f.en): f.key for f in self.fields})
        for f in self.maturity:
            for label in (f.it, f.en):
                for prefix in self.maturity_prefixes:
                    if label.startswith(prefix):
                        names.setdefault(normalise(label[len(prefix):]), f.key)
        return names

    # -- closed answers ----------------------------------------------------
    @functools.cached_property
    def option_names(self) -> dict[str, dict[str, str]]:
        """Field key -> (normalised spelling -> canonical option)."""
        out: dict[str, dict[str, str]] = {}
        for f in self.fields:
            if not f.options:
                continue
            table: dict[str, str] = {}
            for value in f.options:
                for spelling in (value, *f.option_labels.get(value, ())):
                    table[normalise(spelling)] = value
            out[f.key] = table
        return out

    @functools.cached_property
    def yes_no_names(self) -> dict[str, str]:
        """Normalised spelling -> ``yes`` / ``no`` / ``maybe``."""
        return {normalise(w): answer for answer, words in self.yes_no_maybe.items() for w in words}

    @functools.cached_property
    def importance_names(self) -> dict[str, int]:
        """Normalised label, number or ``4 - label`` -> importance 1..5."""
        table: dict[str, int] = {}
        for level in self.importance_scale:
            v = int(level["value"])
            for text in (str(v), f"{v}.0", level["it"], level["en"]):
                table[normalise(text)] = v
            for label in (level["it"], level["en"]):
                table[normalise(f"{v} - {label}")] = v
        return table

    @functools.cached_property
    def importance_labels(self) -> list[str]:
        """``1 - Non rilevante`` ... for drop-down lists."""
        return [f"{lv['value']} - {lv['it']}" for lv in self.importance_scale]

    @functools.cached_property
    def importance_range(self) -> tuple[int, int]:
        values = [int(lv["value"]) for lv in self.importance_scale]
        return min(values), max(values)

    # -- sectors and sizes ---------------------------------------------------
    @functools.cached_property
    def sector_names(self) -> dict[str, str]:
        """Normalised label or alias -> canonical sector label."""
        return {normalise(n): s.label for s in self.sectors for n in (s.label, s.short, *s.aliases)}

    @functools.cached_property
    def sector_by_division(self) -> dict[int, str]:
        return {d: s.label for s in self.sectors for d in s.ateco_divisions}

    @functools.cached_property
    def sector_labels(self) -> list[str]:
        return [s.label for s in self.sectors]

    @functools.cached_property
    def sector_short(self) -> dict[str, str]:
        return {s.label: s.short for s in self.sectors}

    def size_class(self, employees: float | None) -> str | None:
        """EU size class key for a head count (None when unknown)."""
        if employees is None or employees != employees or employees < 0:
            return None
        for sc in self.size_classes:
            if employees >= sc.min and (sc.max is None or employees <= sc.max):
                return sc.key
        return None

    @functools.cached_property
    def size_labels(self) -> dict[str, str]:
        return {sc.key: sc.it for sc in self.size_classes}

    def table(self, kind: str) -> TableKind:
        """What a kind of table holds and how its header is recognised."""
        try:
            return self.tables[kind]
        except KeyError:
            raise CodebookError(f"{self.source}: nessuna tabella di tipo {kind!r} (note: {', '.join(self.tables)})") from None

    def table_codebook(self, kind: str) -> Codebook:
        """The codebook of one kind of table: its fields only, read with the survey's header and value rules."""
        return self._table_codebooks[kind]

    @functools.cached_property
    def _table_codebooks(self) -> dict[str, Codebook]:
        return {kind: dataclasses.replace(self, fields=t.fields, tables={}) for kind, t in self.tables.items()}

    @functools.cached_property
    def size_class_names(self) -> dict[str, str]:
        """Normalised key, label or alias of a size class -> its key (for registers that give the class)."""
        return {normalise(n): sc.key for sc in self.size_classes for n in (sc.key, sc.it, *sc.aliases)}


# --------------------------------------------------------------------------
# Loading

def _safe_load(text: str):
    """``yaml.safe_load`` through libyaml when PyYAML has it: the codebook parses in 6 ms instead of 60, which
    the command line waits for before its reading starts."""
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 - a safe loader


def _package_raw() -> dict:
    return _safe_load(resources.files("analysis").joinpath("resources/codebook.yaml").read_text("utf-8"))


def _merge(base: dict, override: dict, source: str) -> dict:
    """Project codebook on top of the package's (rules in the module docstring)."""
    merged = copy.deepcopy(base)
    removals = override.get("remove") or {}
    for section, idkey in _KEYED_SECTIONS.items():
        items = merged.get(section, [])
        for gone in removals.get(section, []) or []:
            if not any(it.get(idkey) == gone for it in items):
                raise CodebookError(f"{source}: impossibile rimuovere {gone!r} da {section}: non esiste")
            items = [it for it in items if it.get(idkey) != gone]
        for new in override.get(section, []) or []:
            if not isinstance(new, dict) or idkey not in new:
                raise CodebookError(f"{source}: ogni voce di {section} deve avere {idkey!r}")
            for it in items:
                if it.get(idkey) == new[idkey]:
                    it.update(new)
                    break
            else:
                items.append(dict(new))
        merged[section] = items
    for name, value in override.items():
        if name not in _KEYED_SECTIONS and name != "remove":
            merged[name] = value
    return merged


def _field_from(raw: dict, group: str) -> Field:
    options: list[str] = []
    option_labels: dict[str, tuple[str, ...]] = {}
    for opt in raw.get("options", []) or []:
        if isinstance(opt, dict):
            options.append(str(opt["value"]))
            option_labels[str(opt["value"])] = tuple(str(v) for k, v in opt.items() if k != "value")
        else:
            options.append(str(opt))
    ftype = raw.get("type") or {"need": "importance", "maturity": "maturity"}.get(group, "text")
    it = str(raw.get("it") or raw["key"])
    en = str(raw.get("en") or it)
    return Field(
        key=str(raw["key"]),
        it=it,
        en=en,
        type=ftype,
        group=group,
        aliases=tuple(str(a) for a in raw.get("aliases", []) or []),
        options=tuple(options),
        option_labels=option_labels,
        pd=bool(raw.get("pd", False)),
        pd_unless_consent=bool(raw.get("pd_unless_consent", False)),
        form_only=bool(raw.get("form_only", False)),
        min=raw.get("min"),
        max=raw.get("max"),
        short_it=str(raw.get("short_it", "")),
        maturity=str(raw.get("maturity", "")),
        dimension=str(raw.get("dimension", "")),
        description=str(raw.get("description", "")),
        synonyms=tuple(str(s) for s in raw.get("synonyms", []) or []),
        related=tuple(str(s) for s in raw.get("related", []) or []),
    )


def _build(raw: dict, source: str) -> Codebook:
    try:
        prefixes = tuple(raw.get("maturity_prefixes", []))
        fields = [_field_from(r, "profile") for r in raw["fields"]]
        fields += [_field_from(r, "maturity") for r in raw["maturity"]]
        fields += [_field_from(r, "need") for r in raw["needs"]]
        sectors = tuple(
            Sector(
                label=str(s["label"]),
                short=str(s.get("short", s["label"])),
                aliases=tuple(str(a) for a in s.get("aliases", []) or []),
                ateco_divisions=tuple(int(d) for d in s.get("ateco_divisions", []) or []),
            )
            for s in raw["sectors"]
        )
        sizes = tuple(
            SizeClass(key=str(s["key"]), it=str(s["it"]), min=int(s["min"]),
                      max=None if s.get("max") is None else int(s["max"]),
                      aliases=tuple(str(a) for a in s.get("aliases", [])))
            for s in raw["size_classes"]
        )
        cb = Codebook(
            fields=tuple(fields),
            sectors=sectors,
            size_classes=sizes,
            yes_no_maybe={k: tuple(str(w) for w in v) for k, v in raw["yes_no_maybe"].items()},
            importance_scale=tuple(raw["importance_scale"]),
            maturity_scale=dict(raw["maturity_scale"]),
            maturity_prefixes=prefixes,
            legal_forms=tuple(raw.get("legal_forms", [])),
            source=source,
            tables=_tables(raw, {f.key: f for f in fields}),
            governance=dict(raw.get("governance") or {}),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise CodebookError(f"{source}: codebook malformato ({exc!r})") from exc
    _check(cb)
    return cb


@dataclasses.dataclass(frozen=True)
class TableKind:
    """A kind of table read with the survey's mechanics: its fields, and the rule that finds its header row
    (at least ``min_fields`` fields, one of each group in ``require``)."""

    kind: str
    what: str  # "dell'elenco startup": how messages name it
    fields: tuple[Field, ...]
    min_fields: int
    require: tuple[tuple[str, ...], ...] = ()

    def header_ok(self, keys: set[str]) -> bool:
        return len(keys) >= self.min_fields and all(keys & set(group) for group in self.require)


def _tables(raw: dict, survey: dict[str, Field]) -> dict[str, TableKind]:
    """Each table kind's fields (an entry ``{key: K, from_survey: true}`` takes the survey field K whole) and
    its header rule from ``tables``."""
    rules = raw.get("tables", {}) or {}
    out = {}
    for kind in TABLE_KINDS:
        entries = raw.get(f"{kind}_fields", []) or []
        if not entries:
            continue
        fields = tuple(survey[r["key"]] if r.get("from_survey") else _field_from(r, kind) for r in entries)
        rule = rules.get(kind, {}) or {}
        out[kind] = TableKind(kind, str(rule.get("what", kind)), fields, int(rule.get("min_fields", 1)),
                              tuple(tuple(str(k) for k in g) for g in rule.get("require", []) or []))
    return out


def _check(cb: Codebook) -> None:
    """Reject a codebook the rest of the toolkit could not use."""
    src = cb.source
    keys = [f.key for f in cb.fields]
    dupes = sorted({k for k in keys if keys.count(k) > 1})
    if dupes:
        raise CodebookError(f"{src}: chiavi di campo ripetute {dupes}")
    for f in cb.fields:
        if f.type not in FIELD_TYPES:
            raise CodebookError(f"{src}: il campo {f.key!r} ha un tipo sconosciuto {f.type!r}")
        if f.type == "choice" and not f.options:
            raise CodebookError(f"{src}: il campo a scelta {f.key!r} non ha opzioni")
    dims = {f.dimension for f in cb.maturity}
    for need in cb.needs:
        if need.maturity and need.maturity not in dims:
            raise CodebookError(
                f"{src}: il bisogno {need.key!r} rimanda a una dimensione di maturità sconosciuta {need.maturity!r}"
                f" (note: {sorted(dims)})"
            )
    if not cb.needs:
        raise CodebookError(f"{src}: il codebook non definisce alcun bisogno")
    if len(cb.sectors) < 1:
        raise CodebookError(f"{src}: il codebook non definisce alcun gruppo merceologico")
    if set(cb.yes_no_maybe) != {"yes", "no", "maybe"}:
        raise CodebookError(f"{src}: yes_no_maybe deve definire esattamente yes, no e maybe")
    _ = cb.header_names  # raises on a name shared by two fields
    for key in ("ragione_sociale", "partita_iva", "gruppo_merceologico", "codice_ateco"):
        if key not in cb.by_key:
            raise CodebookError(f"{src}: il codebook deve definire il campo {key!r}")
    if cb.governance:
        from analysis.governance_definition import definition

        definition(cb)  # raises CodebookError on a component, score or band the index could not use
    for kind, t in cb.tables.items():
        keys = {f.key for f in t.fields}
        unknown = sorted({k for g in t.require for k in g} - keys)
        if unknown:
            raise CodebookError(f"{src}: la tabella {kind!r} richiede campi sconosciuti {unknown}")
        for f in t.fields:
            if f.type not in FIELD_TYPES:
                raise CodebookError(f"{src}: il campo {f.key!r} della tabella {kind!r} ha un tipo sconosciuto {f.type!r}")


@functools.lru_cache(maxsize=16)
def _load_cached(path: str | None) -> Codebook:
    raw = _package_raw()
    source = "package"
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise CodebookError(f"{p}: codebook di progetto non trovato")
        try:
            override = _safe_load(p.read_text("utf-8")) or {}
        except yaml.YAMLError as exc:
            raise CodebookError(f"{p}: YAML non valido ({' '.join(str(exc).split())})") from exc
        if not isinstance(override, dict):
            raise CodebookError(f"{p}: un codebook deve essere una mappa di sezioni")
        raw = _merge(raw, override, str(p))
        source = str(p)
    return _build(raw, source)


def load_codebook(path: str | Path | None = None) -> Codebook:
    """The package codebook, with the project codebook at ``path`` on top when given.

    Loaded once per path and process (the result is immutable).
    """
    return _load_cached(None if path in (None, "") else str(Path(path).resolve()))

