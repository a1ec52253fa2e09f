"""Wave comparison: the functions on small frames, and a second run with --compare-to the first."""

import html
import re
import subprocess
import sys

import pandas as pd
import pytest

from analysis import waves
from analysis.disclosure import Gate
from analysis.paths import PROJECT_ROOT


def test_needs_priorities_companies_and_champions_then_and_now(cb):
    before = pd.DataFrame({"company_id": ["a", "b", "c"], **{k: pd.array([5, 1, 4], dtype="Int64")
                                                            for k in cb.need_keys}})
    now = pd.DataFrame({"company_id": ["b", "c", "d", "e"], **{k: pd.array([5, 5, 1, None], dtype="Int64")
                                                               for k in cb.need_keys}})
    needs = waves.needs_then_and_now(before, now, cb).set_index("need")
    assert needs.at["bisogno_robotica", "share_before"] == pytest.approx(2 / 3)
    assert needs.at["bisogno_robotica", "share_now"] == pytest.approx(2 / 3) and needs.at["bisogno_robotica", "n_now"] == 3
    assert waves.companies_in_both(before, now) == {"both": 2, "new": 2, "gone": 1}
    pb = pd.DataFrame({"scope": "tutte", "need": ["x", "y"], "score": [50.0, 40.0], "rank": [1, 2]})
    pn = pd.DataFrame({"scope": "tutte", "need": ["x", "y"], "score": [30.0, 45.0], "rank": [2, 1]})
    moved = waves.priorities_then_and_now(pb, pn).set_index("need")["moved"]
    assert moved["y"] == 1 and moved["x"] == -1
    ch = waves.champion_changes(pd.DataFrame({"company_id": ["a", "b"]}), pd.DataFrame({"company_id": ["b", "c"]}))
    assert dict(zip(ch["company_id"], ch["status"], strict=True)) == {"b": "confermato", "c": "nuovo",
                                                                      "a": "non più Champion"}
    seg_b = pd.Series(["S1"] * 5 + ["S2"] * 5, index=list("abcdefghij"))
    seg_n = pd.Series(["T1"] * 4 + ["T2"] * 6, index=list("abcdefghij"))
    moves = waves.moves_table(waves.segment_moves(seg_b, seg_n), Gate()).set_index("Segmento prima")
    assert moves.loc["S1", "T2"] == "n.p." and "1" not in moves.to_numpy()  # one mover: suppressed
    assert moves.loc["S1", "T1"] == "n.p."  # and not recoverable from the segment's total


def test_compare_to_needs_a_previous_output(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "analysis", "run", "--out", str(tmp_path / "o"), "--compare-to",
                           str(tmp_path)], capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=120)
    assert proc.returncode == 2 and "--compare-to" in proc.stderr and "non contiene i risultati" in proc.stderr


@pytest.mark.slow
def test_second_wave_with_compare_to_adds_the_comparison(small_run):
    """The second wave is the first with consent withdrawn by every named Champion: the latest answer governs, so
    none of them is named anywhere in the second board report, the wave comparison included."""
    from openpyxl import load_workbook

    from analysis.template import HEADER_ROW, RESPONSES_SHEET

    root, first = small_run
    assert first.returncode == 0
    responses = pd.read_parquet(root / "out" / "processed" / "responses.parquet")
    champions = pd.read_csv(root / "out" / "processed" / "champions.csv")
    named = responses[responses["company_id"].isin(champions["company_id"]) & responses["consenso_nominativo"]]
    withdrawn = set(named["ragione_sociale"].dropna())
    assert withdrawn, "the first wave should name at least one Champion"
    wb = load_workbook(root / "raw" / "wave.xlsx")
    ws = wb[RESPONSES_SHEET]
    head = {c.value: c.column for c in ws[HEADER_ROW]}
    for row in range(HEADER_ROW + 1, ws.max_row + 1):
        if ws.cell(row, head["Ragione sociale"]).value in withdrawn:
            ws.cell(row, head["Consenso a essere citati nei report"]).value = "No"
    (root / "raw2").mkdir(exist_ok=True)
    wb.save(root / "raw2" / "wave.xlsx")
    # And one Champion of the first wave asks to be erased: it must vanish from this run, comparison included.
    erased = champions.loc[~champions["company_id"].isin(named["company_id"]), "company_id"].iloc[-1]
    (root / "corr.csv").write_text(f"azienda,campo\n{erased[2:]},escludi\n", "utf-8")
    proc = subprocess.run([sys.executable, "-m", "analysis", "run", "--raw", str(root / "raw2"), "--out",
                           str(root / "second"), "--wave", "wave-2", "--compare-to", str(root / "out"),
                           "--corrections", str(root / "corr.csv")],
                          capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    reports = root / "second" / "reports" / "wave-2"
    section = (reports / "06_confronto_rilevazioni.html").read_text("utf-8")
    assert "Confronto con la rilevazione precedente" in section and "Champion confermati" in section
    assert "Confronto con la rilevazione precedente" in (reports / "rapporto_consiglio.html").read_text("utf-8")
    assert not (root / "out" / "reports" / "test-wave" / "06_confronto_rilevazioni.html").exists()
    # A company keeps its pseudonym across waves.
    pseudo = re.compile(r"Impresa [A-Z2-7]{6}")
    first_names = set(pseudo.findall((root / "out" / "reports" / "test-wave" / "04_champion.html").read_text()))
    second_names = set(pseudo.findall((reports / "04_champion.html").read_text()))
    from analysis.confidentiality import pseudonym, read_key

    processed = root / "second" / "processed"
    erased_alias = pseudonym(erased, read_key(processed))
    assert erased_alias in first_names  # (the erased company was a Champion under this pseudonym)
    # Everyone else keeps theirs; those who withdrew consent now have one too.
    assert first_names - {erased_alias} <= second_names
    board = html.unescape("\n".join(p.read_text("utf-8") for p in reports.glob("*.html")))
    assert not [name for name in withdrawn if name in board], "a company that withdrew consent is named"
    assert erased_alias not in board
    texts = "\n".join(p.read_text("utf-8", errors="replace") for p in processed.rglob("*")
                      if p.is_file() and p.suffix in (".csv", ".json"))
    assert erased not in texts and erased[2:] not in texts, "an erased company is still in the outputs"
    assert erased not in set(pd.read_parquet(processed / "responses.parquet")["company_id"])
