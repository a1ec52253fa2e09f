"""Confidentiality (spec section 8): the one place every report goes through.

* :func:`report_view` turns the accepted responses into what a notebook may
  show for its ``audience``: for ``board`` (the default and every export)
  personal data and VAT numbers are dropped, ``sfida_principale`` is kept
  only for companies that consented, and every company gets a
  ``nome_report``: its name when it consented, else a pseudonym.
* Pseudonyms are a keyed hash (HMAC-SHA256) of the company identifier. The
  key is random, kept beside the processed folder (``pseudonym.key``, outside
  what a run replaces) and carried over from the previous wave or the
  project's key, so a company keeps its pseudonym across runs and waves, and
  nobody without the key can recompute it from a VAT number.
* :func:`suppress_counts` and :func:`suppress_small` blank aggregates over
  fewer than 3 companies (shown ``<3``), and, where a total is shown, one
  more cell (shown ``n.p.``, non pubblicabile) so the suppressed one cannot be
  worked out by subtraction.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from pathlib import Path

import pandas as pd

from analysis import paths
from analysis.catalog import KEY_FILE, key_path
from analysis.codebook import Codebook
from analysis.outputs import atomic_write_bytes

AUDIENCES = ("board", "analyst")
MIN_COMPANIES = 3
SUPPRESSED = "<3"
# A cell hidden only so that a "<3" cell cannot be worked out from the total.
SUPPRESSED_SECONDARY = "n.p."
CONSENT_TO_REQUEST = "consenso da richiedere"


class KeyProblem(ValueError):
    """The pseudonym key is missing, damaged or too short: pseudonyms would change or could be recomputed."""


def check_audience(audience: str) -> str:
    if audience not in AUDIENCES:
        raise ValueError(f"audience must be one of {AUDIENCES}, not {audience!r}")
    return audience


def ensure_key(processed: Path, previous: Path | None = None) -> bytes:
    """The pseudonym key of the runs writing ``processed``, kept beside it (outside the set a run replaces and
    what ``make clean`` removes); when missing, carried over from the previous wave or the project's key (an
    older layout kept it inside the processed folder), else created."""
    target = key_path(processed)
    if not target.is_file():
        candidates = [key_path(previous), Path(previous) / KEY_FILE] if previous is not None else []
        candidates += [key_path(paths.PROCESSED), paths.PROCESSED / KEY_FILE, Path(processed) / KEY_FILE]
        existing = next((c for c in candidates if c.is_file()), None)
        text = existing.read_text().strip() if existing else secrets.token_hex(32)
        try:
            usable = len(bytes.fromhex(text)) >= 32
        except ValueError:
            usable = False
        if not usable:  # a damaged key must not be copied on
            raise KeyProblem(f"{existing}: chiave degli pseudonimi illeggibile o troppo corta")
        atomic_write_bytes(target, (text + "\n").encode("ascii"))
        target.chmod(0o600)
    return read_key(processed)


def read_key(processed: Path) -> bytes:
    """The pseudonym key of a run's set (see :func:`ensure_key`)."""
    target = key_path(processed)
    try:
        key = bytes.fromhex(target.read_text().strip())
    except (OSError, ValueError) as exc:
        raise KeyProblem(f"{target}: chiave degli pseudonimi mancante o illeggibile") from exc
    if len(key) < 32:  # an empty or truncated key would let anyone recompute the pseudonyms
        raise KeyProblem(f"{target}: chiave degli pseudonimi troppo corta ({len(key)} byte, ne servono 32): "
                         "ripristinatela dalla copia degli analisti")
    return key


def pseudonym(company_id: str, key: bytes) -> str:
    """Stable, non-reversible label such as ``Impresa K7Q2MX``."""
    digest = hmac.new(key, company_id.encode("utf-8"), hashlib.sha256).digest()
    return "Impresa " + base64.b32encode(digest)[:6].decode("ascii")


def display_names(responses: pd.DataFrame, key: bytes, audience: str = "board") -> pd.Series:
    """Name to show per company: the real name with consent (or for analysts), else the pseudonym."""
    check_audience(audience)
    consent = responses["consenso_nominativo"].fillna(False).astype(bool)
    pseudo = responses["company_id"].map(lambda c: pseudonym(c, key))
    real = responses["ragione_sociale"].fillna(responses["company_id"])
    if audience == "analyst":
        return real.astype(str)
    return real.where(consent, pseudo).astype(str)


def report_view(responses: pd.DataFrame, cb: Codebook, key: bytes, audience: str = "board") -> pd.DataFrame:
    """The responses as a notebook for ``audience`` may show them.

    ``board``: no personal data (PD fields), no VAT numbers, no company name
    without consent (``nome_report`` holds the name or pseudonym),
    ``sfida_principale`` only with consent. ``analyst``: everything, plus
    ``nome_report`` with real names. ``company_id`` stays as the join key;
    it is never shown by the notebooks.
    """
    check_audience(audience)
    view = responses.copy()
    view.insert(1, "nome_report", display_names(responses, key, audience))
    view["consenso"] = responses["consenso_nominativo"].fillna(False).astype(bool)
    if audience == "board":
        drop = [k for k in cb.personal_keys if k in view] + ["partita_iva", "ragione_sociale"]
        view = view.drop(columns=drop)
        for f in cb.fields:
            if f.pd_unless_consent and f.key in view:
                view[f.key] = view[f.key].where(view["consenso"], None)
    return view


def suppress_small(values: pd.Series, counts: pd.Series, audience: str = "board") -> pd.Series:
    """Values whose base (companies) is under 3 become :data:`SUPPRESSED` for the board."""
    if check_audience(audience) == "analyst":
        return values
    out = values.astype(object).copy()
    out[counts < MIN_COMPANIES] = SUPPRESSED
    return out


def suppress_counts(table: pd.DataFrame, audience: str = "board", totals: bool | str = True) -> pd.DataFrame:
    """A table of company counts safe for the board.

    Cells of 1 or 2 companies are suppressed. When ``totals`` are shown (or
    can be known: ``True`` for row and column totals, ``"rows"`` or
    ``"columns"`` for one kind only), a row or column holding exactly one
    suppressed cell gets its next smallest non-zero cell suppressed too, so no
    suppressed count can be worked out by subtraction. Zero cells stay (a
    structural zero reveals nobody).
    """
    if check_audience(audience) == "analyst":
        return table
    counts = table.astype(float)
    primary = (counts > 0) & (counts < MIN_COMPANIES)
    hide = primary.copy()
    if totals:
        changed = True
        while changed:
            changed = False
            for axis in {True: (0, 1), "rows": (1,), "columns": (0,)}[totals]:
                frame = hide if axis == 1 else hide.T
                values = counts if axis == 1 else counts.T
                for label in frame.index:
                    row = frame.loc[label]
                    if row.sum() == 1:
                        open_cells = values.loc[label][(~row) & (values.loc[label] > 0)]
                        if len(open_cells):
                            col = open_cells.idxmin()
                            if axis == 1:
                                hide.loc[label, col] = True
                            else:
                                hide.loc[col, label] = True
                            changed = True
    out = table.astype(object).copy()
    out[hide] = SUPPRESSED_SECONDARY
    out[primary] = SUPPRESSED
    return out
