"""The board report as a browser lays it out (issue 15): tables and images beyond the window or the printed page,
content cut by a container that hides or scrolls its overflow, the smallest text, in the page and inside each
figure; screenshots. Drives Chromium
over the same DevTools pipe that prints the PDF (:mod:`analysis.printing`)."""

from __future__ import annotations

import base64
import json
import tempfile
from pathlib import Path

from analysis.printing import A4, MARGINS, _Session, find_browser

# The printed page's width in CSS pixels (A4 less the margins): the viewport that print layout uses.
PRINT_WIDTH = round((A4[0] - MARGINS["marginLeft"] - MARGINS["marginRight"]) * 96)

_MEASURE = r"""
(() => {
  const W = document.documentElement.clientWidth;
  const out = {width: W, beyond: [], clipped: [], smallest: 99, smallest_text: ""};
  const label = (el) => {
    const cap = el.querySelector && el.querySelector('caption');
    return (cap ? cap.textContent : el.getAttribute('alt') || el.textContent || '').trim().slice(0, 80);
  };
  for (const el of document.querySelectorAll('table, img, svg, pre')) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && (r.right > W + 1 || r.left < -1)) out.beyond.push({tag: el.tagName, right: Math.round(r.right), what: label(el)});
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      const cs = getComputedStyle(a);
      if (cs.overflowX !== 'visible' && a.scrollWidth > a.clientWidth + 1) {
        out.clipped.push({tag: el.tagName, container: a.className.toString().slice(0, 60), what: label(el)});
        break;
      }
    }
  }
  // Any other box that scrolls or hides its content (a scroll bar on the printed page, text cut short).
  for (const el of document.body.querySelectorAll('*')) {
    const cs = getComputedStyle(el);
    if (cs.display === 'none' || el.closest('style, script')) continue;
    const clips = (cs.overflowX !== 'visible' && el.scrollWidth > el.clientWidth + 1)
      || (cs.overflowY !== 'visible' && el.scrollHeight > el.clientHeight + 1);
    if (clips && el.clientHeight > 0) out.clipped.push({tag: el.tagName, container: el.className.toString().slice(0, 60), what: (el.textContent || '').trim().slice(0, 60)});
  }
  // The smallest text inside each figure at the width the figure is laid out (its image says the text's size
  // at its own width: analysis.render.with_alt_text).
  out.figures = [];
  for (const img of document.querySelectorAll('img[data-font-pt][data-width-in]')) {
    const r = img.getBoundingClientRect();
    out.figures.push({what: label(img), pt: parseFloat(img.dataset.fontPt) * (r.width / 96) / parseFloat(img.dataset.widthIn)});
  }
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (!node.textContent.trim()) continue;
    const el = node.parentElement, cs = getComputedStyle(el);
    if (cs.display === 'none' || cs.visibility === 'hidden' || el.closest('style, script, title')) continue;
    const size = parseFloat(cs.fontSize);
    if (size < out.smallest) { out.smallest = size; out.smallest_text = node.textContent.trim().slice(0, 60); }
  }
  return JSON.stringify(out);
})()
"""


class Page:
    """One page opened in a fresh headless Chromium at a given window width and media (``screen`` or
    ``print``)."""

    def __init__(self, html: Path, width: int, media: str = "screen", height: int = 1200):
        self.html, self.width, self.media, self.height = html, width, media, height

    def __enter__(self):
        self._profile = tempfile.TemporaryDirectory(prefix="analysis-dom-")
        self.session = _Session(find_browser(), Path(self._profile.name))
        _, self.tab = self.session.new_tab()
        self.session.call("Emulation.setDeviceMetricsOverride", {"width": self.width, "height": self.height,
                                                                 "deviceScaleFactor": 1, "mobile": False},
                          session=self.tab)
        self.session.call("Emulation.setEmulatedMedia", {"media": self.media}, session=self.tab)
        self.session.load(self.tab, self.html)
        return self

    def evaluate(self, expression: str):
        result = self.session.call("Runtime.evaluate", {"expression": expression, "returnByValue": True},
                                   session=self.tab)
        return result["result"].get("value")

    def measure(self) -> dict:
        return json.loads(self.evaluate(_MEASURE))

    def screenshot(self, path: Path) -> Path:
        data = self.session.call("Page.captureScreenshot", {"format": "png"}, session=self.tab)["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def __exit__(self, *exc):
        self.session.close()
        self._profile.cleanup()
