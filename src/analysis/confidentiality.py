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
* :func:`company_names` is the one naming rule: a name with consent, else
  the pseudonym, never a company id or VAT number.
* Which numbers the board may see is decided by :mod:`analysis.disclosure`.
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
from analysis.disclosure import check_audience
from analysis.outputs import atomic_write_bytes
from analysis.text import visible

CONSENT_TO_REQUEST = "consenso da richiedere"


class KeyProblem(ValueError):
    """The pseudonym key is missing, damaged or too short: pseudonyms would change or could be recomputed."""


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


def company_names(responses: pd.DataFrame, key: bytes, audience: str = "board", mark: bool = False) -> pd.Series:
    """How each company appears (indexed by ``company_id``): the one naming rule of spec section 8.

    Its name, with consent (or for analysts), when it has one; otherwise its keyed pseudonym, never its
    company id or VAT number whatever is missing. ``mark`` adds "consenso da richiedere" to a board pseudonym
    (Champions, candidates and pilot partners). Control characters in names are shown visibly.
    """
    check_audience(audience)
    consent = responses["consenso_nominativo"].fillna(False).astype(bool).to_numpy()
    names = responses["ragione_sociale"].map(visible).str.strip().to_numpy()
    out = []
    for cid, name, ok in zip(responses["company_id"], names, consent, strict=True):
        if name and (ok or audience == "analyst"):
            out.append(name)
        else:
            alias = pseudonym(cid, key)
            out.append(f"{alias} ({CONSENT_TO_REQUEST})" if mark and not ok and audience == "board" else alias)
    return pd.Series(out, index=responses["company_id"].to_numpy(), dtype=object)


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
    view.insert(1, "nome_report", company_names(responses, key, audience).to_numpy())
    view["consenso"] = responses["consenso_nominativo"].fillna(False).astype(bool)
    if audience == "board":
        drop = [k for k in cb.personal_keys if k in view] + ["partita_iva", "ragione_sociale"]
        view = view.drop(columns=drop)
        for f in cb.fields:
            if f.pd_unless_consent and f.key in view:
                view[f.key] = view[f.key].where(view["consenso"], None)
    return view
