"""Rendering the board notebooks: parameters injected as papermill does, every notebook executed in one
kernel (start-up and imports paid once), then exported to HTML without code.

The notebooks only read a run's outputs and display them; between two notebooks the kernel's namespace is
reset and its figures closed, so a notebook never sees another's variables.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

from analysis import paths
from analysis.outputs import atomic_write_text

EXECUTION_TIMEOUT = 900  # seconds per cell
KERNEL = "python3"
# The kernel's own start-up warnings (transport notices) would drown the per-notebook progress lines.
KERNEL_QUIET = ["--IPKernelApp.log_level=ERROR"]
_RESET = "%reset -f\nimport matplotlib.pyplot as _plt\n_plt.close('all')\ndel _plt"


def notebook_paths(folder: Path = paths.NOTEBOOKS) -> list[Path]:
    """The pipeline's notebooks, in their numbered order."""
    return sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb"))


def declared_parameters(nb_path: Path) -> dict:
    """Names and defaults (as source text) of a notebook's ``parameters`` cell."""
    import papermill

    return {name: info["default"] for name, info in papermill.inspect_notebook(str(nb_path)).items()}


class NotebookFailed(Exception):
    def __init__(self, notebook: str, message: str, executed: nbformat.NotebookNode | None):
        super().__init__(f"notebook {notebook}: {message}")
        self.executed = executed


@dataclass
class Kernel:
    """One kernel for a run's notebooks (the threads it may use are set by the caller's environment)."""

    cwd: Path = paths.PROJECT_ROOT
    env: dict | None = None

    def __enter__(self) -> Kernel:
        from nbclient import NotebookClient

        self.km = NotebookClient(nbformat.v4.new_notebook(), kernel_name=KERNEL).create_kernel_manager()
        return self

    def run(self, source: Path, parameters: dict) -> nbformat.NotebookNode:
        """Execute ``source`` with ``parameters`` injected after its ``parameters`` cell."""
        from nbclient import NotebookClient
        from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
        from papermill.iorw import load_notebook_node
        from papermill.parameterize import parameterize_notebook

        nb = parameterize_notebook(load_notebook_node(str(source)), parameters, kernel_name=KERNEL)
        nb.metadata.pop("papermill", None)
        client = NotebookClient(nb, km=self.km, timeout=EXECUTION_TIMEOUT, kernel_name=KERNEL,
                                extra_arguments=KERNEL_QUIET, resources={"metadata": {"path": str(self.cwd)}})
        try:
            if self.km.has_kernel:
                self._reset(client)
            client.execute(cwd=str(self.cwd), env=self._env())
        except CellExecutionError as exc:
            cell = next((c for c in nb.cells if any(o.get("output_type") == "error" for o in c.get("outputs", []))),
                        None)
            where = f"nella cella {cell.execution_count}" if cell is not None else "in una cella"
            raise NotebookFailed(source.name, f"errore {where}: {exc.ename}: {_first_line(exc.evalue)}", nb) from exc
        except (CellTimeoutError, DeadKernelError) as exc:
            raise NotebookFailed(source.name, f"non completato: {type(exc).__name__}: {_first_line(str(exc))}",
                                 nb) from exc
        finally:
            if client.kc is not None:
                client.kc.stop_channels()
        return nb

    def _reset(self, client) -> None:
        from nbclient import NotebookClient

        blank = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(_RESET)])
        NotebookClient(blank, km=self.km, timeout=60, kernel_name=KERNEL).execute()

    def _env(self) -> dict:
        env = dict(os.environ)
        env.update(self.env or {})
        return env

    def __exit__(self, *exc) -> None:
        from jupyter_core.utils import run_sync

        if self.km.has_kernel:
            run_sync(self.km.shutdown_kernel)(now=True)


def _first_line(text: str) -> str:
    lines = [line for line in str(text).splitlines() if line.strip()]
    return lines[0].strip() if lines else ""


def export_html(nb: nbformat.NotebookNode, html: Path, title: str | None = None) -> Path:
    """HTML without code, images embedded, no script from the internet."""
    from nbconvert import HTMLExporter

    title = title or _first_heading(nb) or html.stem
    nb.metadata["title"] = title
    exporter = HTMLExporter(template_name="lab", exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True, embed_images=True)
    # The lab template links MathJax and require.js from a CDN: the reports use neither.
    exporter.mathjax_url = ""
    exporter.require_js_url = ""
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    return atomic_write_text(html, offline_html(body))


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
