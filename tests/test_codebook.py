import re
import tomllib
from pathlib import Path

import pytest
import yaml

from analysis.codebook import CodebookError, load_codebook
from analysis.paths import PROJECT_ROOT
from analysis.text import normalise


def test_package_codebook_holds_the_spec_tables(cb):
    assert len(cb.needs) == 17 and len(cb.maturity) == 6
    assert cb.sector_labels == ["Meccaniche", "Metallurgiche, Siderurgiche e Fonderie"]
    assert cb.sector_by_division[24] == "Metallurgiche, Siderurgiche e Fonderie"
    assert {d for d, s in cb.sector_by_division.items() if s == "Meccaniche"} == {25, 26, 27, 28, 29, 30, 33}
    assert [cb.size_class(e) for e in (0, 9, 10, 49, 50, 249, 250)] == [
        "micro", "micro", "piccola", "piccola", "media", "media", "grande"]
    for need in cb.needs:
        assert need.maturity in cb.maturity_by_dimension and need.description and need.synonyms
    assert set(cb.personal_keys) == {"email_rispondente", "nome_rispondente", "referente", "email_referente"}


def test_normalise_folds_accents_apostrophes_and_dashes():
    assert normalise("SI'") == normalise("Sì") == normalise(" si ") == "si"
    assert normalise("4 – Molto rilevante") == normalise("4 - Molto rilevante") == "4 molto rilevante"
    assert normalise("Maturità: strategia digitale") == "maturita strategia digitale"
    assert normalise(None) == ""


def test_header_names_cover_keys_labels_and_aliases(cb):
    for f in cb.fields:
        assert cb.header_names[normalise(f.key)] == f.key
        assert cb.header_names[normalise(f.it)] == f.key
        assert cb.header_names[normalise(f.en)] == f.key
    assert cb.header_names["timestamp"] == "data_compilazione"
    assert cb.header_names["indirizzo email"] == "email_rispondente"


def test_project_codebook_adds_renames_and_removes(tmp_path):
    project = tmp_path / "codebook.yaml"
    project.write_text(yaml.safe_dump({
        "needs": [
            {"key": "bisogno_idrogeno", "it": "Idrogeno verde per i forni", "en": "Green hydrogen for furnaces",
             "maturity": "green", "description": "Forni a idrogeno.", "synonyms": ["idrogeno"]},
            {"key": "bisogno_logistica", "it": "Logistica intelligente"},
        ],
        "remove": {"needs": ["bisogno_finanza_incentivi"]},
    }, allow_unicode=True), encoding="utf-8")
    cb = load_codebook(project)
    assert "bisogno_idrogeno" in cb.need_keys and "bisogno_finanza_incentivi" not in cb.need_keys
    assert cb.field("bisogno_logistica").it == "Logistica intelligente"
    assert cb.field("bisogno_logistica").maturity == "strategia"  # untouched attributes stay
    assert cb.header_names[normalise("Idrogeno verde per i forni")] == "bisogno_idrogeno"
    assert load_codebook().need_keys[-1] == "bisogno_finanza_incentivi"  # package codebook unchanged


@pytest.mark.parametrize("content, message", [
    ({"needs": [{"key": "bisogno_x", "it": "X", "maturity": "nessuna"}]}, "dimensione di maturità sconosciuta"),
    ({"needs": [{"key": "bisogno_y", "it": "Ragione sociale"}]}, "indica due campi"),
    ({"remove": {"needs": ["bisogno_inesistente"]}}, "impossibile rimuovere"),
    ({"fields": [{"key": "campo_x", "it": "Campo X", "type": "boh"}]}, "tipo sconosciuto"),
])
def test_bad_project_codebook_is_refused_with_a_reason(tmp_path, content, message):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(content), encoding="utf-8")
    with pytest.raises(CodebookError, match=message):
        load_codebook(path)


def _requirement_names(specs):
    return {re.split(r"[<>=!~ \[]", s.strip(), maxsplit=1)[0].lower() for s in specs}


def test_environment_yml_mirrors_pyproject():
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    wanted = {s for s in project["dependencies"]} | {s for s in project["optional-dependencies"]["test"]}
    env = yaml.safe_load((PROJECT_ROOT / "environment.yml").read_text())
    conda = [d for d in env["dependencies"]
             if isinstance(d, str) and _requirement_names([d]) - {"python", "pip"}]
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-e ." in pip_section
    pip_only = [d for d in pip_section if d != "-e ."]  # packages conda-forge does not carry
    assert _requirement_names(conda + pip_only) == _requirement_names(wanted)
    # Same lower bounds too.
    bounds = {re.split(r"[<>=]", s, maxsplit=1)[0].strip().lower(): s.replace(" ", "").split("#")[0] for s in wanted}
    for spec in conda + pip_only:
        name = re.split(r"[<>=]", spec, maxsplit=1)[0].strip().lower()
        assert spec.replace(" ", "") == bounds[name], f"{name}: environment.yml {spec} vs pyproject {bounds[name]}"


def test_ci_runs_the_readme_test_command():
    readme = (PROJECT_ROOT / "README.md").read_text()
    ci = (PROJECT_ROOT / ".ci" / "run").read_text()
    assert "make test" in readme and "make report" in readme
    assert re.search(r"^make test\b", ci, re.MULTILINE)
    assert Path(PROJECT_ROOT / "Makefile").is_file()
