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
sintesi_priorita_mostrate = 5  # sintesi.priorita_mostrate: supply-chain priorities in the summary

# %%
import matplotlib.pyplot as plt
from IPython.display import Markdown, display

from analysis import (board, champions, figures, findings, governance, maturity, needs, paths, priorities, quality,
                      segmentation, themes, waves)
from analysis.disclosure import Gate
from analysis.reporting import load_processed, report_header, setup_plots
from analysis.steps import restore_needs
from analysis.text import markdown_text

gate = Gate(audience)
data = load_processed(processed_dir or paths.PROCESSED, codebook_path,
                      need=("segmentation", "segments", "priorities", "champions", "champion_candidates", "weights",
                            "weighting", "needs_summary", "sector_comparison", "need_families", "maturity_scores",
                            "maturity_by_sector", "maturity_by_size", "need_gap"))
cb, folder = data.codebook, data.folder
report_header("Sintesi per il Consiglio", wave or "non indicata", data.summary, sample_run, gate)

# %% [markdown]
# ## In breve
#
# Programma filiere metalmeccaniche di Confindustria Varese e PoliHub: che cosa chiedono le imprese Meccaniche e
# Metallurgiche, Siderurgiche e Fonderie della provincia, quali sono le priorità della filiera, quali imprese le
# porteranno avanti come Champion e con quali startup. Prima i risultati; le sezioni che seguono riportano il
# dettaglio e il metodo.

# %%
# The findings, each from the run's outputs as the board may see them (analysis.findings).
found = restore_needs(data)
sectors = quality.board_sectors(data.responses, cb, gate)
published = needs.published_summary(found.summary, gate, breakdown=not sectors.omitted)
comparison = found.comparison.iloc[0:0] if sectors.omitted else found.comparison
prio = data.read("priorities")
seg = data.segmentation()
settings = data.read("segmentation")
order = [settings["names"][k] for k in sorted(settings["names"], key=int)]
names = gate.names(data.responses, data.key(), mark=True)
champs = champions.board_view(data.read("champions"),
                              segmentation.board_segment_names(seg, segmentation.board_segments(seg, gate)))
candidates = data.read("champion_candidates")
resampling = data.read("champion_selection").get("resampling")
lines = [findings.needs(prio, published, cb), findings.sectors(comparison, published, cb),
         findings.themes(found.themes, themes.written(data.responses))]
if not sectors.omitted:
    by_group = maturity.board_groups(found.scores, data.responses["gruppo_merceologico"], sectors,
                                     found.weighting.weights)
    by_group.index = [cb.sector_short.get(g, g) for g in by_group.index]
    lines.append(findings.maturity(by_group, maturity.band_counts(by_group, gate, "Fasce di maturità"), gate))
# The programme's first phase (issue 18): the needs step always writes the governance scores.
sizes = quality.board_sizes(data.responses, cb, gate)
targets = None if sectors.omitted or sizes.omitted else governance.targets(
    found.governance, sectors.labels(data.responses["gruppo_merceologico"]),
    sizes.labels(data.responses["size_class"].fillna("n.d.")), gate,
    found.weighting.weights if found.weighting.weighted else None)
lines.append(findings.governance(found.governance, governance.definition(cb).weak, targets, gate))
lines.append(findings.segments(data.read("segments"), order, data.responses, cb, gate, seg.selection.structured,
                               seg.selection.stable))
resampled = bool(resampling and resampling.get("resamples"))
lines.append(findings.champions(len(champs), [(names[c], why) for c, why in
                                              board.fragility(champs, candidates, resampled).items()]))
matches = data.read("startup_matches") if data.has("startup_matches") else None
lines.append(findings.startups(matches, prio, cb, sintesi_priorita_mostrate))
if data.has("wave_needs"):
    lines.append(findings.waves(waves.published_needs(data.read("wave_needs"), gate), cb,
                                data.read("wave_comparison").get("previous_wave")))
pilots = int(data.read("startup_pilots")["startup"].notna().sum()) if matches is not None else 0
steps = board.next_steps(champs, candidates, names, pilots, int(data.summary["totals"]["flagged_cells"]))
lines.append(findings.next_steps(steps))
rate = (data.summary["totals"]["accepted"] / found.register.used) if found.register is not None and \
    found.register.used else None
display(Markdown("\n".join(f"{i}. {line}" for i, line in enumerate([x for x in lines if x], start=1))
                 + "\n\n" + findings.basis(data.summary, found.weighting.weighted, rate)))

# %%
# The first tier is finding 1: here the figure, and what a tier means (the figure's title heads the detail).
setup_plots(report_formato_figure)
fig = figures.priority_bars(prio, cb, 10)
plt.show()
display(Markdown(priorities.tier_sentence()))

# %%
# The segments are finding 4 and section 03; the board hears of a weak segmentation here too: the whole division,
# or the segments that do not come back on resampling (by their board name).
shown_names = segmentation.board_segment_names(seg, segmentation.board_segments(seg, gate))
fragile = list(dict.fromkeys(shown_names[seg.names[s]] for s in seg.unstable))
lines = []
if seg.selection.structured and not seg.selection.stable:
    lines.append("**Attenzione**: la divisione in segmenti non è stabile (cambia se si ricampionano le imprese): "
                 "leggete i segmenti come indicativi.")
if seg.selection.structured and fragile:
    lines.append(f"**Segmenti poco stabili** (si ritrovano solo in parte ricampionando le imprese): "
                 f"{markdown_text('; '.join(fragile))}.")
display(Markdown("\n\n".join(lines)))

# %%
# One short line per Champion; the full reasons are in the Champion section.
robust = board.robustness_lines(champs, candidates, names, data.config["champion.alternative_per_segmento"],
                                resampling)
display(Markdown(f"### I Champion ({len(champs)})\n\n"
                 + "\n".join(board.champion_brief_lines(champs, candidates, names, cb, resampled))
                 + ("\n\n" + "\n".join(robust) if robust else "")))

# %%
if matches is not None:
    top = priorities.leading(prio, priorities.ALL_SCOPE, sintesi_priorita_mostrate, 2 * sintesi_priorita_mostrate)
    lines = []
    for need in sorted(top, key=lambda k: cb.by_key[k].short.casefold()):  # a tier has no order: alphabetical
        best = matches[(matches["need"] == need) & (matches["scope"] == priorities.ALL_SCOPE)].nsmallest(2, "rank")
        lines.append(f"- {cb.by_key[need].short}: " + (", ".join(f"{markdown_text(s)} (TRL {t})" for s, t in
                                                                 zip(best["startup"], best["trl"], strict=True))
                                                       or "nessuna startup dell'elenco risponde a questo bisogno: qui lo "
                                                          "scouting deve ancora cercare"))
    display(Markdown("### Startup per le prime priorità\n\nLe prime due startup per ogni bisogno; il TRL è la "
                     "maturità della tecnologia, da 1 (un'idea) a 9 (un prodotto sul mercato).\n\n" + "\n".join(lines)))
else:
    display(Markdown("### Startup\n\nNessun elenco di startup in questa rilevazione."))
