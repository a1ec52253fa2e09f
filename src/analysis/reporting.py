"""Shared pieces of every report: loading the processed outputs, Italian formats, palette, header.

Every notebook starts with :func:`report_header` (title, wave, date, what was
read, a banner when the run used the bundled sample) and draws with the same
palette for the two sector groups.
"""

from __future__ import annotations

import hashlib
import html
import math
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd

from analysis import catalog
from analysis.codebook import Codebook, load_codebook
from analysis.text import html_text, quantity, visible

SECTOR_COLORS = ["#1F4E79", "#C55A11", "#548235", "#7030A0"]  # Meccaniche, Metallurgiche, spare
SECTOR_COLOR_NAMES = ["blu", "arancione", "verde", "viola"]  # the same colours in words, for a figure's title


def sector_palette(cb: Codebook) -> dict[str, str]:
    """One consistent colour per sector group, in every figure."""
    return {label: SECTOR_COLORS[i % len(SECTOR_COLORS)] for i, label in enumerate(cb.sector_labels)}


def fmt_int(n: float | int | None) -> str:
    """``1.250`` (Italian thousands separator)."""
    if n is None or (isinstance(n, float) and math.isnan(n)):
        return "–"
    return f"{int(round(n)):,}".replace(",", ".")


def fmt_num(x: float | None, decimals: int = 1) -> str:
    """``12,5`` (Italian decimal comma, dot for thousands)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    s = f"{x:,.{decimals}f}"
    if s.startswith("-") and not s.strip("-0.,"):
        s = s[1:]  # a negative number that rounds to zero is "0,0", not "-0,0"
    return s.replace(",", "\u0000").replace(".", ",").replace("\u0000", ".")


def fmt_pct(share: float | None, decimals: int = 1) -> str:
    """A share 0-1 as ``12,5%``."""
    if share is None or (isinstance(share, float) and math.isnan(share)):
        return "–"
    return fmt_num(share * 100, decimals) + "%"


def setup_plots(figure_format: str = "png") -> None:
    """Static, readable figures: seaborn theme, larger fonts, tight layout; shown as ``png`` or ``svg`` (text
    kept as text, so tests can search it)."""
    import matplotlib as mpl
    import seaborn as sns
    from matplotlib_inline.backend_inline import set_matplotlib_formats

    if figure_format not in ("png", "svg"):
        raise ValueError(f"figure_format must be png or svg, not {figure_format!r}")
    set_matplotlib_formats(figure_format)

    _describe_figures(figure_format)
    import warnings

    # A name in a script the font lacks is drawn as boxes; the warning would only repeat it in the analysts' log.
    warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from font", category=UserWarning)
    sns.set_theme(style="whitegrid", context="paper")
    # Figures are drawn at the printed page's width (figures.PAGE_WIDTH_IN) with text of at least 8 pt, so the text
    # prints at the size it is drawn; on screen the 120 dpi image is a little larger. No maths from a "$" in a
    # label: names from the data are drawn as the characters they are.
    mpl.rcParams.update({"figure.dpi": 120, "savefig.bbox": "tight", "axes.titleweight": "bold",
                         "font.size": 9, "axes.titlesize": 10, "axes.labelsize": 9, "xtick.labelsize": 8.5,
                         "ytick.labelsize": 8.5, "legend.fontsize": 8.5, "legend.title_fontsize": 8.5,
                         "figure.titlesize": 11, "figure.autolayout": True, "svg.fonttype": "none",
                         "text.parse_math": False})


def figure_alt(fig) -> str:
    """What a figure shows, in Italian, for its alternative text: its title, each panel's title and what its axes
    and colour bar measure (``fig.alt_it`` when a figure sets its own)."""
    if getattr(fig, "alt_it", None):
        return fig.alt_it

    def clean(text: str) -> str:
        return " ".join(str(text).split()).rstrip(".:")

    parts = [clean(fig._suptitle.get_text())] if getattr(fig, "_suptitle", None) else []
    for ax in fig.get_axes():
        if ax.get_label() == "<colorbar>":
            label = clean(ax.get_ylabel() or ax.get_xlabel())
            parts += [f"colore: {label}"] if label else []
            continue
        panel = [clean(ax.get_title())] if ax.get_title() else []
        panel += [f"asse orizzontale: {clean(ax.get_xlabel())}"] if ax.get_xlabel() else []
        panel += [f"asse verticale: {clean(ax.get_ylabel())}"] if ax.get_ylabel() else []
        parts += [", ".join(panel)] if panel else []
    text = "; ".join(p for p in parts if p)
    return f"Grafico: {text}." if text else "Grafico."


def _describe_figures(figure_format: str) -> None:
    """Figures shown in a notebook carry their Italian alternative text in the output's metadata (``alt``), which
    :func:`analysis.render.export_html` writes on the image."""
    from IPython import get_ipython
    from matplotlib.figure import Figure

    shell = get_ipython()
    if shell is None:
        return
    formatter = shell.display_formatter.formatters["image/png" if figure_format == "png" else "image/svg+xml"]
    draw = formatter.lookup_by_type(Figure)

    def described(fig):
        image = draw(fig)
        return image, {"alt": figure_alt(fig), **figure_print_size(fig, image)}

    formatter.for_type(Figure, described)


def figure_print_size(fig, image: bytes | str) -> dict:
    """The drawn image's width in inches (``width_in``, as saved: the tight box) and the smallest text in it in
    points (``font_pt``): with the width the image gets on the page, the size that text prints at (the browser
    test checks it is at least 8 pt)."""
    import struct

    from matplotlib.text import Text

    if isinstance(image, bytes) and image[:8] == b"\x89PNG\r\n\x1a\n":
        width_in = struct.unpack(">I", image[16:20])[0] / fig.dpi
    else:
        found = re.search(r'<svg[^>]*\swidth="([0-9.]+)pt"', image if isinstance(image, str) else image.decode())
        width_in = float(found.group(1)) / 72 if found else fig.get_size_inches()[0]
    def drawn(t: Text) -> bool:
        return t.get_visible() and bool(t.get_text().strip()) and (t.axes is None or t.axes.get_visible())

    sizes = [t.get_fontsize() for t in fig.findobj(Text) if drawn(t)]
    return {"width_in": round(width_in, 3), "font_pt": round(min(sizes), 2) if sizes else None}


def italian_ticks(fig):
    """The figure's numeric axes and colour bars in Italian form: ``0,75``, ``1.500``, never ``-0``. Axes whose
    ticks are labels (needs, sectors) are left alone. Returns the figure."""
    from matplotlib import ticker

    def decimals(values) -> int:  # the fewest decimals that tell every tick apart as drawn (0,25 not 0,2)
        return next((d for d in range(7) if all(abs(round(v, d) - v) < 1e-9 * max(1.0, abs(v)) for v in values)), 6)

    class Italian(ticker.Formatter):
        ticks: list = []

        def set_locs(self, locs):
            self.ticks = list(locs)

        def __call__(self, x, pos=None):
            return fmt_num(x, decimals(self.ticks or [x]))

    for ax in fig.get_axes():
        for axis in (ax.xaxis, ax.yaxis):
            if isinstance(axis.get_major_formatter(), ticker.ScalarFormatter) and axis.get_scale() == "linear":
                axis.set_major_formatter(Italian())
    return fig


@dataclass
class Processed:
    """One run's complete set of outputs, as the notebooks read it (through the catalog)."""

    responses: pd.DataFrame
    rejected: pd.DataFrame
    cell_issues: pd.DataFrame
    summary: dict
    folder: Path
    codebook: Codebook
    manifest: dict

    def has(self, name: str) -> bool:
        return self.manifest is not None and catalog.dataset(name).file in self.manifest.get("outputs", {})

    def read(self, name: str):
        return catalog.read(name, self.folder, self.codebook, self.manifest)

    @property
    def config(self):
        """The configuration the run used (defaults for a set written by ``ingest`` alone)."""
        from analysis.config import BY_NAME, Config

        given = (self.manifest or {}).get("configuration", {})
        return Config({k: v for k, v in given.items() if k in BY_NAME})

    def segmentation(self):
        """The run's segmentation, rebuilt from its outputs (no clustering again)."""
        from analysis.steps import restore_segmentation

        return restore_segmentation(self.read("segmentation"), self.read("segments"), self.responses, self.codebook)

    def key(self) -> bytes:
        from analysis.confidentiality import read_key

        return read_key(self.folder)


def load_processed(processed_dir: str | Path, codebook_path: str | Path | None = None,
                   need: tuple[str, ...] = ()) -> Processed:
    """A run's set, refused in one line unless it is complete and consistent (see :func:`catalog.check_set`);
    ``need`` names the outputs the caller cannot do without."""
    folder = Path(processed_dir)
    manifest = catalog.check_set(folder, need=("responses", "rejected", "cell_issues", "ingest_summary", *need))
    cb = load_codebook(codebook_path or None)
    return Processed(
        responses=catalog.read("responses", folder, cb, manifest),
        rejected=catalog.read("rejected", folder, cb, manifest),
        cell_issues=catalog.read("cell_issues", folder, cb, manifest),
        summary=catalog.read("ingest_summary", folder, cb, manifest),
        folder=folder, codebook=cb, manifest=manifest)


MONTHS = ("gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre", "ottobre",
          "novembre", "dicembre")


def wave_label(wave: str) -> str:
    """A wave as the board reads it: the default name ``2026-12`` as ``dicembre 2026``; any other name as given."""
    m = re.fullmatch(r"(\d{4})-(\d{2})", str(wave))
    if m and 1 <= int(m.group(2)) <= 12:
        return f"{MONTHS[int(m.group(2)) - 1]} {m.group(1)}"
    return str(wave)


def report_header(title: str, wave: str, summary: dict, sample_run: bool, gate):
    """The block at the top of every report (an IPython HTML object)."""
    from IPython.display import HTML

    t = summary["totals"]
    parts = [
        "<div style='border-bottom:3px solid #1F4E79;padding-bottom:6px;margin-bottom:10px'>",
        "<div style='color:#555'>Confindustria Varese &middot; PoliHub &mdash; Programma filiere metalmeccaniche</div>",
        f"<h1 style='margin:4px 0'>{html.escape(title)}</h1>",
        f"<div>Rilevazione <b>{html_text(wave_label(wave))}</b> &middot; generato il "
        f"{datetime.now().strftime('%d/%m/%Y %H:%M')}</div>",
        f"<div>{quantity(t['files_read'], 'file letto', 'file letti')}, "
        f"{quantity(t['files_left_out'], 'escluso', 'esclusi')}; "
        f"{quantity(t['accepted'], 'risposta accettata', 'risposte accettate')}, "
        f"{quantity(t['rejected'], 'scartata', 'scartate')}</div>",
        "</div>",
    ]
    if sample_run:
        parts.insert(0, "<div style='background:#FFF2CC;border:2px solid #BF9000;padding:8px;margin-bottom:8px;"
                        "font-weight:bold'>DATI DI ESEMPIO: questa analisi usa il questionario sintetico incluso nel "
                        "progetto, non risposte reali.</div>")
    if not gate.board:
        parts.insert(0, "<div style='background:#F8CBAD;border:2px solid #C00000;padding:8px;font-weight:bold'>"
                        "VISTA ANALISTA: contiene nomi reali, da non esportare né inoltrare.</div>")
    return HTML("".join(parts))


_LONG_WORD = re.compile(r"\S{40,}")


def breakable(text: str, every: int = 20) -> str:
    """A word of 40 or more characters with an invisible break opportunity every ``every`` characters: a name with
    no spaces wraps in its table cell instead of widening the table past the page."""
    return _LONG_WORD.sub(lambda m: "\u200b".join(m.group()[i:i + every] for i in range(0, len(m.group()), every)),
                          text)


def table(frame: pd.DataFrame, caption: str | None = None):
    """A table for the report: no index, Italian-formatted numbers already as text. A table the disclosure
    gate left out shows the sentence why; one with hidden cells ends with what ``n.p.`` means; a list (one column
    of words) is one line."""
    from IPython.display import HTML

    from analysis.disclosure import LEGEND, SUPPRESSED

    title = f"<b>{html_text(caption)}</b><br>" if caption else ""
    if frame.attrs.get("omitted"):
        return HTML(f"<div>{title}<i>{html_text(frame.attrs['omitted'])}</i></div>")
    # Text from the data (company and startup names, file names, answers) is shown as text, never as markup,
    # and control characters are shown visibly.
    frame = frame.copy()
    frame.columns = [visible(c) for c in frame.columns]
    text_columns = [c for c in frame.columns
                    if frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c].dtype)]
    for c in text_columns:
        frame[c] = frame[c].map(lambda v: breakable(visible(v)) if isinstance(v, str) else v)
    notes = [frame.attrs["note"]] if frame.attrs.get("note") else []
    if frame.shape[1] == 1 and len(frame) and frame.columns[0] in text_columns:
        # A one-column table is a list: one line, not a column of rows across the page.
        items = "; ".join(html_text(str(v)) for v in frame.iloc[:, 0])
        return HTML(f"<p><b>{html_text(caption or frame.columns[0])}</b>: {items}."
                    + "".join(f" <span style='color:#555'>{html_text(n)}</span>" for n in notes) + "</p>")
    styler = frame.style.hide(axis="index").format(escape="html").format_index(escape="html", axis=1)
    # Words read from the left, numbers from the right: a column of mostly words is left-aligned.
    words = [c for c in text_columns if frame[c].map(
        lambda v: isinstance(v, str) and bool(re.search(r"[^\W\d_]{3}", v))).mean() > 0.5]
    if words:
        styler = styler.set_properties(subset=words, **{"text-align": "left"})
    # The same table gets the same element ids on every run (pandas draws them at random).
    styler.set_uuid(hashlib.sha256(f"{caption}|{list(frame.columns)}|{len(frame)}".encode()).hexdigest()[:8])
    if caption:
        styler = styler.set_caption(html_text(caption))
    styler = styler.set_table_styles([{"selector": "caption", "props": "caption-side: top; font-weight: bold;"
                                                                        " text-align: left; font-size: 1.05em"}])
    if words:  # a column's heading aligned as its cells
        styler = styler.set_table_styles({c: [{"selector": "th", "props": "text-align: left"}] for c in words},
                                         overwrite=False)
    if frame.isin([SUPPRESSED]).to_numpy().any():
        notes.append(LEGEND)
    if not notes:
        return styler
    return HTML(styler.to_html() + "".join(f"<div style='font-size:0.85em;color:#555'>{html_text(n)}</div>"
                                           for n in notes))
