"""results.xlsx: formatted sheets, and text that looks like a formula stays text."""

import zipfile

import pandas as pd
from openpyxl import Workbook, load_workbook

from analysis import results_workbook
from analysis.outputs import save_workbook


def test_cells_that_look_like_formulas_are_written_as_text(tmp_path):
    frame = pd.DataFrame({"ragione_sociale": ["=HYPERLINK(\"http://x\",\"clic\")", "+39 0332 123", "-2+3",
                                              "@SUM(A1)", "Normale S.r.l."],
                          "score": [0.5, 0.25, None, 1.0, 0.75]})
    wb = Workbook()
    wb.remove(wb.active)
    results_workbook.write_sheet(wb, "Prova", frame, {"score": "0.00"})
    path = save_workbook(wb, tmp_path / "r.xlsx")
    with zipfile.ZipFile(path) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet  # no formula anywhere
    ws = load_workbook(path)["Prova"]
    assert [c.value for c in ws["A"]][1:] == frame["ragione_sociale"].tolist()
    assert all(c.data_type == "s" for c in ws["A"][1:])
    assert ws.freeze_panes == "A2" and ws["A1"].font.bold and ws["B2"].number_format == "0.00"
    assert ws["B4"].value is None and ws.column_dimensions["A"].width > 10


def test_run_writes_results_outside_reports(sample_processed, cb, tmp_path):
    processed, responses, _ = sample_processed
    segments = pd.DataFrame({"company_id": responses["company_id"], "segment": "Tutto"})
    profiles = results_workbook.segment_profiles(responses, segments, cb)
    assert profiles.loc[0, "imprese"] == len(responses) and profiles.loc[0, "quota"] == 1.0
    assert cb.by_key["bisogno_robotica"].it in profiles.columns
