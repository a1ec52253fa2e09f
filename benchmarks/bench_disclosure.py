"""What the disclosure gate hides, and how long it takes, on the bundled sample and on data with small groups.

Builds its inputs: (1) the bundled sample survey; (2) the same survey with only
two companies left in the Metallurgiche group and one in the "grande" size
class (the small groups the board must not see). Runs the pipeline on each,
then executes every board notebook again with a cell appended that prints the
gate's ledger: for each table, the cells, the small cells (primary), the cells
hidden to protect them (secondary), the companies those hide, whether the table
was left out, and the seconds the gate spent.

Goal (issue 13): every board table protected in well under a second.

Usage: python benchmarks/bench_disclosure.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pandas as pd

LEDGER_CELL = "import json as _j; print('LEDGER' + _j.dumps(gate.ledger.entries))"
SECTIONS = ("01_qualita_dati", "02_bisogni_settori", "03_segmenti_priorita", "04_champion", "05_startup",
            "99_sintesi_consiglio")


def small_groups_survey(folder: Path) -> Path:
    from analysis.sample import write_sample
    from analysis.template import HEADER_ROW, RESPONSES_SHEET

    source = folder / "sample.xlsx"
    write_sample(source)
    survey = pd.read_excel(source, sheet_name=RESPONSES_SHEET, header=HEADER_ROW - 1, engine="calamine", dtype=str)
    sector = next(c for c in survey.columns if c.lower().startswith("gruppo merceologico"))
    ateco = survey["Codice ATECO"].fillna("").str.strip().str.removeprefix("C")
    metal = survey.index[survey[sector].fillna("").str.startswith(("Metallurg", "Fonderi", "Sider"))
                         | ateco.str.startswith("24")]
    survey.loc[metal[2:], sector] = "Meccaniche"
    survey.loc[metal[2:], "Codice ATECO"] = "28.29"  # reading takes the group from the ATECO code too
    staff = next(c for c in survey.columns if "dipendenti" in c.lower())
    numbers = pd.to_numeric(survey[staff], errors="coerce")
    big = survey.index[numbers >= 250]
    survey.loc[big[1:], staff] = "120"
    out = folder / "raw" / "piccoli_gruppi.csv"
    out.parent.mkdir(parents=True)
    survey.to_csv(out, index=False)
    return out.parent


def ledger(processed: Path, work: Path) -> pd.DataFrame:
    from analysis.paths import NOTEBOOKS
    from analysis.render import Kernel

    rows = []
    with Kernel() as kernel:
        for name in SECTIONS:
            nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
            nb.cells.append(nbformat.v4.new_code_cell(LEDGER_CELL))
            source = work / f"{name}.ipynb"
            nbformat.write(nb, source)
            done = kernel.run(source, {"processed_dir": str(processed)})
            text = "".join(o.get("text", "") for o in done.cells[-1].get("outputs", []))
            for entry in json.loads(text.split("LEDGER", 1)[1]):
                rows.append({"section": name, **entry})
    return pd.DataFrame(rows)


def main() -> None:
    from analysis.paths import PROJECT_ROOT

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for label, raw in [("campione incluso", None), ("gruppi piccoli", small_groups_survey(tmp / "small"))]:
            out = tmp / label.replace(" ", "_")
            args = [sys.executable, "-m", "analysis", "run", "--out", str(out), "--wave", "bench"]
            if raw is not None:
                args += ["--raw", str(raw)]
            subprocess.run(args, check=True, capture_output=True, cwd=PROJECT_ROOT)
            frame = ledger(out / "processed", tmp)
            print(f"\n== {label}: {len(frame)} tables through the gate")
            with pd.option_context("display.width", 200, "display.max_rows", 200, "display.max_colwidth", 48):
                print(frame.to_string(index=False))
            print(f"total: {int(frame['primary'].sum())} small cells, {int(frame['secondary'].sum())} more cells "
                  f"hidden to protect them, {int(frame['companies_hidden'].sum())} company counts hidden in all; "
                  f"{int(frame['omitted'].sum())} tables left out; gate time {frame['seconds'].sum():.2f} s "
                  f"(slowest table {frame['seconds'].max():.3f} s)")


if __name__ == "__main__":
    main()
