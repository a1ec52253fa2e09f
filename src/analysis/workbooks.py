"""Reading survey files (spec section 1): which files, which sheets, which cells.

* :func:`discover` walks the raw folder: survey files by extension, the rest
  (``.txt``, ``.pdf``, hidden files, ``~$`` lock files) listed as ignored.
* :func:`open_sheets` yields the visible worksheets of a workbook (through
  python-calamine) or the one table of a CSV file, as :class:`Sheet` objects
  whose rows start at the sheet's first used cell.
* :meth:`Sheet.percent_cells` tells which cells carry a percent number
  format, reading only what is needed: in xlsx/xlsm the styles part and the
  style index of the cells in the asked columns, in ods the value type, in
  xls the cell format (xlrd).

Raw files are only ever opened for reading.
"""

from __future__ import annotations

import csv
import io
import os
import re
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree as ET

import python_calamine as pc

from analysis.errors import os_reason
from analysis.threads import background_priority

SURVEY_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods", ".csv"}


class FileProblem(Exception):
    """A file that cannot be read at all; the message is the one-line reason."""


@dataclass
class Discovery:
    files: list[Path]  # survey candidates, sorted by path under the raw folder
    ignored: list[dict]  # {"file": relative path, "reason": ...}


def discover(raw: Path) -> Discovery:
    """Every entry under ``raw`` (sub-folders too), split into survey candidates and ignored entries. Nothing
    disappears: a sub-folder that cannot be read, a special file (a pipe, a socket, a device, which reading
    would block on) and a link to a folder are listed with their reason."""
    files: list[Path] = []
    ignored: list[dict] = []
    unreadable: list[str] = []
    entries: list[tuple[Path, str | None]] = []  # path, reason it is not a regular file (or None)

    def note(err: OSError) -> None:
        unreadable.append(err.filename)

    for root, dirs, names in os.walk(raw, onerror=note, followlinks=False):
        dirs.sort()
        for d in list(dirs):
            if os.path.islink(os.path.join(root, d)):
                entries.append((Path(root) / d, "collegamento a una cartella (non seguito)"))
        for n in names:
            path = Path(root) / n
            try:
                mode = os.lstat(path).st_mode
            except OSError as exc:
                entries.append((path, f"non leggibile ({os_reason(exc)})"))
                continue
            if stat.S_ISREG(mode) or stat.S_ISLNK(mode):
                entries.append((path, None))
            else:
                kind = ("una pipe" if stat.S_ISFIFO(mode) else "un socket" if stat.S_ISSOCK(mode)
                        else "un dispositivo")
                entries.append((path, f"file speciale ({kind}, non un file di dati)"))
    for folder in unreadable:
        rel = Path(folder).relative_to(raw).as_posix() if Path(folder) != raw else "."
        ignored.append({"file": f"{rel}/", "reason": "cartella non leggibile (permessi)"})
    for path, special in sorted(entries):
        rel = path.relative_to(raw).as_posix()
        parts = PurePosixPath(rel).parts
        if any(part.startswith(".") for part in parts):
            ignored.append({"file": rel, "reason": "file nascosto"})
        elif special:
            ignored.append({"file": rel, "reason": special})
        elif path.name.startswith("~$"):
            ignored.append({"file": rel, "reason": "file di blocco di Office (~$)"})
        elif path.suffix.lower() == ".xlsb":
            ignored.append({"file": rel, "reason": "formato .xlsb (binario di Excel) non letto: salvatelo come .xlsx"})
        elif path.suffix.lower() not in SURVEY_SUFFIXES:
            ignored.append({"file": rel, "reason": f"formato non letto ({path.suffix or 'senza estensione'})"})
        elif not path.is_file():
            ignored.append({"file": rel, "reason": "collegamento non valido"})
        else:
            files.append(path)
    return Discovery(files, ignored)


@dataclass
class Sheet:
    """One table of a file: rows from its first used cell, with absolute offsets."""

    name: str
    rows: list[list]  # rows[0] is absolute row `row0`; rows[i][0] is absolute column `col0`
    row0: int = 0
    col0: int = 0
    _percent: object = field(default=None, repr=False)  # callable(cols) -> set[(abs_row, abs_col)]
    _percent_found: frozenset | None = field(default=None, repr=False)  # resolved (see resolve)
    formulas: dict = field(default_factory=dict, repr=False)  # (abs row, abs col) -> formula with no saved value
    errors: dict = field(default_factory=dict, repr=False)  # (abs row, abs col) -> Excel error the cell holds
    scan_problem: str | None = None  # why percent formats and formulas could not be checked (see resolve)

    def percent_cells(self, columns: set[int]) -> set[tuple[int, int]]:
        """Absolute (row, column) of the cells in ``columns`` (absolute) with a percent format."""
        if self._percent_found is not None:
            return {cell for cell in self._percent_found if cell[1] in columns}
        if self._percent is None or not columns:
            return set()
        return self._percent(columns)

    def resolve(self, percent_columns: set[int]) -> Sheet:
        """The sheet with its percent cells in ``percent_columns`` looked up now, and no tie to the file left:
        it can cross to another process."""
        try:
            self._percent_found = frozenset(self.percent_cells(percent_columns))
            if hasattr(self._percent, "formulas"):
                self.formulas = self._percent.formulas()
                self.errors = self._percent.errors()
        except Exception as exc:  # noqa: BLE001 - a side part (styles) the parser read but Python's XML refuses
            self._percent_found, self.formulas = frozenset(), {}
            self.scan_problem = parser_message(exc)
        self._percent = None
        return self


@dataclass
class SkippedSheet:
    name: str
    reason: str


# --------------------------------------------------------------------------
# Workbooks

_QUOTED = re.compile(r'"[^"]*"|\'[^\']*\'|`[^`]*`')
PARSER_TEXT = 120  # characters of a parser's message kept in a reason
_CELL_CONTENT = re.compile(r"(\bvalue)\s*:.*$", re.IGNORECASE)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def parser_message(exc: BaseException) -> str:
    """A parser's message fit for a one-line reason: its first line, quoted contents left out (a parser may quote
    the cell it choked on, names and e-mails included), at most :data:`PARSER_TEXT` characters."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    text = _QUOTED.sub("«…»", text)
    text = _CELL_CONTENT.sub(r"\1", text)  # "Unrecognized boolean cell value: <the cell as written>"
    text = _EMAIL.sub("«…»", text)
    return text if len(text) <= PARSER_TEXT else text[:PARSER_TEXT].rsplit(" ", 1)[0] + " …"


def _calamine_error(path: Path, exc: Exception) -> FileProblem:
    if isinstance(exc, pc.PasswordError):
        return FileProblem("protetto da password: salvatelo senza password per poterlo leggere")
    text = parser_message(exc)
    if isinstance(exc, (pc.ZipError, pc.XmlError)) or "zip" in text.lower():
        return FileProblem(f"non è un foglio di calcolo valido o è danneggiato ({text})")
    if "password" in text.lower() or "encrypt" in text.lower():
        return FileProblem("protetto da password: salvatelo senza password per poterlo leggere")
    return FileProblem(f"non leggibile come foglio di calcolo ({text})")


_KIND_NAMES = {".xls": "Excel 97-2003 (.xls)", ".xlsx": "Excel (.xlsx)", ".ods": "OpenDocument (.ods)"}
# The BOF record of Excel 2, 3 and 4 worksheets (BIFF2-4), which no current reader opens.
_BIFF_2_TO_4 = (b"\x09\x00", b"\x09\x02", b"\x09\x04")


def content_kind(path: Path, head: bytes) -> str:
    """What the file is by its first bytes (``.xls``, ``.xlsx``, ``.ods``), whatever its name says; its own
    extension when the bytes say nothing."""
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return ".xls"
    if head.startswith(b"PK"):
        try:
            with zipfile.ZipFile(path) as z:
                names = set(z.namelist())
                if "mimetype" in names and b"opendocument.spreadsheet" in z.read("mimetype"):
                    return ".ods"
        except (zipfile.BadZipFile, OSError, KeyError):
            return path.suffix.lower()
        return ".xlsx" if path.suffix.lower() not in (".xlsx", ".xlsm") else path.suffix.lower()
    return path.suffix.lower()


def _encrypted_ole(path: Path) -> bool:
    """An OLE container holding an encrypted Office package (how Office stores a password-protected
    workbook), not a plain .xls."""
    try:
        with path.open("rb") as fh:
            data = fh.read(1 << 20)
    except OSError:
        return False
    # OLE directory entries are UTF-16 names; some tools leave the stream names in ASCII too.
    return any(name.encode(enc) in data for name in ("EncryptedPackage", "EncryptionInfo")
               for enc in ("utf-16-le", "ascii"))


def open_workbook(path: Path, limits=None) -> tuple[pc.CalamineWorkbook, str, list[str]]:
    """The workbook, what it is by content (see :func:`content_kind`) and the sheets left out of it to read it
    (Excel 4 macro sheets, see :func:`_without_macro_sheets`). A workbook saved under another extension (an .xls
    named .xlsx) is read by its content. ``limits`` are checked first (:func:`check_size`); an encrypted .xls is
    named as such (:func:`xls_encryption`)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise FileProblem(f"non leggibile ({exc.strerror or exc})") from exc
    if not head:
        raise FileProblem("file vuoto (0 byte)")
    if head[:2] in _BIFF_2_TO_4:
        raise FileProblem("formato Excel 2-4 (versioni precedenti al 1995) non più letto: apritelo in Excel o "
                          "LibreOffice e salvatelo come .xlsx")
    check_size(path, ".ods" if path.suffix.lower() == ".ods" else ".xlsx" if head.startswith(b"PK") else "", limits)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        encryption = xls_encryption(path)
        if encryption:
            raise FileProblem(encryption)
    try:  # read by its extension (the usual case: the content matches, no sniffing)
        return pc.CalamineWorkbook.from_path(str(path)), path.suffix.lower(), []
    except Exception as exc:  # python-calamine raises its own error types and a few plain ones
        kind = content_kind(path, head)
        if kind == ".xls" and path.suffix.lower() != ".xls" and _encrypted_ole(path):
            raise FileProblem("protetto da password (file cifrato): salvatelo senza password") from exc
        if "unrecognized sheet" in str(exc).lower() and head.startswith(b"PK"):
            data, macro = _without_macro_sheets(path)
            if macro:
                try:
                    return pc.CalamineWorkbook.from_filelike(io.BytesIO(data)), kind, macro
                except Exception as inner:
                    raise _calamine_error(path, inner) from exc
        if kind != path.suffix.lower():
            try:  # named for another format: calamine reads a file object by its content
                return pc.CalamineWorkbook.from_filelike(io.BytesIO(path.read_bytes())), kind, []
            except Exception as inner:
                raise FileProblem(f"il contenuto è un file {_KIND_NAMES.get(kind, kind)} ma il nome finisce in "
                                  f"{path.suffix}: non leggibile nemmeno così ({parser_message(inner)})") from exc
        raise _calamine_error(path, exc) from exc


_MACRO_TYPES = ("/xlMacrosheet", "/xlIntlMacrosheet", "/dialogsheet")
_SHEET_ELEMENT = re.compile(rb"<(?:\w+:)?sheet\s[^>]*?/>|<(?:\w+:)?sheet\s[^>]*?>.*?</(?:\w+:)?sheet>", re.S)


def _without_macro_sheets(path: Path) -> tuple[bytes, list[str]]:
    """The workbook, in memory, without its Excel 4 macro and dialog sheets (which python-calamine refuses, and
    with them the whole workbook), and their names. The raw file is only read."""
    with zipfile.ZipFile(path) as z:
        rels = ET.fromstring(z.read("xl/_rels/workbook.xml.rels"))
        drop = {r.get("Id") for r in rels if (r.get("Type") or "").endswith(_MACRO_TYPES)}
        workbook = z.read("xl/workbook.xml")
        names: list[str] = []

        def keep(m: re.Match) -> bytes:
            rid = re.search(rb'\sr:id="([^"]+)"|\s\w+:id="([^"]+)"', m.group(0))
            if rid and (rid.group(1) or rid.group(2)).decode() in drop:
                name = re.search(rb'\sname="([^"]*)"', m.group(0))
                names.append(ET.fromstring(b"<x n=\"" + name.group(1) + b"\"/>").get("n") if name else "?")
                return b""
            return m.group(0)

        filtered = _SHEET_ELEMENT.sub(keep, workbook)
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as copy:
            for info in z.infolist():
                copy.writestr(info, filtered if info.filename == "xl/workbook.xml" else z.read(info.filename))
    return out.getvalue(), names


# XOR obfuscation password verifier (MS-OFFCRYPTO 2.3.7.1, CreatePasswordVerifier_Method1) of the password
# Excel uses when a workbook is encrypted without one being asked ("VelvetSweatshop").
def _xor_verifier(password: str) -> int:
    verifier = 0
    for byte in reversed(bytes([len(password)]) + password.encode("latin-1")):
        verifier = (((verifier >> 14) & 1) | ((verifier << 1) & 0x7FFF)) ^ byte
    return verifier ^ 0xCE4B


_DEFAULT_PASSWORD_VERIFIER = _xor_verifier("VelvetSweatshop")


def xls_encryption(path: Path) -> str | None:
    """Why an .xls cannot be read when it is encrypted (its FILEPASS record, right after the first BOF of the
    workbook stream), in words; None when it is not. python-calamine misreads XOR-obfuscated files as a
    codepage problem, so this is checked before parsing."""
    import struct

    from xlrd import compdoc

    try:
        with path.open("rb") as fh, open(os.devnull, "w") as quiet:
            doc = compdoc.CompDoc(fh.read(), logfile=quiet)
            stream = doc.get_named_stream("Workbook") or doc.get_named_stream("Book")
    except Exception:  # noqa: BLE001 - not a readable compound document: the parser says what is wrong
        return None
    pos = 0
    for _ in range(8):  # BOF, then FILEPASS (a few records in at most)
        if not stream or pos + 4 > len(stream):
            return None
        rtype, length = struct.unpack_from("<HH", stream, pos)
        payload = stream[pos + 4:pos + 4 + length]
        if rtype == 0x002F:
            xor = length == 4 or (len(payload) >= 6 and payload[:2] == b"\x00\x00")
            if xor:
                verifier = struct.unpack_from("<H", payload, len(payload) - 2)[0]
                if verifier == _DEFAULT_PASSWORD_VERIFIER:
                    return ("cifrato con la protezione di Excel senza una vera password (cifratura XOR di Excel "
                            "97-2003): apritelo in Excel, che non chiede la password, e salvatelo come .xlsx")
                return "protetto da password (cifratura XOR di Excel 97-2003): salvatelo senza password come .xlsx"
            return "protetto da password (cifratura RC4 di Excel 97-2003): salvatelo senza password come .xlsx"
        pos += 4 + length
    return None


def _thousands(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def check_cells(what: str, rows: int, cols: int, limits) -> None:
    """Refuse a table of more than ``limits.cells`` cells (``lettura.celle_massime``) with what to do."""
    if limits is not None and rows * cols > limits.cells:
        raise FileProblem(f"{what} ha {_thousands(rows)} righe per {_thousands(cols)} colonne ({_thousands(rows * cols)}"
                          f" celle; limite {_thousands(limits.cells)}, parametro lettura.celle_massime): dividete il "
                          "file o alzate il limite")


def _megabytes(size: int) -> str:
    return f"{size / 2**20:.1f}".replace(".", ",")


_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?"')


def check_size(path: Path, kind: str, limits) -> None:
    """Refuse, before any parsing, a sheet that inflates beyond ``limits.sheet_mb`` or declares a used range
    beyond ``limits.cells`` (:class:`analysis.isolation.Limits`): a small file can unpack to gigabytes, and one
    stray cell at XFD1048576 makes a parser allocate every cell up to it. Only the zip directory and the first
    bytes of each sheet are read. An ``.xls`` has no such directory: the worker's memory and time limits
    bound it."""
    if limits is None or kind not in (".xlsx", ".xlsm", ".ods"):
        return
    try:
        z = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError):
        return  # the parser says what is wrong with it
    with z:
        # Every XML part, wherever it sits (a workbook may keep its sheets outside xl/worksheets/).
        parts = [i for i in z.infolist() if i.filename.lower().endswith(".xml")]
        for info in parts:
            if info.file_size > limits.sheet_mb * 2**20:
                raise FileProblem(
                    f"{_part_label(z, info.filename)} occupa {_thousands(round(info.file_size / 2**20))} MB una volta "
                    f"decompresso (il file ne occupa {_megabytes(path.stat().st_size)}; limite "
                    f"{_thousands(limits.sheet_mb)} MB, parametro lettura.foglio_mb_massimo): dividete il file o "
                    "alzate il limite")
        for info in parts:
            try:
                with z.open(info) as fh:
                    head = fh.read(65536)
            except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
                return
            m = _DIMENSION.search(head) if b"worksheet" in head[:4096] else None
            if not m or not m.group(3):
                continue
            rows = int(m.group(4)) - int(m.group(2)) + 1
            cols = _letters_col(m.group(3)) - _letters_col(m.group(1)) + 1
            if rows * cols > limits.cells:
                raise FileProblem(
                    f"{_part_label(z, info.filename)} ha un'area usata enorme, fino alla cella "
                    f"{m.group(3).decode()}{m.group(4).decode()} ({_thousands(rows * cols)} celle; limite "
                    f"{_thousands(limits.cells)}, parametro lettura.celle_massime): di solito una cella isolata "
                    "lontana dai dati; cancellate le righe e le colonne vuote oltre i dati e salvate di nuovo")


def _part_label(z: zipfile.ZipFile, part: str) -> str:
    """``il foglio 'Name'`` for a worksheet part of a workbook (``l'elenco dei testi`` for the shared strings)."""
    if part == "xl/sharedStrings.xml":
        return "l'elenco dei testi del file"
    if part == "content.xml":
        return "il contenuto del file"
    try:
        for name, target in _xlsx_targets(z).items():
            if target == part:
                return f"il foglio '{name}'"
    except (KeyError, ET.ParseError, zipfile.BadZipFile, OSError):
        pass
    return f"la parte {part}"


def workbook_sheets(path: Path, limits=None) -> tuple[list[tuple[str, object]], list[SkippedSheet]]:
    """Visible worksheets as (name, loader) and the sheets passed over with their reason; ``limits`` (see
    :func:`check_size`) are checked before the workbook is parsed."""
    wb, kind, macro = open_workbook(path, limits)
    usable: list[tuple[str, object]] = []
    skipped = [SkippedSheet(name, "foglio macro di Excel 4 (non è un foglio di dati)") for name in macro]
    try:
        metadata = wb.sheets_metadata
    except Exception as exc:
        raise _calamine_error(path, exc) from exc
    for meta in metadata:
        if meta.visible != pc.SheetVisibleEnum.Visible:
            skipped.append(SkippedSheet(meta.name, "foglio nascosto"))
        elif meta.typ != pc.SheetTypeEnum.WorkSheet:
            skipped.append(SkippedSheet(meta.name, "non è un foglio di dati (grafico o macro)"))
        else:
            usable.append((meta.name, _loader(wb, path, meta.name, kind, limits)))
    return usable, skipped


def _loader(wb: pc.CalamineWorkbook, path: Path, name: str, kind: str | None = None, limits=None):
    loaded: list = []  # calamine parses a sheet on get_sheet_by_name: do it once
    percent = _percent_reader(path, name, kind)

    def load(nrows: int | None = None) -> Sheet:
        try:
            if not loaded:
                if hasattr(percent, "prefetch"):
                    percent.prefetch()  # scan the cell styles while calamine parses (it releases the GIL)
                loaded.append(wb.get_sheet_by_name(name))
            sh = loaded[0]
            if not nrows:  # checked before the cells become Python objects, which cost far more than the parser's
                check_cells(f"il foglio '{name}'", sh.height, sh.width, limits)
            rows = sh.to_python(nrows=nrows) if nrows else sh.to_python()
        except FileProblem:
            raise
        except Exception as exc:
            raise _calamine_error(path, exc) from exc
        row0, col0 = sh.start if sh.start else (0, 0)
        rows = [[None if c == "" else c for c in r] for r in rows] if nrows else rows
        return Sheet(name, rows, row0, col0, percent)

    return load


# --------------------------------------------------------------------------
# Percent number formats

def cell_ref(row: int, col: int) -> str:
    """``A1``-style reference of a 0-based (row, column)."""
    return f"{_col_letters(col)}{row + 1}"


def _col_letters(col: int) -> str:
    s = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        s = chr(65 + rem) + s
    return s


def _is_percent_code(code: str) -> bool:
    # A '%' outside quoted text and not escaped.
    return "%" in re.sub(r'"[^"]*"|\\.', "", code)


class _XlsxScan:
    """What calamine does not tell about one xlsx sheet, found in one streaming pass over its XML (see
    :func:`_xlsx_scan`), optionally in a background thread while calamine parses (it releases the GIL)."""

    def __init__(self, path: Path, sheet_name: str) -> None:
        self.path, self.sheet_name = path, sheet_name
        self._thread = None
        self._result: list = []

    def prefetch(self) -> None:
        import threading

        if self._thread is None and not self._result:
            self._thread = threading.Thread(target=self._scan, daemon=True)
            self._thread.start()

    def _scan(self) -> None:
        if self._thread is not None:
            background_priority()
        try:
            self._result.append(_xlsx_scan(self.path, self.sheet_name))
        except Exception as exc:  # reported where the cells are asked for
            self._result.append(exc)

    def found(self) -> XlsxScan:
        if self._thread is not None:
            self._thread.join()
        if not self._result:
            self._scan()
        found = self._result[0]
        if isinstance(found, Exception):
            raise found
        return found

    def __call__(self, cols: set[int]) -> set[tuple[int, int]]:
        found = self.found()
        out = {(r, c) for c in cols for r in found.percent.get(c, ())}
        if found.style0_percent:  # cells without a style attribute use style 0, which is a percent style here
            out |= _xlsx_default_style_cells(self.path, self.sheet_name, cols)
        return out

    def formulas(self) -> dict[tuple[int, int], str]:
        return self.found().formulas

    def errors(self) -> dict[tuple[int, int], str]:
        return self.found().errors


def _percent_reader(path: Path, sheet_name: str, kind: str | None = None):
    suffix = kind or path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _XlsxScan(path, sheet_name)
    if suffix == ".ods":
        return lambda cols: _ods_percent_cells(path, sheet_name, cols)
    if suffix == ".xls":
        return lambda cols: _xls_percent_cells(path, sheet_name, cols)
    return None


def _local(name: str) -> str:
    """An XML name without its namespace: Transitional and Strict Open XML name the same elements apart."""
    return name.rsplit("}", 1)[-1]


def _elements(root: ET.Element, name: str):
    return (el for el in root.iter() if _local(el.tag) == name)


def _relationship_id(el: ET.Element) -> str | None:
    return next((v for k, v in el.attrib.items() if k.startswith("{") and _local(k) == "id"), None)


def _xlsx_targets(z: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> its part in the zip, from the workbook and its relationships."""
    wb = ET.fromstring(z.read("xl/workbook.xml"))
    rels = {r.get("Id"): r.get("Target", "") for r in ET.fromstring(z.read("xl/_rels/workbook.xml.rels"))}
    out = {}
    for sh in _elements(wb, "sheet"):
        target = rels.get(_relationship_id(sh), "")
        if target:
            out[sh.get("name")] = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    return out


def _xlsx_sheet_part(z: zipfile.ZipFile, sheet_name: str) -> str | None:
    return _xlsx_targets(z).get(sheet_name)


def _xlsx_percent_styles(z: zipfile.ZipFile) -> set[int]:
    try:
        styles = ET.fromstring(z.read("xl/styles.xml"))
    except KeyError:
        return set()
    custom = {int(n.get("numFmtId")): n.get("formatCode", "") for n in _elements(styles, "numFmt")}
    percent_ids = {9, 10} | {i for i, code in custom.items() if _is_percent_code(code)}
    xfs = next(_elements(styles, "cellXfs"), None)
    if xfs is None:
        return set()
    return {i for i, xf in enumerate(x for x in xfs if _local(x.tag) == "xf") if int(xf.get("numFmtId", 0)) in percent_ids}


def _letters_col(letters: bytes) -> int:
    col = 0
    for ch in letters:
        col = col * 26 + (ch - 64)
    return col - 1


@dataclass
class XlsxScan:
    percent: dict[int, set[int]]  # absolute column -> absolute rows of the percent-styled cells
    style0_percent: bool  # style 0 is a percent style (cells without a style attribute count too)
    formulas: dict[tuple[int, int], str]  # (absolute row, column) -> formula, of formula cells with no saved value
    errors: dict[tuple[int, int], str] = field(default_factory=dict)  # cells holding an Excel error (#N/A, ...)


CHUNK = 1 << 22  # the sheet XML is read this many bytes at a time: memory stays flat however large the sheet
MAX_CARRY = 1 << 26  # bytes kept waiting for a row end before cutting at a cell end
_CELL_REF = re.compile(rb'\sr="([A-Z]+)(\d+)"')
_FORMULA = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s>/]")
_VALUE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?v>[^<]")
_FORMULA_TEXT = re.compile(rb">([^<]*)<")
_XML_ENTITIES = ((b"&lt;", b"<"), (b"&gt;", b">"), (b"&quot;", b'"'), (b"&apos;", b"'"), (b"&amp;", b"&"))
MAX_FORMULAS = 100_000  # formula cells without a value listed per sheet (each becomes one flagged cell at most)


def _xlsx_scan(path: Path, sheet_name: str) -> XlsxScan:
    """Percent-styled cells and formula cells without a saved value, in one streaming pass over the sheet
    XML (never held whole: a sheet can unpack to gigabytes). Cut at row ends, so no cell spans two pieces."""
    found = XlsxScan({}, False, {}, {})
    with zipfile.ZipFile(path) as z:
        percent_xf = _xlsx_percent_styles(z)
        found.style0_percent = 0 in percent_xf
        part = _xlsx_sheet_part(z, sheet_name)
        if part is None:
            return found
        needles = [b' s="%d"' % xf for xf in percent_xf]
        carry = b""
        with z.open(part) as fh:
            while True:
                chunk = fh.read(CHUNK)
                buf = carry + chunk
                cut = buf.rfind(b"row>") + 4 if chunk else len(buf)
                if cut < 4 and len(buf) < MAX_CARRY:  # no row end yet (one huge row): keep reading
                    carry = buf
                    continue
                if cut < 4:  # no row end in sight: cut at a cell end (or anywhere), so the piece kept never grows
                    cut = buf.rfind(b"c>") + 2 if b"c>" in buf else len(buf)
                _scan_piece(buf[:cut], needles, found)
                carry = buf[cut:]
                if not chunk:
                    break
    return found


_CELL_START = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c[\s>]")
_ERROR_VALUE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?v>([^<]*)<")


def _positions(xml: bytes, needle: bytes):
    pos = xml.find(needle)
    while pos != -1:
        yield pos
        pos = xml.find(needle, pos + 1)


def _cell_start(xml: bytes, pos: int) -> int:
    """Where the cell element holding ``pos`` starts (any whitespace after its name, any namespace prefix)."""
    window = max(0, pos - 4096)
    last = -1
    for m in _CELL_START.finditer(xml, window, pos):
        last = m.start()
    return last


def _scan_piece(xml: bytes, needles: list[bytes], found: XlsxScan) -> None:
    # Percent-styled cells are few: find each ` s="N"` by literal search (fast), then read the cell reference
    # of the tag it sits in, instead of matching every cell of the sheet.
    for needle in needles:
        pos = xml.find(needle)
        while pos != -1:
            start = xml.rfind(b"<", 0, pos)
            tag = xml[start:pos]
            name = tag[1:].split(None, 1)[0]  # the element's name, whatever whitespace follows it
            if name == b"c" or name.endswith(b":c"):
                m = _CELL_REF.search(tag)
                if m:
                    found.percent.setdefault(_letters_col(m.group(1)), set()).add(int(m.group(2)) - 1)
            pos = xml.find(needle, pos + 1)
    if b't="e"' in xml:  # cells holding an Excel error, which python-calamine reads as blank
        for pos in _positions(xml, b't="e"'):
            start = _cell_start(xml, pos)
            ref = _CELL_REF.search(xml, start, xml.find(b">", start) + 1) if start != -1 else None
            end = xml.find(b"c>", pos)
            value = _ERROR_VALUE.search(xml, pos, end) if end != -1 else None
            if ref and len(found.errors) < MAX_FORMULAS:
                found.errors[(int(ref.group(2)) - 1, _letters_col(ref.group(1)))] = (
                    value.group(1).decode("utf-8", "replace") if value else "#errore")
    if b"<f" not in xml and b":f" not in xml:  # no formula element at all (the usual case): a fast byte search
        return
    for m in _FORMULA.finditer(xml):
        if len(found.formulas) >= MAX_FORMULAS:
            return
        pos = m.start()
        start = _cell_start(xml, pos)
        end = xml.find(b"c>", pos)  # the cell's end tag (a formula's text has its '>' escaped)
        if start == -1 or end == -1 or _VALUE.search(xml, pos, end):
            continue
        ref = _CELL_REF.search(xml, start, xml.find(b">", start) + 1)
        if ref is None:
            continue
        text = _FORMULA_TEXT.search(xml, m.end() - 1, end)
        formula = text.group(1) if text and xml[m.end() - 1:m.end()] == b">" else b""
        for entity, char in _XML_ENTITIES:
            formula = formula.replace(entity, char)
        found.formulas[(int(ref.group(2)) - 1, _letters_col(ref.group(1)))] = (
            "=" + formula.decode("utf-8", "replace") if formula else "(formula)")


def _xlsx_default_style_cells(path: Path, sheet_name: str, cols: set[int]) -> set[tuple[int, int]]:
    """Cells of ``cols`` without a style attribute, when style 0 is a percent style (rare)."""
    with zipfile.ZipFile(path) as z:
        part = _xlsx_sheet_part(z, sheet_name)
        xml = z.read(part) if part and cols else None
    if xml is None:
        return set()
    letters = {_col_letters(c): c for c in cols}
    pattern = re.compile(rb'<(?:\w+:)?c r="(' + b"|".join(k.encode() for k in letters) + rb')(\d+)"([^>]*)>')
    return {(int(m.group(2)) - 1, letters[m.group(1).decode()]) for m in pattern.finditer(xml)
            if b' s="' not in m.group(3)}


_NS_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_NS_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"


def _ods_percent_cells(path: Path, sheet_name: str, cols: set[int]) -> set[tuple[int, int]]:
    t_table, t_row, t_cell = f"{{{_NS_TABLE}}}table", f"{{{_NS_TABLE}}}table-row", f"{{{_NS_TABLE}}}table-cell"
    t_covered = f"{{{_NS_TABLE}}}covered-table-cell"
    rep_rows, rep_cols = f"{{{_NS_TABLE}}}number-rows-repeated", f"{{{_NS_TABLE}}}number-columns-repeated"
    vtype = f"{{{_NS_OFFICE}}}value-type"
    out: set[tuple[int, int]] = set()
    with zipfile.ZipFile(path) as z, z.open("content.xml") as fh:
        in_sheet = False
        row = 0
        for event, el in ET.iterparse(fh, events=("start", "end")):
            if el.tag == t_table:
                if event == "start":
                    in_sheet = el.get(f"{{{_NS_TABLE}}}name") == sheet_name
                    row = 0
                elif in_sheet:
                    break
                continue
            if not in_sheet or event != "end" or el.tag != t_row:
                continue
            col = 0
            for cell in el:
                if cell.tag not in (t_cell, t_covered):
                    continue
                n = int(cell.get(rep_cols, 1))
                if cell.get(vtype) == "percentage":
                    out.update((row, c) for c in range(col, col + n) if c in cols)
                col += n
            row += int(el.get(rep_rows, 1))
            el.clear()
    return out


def _xls_percent_cells(path: Path, sheet_name: str, cols: set[int]) -> set[tuple[int, int]]:
    import xlrd

    book = xlrd.open_workbook(str(path), formatting_info=True, on_demand=True)
    try:
        sh = book.sheet_by_name(sheet_name)
        out = set()
        for c in cols:
            if c >= sh.ncols:
                continue
            for r in range(sh.nrows):
                if sh.cell_type(r, c) != xlrd.XL_CELL_NUMBER:
                    continue
                fmt = book.format_map.get(book.xf_list[sh.cell_xf_index(r, c)].format_key)
                if fmt is not None and _is_percent_code(fmt.format_str):
                    out.add((r, c))
        return out
    finally:
        book.release_resources()


# --------------------------------------------------------------------------
# CSV

# A long free-text answer is still an answer: no cap on a field below the file size.
csv.field_size_limit(2**31 - 1)
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
_HIGH_BYTE = re.compile(rb"[\x80-\xff]")


def _utf16(data: bytes) -> str | None:
    """``utf-16`` with a byte-order mark, ``utf-16-le``/``-be`` when every other byte of the start is NUL."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "utf-16"
    head = data[:4096]
    half = max(1, len(head) // 2)
    even, odd = head[0::2].count(0), head[1::2].count(0)
    if odd > 0.4 * half and even < 0.05 * half:
        return "utf-16-le"
    if even > 0.4 * half and odd < 0.05 * half:
        return "utf-16-be"
    return None


def decode_csv(data: bytes) -> str:
    """UTF-16 (byte-order mark, or NUL every other byte), UTF-8 (with or without BOM), else cp1252. A UTF-8
    file with a few stray bytes (one cell pasted from another program) stays UTF-8: those bytes become U+FFFD
    and their cells are flagged, instead of every accented letter of the file turning into two."""
    encoding = _utf16(data)
    if encoding:
        return data.decode(encoding, errors="replace").lstrip("\ufeff")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    valid = sum(len(m) for m in _UTF8_SEQUENCE.findall(data))
    if valid and valid >= len(_HIGH_BYTE.findall(data)) / 2:  # most high bytes belong to UTF-8 sequences
        return data.decode("utf-8-sig", errors="replace")
    return data.decode("cp1252", errors="replace")


def csv_rows(text: str, delimiter: str) -> list[list]:
    return [[c if c.strip() else None for c in row] for row in csv.reader(io.StringIO(text, newline=""),
                                                                           delimiter=delimiter)]


def csv_candidates(path: Path) -> list[Sheet]:
    """The CSV read with each possible delimiter (``,``, ``;`` and tab); the caller keeps the best."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FileProblem(f"non leggibile ({exc.strerror or exc})") from exc
    if not data.strip():
        raise FileProblem("file vuoto")
    if _utf16(data) is None and b"\x00" in data:
        # The same rule wherever the NULs are: a few are stray bytes of a text file and go; many mean binary.
        if data.count(0) > 0.01 * len(data):
            raise FileProblem("non è un file di testo CSV (contenuto binario)")
        data = data.replace(b"\x00", b"")
    text = decode_csv(data)
    out = []
    for delim in (",", ";", "\t"):
        try:
            out.append(Sheet("", csv_rows(text, delim)))
        except csv.Error as exc:
            raise FileProblem(f"CSV non leggibile ({exc})") from exc
    return out

