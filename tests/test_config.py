"""The run configuration: names, types, ranges, files, and the notebooks' parameters cells."""

import ast

import pytest

from analysis import config, pipeline, render
from analysis.config import Config, ConfigError, configure, notebook_name


def test_defaults_are_valid_and_complete():
    cfg = Config()
    assert len(cfg) == len(config.PARAMETERS) and cfg["seed"] == 42
    assert cfg.step("segmentazione")["k"] == 0 and cfg.weights("champion")["copertura"] == 0.25
    for p in config.PARAMETERS:
        assert p.check(p.default) == p.default
        assert p.help and p.name == p.name.lower() and (p.name == "seed" or "." in p.name)


@pytest.mark.parametrize("name, value, expected", [
    ("segmentazione.k", "4", 4), ("segmentazione.k", "4.0", 4), ("champion.extra_per_quota", "0", 0.0),
    ("segmentazione.con_maturita", "true", True), ("pesi.file_pesi", '"007"', "007"),
    ("segmentazione.nomi", '{1: "Dati e filiera"}', {1: "Dati e filiera"}),
])
def test_values_are_read_as_yaml_scalars_and_converted(name, value, expected):
    assert configure([(name, value)])[name] == expected


@pytest.mark.parametrize("name, value, words", [
    ("segmentazione.k", "banana", ["segmentazione.k", "banana", "numero intero tra 0 e 30"]),
    ("segmentazione.k", "2.5", ["segmentazione.k", "2.5"]),
    ("segmentazione.k", "true", ["segmentazione.k", "True"]),
    ("segmentazione.metodo", "dbscan", ["segmentazione.metodo", "dbscan", "kmeans, ward, kmodes"]),
    ("startup.soglia_trl", "10", ["startup.soglia_trl", "tra 1 e 9"]),
    ("bisogni.alfa", ".nan", ["bisogni.alfa"]),
    ("segmentazione.nomi", "[1, 2]", ["segmentazione.nomi"]),
    ("pesi.file_pesi", "7", ["pesi.file_pesi", "un testo"]),
])
def test_a_bad_value_is_one_line_naming_parameter_value_and_what_is_allowed(name, value, words):
    with pytest.raises(ConfigError) as exc:
        configure([(name, value)])
    message = str(exc.value)
    assert "\n" not in message
    for w in words:
        assert w in message


@pytest.mark.parametrize("given, close", [("segmentazione.kk", "segmentazione.k"), ("k", "segmentazione.k"),
                                          ("champion_max_totale", "champion.max_totale"),
                                          ("champion.max_total", "champion.max_totale")])
def test_an_unknown_name_lists_the_close_ones(given, close):
    with pytest.raises(ConfigError, match="sconosciuto") as exc:
        configure([(given, "1")])
    assert close in str(exc.value)


def test_rules_across_parameters():
    with pytest.raises(ConfigError, match="k_min"):
        configure([("segmentazione.k_min", "6"), ("segmentazione.k_max", "4")])
    with pytest.raises(ConfigError, match="peso"):
        configure([(f"priorita.peso_{c}", "0") for c in config.PRIORITY_COMPONENTS])
    with pytest.raises(ConfigError, match="minimo"):
        configure([("champion.min_per_segmento", "5"), ("champion.max_per_segmento", "2")])


def test_params_file_nested_or_dotted_and_p_overrides_it(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("seed: 3\nsegmentazione:\n  metodo: ward\n  nomi: {1: Primo}\n\"champion.max_totale\": 8\n")
    cfg = configure([("seed", "5")], f)
    assert cfg["seed"] == 5 and cfg["segmentazione.metodo"] == "ward" and cfg["champion.max_totale"] == 8
    assert cfg["segmentazione.nomi"] == {1: "Primo"}
    assert cfg.given == {"champion.max_totale": 8, "seed": 5, "segmentazione.metodo": "ward",
                         "segmentazione.nomi": {1: "Primo"}}
    f.write_text("segmentazione:\n  metodi: ward\n")
    with pytest.raises(ConfigError, match="segmentazione.metodi.*segmentazione.metodo"):
        configure([], f)
    f.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="mappa"):
        configure([], f)
    f.write_text("a: [unclosed\n")
    with pytest.raises(ConfigError, match="illeggibile"):
        configure([], f)


def test_every_notebook_parameter_is_a_run_option_or_a_configuration_value_with_the_same_default():
    """Notebooks receive their step's values under papermill names: ``step.name`` -> ``step_name``."""
    by_notebook_name = {notebook_name(p.name): p for p in config.PARAMETERS}
    for nb in render.notebook_paths():
        for name, default in render.declared_parameters(nb).items():
            if name in pipeline.RUN_PARAMETERS:
                continue
            assert name in by_notebook_name, f"{nb.name}: parameter {name} is not in the configuration"
            assert ast.literal_eval(default) == by_notebook_name[name].default, f"{nb.name}: {name}"
    cfg = configure([("startup.per_lista", "3")])
    assert cfg.for_notebook({"startup_per_lista", "wave"}) == {"startup_per_lista": 3}


def test_the_docs_page_lists_every_parameter():
    from analysis.paths import PROJECT_ROOT

    page = (PROJECT_ROOT / "docs" / "contratto-dati.md").read_text("utf-8")
    assert config.reference_table() in page, "docs/contratto-dati.md: regenerate the parameters table"


@pytest.mark.parametrize("content, words", [
    ("seed: 1\nseed: 2\n", "ripetuta"),
    ("segmentazione:\n  k: 3\n\"segmentazione.k\": 4\n", "due volte"),
    ("segmentazione: &a {x: *a}\n", "illeggibile"),
    ("seed: " + "9" * 5000 + "\n", "illeggibile"),
])
def test_hostile_parameter_files_are_one_line(tmp_path, content, words):
    f = tmp_path / "p.yaml"
    f.write_text(content)
    with pytest.raises(ConfigError, match=words) as exc:
        configure([], f)
    assert "\n" not in str(exc.value) and len(str(exc.value)) < 400


@pytest.mark.parametrize("value", ["{.inf: a}", "{1.7: a}", "{0: a}", "{1: a, '1': b}", "{1: A, 2: A}",
                                   "{1: '<img src=x onerror=alert(1)>'}", "{1: '[x](http://evil.example)'}"])
def test_segment_names_are_plain_distinct_text_for_numbered_segments(value):
    with pytest.raises(ConfigError, match="segmentazione.nomi"):
        configure([("segmentazione.nomi", value)])


def test_a_huge_number_on_the_command_line_is_refused_in_a_short_line():
    with pytest.raises(ConfigError) as exc:
        configure([("seed", "9" * 5000)])
    assert len(str(exc.value)) < 300
