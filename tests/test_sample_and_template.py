import hashlib

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from analysis.codebook import load_codebook
from analysis.identity import company_name_key, vat_is_valid
from analysis.ingest import ingest
from analysis.sample import PLANTED_SEGMENTS, generate_sample, write_sample
from analysis.template import RESPONSES_SHEET, template_columns, write_template
from analysis.values import parse_column


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_same_seed_same_bytes_other_seed_other_data(tmp_path):
    a = write_sample(tmp_path / "a.xlsx", companies=60, seed=7)
    write_sample(tmp_path / "b.xlsx", companies=60, seed=7)
    c = write_sample(tmp_path / "c.xlsx", companies=60, seed=8)
    assert _digest(tmp_path / "a.xlsx") == _digest(tmp_path / "b.xlsx")
    assert _digest(tmp_path / "a.xlsx") != _digest(tmp_path / "c.xlsx")
    assert not a.truth.equals(c.truth)


def test_planted_segments_rate_their_own_needs_high(cb):
    survey = generate_sample(companies=400, seed=3, messy=False)
    truth = survey.truth
    assert len(truth) == 400 and truth["partita_iva"].map(vat_is_valid).all()
    shares = truth["segment"].value_counts(normalize=True)
    for seg in PLANTED_SEGMENTS:
        assert shares[seg.name] == pytest.approx(seg.share, abs=0.01)
    labels = {n.key: n.it for n in cb.needs}
    rows = pd.DataFrame(survey.rows)
    for seg in PLANTED_SEGMENTS:
        mine = rows[truth["segment"].to_numpy() == seg.name]
        for key in cb.need_keys:
            parsed = parse_column(list(mine[labels[key]]), cb.field(key), cb)
            values = pd.Series([p.value for p in parsed], dtype="Float64")
            if key in seg.high_needs:
                assert values.mean() > 4.0, (seg.name, key)
            else:
                assert values.mean() < 2.6, (seg.name, key)
    # Uneven sector mix: energy and materials are mostly Metallurgiche, the others mostly Meccaniche.
    metal = truth.groupby("segment")["sector"].apply(lambda s: (s != "Meccaniche").mean())
    assert metal["Energia e decarbonizzazione"] > 0.6 and metal["Dati e filiera digitale"] < 0.3


def test_planted_network_names_the_hubs(cb):
    survey = generate_sample(companies=300, seed=11, messy=False)
    truth = survey.truth
    keys = {company_name_key(n, cb.legal_forms): v for n, v in zip(truth["ragione_sociale"], truth["partita_iva"], strict=True)}
    mentions: dict[str, int] = {}
    for row in survey.rows:
        for part in (row["Principali clienti locali"] or "").split(";"):
            part = part.strip()
            vat = part if part in set(truth["partita_iva"]) else keys.get(company_name_key(part, cb.legal_forms))
            if vat:
                mentions[vat] = mentions.get(vat, 0) + 1
    hubs = set(truth.loc[truth["hub"], "partita_iva"])
    hub_mentions = sum(mentions.get(v, 0) for v in hubs)
    assert hub_mentions > 0.5 * sum(mentions.values())
    assert min(mentions.get(v, 0) for v in hubs) >= 5


def test_sample_reads_back_with_every_planted_company(tmp_path):
    raw = tmp_path / "raw"
    survey = write_sample(raw / "s.xlsx", companies=120, seed=5)
    result = ingest(raw)
    assert result.accepted == 120
    assert set(result.responses["company_id"]) == {f"IT{v}" for v in survey.truth["partita_iva"]}
    reasons = result.rejected["reason"].value_counts()
    assert reasons["missing_identity"] == 1 and reasons["out_of_scope"] == 1 and reasons["no_needs"] == 1
    assert result.summary["totals"]["rows_read"] == len(survey.rows)


def test_template_round_trips_through_the_reader(tmp_path, cb):
    path = write_template(tmp_path / "raw" / "questionario.xlsx")
    wb = load_workbook(path)
    assert wb.sheetnames[:2] == ["Istruzioni", RESPONSES_SHEET] and wb["Liste"].sheet_state == "hidden"
    ws = wb[RESPONSES_SHEET]
    assert ws.freeze_panes == "A2"
    headers = [c.value for c in ws[1]]
    assert "Mercati di sbocco [Automotive]" in headers and "Mercati di sbocco" not in headers
    validated = set()
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            validated.add(headers[rng.min_col - 1])
    for col in template_columns(cb):
        if col.field.type in ("choice", "importance", "yes_no", "yes_no_maybe", "consent", "sector", "maturity",
                              "integer", "number", "percent") or col.option:
            assert col.header in validated, col.header
    result = ingest(tmp_path / "raw")
    sheet = result.summary["files"][0]["sheets"][0]
    expected = [f.key for f in cb.fields if not f.form_only]
    assert sheet["matched_fields"] == expected and sheet["unmatched_columns"] == []
    assert sheet["rows_read"] == 0 and result.accepted == 0


def test_a_need_added_in_a_project_codebook_reaches_template_sample_and_reading(tmp_path):
    project = tmp_path / "codebook.yaml"
    project.write_text(
        "needs:\n  - key: bisogno_idrogeno\n    it: Idrogeno verde per i forni\n    maturity: green\n"
        "    description: Forni a idrogeno.\n    synonyms: [idrogeno]\n", encoding="utf-8")
    cb = load_codebook(project)
    assert "Idrogeno verde per i forni" in [c.header for c in template_columns(cb)]
    write_sample(tmp_path / "raw" / "s.xlsx", companies=40, seed=1, codebook=cb)
    result = ingest(tmp_path / "raw", cb)
    assert "bisogno_idrogeno" in result.responses and result.responses["bisogno_idrogeno"].notna().all()
    assert "bisogno_idrogeno" not in ingest(tmp_path / "raw").responses  # package codebook: an unmatched column


def test_sample_with_a_scenario_takes_its_ratings_groups_and_sizes(cb):
    from analysis import scenarios
    from analysis.sample import generate_sample

    survey = generate_sample(60, seed=5, codebook=cb, messy=False, scenario="piccoli")
    syn = scenarios.generate("piccoli", cb, 5, 60)
    assert survey.truth["segment"].value_counts().to_dict() == {
        f"piccoli {s + 1}": n for s, n in zip(*np.unique(syn.segment, return_counts=True), strict=True)}
    assert survey.truth["sector"].tolist() == syn.sector.tolist()
    assert survey.truth["dipendenti"].tolist() == syn.employees.tolist()
    blank = generate_sample(80, seed=5, codebook=cb, messy=False, scenario="mancanti")
    headers = [h for h in blank.rows[0] if any(h.startswith(f.it[:25]) for f in cb.needs)]
    share = np.mean([row[h] is None for row in blank.rows for h in headers])
    assert 0.18 < share < 0.32  # the scenario's blanks reach the workbook
    assert set(generate_sample(40, seed=5, codebook=cb, messy=False, scenario="indipendenti").truth["segment"]) == {
        "indipendenti: nessun gruppo"}
