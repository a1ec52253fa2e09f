"""Rendering the board notebooks: parameters injected as papermill does, every notebook executed in one
kernel (start-up and imports paid once), then exported to HTML without code.

The notebooks only read a run's outputs and display them; between two notebooks the kernel's namespace is
reset and its figures closed, so a notebook never sees another's variables.
"""

from __future__ import annotations

import html
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from analysis import paths
from analysis.outputs import atomic_write_text

if TYPE_CHECKING:
    import nbformat

EXECUTION_TIMEOUT = 900  # seconds per cell
KERNEL = "python3"
# The kernel's own start-up warnings (transport notices) would drown the per-notebook progress lines.
KERNEL_QUIET = ["--IPKernelApp.log_level=ERROR"]
_RESET = "%reset -f\nimport matplotlib.pyplot as _plt\n_plt.close('all')\ndel _plt"
# What every notebook imports: loaded while the analysis steps run, so no notebook waits for it.
WARM_UP = ("import matplotlib.pyplot, seaborn, pandas, numpy\n"
           "from analysis import champions, figures, maturity, needs, priorities, quality, reporting, segmentation, "
           "startups, weights\n"
           "from IPython.display import Markdown, display")


def notebook_paths(folder: Path = paths.NOTEBOOKS) -> list[Path]:
    """The pipeline's notebooks, in their numbered order."""
    return sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb"))


def declared_parameters(nb_path: Path) -> dict:
    """Names and defaults (as source text) of a notebook's ``parameters`` cell: its plain assignments, read
    with :mod:`ast` (papermill's inspection starts a translator per notebook, 0.4 s each)."""
    import ast
    import json

    cells = json.loads(Path(nb_path).read_text("utf-8"))["cells"]
    tagged = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if not tagged:
        return {}
    source = tagged[0]["source"]
    source = "".join(source) if isinstance(source, list) else source
    out = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            out[node.targets[0].id] = ast.get_source_segment(source, node.value)
    return out


class NotebookFailed(Exception):
    def __init__(self, notebook: str, message: str, executed: nbformat.NotebookNode | None):
        super().__init__(f"notebook {notebook}: {message}")
        self.notebook = notebook
        self.executed = executed


@dataclass
class Kernel:
    """One kernel that executes notebooks one after the other (the caller's environment sets its threads)."""

    cwd: Path = paths.PROJECT_ROOT
    env: dict | None = None

    def __enter__(self) -> Kernel:
        import nbformat
        from nbclient import NotebookClient

        self.km = NotebookClient(nbformat.v4.new_notebook(), kernel_name=KERNEL).create_kernel_manager()
        return self

    def warm_up(self) -> None:
        """Start the kernel and import what every notebook imports, before the first notebook is ready."""
        import nbformat

        self._execute(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(WARM_UP)]), timeout=300)

    def run(self, source: Path, parameters: dict) -> nbformat.NotebookNode:
        """Execute ``source`` with ``parameters`` injected after its ``parameters`` cell."""
        import nbformat
        from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
        from papermill.iorw import load_notebook_node
        from papermill.parameterize import parameterize_notebook

        nb = parameterize_notebook(load_notebook_node(str(source)), parameters, kernel_name=KERNEL)
        nb.metadata.pop("papermill", None)
        for i, cell in enumerate(nb.cells):  # the injected cell's id is random: number them all
            cell["id"] = f"cell-{i}"
        try:
            if self.km.has_kernel:
                self._execute(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(_RESET)]), timeout=60)
            self._execute(nb)
        except CellExecutionError as exc:
            cell = next((c for c in nb.cells if any(o.get("output_type") == "error" for o in c.get("outputs", []))),
                        None)
            where = f"nella cella {cell.execution_count}" if cell is not None else "in una cella"
            raise NotebookFailed(source.name, f"errore {where}: {exc.ename}: {_first_line(exc.evalue)}", nb) from exc
        except (CellTimeoutError, DeadKernelError) as exc:
            raise NotebookFailed(source.name, f"non completato: {type(exc).__name__}: {_first_line(str(exc))}",
                                 nb) from exc
        return nb

    def _execute(self, nb: nbformat.NotebookNode, timeout: int = EXECUTION_TIMEOUT) -> None:
        from nbclient import NotebookClient

        client = NotebookClient(nb, km=self.km, timeout=timeout, kernel_name=KERNEL, extra_arguments=KERNEL_QUIET,
                                resources={"metadata": {"path": str(self.cwd)}})
        try:
            client.execute(cwd=str(self.cwd), env={**os.environ, **(self.env or {})})
        finally:
            if client.kc is not None:
                client.kc.stop_channels()

    def __exit__(self, *exc) -> None:
        from jupyter_core.utils import run_sync

        if self.km.has_kernel:
            run_sync(self.km.shutdown_kernel)(now=True)


class RenderPool:
    """Kernels that start and warm up in background threads while the analysis steps run, then execute the
    notebooks side by side (one per core), each notebook in whichever kernel is free."""

    def __init__(self, size: int, env: dict | None = None):
        import queue

        self.size = max(1, size)
        self.env = env
        self.jobs: queue.Queue = queue.Queue()
        self.finished: queue.Queue = queue.Queue()
        self.pending = 0
        self.threads: list = []

    def __enter__(self) -> RenderPool:
        import threading

        for i in range(self.size):
            t = threading.Thread(target=self._work, name=f"kernel-{i}", daemon=True)
            t.start()
            self.threads.append(t)
        return self

    def _work(self) -> None:
        try:
            with Kernel(env=self.env) as kernel:
                warm_error = None
                try:
                    kernel.warm_up()
                except Exception as exc:  # reported with the first notebook this kernel takes
                    warm_error = exc
                while True:
                    job = self.jobs.get()
                    if job is None:
                        return
                    source, parameters, after, done = job
                    executed = None
                    try:
                        if warm_error is not None:
                            raise NotebookFailed(source.name, f"il kernel non parte: {_first_line(warm_error)}",
                                                 None)
                        executed = kernel.run(source, parameters)
                        after(source, executed, None)
                        done(source, executed, None)
                    except BaseException as exc:
                        executed = executed if executed is not None else getattr(exc, "executed", None)
                        try:
                            after(source, executed, exc)
                        except BaseException:  # keeping the failing notebook is best effort
                            pass
                        done(source, executed, exc)
        except BaseException:  # the kernel could not even be created: jobs fail through their callbacks
            while True:
                job = self.jobs.get()
                if job is None:
                    return
                job[3](job[0], None, NotebookFailed(job[0].name, "il kernel non parte", None))

    def submit(self, source: Path, parameters: dict, after) -> None:
        """Queue a notebook; it runs in the first free kernel, then ``after(source, executed_nb, error)`` runs
        in that kernel's thread (saving and exporting overlap with the other kernel's work)."""
        self.pending += 1
        self.jobs.put((source, parameters, after, lambda s, nb, err: self.finished.put((s, nb, err))))

    def collect(self) -> None:
        """Wait for every queued notebook; the first error is raised once all have stopped."""
        first_error = None
        while self.pending:
            _, _, err = self.finished.get()
            self.pending -= 1
            first_error = first_error or err
        if first_error is not None:
            raise first_error

    def __exit__(self, *exc) -> None:
        for _ in self.threads:
            self.jobs.put(None)
        for t in self.threads:
            t.join(timeout=60)


def _first_line(text: str) -> str:
    lines = [line for line in str(text).splitlines() if line.strip()]
    return lines[0].strip() if lines else ""


_EXPORTERS = threading.local()  # one exporter per thread: building one (templates, filters) takes 0.5 s


def _exporter():
    from nbconvert import HTMLExporter

    if not hasattr(_EXPORTERS, "html"):
        exporter = HTMLExporter(template_name="lab", exclude_input=True, exclude_input_prompt=True,
                                exclude_output_prompt=True, embed_images=True)
        # The lab template links MathJax and require.js from a CDN: the reports use neither.
        exporter.mathjax_url = ""
        exporter.require_js_url = ""
        _EXPORTERS.html = exporter
    return _EXPORTERS.html


def export_html(nb: nbformat.NotebookNode, html: Path, title: str | None = None) -> Path:
    """HTML without code, images embedded, no script from the internet, and nothing a cell wrote to its error
    stream (a library's warning names server paths and means nothing to the board; the executed notebook, analyst
    material, keeps it)."""
    import copy

    title = title or _first_heading(nb) or html.stem
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.get("cell_type") == "code":
            cell["outputs"] = [o for o in cell.get("outputs", [])
                               if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
    nb.metadata["title"] = title
    body, _ = _exporter().from_notebook_node(nb, resources={"metadata": {"name": title}})
    return atomic_write_text(html, offline_html(with_alt_text(body, nb)))


_FIGURE_IMG = re.compile(r'<img\b[^>]*\bsrc="data:image/(?:png|svg\+xml);base64,[^>]*>')
_ALT = re.compile(r'\salt="[^"]*"')


def with_alt_text(body: str, nb) -> str:
    """Each figure's image with the Italian description its output carries (see
    :func:`analysis.reporting.figure_alt`), in place of nbconvert's English placeholder (a figure without one is
    described as "Grafico"), and its printing size (:func:`analysis.reporting.figure_print_size`)."""
    def meta(output) -> dict:
        found = output.get("metadata", {})  # IPython files a formatter's metadata under its mime type
        return next((found[m] for m in ("image/png", "image/svg+xml") if found.get(m, {}).get("alt")), {})

    metas = iter([meta(output) for cell in nb.cells if cell.get("cell_type") == "code"
                  for output in cell.get("outputs", []) if {"image/png", "image/svg+xml"} & set(output.get("data", {}))])

    def described(m: re.Match) -> str:
        found = next(metas, {})
        attrs = f' alt="{html.escape(found.get("alt", "Grafico."), quote=True)}"'
        # What the browser test needs to tell the size the figure's smallest text prints at.
        attrs += "".join(f' data-{key.replace("_", "-")}="{float(found[key])}"' for key in ("font_pt", "width_in")
                         if found.get(key) is not None)
        tag = _ALT.sub("", m.group())
        return tag[:4] + attrs + tag[4:]

    return _FIGURE_IMG.sub(described, body)


_SCRIPT_PATTERNS = [
    re.compile(r'<script[^>]*\ssrc="[^"]*"[^>]*>\s*</script>'),  # empty or remote src
    re.compile(r'<script type="text/x-mathjax-config">.*?</script>', re.DOTALL),
    re.compile(r'<script type="module">(?:(?!</script>).)*?mermaid.*?</script>', re.DOTALL),  # loads from a CDN
]


def offline_html(body: str) -> str:
    """Drop the template's scripts that would fetch from the internet (the reports need none)."""
    for pattern in _SCRIPT_PATTERNS:
        body = pattern.sub("", body)
    return body


def _first_heading(nb) -> str | None:
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            text = output.get("data", {}).get("text/html", "")
            m = re.search(r"<h1[^>]*>(.*?)</h1>", "".join(text) if isinstance(text, list) else text, re.DOTALL)
            if m:
                return re.sub(r"<[^>]+>", "", m.group(1)).strip()
    return None
