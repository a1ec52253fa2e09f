"""Board reports as A4 PDF files, printed by headless Chromium (issue 15).

One browser session prints every PDF of a run: Chromium is started once with ``--remote-debugging-pipe`` and
driven over the DevTools protocol (JSON messages on file descriptors 3 and 4, no network port, no extra
package). Each page is opened in a new tab, printed on A4 with the wave and the page number in the footer of
every page, and written atomically. Where Chromium is missing (``make report`` installs Debian's package when it
can), :func:`print_pdfs` raises :class:`PrintUnavailable` with the reason and the run still writes its HTML.
"""

from __future__ import annotations

import base64
import html
import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

A4 = (8.27, 11.69)  # inches
MARGINS = {"marginTop": 0.55, "marginBottom": 0.65, "marginLeft": 0.5, "marginRight": 0.5}  # inches
FOOTER_PT = 8  # the smallest text of the report (issue 15: nothing under 8 pt)
TIMEOUT = 120.0  # seconds for one page to load and print

_CANDIDATES = ("/usr/lib/chromium/chromium", "chromium", "chromium-browser", "google-chrome")


class PrintUnavailable(RuntimeError):
    """The PDF could not be printed here (no browser, or the browser failed): the reason, in Italian."""


@dataclass(frozen=True)
class Job:
    html: Path
    pdf: Path
    footer: str  # text left of the page number, for example "Rapporto per il Consiglio - rilevazione 2026-12"


def find_browser() -> str | None:
    """Chromium's binary (Debian's ``/usr/bin/chromium`` is a shell wrapper around it; either works)."""
    for name in _CANDIDATES:
        path = name if os.path.isabs(name) and os.access(name, os.X_OK) else shutil.which(name)
        if path:
            return path
    return None


def _footer(text: str) -> str:
    return (f"<div style='font-size:{FOOTER_PT}pt;width:100%;padding:0 12mm;display:flex;"
            "justify-content:space-between;font-family:Helvetica,Arial,sans-serif;color:#444'>"
            f"<span>{html.escape(text)}</span><span>pagina <span class='pageNumber'></span> di "
            "<span class='totalPages'></span></span></div>")


class _Session:
    """Chromium over its DevTools pipe: ``call`` sends a command and waits for its answer."""

    def __init__(self, browser: str, profile: Path):
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()

        def plumbing():  # the child reads commands on fd 3 and writes answers on fd 4
            a, b = os.dup(to_child_r), os.dup(from_child_w)
            os.dup2(a, 3)
            os.dup2(b, 4)
            os.set_inheritable(3, True)
            os.set_inheritable(4, True)

        self._proc = subprocess.Popen(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-dev-shm-usage", f"--user-data-dir={profile}", "about:blank"],
            preexec_fn=plumbing, close_fds=False, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        os.close(to_child_r)
        os.close(from_child_w)
        self._buffer = b""
        self._next = 0

    def call(self, method: str, params: dict | None = None, session: str | None = None,
             timeout: float = TIMEOUT) -> dict:
        self._next += 1
        message = {"id": self._next, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        try:
            os.write(self._to_child, json.dumps(message).encode() + b"\0")
        except OSError as e:
            raise PrintUnavailable(f"il browser si è chiuso ({e.strerror})") from e
        deadline = time.monotonic() + timeout
        while True:
            while b"\0" not in self._buffer:
                if time.monotonic() > deadline:
                    raise PrintUnavailable(f"il browser non ha risposto entro {timeout:.0f} s")
                chunk = os.read(self._from_child, 1 << 20)
                if not chunk:
                    raise PrintUnavailable("il browser si è chiuso durante la stampa")
                self._buffer += chunk
            raw, self._buffer = self._buffer.split(b"\0", 1)
            answer = json.loads(raw)
            if answer.get("id") == self._next:
                if "error" in answer:
                    raise PrintUnavailable(f"il browser ha rifiutato {method}: {answer['error'].get('message')}")
                return answer["result"]

    def new_tab(self) -> tuple[str, str]:
        """A blank tab: its target id and its session id."""
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        return target, self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]

    def load(self, tab: str, page: Path) -> None:
        """Open ``page`` in ``tab`` and wait until it has loaded."""
        self.call("Page.navigate", {"url": page.resolve().as_uri()}, session=tab)
        deadline = time.monotonic() + TIMEOUT
        while self.call("Runtime.evaluate", {"expression": "document.readyState"},
                        session=tab)["result"].get("value") != "complete":
            if time.monotonic() > deadline:
                raise PrintUnavailable(f"la pagina non si è caricata entro {TIMEOUT:.0f} s")
            time.sleep(0.05)

    def close(self) -> None:
        try:
            self.call("Browser.close", timeout=10)
        except PrintUnavailable:
            pass
        for fd in (self._to_child, self._from_child):
            try:
                os.close(fd)
            except OSError:
                pass
        try:
            self._proc.wait(10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()


def _print_one(session: _Session, job: Job) -> bytes:
    target, tab = session.new_tab()
    try:
        session.load(tab, job.html)
        result = session.call("Page.printToPDF", {
            "paperWidth": A4[0], "paperHeight": A4[1], "printBackground": True, "preferCSSPageSize": False,
            "displayHeaderFooter": True, "headerTemplate": "<div></div>", "footerTemplate": _footer(job.footer),
            **MARGINS}, session=tab)
        return base64.b64decode(result["data"])
    finally:
        session.call("Target.closeTarget", {"targetId": target})


def print_pdfs(jobs: list[Job]) -> list[Path]:
    """Print every job in one browser session; each PDF is written atomically. Raises
    :class:`PrintUnavailable` (nothing half-written) when the browser is missing or fails."""
    from analysis.outputs import atomic_write_bytes

    browser = find_browser()
    if browser is None:
        raise PrintUnavailable("Chromium non è installato (make report lo installa dove può: pacchetto Debian "
                               "chromium)")
    with tempfile.TemporaryDirectory(prefix="analysis-stampa-") as profile:
        session = _Session(browser, Path(profile))
        try:
            printed = [(job, _print_one(session, job)) for job in jobs]
        finally:
            session.close()
    return [atomic_write_bytes(job.pdf, data) for job, data in printed]
