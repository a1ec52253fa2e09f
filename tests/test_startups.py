"""Startup scouting: reading the list with the survey's rules, tag and text matching, precision on the bundled
data, explanations that never quote a challenge without consent, pilots."""

import pandas as pd
import pytest

from analysis import paths, startups
from analysis.ingest import ingest
from analysis.startup_sample import write_startups
from conftest import write_csv_file, write_xlsx


@pytest.fixture(scope="module")
def bundled(cb):
    return startups.read_startups(paths.SAMPLE_STARTUPS_DIR, cb)


def test_bundled_list_is_accounted_row_by_row(bundled):
    totals = bundled.summary()["totals"]
    assert totals == {"read": 82, "accepted": 80, "rejected": 2, "empty": 0}
    assert sorted(bundled.rejected["reason"]) == ["duplicate", "missing_name"]
    dup = bundled.rejected[bundled.rejected["reason"] == "duplicate"].iloc[0]
    assert "vale la riga" in dup["message"] and dup["source_row"] < 83
    assert set(bundled.cell_issues["field"]) == {"trl"} and len(bundled.cell_issues) == 2  # "TRL 8", "n.d."
    assert bundled.startups["nome_startup"].is_unique and (bundled.startups["source_row"] >= 3).all()


def test_english_csv_with_semicolons_and_cp1252(cb, tmp_path):
    path = write_csv_file(tmp_path / "list.csv", [
        ["Startup name", "Country", "Technologies", "TRL", "Description", "Website"],
        ["Acciaio Verde", "Italia", "decarbonizzazione; idrogeno", "7", "Forni elettrici per fonderie", ""],
        ["", "", "", "", "", ""],
        ["Robò", "Francia", "cobot", "11", "Cobot per asservimento macchine", "https://robo.example"],
    ], delimiter=";", encoding="cp1252")
    s = startups.read_startups(path, cb)
    assert s.startups["nome_startup"].tolist() == ["Acciaio Verde", "Robò"]
    assert s.startups["tecnologie"].iloc[0] == ["decarbonizzazione", "idrogeno"]
    assert pd.isna(s.startups["trl"].iloc[1]) and s.cell_issues["reason"].tolist() == ["out_of_range"]
    assert s.summary()["totals"] == {"read": 3, "accepted": 2, "rejected": 0, "empty": 1}


def test_a_file_without_the_list_header_is_left_out(cb, tmp_path):
    write_xlsx(tmp_path / "other.xlsx", {"Foglio": [["Nome", "Cognome"], ["Mario", "Rossi"]]})
    s = startups.read_startups(tmp_path, cb)
    assert s.startups.empty and "elenco startup" in s.left_out[0]["reason"]


def test_the_startup_list_is_never_read_as_a_survey(cb, tmp_path):
    write_startups(tmp_path / "raw" / "startups.xlsx")
    result = ingest(tmp_path / "raw", cb)
    assert result.accepted == 0
    assert result.summary["files"][0]["status"] == "left_out"


def test_planted_startups_top_their_need_precision_at_5(cb, bundled, sample_processed):
    _, responses, _ = sample_processed
    truth = pd.read_csv(paths.SAMPLE_STARTUPS_TRUTH, keep_default_na=False)
    m = startups.match(bundled.startups, cb)
    ready = set(bundled.startups.loc[bundled.startups["trl"].ge(5).fillna(False), "nome_startup"])
    precision = []
    for f in cb.needs:
        relevant = set(truth.loc[truth["need"] == f.key, "startup"]) & ready
        top = set(startups.shortlist(m, f.key, top=5)["startup"])
        precision.append(len(relevant & top) / min(5, len(relevant)))
    assert sum(precision) / len(precision) >= 0.9
    assert (m.table["explanation"].str.len() > 0).all()
    assert m.table["trl"].min() >= 5 and set(m.below_trl["nome_startup"]) == set(bundled.startups["nome_startup"]) - ready


def test_explanations_quote_the_startup_and_a_need_nobody_answers_has_no_list(cb):
    s = pd.DataFrame({"nome_startup": ["A", "B"], "tecnologie": [["Deep tech"], []], "trl": pd.array([7, 7], dtype="Int64"),
                      "descrizione": ["Forni elettrici a induzione che tagliano le emissioni di CO2 delle fonderie",
                                      "We build collaborative robotic cells for deburring castings"]})
    m = startups.match(s, cb)
    decarb = startups.shortlist(m, "bisogno_decarbonizzazione")
    assert list(decarb["startup"]) == ["A"] and "«" in decarb["explanation"].item()
    robot = startups.shortlist(m, "bisogno_robotica")
    assert list(robot["startup"]) == ["B"] and "collaborative robotic" in robot["explanation"].item()
    assert startups.shortlist(m, "bisogno_finanza_incentivi").empty  # no startup speaks of it
    assert "nessuna startup" in startups.no_match_sentence({"min_score": 40})


def test_pilots_follow_willingness(cb, bundled, sample_processed):
    _, responses, _ = sample_processed
    m = startups.match(bundled.startups, cb)
    prio = pd.DataFrame({"scope": startups.ALL_SCOPE, "need": cb.need_keys, "rank": range(1, 18)})
    yes = responses[responses["disponibilita_startup"] == "Sì"].iloc[0]
    no = responses[responses["disponibilita_startup"] == "No"].iloc[0]
    champs = pd.DataFrame({"company_id": [yes["company_id"], no["company_id"]], "segment": startups.ALL_SCOPE})
    pilots = startups.pilot_proposals(champs, responses, m, prio, 2)
    assert pilots.loc[pilots["company_id"] == no["company_id"], "note"].item().startswith("non disponibile")
    mine = pilots[pilots["company_id"] == yes["company_id"]]
    assert len(mine) >= 1 and mine["startup"].notna().all()
    assert all(int(yes[k]) >= 4 for k in mine["need"])


def test_generator_is_deterministic(tmp_path):
    write_startups(tmp_path / "a.xlsx", seed=3)
    write_startups(tmp_path / "b.xlsx", seed=3)
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()


def test_scout_verdicts_remove_mark_and_report_every_row(cb, bundled, tmp_path):
    m = startups.match(bundled.startups, cb)
    first = m.table.iloc[0]
    ready = bundled.startups[bundled.startups["trl"].ge(5).fillna(False)]
    other = ready[~ready["nome_startup"].isin(startups.shortlist(m, "bisogno_cybersecurity")["startup"])].iloc[0]
    pd.DataFrame({"Startup": [first["startup"], other["nome_startup"], "Nessuna", first["startup"], first["startup"]],
                  "Bisogno": [cb.by_key[first["need"]].it, "Cybersecurity", "cybersecurity", "boh", "robotica"],
                  "Verdetto": ["Rifiutata", "accettata", "accettata", "accettata", "forse"],
                  "Nota": ["non fa questo", "", "", "", ""]}).to_csv(tmp_path / "v.csv", index=False)
    verdicts = startups.read_verdicts(tmp_path / "v.csv", cb)
    after, report = startups.apply_verdicts(m, verdicts, bundled.startups, cb)
    assert first["startup"] not in set(startups.shortlist(after, first["need"], top=50)["startup"])
    cyber = startups.shortlist(after, "bisogno_cybersecurity", top=50)
    assert cyber.iloc[0]["startup"] == other["nome_startup"] and cyber.iloc[0]["verdetto"] == startups.ACCEPTED
    assert list(cyber["rank"]) == list(range(1, len(cyber) + 1))
    outcomes = [r["esito"] for r in report]
    assert len(report) == 5 and outcomes[0] == "applicato: tolta dalla lista"
    assert outcomes[2].startswith("non applicato: startup non presente")
    assert outcomes[3].startswith("non applicato: bisogno sconosciuto") and outcomes[4].startswith(
        "non applicato: verdetto non riconosciuto")
    assert "verificata dallo scout" in set(startups.shortlist_table(after, "bisogno_cybersecurity")["Verifica"])


def test_a_tag_with_a_comma_inside_parentheses_stays_one_tag():
    from analysis.values import split_multi

    assert split_multi("Production data integration (MES, ERP, IoT), Deep tech; AI") == [
        "Production data integration (MES, ERP, IoT)", "Deep tech", "AI"]
    assert split_multi("Robotica, cobot\nAI") == ["Robotica", "cobot", "AI"]
