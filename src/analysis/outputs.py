"""Writing output files: atomically (a crash never leaves half a file) and reproducibly."""

from __future__ import annotations

import io
import json
import os
import re
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd

# A fixed zip timestamp so the same workbook content gives the same bytes.
_ZIP_EPOCH = (2000, 1, 1, 0, 0, 0)
# openpyxl stamps the save time into docProps/core.xml whatever the properties say.
_CORE_DATES = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(<)")


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


def atomic_write_bytes(path: str | Path, data: bytes, durable: bool = False) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder (``durable``: on the disk, not
    only in the cache, before it takes the name)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; outputs are ordinary files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | Path, text: str, durable: bool = False) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"), durable)


def write_json(path: str | Path, obj: Any, durable: bool = False) -> Path:
    return atomic_write_text(path, json.dumps(obj, ensure_ascii=False, indent=2, default=str) + "\n", durable)


def write_csv(path: str | Path, frame: pd.DataFrame) -> Path:
    """UTF-8, comma-separated, one header row, no index (spec section 6)."""
    return atomic_write_text(path, frame.to_csv(index=False, lineterminator="\n"))


def normalise_zip(data: bytes) -> bytes:
    """Rewrite a zip (xlsx) with fixed member timestamps, so equal content gives equal bytes."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=_ZIP_EPOCH)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = _CORE_DATES.sub(rb"\g<1>2000-01-01T00:00:00Z\g<2>", body)
            dst.writestr(fixed, body)
    return out.getvalue()


def save_workbook(wb, path: str | Path) -> Path:
    """Save an openpyxl workbook atomically and reproducibly."""
    from datetime import datetime

    wb.properties.created = datetime(2000, 1, 1)
    wb.properties.modified = datetime(2000, 1, 1)
    buf = io.BytesIO()
    wb.save(buf)
    return atomic_write_bytes(path, normalise_zip(buf.getvalue()))
