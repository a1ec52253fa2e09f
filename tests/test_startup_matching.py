"""Issue 16 (first steps): the bilingual matching on word stems, its calibration and the evaluation set."""

from __future__ import annotations

from analysis.startup_eval import CAL, TEST, build, calibrate, check_test_phrases
from analysis.startup_matching import calibration, evidence, explain, lexicons, score


def _lex(cb, key):
    return {lex.key: lex for lex in lexicons(cb)}[key]


def test_a_need_is_found_in_either_language_whatever_the_word_forms_and_order(cb):
    robot = _lex(cb, "bisogno_robotica")
    for text in ("Celle robotizzate collaborative per la sbavatura dei getti",
                 "We build collaborative robotic cells for deburring castings",
                 "Robots that collaborate with operators on small batches"):
        assert evidence(robot, [], text).features()["text_terms"] >= 1, text


def test_words_shared_with_a_need_are_not_a_match(cb):
    safety = _lex(cb, "bisogno_sicurezza_lavoro")
    ev = evidence(safety, ["Deep tech"], "Sicurezza alimentare nella ristorazione collettiva")
    assert ev.features()["text_terms"] == 0 and score(ev) < 50


def test_the_explanation_quotes_the_startup_as_written(cb):
    robot = _lex(cb, "bisogno_robotica")
    text = "Celle robotizzate collaborative per la sbavatura"
    words = explain(evidence(robot, [], text), text, robot, 5)
    assert "«Celle robotizzate" in words and words.endswith("Robotica collaborativa e automazione flessibile (TRL 5)")


def test_the_shipped_calibration_is_the_fit_on_the_calibration_part(cb):
    fresh = calibrate(cb)
    shipped = calibration()
    assert fresh.intercept == shipped.intercept and fresh.weights == shipped.weights, (
        "src/analysis/resources/startup_calibration.json: fit again with analysis.startup_eval.calibrate")


def test_the_evaluation_set_has_its_parts_and_the_test_avoids_the_codebook_phrases(cb):
    examples = build(cb)
    assert len(examples) >= 150
    assert {e.part for e in examples} == {CAL, TEST}
    test = [e for e in examples if e.part == TEST]
    assert {e.language for e in test} == {"it", "en"} and {e.kind for e in test} == {"answering", "near_miss",
                                                                                    "unrelated"}
    assert check_test_phrases(cb) == []
    names = [e.name for e in examples]
    assert len(set(names)) == len(names)


def test_the_default_threshold_is_the_one_the_calibration_part_suggests(cb):
    from analysis.config import BY_NAME
    from analysis.startup_eval import suggested_threshold

    assert BY_NAME["startup.soglia_pertinenza"].default == suggested_threshold(cb)
