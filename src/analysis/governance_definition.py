"""The codebook's governance section read and checked (issue 18).

Apart from :mod:`analysis.governance` so that loading the codebook, which the
reading workers and the command line's head start do, never imports pandas.
"""

from __future__ import annotations

from dataclasses import dataclass

from analysis.codebook import Codebook, CodebookError
from analysis.values import STORED_ANSWER

WEAK_BELOW = 50  # an index under this (Iniziale, In sviluppo) is a weak governance: the workshops' audience


@dataclass(frozen=True)
class Component:
    field: str
    scores: dict | None = None  # answer (stored form) -> 0-1
    linear: tuple[float, float] | None = None  # a number: (zero, full)


@dataclass(frozen=True)
class Definition:
    components: tuple[Component, ...]
    min_answered: int
    bands: tuple[tuple[float, str], ...]  # (upper bound, label), ascending

    @property
    def labels(self) -> list[str]:
        return [label for _, label in self.bands]

    @property
    def weak(self) -> list[str]:
        """The bands under :data:`WEAK_BELOW`."""
        lower = [0.0] + [upper for upper, _ in self.bands[:-1]]
        return [label for low, (_, label) in zip(lower, self.bands, strict=True) if low < WEAK_BELOW]


_YES_NO = {"yes": True, "no": False}


def definition(cb: Codebook) -> Definition:
    """The codebook's governance section, checked: every component a known field whose answers it can score
    (yes / no / maybe for yes-no questions, the field's options for a choice, ``linear`` for a number), scores
    and bounds in 0-1 order, bands ascending to 100."""
    raw, src = cb.governance, cb.source

    def fail(why: str):
        raise CodebookError(f"{src}: governance: {why}")

    if not raw:
        fail("la sezione manca")
    comps = []
    for item in raw.get("components") or []:
        key = item.get("field")
        f = cb.by_key.get(key)
        if f is None:
            fail(f"il campo {key!r} non esiste")
        if "linear" in item:
            if f.type not in ("percent", "number", "integer"):
                fail(f"{key!r} non è un numero: non può avere 'linear'")
            zero, full = float(item["linear"]["zero"]), float(item["linear"]["full"])
            if full == zero:
                fail(f"{key!r}: 'zero' e 'full' coincidono")
            comps.append(Component(key, linear=(zero, full)))
            continue
        # YAML reads an unquoted yes / no as a boolean: either spelling is the answer.
        scores = {({True: "yes", False: "no"}.get(k, k) if isinstance(k, bool) else k): v
                  for k, v in (item.get("scores") or {}).items()}
        if f.type == "yes_no":
            allowed = {"yes", "no"}
            stored = {_YES_NO[k]: float(v) for k, v in scores.items() if k in allowed}
        elif f.type == "yes_no_maybe":
            allowed = {"yes", "no", "maybe"}
            stored = {STORED_ANSWER[k]: float(v) for k, v in scores.items() if k in allowed}
        elif f.type == "choice":
            allowed = set(f.options)
            stored = {k: float(v) for k, v in scores.items() if k in allowed}
        else:
            fail(f"{key!r} ({f.type}) non si può punteggiare con 'scores'")
        unknown = sorted(set(scores) - allowed, key=str)
        if unknown or not stored:
            fail(f"{key!r}: risposte sconosciute {unknown}" if unknown else f"{key!r}: nessun punteggio")
        if any(not 0 <= v <= 1 for v in stored.values()):
            fail(f"{key!r}: i punteggi vanno da 0 a 1")
        comps.append(Component(key, scores=stored))
    if not comps:
        fail("nessuna componente")
    need = int(raw.get("min_answered", len(comps)))
    if not 1 <= need <= len(comps):
        fail(f"min_answered deve stare tra 1 e {len(comps)}")
    bands = tuple((float(b["upto"]), str(b["label"])) for b in raw.get("bands") or [])
    uppers = [u for u, _ in bands]
    if not bands or uppers != sorted(set(uppers)) or uppers[-1] != 100 or uppers[0] <= 0:
        fail("le fasce ('upto') devono crescere fino a 100")
    return Definition(tuple(comps), need, bands)
