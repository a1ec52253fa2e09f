"""The disclosure gate, audited from outside: on random tables with small cells, every hidden cell's smallest and
largest possible values are recomputed here by linear programming from what the gate publishes (cells and the
totals the report shows), independently of the gate's own search."""

import ast
import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

from analysis.confidentiality import CONSENT_TO_REQUEST, company_names, pseudonym
from analysis.disclosure import OTHERS, SUPPRESSED, Gate
from analysis.text import figure_text, html_text, markdown_text, visible

ROOT = Path(__file__).resolve().parents[1]


def audit(counts: pd.DataFrame, hidden: pd.DataFrame, row_totals: bool, column_totals: bool, lower: float,
          row_hidden=None, column_hidden=None):
    """``{(i, j): (lo, hi)}`` for every hidden interior cell, from the published cells and totals only."""
    v = counts.to_numpy(float)
    H = hidden.to_numpy()
    R, C = v.shape
    # Unknowns: the hidden cells, and the totals the gate hid.
    unknown = [(i, j) for i in range(R) for j in range(C) if H[i, j]]
    rows_unknown = [i for i in range(R) if row_totals and row_hidden is not None and row_hidden.iloc[i]]
    cols_unknown = [j for j in range(C) if column_totals and column_hidden is not None and column_hidden.iloc[j]]
    n = len(unknown) + len(rows_unknown) + len(cols_unknown)
    col_of = {cell: k for k, cell in enumerate(unknown)}
    A, b = [], []

    def equation(cells, total, total_var=None):
        a = np.zeros(n)
        rhs = 0.0
        for i, j in cells:
            if (i, j) in col_of:
                a[col_of[(i, j)]] += 1
            else:
                rhs -= v[i, j]
        if total_var is None:
            rhs += total
        else:
            a[total_var] -= 1
        A.append(a)
        b.append(rhs)

    if row_totals:
        for i in range(R):
            var = len(unknown) + rows_unknown.index(i) if i in rows_unknown else None
            equation([(i, j) for j in range(C)], v[i].sum(), var)
    if column_totals:
        for j in range(C):
            var = len(unknown) + len(rows_unknown) + cols_unknown.index(j) if j in cols_unknown else None
            equation([(i, j) for i in range(R)], v[:, j].sum(), var)
    equation([(i, j) for i in range(R) for j in range(C)], v.sum())  # the whole-survey total is always shown
    bounds = [(lower, None)] * len(unknown) + [(0, None)] * (n - len(unknown))
    out = {}
    for k, cell in enumerate(unknown):
        ends = []
        for sign in (1, -1):
            c = np.zeros(n)
            c[k] = sign
            res = linprog(c, A_eq=np.array(A), b_eq=np.array(b), bounds=bounds, method="highs")
            assert res.status in (0, 3), res.message  # the true values are always feasible
            ends.append(sign * res.fun if res.status == 0 else sign * np.inf)
        out[cell] = (ends[0], ends[1])
    return out


def random_table(rng):
    R, C = int(rng.integers(1, 6)), int(rng.integers(1, 5))
    values = rng.integers(3, 40, size=(R, C))
    small = rng.random((R, C)) < 0.25
    values[small] = rng.integers(1, 3, size=small.sum())
    values[rng.random((R, C)) < 0.1] = 0
    return pd.DataFrame(values, index=[f"r{i}" for i in range(R)], columns=[f"c{j}" for j in range(C)])


@pytest.mark.parametrize("seed", range(60))
def test_no_hidden_cell_can_be_worked_out_from_what_is_published(seed):
    rng = np.random.default_rng(seed)
    table = random_table(rng)
    row_totals, column_totals = [(True, True), (True, False), (False, True)][seed % 3]
    listed_only = bool(seed % 4 == 0)
    published = Gate().counts(table, "t", row_totals, column_totals, listed_only)
    if published.omitted:
        assert published.hidden.to_numpy().all()
        return
    v = table.to_numpy()
    shown = ~published.hidden.to_numpy()
    assert not ((v > 0) & (v < 3) & shown).any(), "a count of 1 or 2 companies is published"
    totals = []
    if row_totals:
        totals += [t for t, h in zip(v.sum(axis=1), published.row_hidden, strict=True) if not h]
    if column_totals:
        totals += [t for t, h in zip(v.sum(axis=0), published.column_hidden, strict=True) if not h]
    assert not any(0 < t < 3 for t in totals), "a total of 1 or 2 companies is published"
    bounds = audit(table, published.hidden, row_totals, column_totals, 1.0 if listed_only else 0.0,
                   published.row_hidden, published.column_hidden)
    for (i, j), (lo, hi) in bounds.items():
        assert hi - lo > 0.5, f"cell {(i, j)} = {v[i, j]} is pinned to {lo}"
        if 0 < v[i, j] < 3:
            assert hi >= 3 - 1e-6, f"cell {(i, j)} = {v[i, j]} is known to be under 3 (at most {hi})"


def brute_force_minimum(table, row_totals, column_totals):
    """The fewest companies any safe pattern hides, trying every set of extra cells."""
    v = table.to_numpy()
    primary = (v > 0) & (v < 3)
    others = [(i, j) for i in range(v.shape[0]) for j in range(v.shape[1]) if not primary[i, j]]
    best = None
    for size in range(len(others) + 1):
        for extra in itertools.combinations(others, size):
            hidden = pd.DataFrame(primary.copy(), index=table.index, columns=table.columns)
            for i, j in extra:
                hidden.iat[i, j] = True
            bounds = audit(table, hidden, row_totals, column_totals, 0.0)
            if all(hi >= 3 - 1e-6 for (i, j), (lo, hi) in bounds.items() if primary[i, j]):
                cost = sum(v[i, j] for i, j in extra)
                best = cost if best is None else min(best, cost)
    return best


@pytest.mark.parametrize("values,row_totals,column_totals", [
    ([[1, 5, 8, 20]], True, False),
    ([[2, 40, 30], [10, 12, 14], [9, 9, 30]], True, True),
    ([[12, 4, 7], [1, 30, 6], [5, 8, 3]], True, True),
    ([[94, 43, 1], [36, 18, 4]], True, True),
])
def test_a_table_with_one_small_cell_hides_no_more_than_needed(values, row_totals, column_totals):
    table = pd.DataFrame(values)
    published = Gate().counts(table, "t", row_totals, column_totals)
    primary = int(((table > 0) & (table < 3)).to_numpy().sum())
    secondary_companies = published.companies_hidden - int(table.where((table > 0) & (table < 3), 0).to_numpy().sum())
    assert primary == 1 and not published.omitted
    assert secondary_companies == brute_force_minimum(table, row_totals, column_totals)


def test_the_analyst_view_publishes_everything():
    table = pd.DataFrame({"a": [1, 40], "b": [2, 50]})
    assert not Gate("analyst").counts(table, "t").hidden.to_numpy().any()
    with pytest.raises(ValueError):
        Gate("public")


def test_a_sector_group_of_two_leaves_the_breakdown_out_with_a_reason():
    sectors = Gate().categories(pd.Series({"Meccaniche": 40, "Metallurgiche": 2}), what="gruppo merceologico")
    assert sectors.omitted and "gruppo merceologico" in sectors.omitted and sectors.order == []
    assert Gate("analyst").categories(pd.Series({"Meccaniche": 40, "Metallurgiche": 2})).order == ["Meccaniche",
                                                                                                    "Metallurgiche"]


def test_small_size_classes_merge_with_a_neighbour_and_small_segments_into_altre_imprese():
    sizes = Gate().categories(pd.Series({"micro": 1, "piccola": 40, "media": 20, "grande": 2}),
                              {"micro": "Micro", "piccola": "Piccola", "media": "Media", "grande": "Grande"},
                              ordered=True)
    assert sizes.order == ["Micro - piccola", "Media - grande"] and sizes.board["grande"] == "Media - grande"
    segments = Gate().categories(pd.Series({1: 50, 2: 2, 3: 1, 4: 30}), {1: "1. A", 2: "2. B", 3: "3. C", 4: "4. D"})
    assert segments.order == ["1. A", "4. D", OTHERS] and segments.board[2] == segments.board[3] == OTHERS
    # A pool still under 3 takes in the smallest segment too.
    pooled = Gate().categories(pd.Series({1: 50, 2: 1, 3: 30}))
    assert pooled.board[2] == pooled.board[3] == OTHERS and pooled.board[1] == "1"


def test_group_figures_hide_a_second_group_where_the_total_is_shown():
    n = pd.DataFrame({"Mecc": [40, 2, 30], "Metal": [30, 25, 1]}, index=["a", "b", "c"])
    hidden = Gate().bases(n, n.sum(axis=1), "t")
    assert hidden.loc["b"].all() and hidden.loc["c"].all() and not hidden.loc["a"].any()


def test_one_naming_rule_never_shows_a_company_id_or_vat_number():
    key = b"k" * 32
    responses = pd.DataFrame({"company_id": ["IT01234567897", "IT76543210980", "NOME:rossi"],
                              "ragione_sociale": [None, "Bianchi\x07 Srl\x1b[2J", "Rossi Spa"],
                              "consenso_nominativo": [True, True, False]})
    board = company_names(responses, key, mark=True)
    assert board["IT01234567897"] == pseudonym("IT01234567897", key)  # consent but no name: pseudonym, not the VAT
    assert board["IT76543210980"] == "Bianchi␇ Srl␛[2J"  # control characters shown, never raw
    assert board["NOME:rossi"] == f"{pseudonym('NOME:rossi', key)} ({CONSENT_TO_REQUEST})"
    analyst = company_names(responses, key, "analyst")
    assert analyst["IT01234567897"] == pseudonym("IT01234567897", key) and analyst["NOME:rossi"] == "Rossi Spa"
    assert not any("0123456789" in name for name in [*board, *analyst])


def test_text_from_the_data_is_text():
    assert visible("a\x07b\x1bc\u202ed\n") == "a␇b␛c[U+202E]d "
    assert html_text("<script>x</script>") == "&lt;script&gt;x&lt;/script&gt;"
    md = markdown_text("[x](http://evil.example) **b** <i>")
    assert "[" not in md.replace("\\[", "") and "**" not in md and "<i>" not in md and "http\\:" in md
    import matplotlib as mpl

    with mpl.rc_context({"text.parse_math": True}):
        assert figure_text("$x^2$") == r"\$x^2\$"
    with mpl.rc_context({"text.parse_math": False}):
        assert figure_text("$x^2$\x07") == "$x^2$␇"


def test_only_the_gate_applies_the_threshold_or_reads_the_audience():
    """No other module compares a count with 3, imports the threshold or reads ``audience``; notebooks only hand
    ``audience`` to the gate."""
    allowed = {"disclosure.py", "confidentiality.py", "startup_sample.py"}  # the synthetic startup list picks 3
    found = []
    for path in sorted((ROOT / "src" / "analysis").glob("*.py")):
        if path.name in allowed:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Compare) and any(isinstance(x, ast.Constant) and x.value == 3
                                                     for x in [node.left, *node.comparators]):
                found.append(f"{path.name}:{node.lineno} compares with 3")
            if isinstance(node, ast.Name) and node.id in ("audience", "MIN_COMPANIES"):
                found.append(f"{path.name}:{node.lineno} reads {node.id}")
            if isinstance(node, ast.ImportFrom) and any(a.name == "MIN_COMPANIES" for a in node.names):
                found.append(f"{path.name}:{node.lineno} imports MIN_COMPANIES")
    for path in sorted((ROOT / "notebooks").glob("*.py")):
        tree = ast.parse(path.read_text())
        to_gate = {id(a) for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "Gate"
                   for a in n.args}
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id == "audience" and isinstance(node.ctx, ast.Load) \
                    and id(node) not in to_gate:
                found.append(f"{path.name}:{node.lineno} reads audience")
            if isinstance(node, ast.Compare) and any(isinstance(x, ast.Constant) and x.value == 3
                                                     for x in [node.left, *node.comparators]):
                found.append(f"{path.name}:{node.lineno} compares with 3")
    assert not found, found


def test_every_hidden_cell_shows_the_same_mark():
    shown = Gate().counts(pd.DataFrame({"a": [1, 40], "b": [5, 50]}), "t").show()
    assert set(shown.to_numpy().ravel()) <= {SUPPRESSED, "40", "50", "5", "1"} and "1" not in shown.to_numpy()


def test_a_share_is_hidden_when_either_side_of_it_counts_fewer_than_3_companies():
    hidden = Gate().share([1 / 9, 0.5, 0.95, 0.0, 0.5], [9, 10, 40, 12, 2])
    assert hidden.tolist() == [True, False, True, False, True]  # 1 of 9; 5 of 10; 2 not of 40; none; base of 2
    assert not Gate("analyst").share([1 / 9], [9]).any()


def test_the_needs_summary_hides_shares_that_give_a_count_away():
    from analysis.needs import ALL_COMPANIES, published_summary

    summary = pd.DataFrame({"need": ["a"] * 3 + ["b"] * 3, "gruppo_merceologico": ["M", "S", ALL_COMPANIES] * 2,
                            "n": [5, 4, 9, 20, 30, 50], "n_high": [0, 1, 1, 10, 12, 22],
                            "share_high": [0, 0.25, 1 / 9, 0.5, 0.4, 0.44], "mean": 3.0, "ci_low": 2.0,
                            "ci_high": 4.0})
    out = published_summary(summary, Gate()).set_index(["need", "gruppo_merceologico"])
    assert out.loc[("a", "S"), "share_hidden"] and out.loc[("a", ALL_COMPANIES), "share_hidden"]
    assert out.loc[("a", "M"), "share_hidden"]  # 0 of 5 beside the hidden ones would give the 1 away
    assert not out.loc["b", "share_hidden"].any() and not out["hidden"].any()
    # Mean and interval over few companies pin the ratings down: hidden wherever the share is.
    assert out["mean_hidden"].tolist() == out["share_hidden"].tolist()


# --------------------------------------------------------------------------
# The board tables themselves, audited on random surveys with small groups

def random_responses(cb, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(12, 60))
    sectors = list(cb.sector_labels)
    sizes = [s.key for s in cb.size_classes]
    weights = rng.dirichlet(np.ones(len(sizes)) * 0.6)
    frame = pd.DataFrame({"company_id": [f"IT{i:011d}" for i in range(n)],
                          "gruppo_merceologico": rng.choice(sectors, n, p=[0.8, 0.2] if seed % 2 else [0.5, 0.5]),
                          "size_class": rng.choice(sizes, n, p=weights)})
    frame.loc[rng.random(n) < 0.05, "size_class"] = None
    for f in cb.maturity:
        frame[f.key] = pd.array(np.where(rng.random(n) < 0.15, None, rng.integers(0, 6, n)), dtype="Int64")
    return frame


def _published(table: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    return table[columns].isin([SUPPRESSED])


@pytest.mark.parametrize("seed", range(12))
def test_the_sector_by_size_table_cannot_be_worked_out(cb, seed):
    from analysis import quality

    responses = random_responses(cb, seed)
    gate = Gate()
    shown = quality.sector_size_table(responses, cb, gate)
    if shown.attrs.get("omitted"):
        return
    sizes = gate.categories(quality.size_counts(responses, cb), {**cb.size_labels, "n.d.": "Non indicata"},
                            ordered=True)
    sectors = gate.categories(responses["gruppo_merceologico"].value_counts().reindex(cb.sector_labels,
                                                                                       fill_value=0),
                              cb.sector_short)
    columns = [c for c in shown.columns if c not in ("Gruppo merceologico", "Totale")]
    rows = sectors.labels(responses["gruppo_merceologico"]) if not sectors.omitted else \
        pd.Series("Tutte le imprese", index=responses.index)
    truth = pd.crosstab(rows, sizes.labels(responses["size_class"].fillna("n.d."))).reindex(
        index=shown["Gruppo merceologico"], columns=columns, fill_value=0)
    hidden = _published(shown, columns)
    hidden.index = truth.index
    published = truth.to_numpy()[~hidden.to_numpy()]
    assert not ((published > 0) & (published < 3)).any()
    assert all(t >= 3 or t == 0 for t in truth.sum(axis=0)) and all(t >= 3 for t in truth.sum(axis=1))
    row_hidden = shown["Totale"].eq(SUPPRESSED).set_axis(truth.index)
    column_hidden = truth.sum(axis=0).between(1, 2)  # a total under 3 is published nowhere
    for (i, j), (lo, hi) in audit(truth, hidden, True, True, 0.0, row_hidden, column_hidden).items():
        if 0 < truth.iat[i, j] < 3:
            assert hi >= 3 - 1e-6 and hi - lo > 0.5


@pytest.mark.parametrize("seed", range(12))
def test_the_maturity_bands_add_up_to_published_sizes_and_hide_what_they_must(cb, seed):
    from analysis import maturity, quality

    responses = random_responses(cb, seed)
    gate = Gate()
    scores = maturity.maturity_scores(responses, cb)
    sizes = gate.categories(quality.size_counts(responses, cb), {**cb.size_labels, "n.d.": "Non indicata"},
                            ordered=True)
    if sizes.omitted:
        return
    by_group = maturity.board_groups(scores, responses["size_class"].fillna("n.d."), sizes)
    published = maturity.band_counts(by_group, gate, "t")
    shown = maturity.band_table(by_group, published, gate)
    if shown.attrs.get("omitted"):
        return
    columns = [*maturity.BAND_LABELS, maturity.NO_INDEX]
    truth = by_group[columns]
    # The group sizes the bands add up to are the ones the data quality section publishes.
    assert truth.sum(axis=1).tolist() == sizes.labels(responses["size_class"].fillna("n.d.")).value_counts() \
        .reindex(sizes.order).tolist()
    hidden = _published(shown, columns).set_axis(truth.index)
    column_hidden = truth.sum(axis=0).between(1, 2)  # a band total under 3 is published nowhere
    for (i, j), (lo, hi) in audit(truth, hidden, True, True, 0.0, None, column_hidden).items():
        if 0 < truth.iat[i, j] < 3:
            assert hi >= 3 - 1e-6 and hi - lo > 0.5
    means = shown["Indice medio"].ne(SUPPRESSED).to_numpy()
    assert (by_group["n"].to_numpy()[means] >= 3).all()


def test_companies_named_elsewhere_are_lower_bounds_the_gate_respects():
    """Segment x group, where the Champion section names every company of segment "a" with its group: the 1
    Meccaniche company of "a" can then be worked out, so the gate must not publish the table as it is."""
    table = pd.DataFrame({"Mecc": [1, 10, 12], "Metal": [3, 12, 9]}, index=["a", "b", "c"])
    known = pd.DataFrame({"Mecc": [1, 0, 0], "Metal": [3, 0, 0]}, index=["a", "b", "c"])
    plain = Gate().counts(table, "t")
    assert not plain.omitted  # without the names, hiding a rectangle protects the 1
    named = Gate().counts(table, "t", known=known)
    # The names fill segment "a" (1 + 3 = its published size): nothing can protect its cells, so it is left out.
    assert named.omitted and named.hidden.to_numpy().all()


def test_the_supply_chain_figure_hides_small_groups_and_draws_no_link_under_3(cb):
    """Issue 15's aggregated supply network: a group of 2 companies shows no number; 2 links between two groups are
    not drawn (they describe two pairs of companies); 5 are, with their number."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from analysis import figures

    mecc, metal = cb.sector_labels[:2]
    oem, first = cb.by_key["posizione_filiera"].options[:2]
    ids = [f"c{i}" for i in range(14)]
    sector = [mecc] * 12 + [metal] * 2
    position = [oem] * 6 + [first] * 6 + [oem] * 2
    responses = pd.DataFrame({"company_id": ids, "gruppo_merceologico": sector, "posizione_filiera": position})
    edges = pd.DataFrame({"supplier": ["c6", "c7", "c8", "c9", "c10", "c12", "c13"],
                          "customer": ["c0", "c1", "c2", "c3", "c4", "c5", "c0"]})
    fig = figures.supply_chain(responses, edges, ["c6"], {"c6": "Rossi S.p.A."}, cb, Gate())
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "5" in texts  # first tier -> final producers (Meccaniche): 5 links
    assert "1" not in texts and "2" not in texts  # neither the two Metallurgiche nor their links are counted
    assert SUPPRESSED in texts and "Rossi S.p.A." in texts
    plt.close(fig)


def test_a_champions_sector_group_is_not_named_when_that_group_is_too_small_to_show(cb):
    """From the hostile review: with 38 Meccaniche and 2 Metallurgiche the sector breakdown is left out, and a
    Champion's 'Gruppo' would place it among the 2; the board sees n.p., the analysts the group."""
    from analysis.quality import sector_names

    mecc, metal = cb.sector_labels[:2]
    responses = pd.DataFrame({"gruppo_merceologico": [mecc] * 38 + [metal] * 2})
    assert set(sector_names(responses, cb, Gate()).values()) == {SUPPRESSED}
    assert sector_names(responses, cb, Gate("analyst"))[metal] == cb.sector_short[metal]
    both = pd.DataFrame({"gruppo_merceologico": [mecc] * 30 + [metal] * 10})
    assert sector_names(both, cb, Gate())[metal] == cb.sector_short[metal]
