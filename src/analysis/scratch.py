"""Interactive work: recompute the analysis steps of a run with other parameters, and save the result
apart from every run's set.

    from analysis import scratch
    data = load_processed("data/processed")            # a run's complete set
    alt = scratch.recompute(data, {"segmentazione.k": 4, "champion.max_totale": 8})
    alt.segmentation.names, alt.priorities.head()
    scratch.save(alt, data, "k4")                       # -> data/scratch/k4/, never data/processed/

The same step functions as ``python -m analysis run`` (:mod:`analysis.steps`), on the same accepted responses;
the parameters not given keep the values the run used.
"""

from __future__ import annotations

from pathlib import Path

from analysis import catalog, steps
from analysis.config import Config
from analysis.reporting import Processed


def configuration(data: Processed, changes: dict | None = None) -> Config:
    """The run's configuration with ``changes`` (checked like ``-p``: a bad name or value is refused)."""
    return Config({**data.config.as_dict(), **(changes or {})})


def recompute(data: Processed, changes: dict | None = None, with_startups: bool = True) -> steps.Analysis:
    """Every analysis step again on the run's responses, with the run's configuration and ``changes``."""
    from analysis import weights

    cfg = configuration(data, changes)
    manifest = data.manifest or {}
    slist = register = table = None
    if with_startups and manifest.get("startups"):
        from analysis.startups import read_startups

        slist = read_startups(Path(manifest["startups"]), data.codebook)
    if manifest.get("members"):
        register = weights.read_register(manifest["members"], data.codebook)
    elif cfg["pesi.file_pesi"]:
        table = weights.read_weights_cells(cfg["pesi.file_pesi"], data.codebook)
    return steps.analyse(data.responses, data.codebook, cfg, slist, register, table)


def scratch_folder(data: Processed, name: str) -> Path:
    """``scratch/NAME`` beside the run's processed folder (outside every set a run replaces)."""
    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise ValueError(f"nome della cartella di lavoro non valido: {name!r}")
    return Path(data.folder).resolve().parent / catalog.SCRATCH_DIR / name


def save(analysis: steps.Analysis, data: Processed, name: str) -> Path:
    """Write a recomputed analysis through the catalog into the analyst's scratch folder ``name``."""
    from analysis.pipeline import write_analysis

    folder = scratch_folder(data, name)
    processed = Path(data.folder).resolve()
    if folder == processed or processed in folder.parents:
        raise ValueError(f"{folder}: una cartella di lavoro non può stare dentro i risultati di un'esecuzione")
    folder.mkdir(parents=True, exist_ok=True)
    write_analysis(analysis, folder, data.codebook, data.responses)
    return folder
