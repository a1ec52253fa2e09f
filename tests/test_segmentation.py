"""Segments: features, each method on data with a known answer, the choice of k, small segments, the planted
segments of the sample, determinism across processes."""

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from analysis import scenarios
from analysis import segmentation as sg

MECC, METAL = "Meccaniche", "Metallurgiche, Siderurgiche e Fonderie"


def planted(cb, sizes, seed=0, noise=0.4, sector=MECC):
    """Responses whose segment s rates needs 3s..3s+2 at 5 and the rest at 1, plus a little noise."""
    rng = np.random.default_rng(seed)
    rows, truth = [], []
    keys = cb.need_keys
    for s, n in enumerate(sizes):
        high = set(keys[3 * s:3 * s + 3])
        for _ in range(n):
            rows.append({k: int(np.clip(round((5 if k in high else 1) + rng.normal(0, noise)), 1, 5)) for k in keys})
            truth.append(s)
    r = pd.DataFrame(rows).astype("Int64")
    r.insert(0, "company_id", [f"IT{i:011d}" for i in range(len(r))])
    r.insert(1, "gruppo_merceologico", sector)
    return r, np.array(truth)


def test_features_impute_and_count(cb):
    r = pd.DataFrame({"company_id": ["a", "b", "c", "d"], "gruppo_merceologico": [MECC, MECC, MECC, METAL]})
    for k in cb.need_keys:
        r[k] = pd.array([2, 4, 5, 1], dtype="Int64")
    r.loc[0, "bisogno_robotica"] = pd.NA
    r.loc[3, "bisogno_additive"] = pd.NA
    f = sg.build_features(r, cb)
    j = f.columns.index("bisogno_robotica")
    assert f.X[0, j] == 4.5  # median of its sector (4, 5)
    assert f.X[3, f.columns.index("bisogno_additive")] == 4  # no other Metallurgiche answer: overall median
    assert f.imputed["bisogno_robotica"] == 1 and f.imputed.sum() == 2 and f.imputed_companies == 2
    own = sg.build_features(r, cb, imputation="company_mean")
    assert own.X[0, j] == 2.0  # the company's own mean
    with_mat = sg.build_features(r.assign(**{m.key: pd.array([0, 5, None, 2], dtype="Int64") for m in cb.maturity}),
                                 cb, with_maturity=True)
    assert with_mat.X.shape[1] == len(cb.need_keys) + 6 and with_mat.X[:, -1].min() >= 1
    with pytest.raises(ValueError, match="imputation"):
        sg.build_features(r, cb, imputation="zero")


@pytest.mark.parametrize("method", sg.METHODS)
def test_each_method_finds_known_segments(cb, method):
    r, truth = planted(cb, [60, 45, 30])
    X = sg.build_features(r, cb).X
    labels, centres = sg.cluster(X, 3, method, seed=1)
    assert adjusted_rand_score(truth, labels) == 1.0 and centres.shape == (3, X.shape[1])


def test_k_chosen_automatically_and_forced(cb):
    r, truth = planted(cb, [60, 45, 30, 25])
    seg = sg.segment(r, cb, seed=3, n_boot=8)
    assert seg.k == 4 and not seg.selection.forced and seg.selection.stable
    assert adjusted_rand_score(truth, seg.labels) == 1.0
    assert list(seg.selection.criteria["k"]) == list(range(2, 9))
    sizes = seg.labels.value_counts().sort_index()
    assert list(sizes) == sorted(sizes, reverse=True)  # segment 1 is the largest
    forced = sg.segment(r, cb, seed=3, n_boot=4, force_k=6, small_policy="flag")
    assert forced.k == 6 and forced.selection.forced and "imposto" in forced.selection.reason


def test_small_segments_are_merged_or_flagged(cb):
    r, _ = planted(cb, [100, 90, 4])
    merged = sg.segment(r, cb, seed=0, n_boot=4, force_k=3, small_policy="merge")
    assert merged.k == 2 and merged.merged and "4 imprese" in merged.merged[0]
    assert merged.labels.value_counts().sum() == len(r)  # nobody dropped
    flagged = sg.segment(r, cb, seed=0, n_boot=4, force_k=3, small_policy="flag")
    assert flagged.k == 3 and flagged.small == [3]


def test_names_from_top_needs_and_overrides(cb):
    r, _ = planted(cb, [40, 30])
    seg = sg.segment(r, cb, seed=0, n_boot=4, force_k=2, names={2: "Scelto dall'analista"})
    short = [cb.by_key[k].short for k in cb.need_keys[:3]]
    assert seg.names[1].split(", ")[0] in short and seg.names[2] == "Scelto dall'analista"
    assert len(set(sg.segment_names(r, seg.labels, cb).values())) == 2


def test_methods_refuse_inputs_beyond_their_limit(cb, monkeypatch):
    r, _ = planted(cb, [30, 30])
    monkeypatch.setitem(sg.LIMITS, "ward", 50)
    with pytest.raises(sg.TooLarge, match="al massimo 50 imprese"):
        sg.segment(r, cb, method="ward")
    with pytest.raises(ValueError, match="method"):
        sg.check_size(10, "dbscan")


def test_large_inputs_are_fitted_on_a_sample_then_all_companies(cb, monkeypatch):
    r, truth = planted(cb, [300, 200, 100])
    monkeypatch.setattr(sg, "FIT_SAMPLE", 150)
    seg = sg.segment(r, cb, seed=2, n_boot=4)
    assert seg.k == 3 and adjusted_rand_score(truth, seg.labels) == 1.0


def test_planted_segments_recovered_from_the_sample_workbook(cb, sample_processed):
    """The bundled sample, written to a workbook and read back through ingest, gives the planted segments."""
    _, responses, truth = sample_processed
    seg = sg.segment(responses, cb)
    joined = responses[["partita_iva"]].assign(found=seg.labels.to_numpy()).merge(
        truth[["partita_iva", "segment"]], on="partita_iva")
    assert len(joined) == len(responses)
    assert seg.k == truth["segment"].nunique()
    assert adjusted_rand_score(joined["segment"], joined["found"]) >= 0.9


SCRIPT = """
import sys
from pathlib import Path
import pandas as pd
from analysis.codebook import load_codebook
from analysis import catalog, steps
from analysis.config import Config
cb = load_codebook()
src, out = Path(sys.argv[1]), Path(sys.argv[2])
r = catalog.read("responses", src, cb)
cfg = Config({"seed": 7})
seg = steps.segment_step(r, cb, cfg)
catalog.write("segments", steps.segments_table(seg), out, cb)
catalog.write("priorities", steps.priorities_step(r, cb, seg, steps.network_step(r, cb), cfg), out, cb)
"""


def test_same_input_and_seed_give_the_same_files_across_processes(sample_processed, tmp_path):
    processed, _, _ = sample_processed
    outputs = []
    for hash_seed in ("1", "2"):
        out = tmp_path / hash_seed
        out.mkdir()
        subprocess.run([sys.executable, "-c", SCRIPT, str(processed), str(out)], check=True, timeout=300,
                       env={**os.environ, "PYTHONHASHSEED": hash_seed})
        outputs.append({n: (out / n).read_bytes() for n in ("segments.csv", "priorities.csv")})
    assert outputs[0] == outputs[1]
    assert outputs[0]["segments.csv"].startswith(b"company_id,segment\n")


def recovered(syn, seg) -> float:
    return adjusted_rand_score(syn.segment, seg.labels)


def jaccard_best(syn, seg, planted: int) -> float:
    """How well the best matching found segment covers a planted one (intersection over union)."""
    mine = syn.segment == planted
    found = seg.labels.to_numpy()
    return max((mine & (found == s)).sum() / (mine | (found == s)).sum() for s in np.unique(found))


# The conditions of the honest-segments issue, each on 5 seeds the method was not tuned on (tuned on 500-505,
# 600-605, 700-704 and, after the first independent review, 900-909), passing on at least 4 of 5. What each run
# found is printed for the closing note.
CONDITIONS = {
    "stili": lambda syn, seg: seg.k == 4 and recovered(syn, seg) >= 0.9,  # (a) response styles
    "mancanti": lambda syn, seg: seg.k == 4 and recovered(syn, seg) >= 0.85,  # (b) 25% blank, more if small
    "piccoli": lambda syn, seg: all(jaccard_best(syn, seg, s) >= 0.6 for s in range(1, 5)),  # (d) four of 6%
    "deboli": lambda syn, seg: seg.k == 4 and recovered(syn, seg) >= 0.7,  # (e) +1.5 on two needs
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CONDITIONS))
def test_planted_segments_are_recovered_under_hard_conditions(cb, name):
    found = []
    for seed in range(100, 105):
        syn = scenarios.generate(name, cb, seed)
        seg = sg.segment(syn.responses(), cb, seed=seed, n_boot=8)
        found.append((seg.k, round(recovered(syn, seg), 3), CONDITIONS[name](syn, seg)))
    print(name, "(k, ARI, passed):", found)
    assert sum(ok for *_, ok in found) >= 4, found


@pytest.mark.slow
def test_response_styles_become_segments_on_raw_ratings(cb):
    """The condition does test something: on the raw ratings (not centred) the styles become segments."""
    found = []
    for seed in range(100, 105):
        syn = scenarios.generate("stili", cb, seed)
        raw = sg.segment(syn.responses(), cb, seed=seed, n_boot=8, centred=False)
        found.append((raw.k, round(recovered(syn, raw), 3)))
    print("raw ratings (k, ARI):", found)
    assert sum(k == 4 and ari >= 0.9 for k, ari in found) < 4, found


@pytest.mark.slow
def test_response_styles_on_answers_without_groups_make_no_segments(cb):
    """Independent answers with 30% rating everything one point higher and 15% answering only 4-5: still no
    segments (the companies answering only 4-5 do not form segments; they are assigned afterwards)."""
    condition = scenarios.variant("indipendenti", shift=0.30, acquiescent=0.15)
    found = [sg.segment(scenarios.generate(condition, cb, seed).responses(), cb, seed=seed, n_boot=4)
             for seed in range(100, 105)]
    print("independent + styles, k:", [s.k for s in found])
    assert sum(s.k == 1 for s in found) >= 4
    styled = sg.segment(scenarios.generate("stili", cb, 100).responses(), cb, seed=100, n_boot=4)
    assert 30 <= styled.assigned_afterwards <= 60  # the 15% answering only 4-5


def test_small_distinct_segments_are_kept_and_flagged(cb):
    """One segment of 76% and four of 6%: the small ones are kept (not merged, not halving the large one) and
    flagged under the minimum share when it is above their size."""
    syn = scenarios.generate("piccoli", cb, 11)
    seg = sg.segment(syn.responses(), cb, seed=11, n_boot=4, min_share=0.10)
    assert seg.k == 5 and all(jaccard_best(syn, seg, s) >= 0.6 for s in range(1, 5))
    assert seg.small == [2, 3, 4, 5] and not seg.merged


def test_scenarios_are_seeded_and_plant_what_they_say(cb):
    one, two = scenarios.generate("mancanti", cb, 3), scenarios.generate("mancanti", cb, 3)
    pd.testing.assert_frame_equal(one.ratings, two.ratings)
    blank = one.ratings.isna()
    assert 0.2 < blank.to_numpy().mean() < 0.3
    small = one.employees < scenarios.SMALL_COMPANY
    assert blank[small].to_numpy().mean() > 1.6 * blank[~small].to_numpy().mean()
    assert not blank.all(axis=1).any()
    top = scenarios.generate("indipendenti", cb, 3)
    means = top.ratings.mean()
    assert set(means.nlargest(2).index) == set(top.top_needs) and (top.segment == -1).all()
    small_ones = scenarios.generate("piccoli", cb, 3)
    assert list(np.bincount(small_ones.segment)) == [228, 18, 18, 18, 18]
    with pytest.raises(ValueError, match="structure"):
        scenarios.generate(scenarios.variant("stili", structure="rings"), cb, 0)


def test_names_only_from_needs_rated_clearly_above_the_rest(cb):
    r, _ = planted(cb, [40, 30])
    labels = pd.Series([1] * 40 + [2] * 30, index=r.index)
    flat = r.copy()
    for k in cb.need_keys:
        flat[k] = pd.array([3] * 70, dtype="Int64")
    names = sg.segment_names(flat, labels, cb)
    assert names[1] == sg.UNDIFFERENTIATED and names[2] == f"{sg.UNDIFFERENTIATED} (2)"
    _, lift = sg.need_lift(r, labels, cb)
    assert all(lift.at[1, k] >= sg.MIN_LIFT for k in sg.distinctive(lift.loc[1]))


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["indipendenti", "continuo"])
def test_no_distinct_segments_is_a_possible_answer(cb, kind):
    """On 5 seeds the method was not tuned on, answers without groups give one segment in at least 4 of 5, and
    the reason says so in words."""
    found = [sg.segment(scenarios.generate(kind, cb, seed).responses(), cb, seed=seed, n_boot=6)
             for seed in range(300, 305)]
    print(kind, [s.k for s in found])
    assert sum(s.k == 1 for s in found) >= 4
    one = next(s for s in found if s.k == 1)
    assert one.names == {1: sg.NO_SEGMENTS} and set(one.labels) == {1} and "non si dividono" in one.selection.reason
    assert not one.selection.structured


@pytest.mark.slow
def test_a_survey_without_groups_is_reported_as_one_group(cb, tmp_path):
    """The whole run on answers without groups: one segment, Champions for all companies, and sections 03 and
    the executive summary say in words that the companies do not split into distinct need groups."""
    import html

    from analysis.paths import PROJECT_ROOT
    from analysis.sample import write_sample
    from analysis.template import HEADER_ROW, RESPONSES_SHEET

    write_sample(tmp_path / "s.xlsx", companies=120, seed=4)
    survey = pd.read_excel(tmp_path / "s.xlsx", sheet_name=RESPONSES_SHEET, header=HEADER_ROW - 1, engine="calamine",
                           dtype=str)
    rng = np.random.default_rng(7)
    for f in cb.needs:
        column = next(c for c in survey.columns if c.startswith(f.it[:25]))
        survey[column] = rng.choice(["1", "2", "3", "4", "5"], len(survey), p=rng.dirichlet(np.full(5, 2.0)))
    (tmp_path / "raw").mkdir()
    survey.to_csv(tmp_path / "raw" / "senza_gruppi.csv", index=False)
    proc = subprocess.run([sys.executable, "-m", "analysis", "run", "--raw", str(tmp_path / "raw"), "--out",
                           str(tmp_path / "out"), "--wave", "w"], capture_output=True, text=True, cwd=PROJECT_ROOT,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    segments = pd.read_csv(tmp_path / "out" / "processed" / "segments.csv")
    assert set(segments["segment"]) == {sg.NO_SEGMENTS}
    reports = tmp_path / "out" / "reports" / "w"
    for section in ("03_segmenti_priorita.html", "99_sintesi_consiglio.html"):
        assert sg.NO_SEGMENTS_SENTENCE in html.unescape((reports / section).read_text("utf-8")), section
    champions = pd.read_csv(tmp_path / "out" / "processed" / "champions.csv")
    assert len(champions) > 4  # no per-segment limit of 4 when all companies form one group


def test_latent_classes_agree_with_the_planted_segments_of_the_sample(cb, sample_processed):
    """The cross-check: latent class models on the answers as categories pick the same number of groups on the
    sample and agree with the segmentation; the sentence says so in words, and otherwise says it less."""
    _, responses, _ = sample_processed
    seg = sg.segment(responses, cb, n_boot=4)
    check = sg.latent_class_check(responses, cb, seg.labels, 3, 6, seed=1)
    assert list(check.criteria["k"]) == [3, 4, 5, 6] and check.companies == len(responses)
    assert check.k == seg.k == 5 and check.agreement >= 0.9
    assert "stesso numero" in check.sentence(seg.k) and "coincidono" in check.sentence(seg.k)
    weak = sg.LatentCheck(check.criteria, 3, 0.3, 300)
    assert "sceglie 3 gruppi" in weak.sentence(5) and "cautela" in weak.sentence(5)
    assert "non battono un gruppo unico" in weak.sentence(1)


def test_a_group_too_small_to_publish_is_never_a_segment(cb):
    """From the hostile review: a planted group of 2 companies with their own profile, once its own segment, let
    the board infer by difference (segments stated, "altre imprese" shown) that a segment of 1-2 companies
    existed. It joins the nearest segments in the analysis itself; the note gives no size."""
    r, _ = planted(cb, [30, 30, 25, 2], seed=4)
    seg = sg.segment(r, cb, seed=0, n_boot=4, force_k=4, small_policy="flag")
    sizes = seg.labels.value_counts()
    assert sizes.min() >= 3 and seg.k == len(sizes) <= 3
    assert any("troppo raro" in m for m in seg.merged) and not any(ch.isdigit() for m in seg.merged for ch in m)
