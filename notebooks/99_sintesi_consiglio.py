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

from analysis import board, champions, figures, paths, priorities, segmentation
from analysis.disclosure import Gate
from analysis.reporting import load_processed, report_header, setup_plots
from analysis.text import markdown_text

gate = Gate(audience)
data = load_processed(processed_dir or paths.PROCESSED, codebook_path,
                      need=("segmentation", "segments", "priorities", "champions", "champion_candidates"))
cb, folder = data.codebook, data.folder
report_header("Sintesi per il Consiglio", wave or "non indicata", data.summary, sample_run, gate)

# %% [markdown]
# ## In breve
#
# Programma filiere metalmeccaniche di Confindustria Varese e PoliHub: che cosa chiedono le imprese Meccaniche e
# Metallurgiche, Siderurgiche e Fonderie della provincia, quali sono le priorità della filiera, quali imprese le
# porteranno avanti come Champion e con quali startup. Le sezioni che seguono questa sintesi riportano il dettaglio
# e il metodo.

# %%
display(Markdown("\n".join(f"- {line}" for line in board.reading_lines(data.summary))))

# %%
prio = data.read("priorities")
display(Markdown("### Le priorità della filiera\n\n" + "\n".join(board.top_priorities(prio, cb, sintesi_priorita_mostrate))))
setup_plots(report_formato_figure)
fig = figures.priority_bars(prio, cb, 10)
plt.show()

# %%
segments = data.read("segments")
settings = data.read("segmentation")
order = [settings["names"][k] for k in sorted(settings["names"], key=int)]
lines = board.segment_lines(segments, order, prio, cb, gate)
seg = data.segmentation()
# The board hears of a weak segmentation here, not only in 03: the whole division, or the segments that do not
# come back on resampling (by their board name).
shown_names = segmentation.board_segment_names(seg, segmentation.board_segments(seg, gate))
fragile = list(dict.fromkeys(shown_names[seg.names[s]] for s in seg.unstable))
if seg.selection.structured and not seg.selection.stable:
    lines.append("**Attenzione**: la divisione in segmenti non è stabile (cambia se si ricampionano le imprese): "
                 "leggete i segmenti come indicativi.")
if seg.selection.structured and fragile:
    lines.append(f"**Segmenti poco stabili** (si ritrovano solo in parte ricampionando le imprese): "
                 f"{markdown_text('; '.join(fragile))}.")
display(Markdown("### I segmenti di imprese\n\n" + "\n".join(lines)))

# %%
names = gate.names(data.responses, data.key(), mark=True)
champs = champions.board_view(data.read("champions"),
                              segmentation.board_segment_names(seg, segmentation.board_segments(seg, gate)))
candidates = data.read("champion_candidates")
robust = board.robustness_lines(champs, candidates, names, data.config["champion.alternative_per_segmento"],
                                data.read("champion_selection").get("resampling"))
display(Markdown(f"### I Champion ({len(champs)})\n\n" + "\n".join(board.champion_lines(champs, names))
                 + ("\n\n" + "\n".join(robust) if robust else "")))

# %%
pilots = 0
if data.has("startup_matches"):
    matches = data.read("startup_matches")
    top = prio[prio["scope"] == priorities.ALL_SCOPE].nsmallest(sintesi_priorita_mostrate, "rank")["need"]
    lines = []
    for need in top:
        best = matches[(matches["need"] == need) & (matches["scope"] == priorities.ALL_SCOPE)].nsmallest(2, "rank")
        lines.append(f"- {cb.by_key[need].short}: " + (", ".join(f"{markdown_text(s)} (TRL {t})" for s, t in
                                                                 zip(best["startup"], best["trl"], strict=True))
                                                       or "nessuna startup dell'elenco risponde a questo bisogno: qui lo "
                                                          "scouting deve ancora cercare"))
    proposals = data.read("startup_pilots")
    pilots = int(proposals["startup"].notna().sum())
    display(Markdown("### Startup per le prime priorità\n\n" + "\n".join(lines)))
else:
    display(Markdown("### Startup\n\nNessun elenco di startup in questa rilevazione."))

# %%
steps = board.next_steps(champs, candidates, names, pilots, int(data.summary["totals"]["flagged_cells"]))
display(Markdown("### Prossimi passi\n\n" + "\n".join(f"{i}. {s}" for i, s in enumerate(steps, start=1))))

# %%
Markdown(board.choices_line(settings))
