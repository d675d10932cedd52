"""Unit tests of kokoro_analysis.feedback (hand-computed answers) and its figures; real-data checks of the
reproduced numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from kokoro_analysis import feedback, schema
from kokoro_analysis.loading import Corpus
from kokoro_analysis.tokenize import Tokens
from kokoro_analysis.validation import ValidationReport

# --------------------------------------------------------------------------- helpers


def _utterances(rows: list[tuple[int, str, int, str]]) -> pd.DataFrame:
    """(dialogue_id, role, seconds after 2021-01-01 10:00, text) → an utterances table like the loader's."""
    frame = pd.DataFrame(rows, columns=["dialogue_id", "role", "seconds", "text"])
    frame["position"] = frame.groupby("dialogue_id").cumcount().astype(np.int32)
    frame["role"] = pd.Categorical(frame["role"], categories=schema.ROLES)
    frame["time"] = pd.Timestamp("2021-01-01 10:00") + pd.to_timedelta(frame.pop("seconds"), unit="s")
    frame["length"] = frame["text"].str.len().astype(np.int32)
    return frame[["dialogue_id", "position", "role", "time", "text", "length"]]


def _dialogues(ids, scores, **columns) -> pd.DataFrame:
    frame = pd.DataFrame({"score": scores, **columns}, index=pd.Index(ids, name="dialogue_id"))
    return frame


def _corpus(dialogues: pd.DataFrame, utterances: pd.DataFrame) -> Corpus:
    return Corpus(dialogues, utterances, ValidationReport(source="test"))


# A tiny conversation: session 1 ends with a client message and session 2 starts with a counselor
# message, which must not count as a response across sessions.
RESPONSE_ROWS = [
    (1, "counselor", 0, "こんにちは。"),
    (1, "client", 10, "よろしく"),       # client response: 10 s
    (1, "client", 20, "お願いします"),    # same speaker: not a response
    (1, "counselor", 50, "どうぞ？"),     # counselor response: 30 s
    (1, "counselor", 55, "ゆっくりで"),   # same speaker: not a response
    (1, "client", 60, "はい"),           # client response: 5 s
    (1, "counselor", 100, "なるほど?"),   # counselor response: 40 s
    (1, "client", 130, "ええ"),          # client response: 30 s
    (2, "counselor", 1000, "こんにちは"),  # first of its session: no response
    (2, "client", 1003, "どうも"),        # client response: 3 s
    (2, "counselor", 1010, "はい"),       # counselor response: 7 s
]


# --------------------------------------------------------------------------- score


def test_score_summary_hand_values():
    summary = feedback.score_summary(pd.Series([10, 20, 30, 40, 100]))["value"]
    assert summary["n"] == 5
    assert summary["mean"] == pytest.approx(40)
    assert summary["median"] == 30
    assert summary["sd"] == pytest.approx(np.sqrt(((-30) ** 2 + 20 ** 2 + 10 ** 2 + 0 + 60 ** 2) / 4))
    assert summary["p25"] == 20 and summary["p75"] == 40
    assert summary["skewness"] == pytest.approx(stats.skew([10, 20, 30, 40, 100], bias=False))


def test_score_rule_table_counts_branches_and_plain_sum_errors():
    items = {key: [5, 4, 1, 0] for key in schema.ITEM_KEYS}  # item sums 100, 80, 20, 0
    dialogues = _dialogues(
        [1, 2, 3, 4], [100, 40, 0, 0], **items,
        harmful_due_to_ignorance=[False, False, True, False],
        other_potentially_unethical=[False, False, False, False],
        unwilling_to_continue=[False, True, False, True],
    )
    table = feedback.score_rule_table(dialogues)
    assert table.loc["sum", "sessions"] == 1
    assert table.loc["halved", "sessions"] == 2
    assert table.loc["zeroed", "sessions"] == 1
    # session 4 is halved but 0 // 2 == 0: the plain sum happens to be right
    assert table.loc["all", "plain_sum_wrong"] == 2
    assert table.loc["all", "rule_holds"] == 4


# --------------------------------------------------------------------------- items


def test_cronbach_alpha_hand_example():
    items = np.array([[1, 2, 3], [2, 2, 4], [3, 4, 4], [4, 5, 5]])
    # item variances 5/3, 9/4, 2/3 (sum 55/12); variance of the sums [6, 8, 11, 14] is 49/4
    # alpha = 3/2 * (1 - (55/12) / (49/4)) = 46/49
    assert feedback.cronbach_alpha(items) == pytest.approx(46 / 49)


def test_cronbach_alpha_edge_cases():
    assert feedback.cronbach_alpha(np.array([[1, 1], [2, 2], [3, 3]])) == pytest.approx(1.0)
    assert np.isnan(feedback.cronbach_alpha(np.ones((4, 3))))
    assert np.isnan(feedback.cronbach_alpha(np.arange(5).reshape(5, 1)))
    with pytest.raises(ValueError):
        feedback.cronbach_alpha(np.arange(5))


def test_bootstrapped_alpha_equals_alpha_of_the_resample():
    rng = np.random.default_rng(3)
    matrix = rng.integers(0, 6, size=(40, 4)).astype(float)
    counts = feedback.bootstrap_counts(40, 5, seed=1)
    boot = feedback._weighted_alpha(matrix, counts)
    for row, value in zip(counts, boot):
        assert value == pytest.approx(feedback.cronbach_alpha(np.repeat(matrix, row, axis=0)))


def test_item_statistics_corrected_item_total():
    rng = np.random.default_rng(0)
    answers = rng.integers(0, 6, size=(30, 20))
    dialogues = pd.DataFrame(answers, columns=list(schema.ITEM_KEYS))
    table = feedback.item_statistics(dialogues, "pearson")
    rest = answers.sum(axis=1) - answers[:, 0]
    assert table.iloc[0]["r_item_rest"] == pytest.approx(np.corrcoef(answers[:, 0], rest)[0, 1])
    spearman = feedback.item_statistics(dialogues, "spearman")
    assert spearman.iloc[0]["r_item_rest"] == pytest.approx(stats.spearmanr(answers[:, 0], rest)[0])
    assert table.iloc[0]["alpha_if_deleted"] == pytest.approx(feedback.cronbach_alpha(answers[:, 1:]))
    assert table.iloc[3]["mean"] == pytest.approx(answers[:, 3].mean())
    with pytest.raises(ValueError, match="spearman"):
        feedback.item_statistics(dialogues, "kendall")


def test_correlation_matrix_matches_scipy():
    rng = np.random.default_rng(1)
    values = rng.integers(0, 6, size=(50, 4))
    assert np.allclose(feedback.correlation_matrix(values, "spearman"), stats.spearmanr(values)[0])
    assert np.allclose(feedback.correlation_matrix(values, "pearson"), np.corrcoef(values, rowvar=False))


def _varimax_objective(loadings: np.ndarray) -> float:
    squared = loadings ** 2
    return float(((squared - squared.mean(axis=0)) ** 2).sum())


@pytest.mark.parametrize("normalize", [False, True])
def test_varimax_finds_the_best_rotation(normalize):
    rng = np.random.default_rng(2)
    simple = np.array([[0.8, 0.1], [0.7, 0.05], [0.75, 0.2], [0.1, 0.9], [0.15, 0.6], [0.05, 0.7]])
    rotation = np.array([[np.cos(0.4), -np.sin(0.4)], [np.sin(0.4), np.cos(0.4)]])
    loadings = simple @ rotation + rng.normal(0, 0.01, (6, 2))
    rotated = feedback.varimax(loadings, normalize=normalize)
    assert np.allclose((rotated ** 2).sum(axis=1), (loadings ** 2).sum(axis=1))  # communalities kept
    scale = np.sqrt((loadings ** 2).sum(axis=1, keepdims=True)) if normalize else 1.0
    best = max(_varimax_objective(loadings / scale @ np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]]))
               for t in np.linspace(0, np.pi / 2, 20001))
    assert _varimax_objective(rotated / scale) == pytest.approx(best, rel=1e-6)
    recovered = np.abs(rotated)
    recovered = recovered if recovered[0, 0] > recovered[0, 1] else recovered[:, ::-1]
    assert np.allclose(recovered, simple, atol=0.05)


def test_parallel_analysis_is_reproducible_and_near_one_for_noise():
    rng = np.random.default_rng(5)
    noise = rng.integers(0, 6, size=(400, 6))
    first = feedback.parallel_analysis(noise, n_iter=30, seed=2)
    assert first.equals(feedback.parallel_analysis(noise, n_iter=30, seed=2))
    assert not first.equals(feedback.parallel_analysis(noise, n_iter=30, seed=3))
    assert first["null_mean"].between(0.7, 1.3).all()


def test_extreme_pairs_and_cluster_order():
    keys = list(schema.ITEM_KEYS[:4])
    corr = pd.DataFrame([[1, 0.9, 0.1, 0.2], [0.9, 1, 0.3, 0.25], [0.1, 0.3, 1, 0.8], [0.2, 0.25, 0.8, 1]],
                        index=keys, columns=keys)
    pairs = feedback.extreme_pairs(corr, n=2)
    strongest = pairs[pairs["which"] == "strongest"]
    weakest = pairs[pairs["which"] == "weakest"]
    assert strongest[["item_a", "item_b"]].values.tolist() == [[1, 2], [3, 4]]
    assert weakest[["item_a", "item_b"]].values.tolist() == [[1, 3], [1, 4]]
    order, _ = feedback.cluster_order(corr)
    positions = {int(k): i for i, k in enumerate(order)}
    assert abs(positions[0] - positions[1]) == 1 and abs(positions[2] - positions[3]) == 1


# --------------------------------------------------------------------------- response times and features


def test_response_gaps_definition():
    utterances = _utterances(RESPONSE_ROWS)
    counselor = feedback.response_gaps(utterances, "counselor")
    assert counselor["gap_s"].tolist() == [30, 40, 7]
    assert counselor["dialogue_id"].tolist() == [1, 1, 2]
    assert counselor["utterance"].tolist() == [3, 6, 10]
    client = feedback.response_gaps(utterances, "client")
    assert client["gap_s"].tolist() == [10, 5, 30, 3]
    means = feedback.mean_response_time(utterances, "counselor")
    assert means.to_dict() == {1: 35.0, 2: 7.0}
    assert feedback.mean_response_time(utterances, "client").to_dict() == {1: 15.0, 2: 3.0}
    # shuffled rows give the same answer (messages are ordered by session and position first)
    shuffled = utterances.sample(frac=1, random_state=0)
    assert feedback.mean_response_time(shuffled, "counselor").to_dict() == {1: 35.0, 2: 7.0}
    with pytest.raises(ValueError):
        feedback.response_gaps(utterances, "therapist")


def test_session_features_hand_values():
    utterances = _utterances(RESPONSE_ROWS)
    dialogues = _dialogues([1, 2], [80, 40], duration_min=[130 / 60, 10 / 60])
    features = feedback.session_features(_corpus(dialogues, utterances))
    one = features.loc[1]
    assert one["client_chars"] == len("よろしく") + len("お願いします") + len("はい") + len("ええ")
    assert one["counselor_chars"] == len("こんにちは。") + len("どうぞ？") + len("ゆっくりで") + len("なるほど?")
    assert one["n_messages"] == 8
    assert one["n_turns"] == 6  # co | cl cl | co co | cl | co | cl
    assert one["counselor_question_rate"] == pytest.approx(2 / 4)  # full-width and ASCII ?
    assert one["counselor_response_time_s"] == 35 and one["client_response_time_s"] == 15
    total = one["client_chars"] + one["counselor_chars"]
    assert one["client_char_share"] == pytest.approx(one["client_chars"] / total)
    assert features.loc[2, "n_turns"] == 3 and features.loc[2, "counselor_response_time_s"] == 7
    assert list(features.index) == [1, 2] and features["score"].tolist() == [80, 40]


# --------------------------------------------------------------------------- bootstrap


def test_bootstrap_counts_rows_are_resamples():
    counts = feedback.bootstrap_counts(7, 4, seed=9)
    assert counts.shape == (4, 7) and (counts.sum(axis=1) == 7).all()
    rng = np.random.default_rng(9)
    for row in counts:
        assert (row == np.bincount(rng.integers(0, 7, 7), minlength=7)).all()


@pytest.mark.parametrize("method", ["spearman", "pearson"])
def test_bootstrap_correlation_matches_explicit_resampling(method):
    rng = np.random.default_rng(4)
    x = rng.integers(0, 8, 60).astype(float)  # many ties
    y = x + rng.integers(0, 6, 60)
    result = feedback.bootstrap_correlation(x, y, method=method, n_bootstrap=200, seed=11, chunk=64)
    draws = np.random.default_rng(11)
    explicit = []
    for _ in range(200):
        index = draws.integers(0, 60, 60)
        test = stats.spearmanr if method == "spearman" else stats.pearsonr
        explicit.append(test(x[index], y[index])[0])
    low, high = np.quantile(explicit, [0.025, 0.975])
    assert result["ci_low"] == pytest.approx(low, abs=1e-12)
    assert result["ci_high"] == pytest.approx(high, abs=1e-12)
    reference = stats.spearmanr(x, y)[0] if method == "spearman" else stats.pearsonr(x, y)[0]
    assert result["r"] == pytest.approx(reference)


def test_bootstrap_correlation_reproducible_and_robust():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=80), rng.normal(size=80)
    first = feedback.bootstrap_correlation(x, y, n_bootstrap=100, seed=1)
    assert first == feedback.bootstrap_correlation(x, y, n_bootstrap=100, seed=1)
    assert first != feedback.bootstrap_correlation(x, y, n_bootstrap=100, seed=2)
    x[:5] = np.nan
    assert feedback.bootstrap_correlation(x, y, n_bootstrap=10, seed=1)["n"] == 75
    constant = feedback.bootstrap_correlation(np.ones(10), np.arange(10), n_bootstrap=10)
    assert np.isnan(constant["r"]) and constant["n_bootstrap"] == 0


# --------------------------------------------------------------------------- rater / counselor


def test_icc_oneway_balanced_hand_example():
    # groups {1, 3} and {5, 7}: MSB = 16 (df 1), MSW = 2 (df 2), k = 2 → ICC = 14 / 18
    result = feedback.icc_oneway([1, 3, 5, 7], ["a", "a", "b", "b"])
    assert result["ms_between"] == pytest.approx(16) and result["ms_within"] == pytest.approx(2)
    assert result["icc"] == pytest.approx(7 / 9)
    assert result["k0"] == pytest.approx(2)
    f = 8.0
    f_low = f / stats.f.ppf(0.975, 1, 2)
    assert result["ci_low"] == pytest.approx((f_low - 1) / (f_low + 1))


def test_icc_oneway_unbalanced_and_errors():
    values = [1, 2, 3, 10, 11, 20]
    groups = [0, 0, 0, 1, 1, 2]
    result = feedback.icc_oneway(values, groups)
    n, sizes = 6, np.array([3, 2, 1])
    assert result["k0"] == pytest.approx((n - (sizes ** 2).sum() / n) / 2)
    assert result["icc"] > 0.9
    with pytest.raises(ValueError):
        feedback.icc_oneway([1, 2], [0, 1])


def test_icc_table_handles_tiny_groups():
    dialogues = _dialogues([1, 2], [50, 60], client_id=[1, 2], counselor_id=[1, 1])
    table = feedback.icc_table(dialogues)
    assert np.isnan(table.loc["client_id", "icc"])


def test_crossed_reml_equals_anova_on_balanced_design():
    rng = np.random.default_rng(7)
    n_a, n_b = 8, 6
    a_effect, b_effect = rng.normal(0, 3, n_a), rng.normal(0, 2, n_b)
    y = 50 + a_effect[:, None] + b_effect[None, :] + rng.normal(0, 1.5, (n_a, n_b))
    grand = y.mean()
    ms_a = n_b * ((y.mean(axis=1) - grand) ** 2).sum() / (n_a - 1)
    ms_b = n_a * ((y.mean(axis=0) - grand) ** 2).sum() / (n_b - 1)
    resid = y - y.mean(axis=1, keepdims=True) - y.mean(axis=0, keepdims=True) + grand
    ms_e = (resid ** 2).sum() / ((n_a - 1) * (n_b - 1))
    a_codes, b_codes = np.meshgrid(np.arange(n_a), np.arange(n_b), indexing="ij")
    table = feedback.crossed_variance_components(y.ravel(), a_codes.ravel(), b_codes.ravel(), names=("a", "b"))
    assert table.loc["residual", "variance"] == pytest.approx(ms_e, rel=1e-4)
    assert table.loc["a", "variance"] == pytest.approx((ms_a - ms_e) / n_b, rel=1e-3)
    assert table.loc["b", "variance"] == pytest.approx((ms_b - ms_e) / n_a, rel=1e-3)
    assert table["share"].sum() == pytest.approx(1)
    assert table.attrs["mean"] == pytest.approx(grand)


def test_crossed_reml_criterion_matches_dense_formula():
    rng = np.random.default_rng(1)
    n = 70
    a, b = rng.integers(0, 7, n), rng.integers(0, 5, n)
    y = rng.normal(size=n) + rng.normal(size=7)[a]
    model = feedback._CrossedModel(y, a, b)
    za, zb = np.eye(7)[a], np.eye(5)[b]
    for root in ([0.5, 0.3], [0.0, 1.2], [2.0, 0.0]):
        h = np.eye(n) + root[0] ** 2 * za @ za.T + root[1] ** 2 * zb @ zb.T
        h_inv, one = np.linalg.inv(h), np.ones(n)
        mu = one @ h_inv @ y / (one @ h_inv @ one)
        sigma2 = (y - mu) @ h_inv @ (y - mu) / (n - 1)
        dense = (n - 1) * np.log(sigma2) + np.linalg.slogdet(h)[1] + np.log(one @ h_inv @ one)
        assert model.criterion(np.array(root)) == pytest.approx(dense, rel=1e-10)


def test_score_variance_components_reports_unidentifiable_data():
    dialogues = _dialogues([1, 2, 3], [10, 20, 30], client_id=[1, 2, 3], counselor_id=[1, 2, 1])
    table = feedback.score_variance_components(dialogues)
    assert table["variance"].isna().all() and "not estimable" in table.attrs["note"]


def test_counselor_experience_orders_by_start_time_then_id():
    start = pd.to_datetime(["2021-01-03", "2021-01-01", "2021-01-01", "2021-01-02"])
    dialogues = _dialogues([10, 11, 9, 12], [1, 2, 3, 4], counselor_id=[1, 1, 1, 2], start_time=start)
    assert feedback.counselor_experience(dialogues).tolist() == [3, 2, 1, 1]
    bins = feedback.experience_bins(dialogues, edges=(1, 2, 3))
    assert bins["sessions"].tolist() == [2, 1, 1]
    assert list(bins.index) == ["1", "2", "3+"]


# --------------------------------------------------------------------------- keyness and flags


def _tokens(rows: list[tuple[int, str, str, str, str]]) -> Tokens:
    frame = pd.DataFrame(rows, columns=["utterance", "surface", "pos", "pos2", "lemma"])
    for column in ("surface", "pos", "pos2", "lemma"):
        frame[column] = frame[column].astype("category")
    return Tokens(frame)


def test_counselor_lemma_counts_by_group():
    utterances = _utterances([(1, "counselor", 0, "x"), (1, "client", 5, "x"), (2, "counselor", 0, "x"),
                              (3, "counselor", 0, "x")])
    dialogues = _dialogues([1, 2, 3], [90, 30, 70], counselor_id=[5, 6, 7])
    tokens = _tokens([
        (0, "とても", "副詞", "一般", "迚も"), (0, "とっても", "副詞", "一般", "迚も"), (0, "とても", "副詞", "一般", "迚も"),
        (1, "とても", "副詞", "一般", "迚も"),  # client: not counted
        (2, "とても", "副詞", "一般", "迚も"), (2, "は", "助詞", "係助詞", "は"),  # particle: not a content word
        (3, "大切", "形状詞", "一般", "大切"),
    ])
    counts = feedback.counselor_lemma_counts(_corpus(dialogues, utterances), tokens)
    assert counts.loc["迚も", ["high", "low", "counselors"]].tolist() == [3, 1, 2]
    assert counts.loc["迚も", "surface"] == "とても"
    assert counts.loc["大切", ["high", "low"]].tolist() == [1, 0]  # score 70 counts as high
    assert "は" not in counts.index
    client_tokens = _tokens([(1, "とても", "副詞", "一般", "迚も")])
    assert feedback.counselor_lemma_counts(_corpus(dialogues, utterances), client_tokens).empty
    top, _ = feedback.keyness_table(_corpus(dialogues, utterances), client_tokens)
    assert top.empty


def test_top_keywords_filters_by_counselors_and_direction():
    keyness = pd.DataFrame({
        "delta": [1.0, 0.5, -0.4, -1.0], "z": [5.0, 3.0, -2.0, -6.0], "count_group": [10, 8, 3, 1],
        "count_other": [1, 2, 6, 9], "rate_group": [1.0] * 4, "rate_other": [1.0] * 4,
        "counselors": [1, 12, 15, 30], "surface": ["a", "b", "c", "d"],
    }, index=pd.Index(["w1", "w2", "w3", "w4"], name="word"))
    top = feedback.top_keywords(keyness, 5, min_counselors=10)
    assert top[top["direction"] == "high"]["lemma"].tolist() == ["w2"]
    assert top[top["direction"] == "low"]["lemma"].tolist() == ["w4", "w3"]


def test_flag_table_counts():
    items = {key: [3, 2, 1] for key in schema.ITEM_KEYS}
    topics = ["School Issues", "School Issues", "Workplace Issues"]
    dialogues = _dialogues([1, 2, 3], [60, 20, 0], **items, topic_main_en=topics,
                           harmful_due_to_ignorance=[False, False, True], other_potentially_unethical=[False] * 3,
                           unwilling_to_continue=[False, True, True])
    table = feedback.flag_table(dialogues)
    assert table.loc["unwilling_to_continue", "sessions"] == 2
    assert table.loc["unwilling_to_continue", "with_other_flag"] == 1
    assert table.loc["harmful_due_to_ignorance", "mean_item_sum"] == 20
    assert table.loc["unwilling_to_continue", "label_ja"] == "離脱"
    topics = feedback.flag_topics(dialogues)
    assert topics.loc["School Issues", "unwilling_to_continue"] == 1


# --------------------------------------------------------------------------- figures


@pytest.fixture(scope="module")
def synthetic_corpus(synthetic_dir):
    from kokoro_analysis import load_corpus

    return load_corpus(synthetic_dir)


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_figures_render_every_glyph(synthetic_corpus, lang):
    import matplotlib.pyplot as plt

    from kokoro_analysis.charts import feedback as charts
    from kokoro_analysis.plotting import apply_paper_style, check_japanese_glyphs

    apply_paper_style()
    corpus = synthetic_corpus
    dialogues = corpus.dialogues
    features = feedback.session_features(corpus)
    correlations = feedback.feature_correlations(features, n_bootstrap=20)
    corr = feedback.item_correlations(dialogues)
    _, link = feedback.cluster_order(corr)
    keywords = pd.DataFrame({"direction": ["high", "low"], "rank": [1, 1], "lemma": ["迚も", "学校"],
                             "surface": ["とても", "学校"], "z": [3.0, -2.5]})
    figures = [
        charts.score_histogram(dialogues, lang),
        charts.item_distribution_chart(feedback.item_distribution(dialogues), lang),
        charts.item_statistics_chart(feedback.item_statistics(dialogues), lang),
        charts.scree_chart(feedback.eigen_table(dialogues, n_iter=10), lang),
        charts.loadings_chart(feedback.loadings_table(dialogues), lang),
        charts.correlation_heatmap(corr, link, corpus.items, lang),
        charts.hexbin_chart(features, "client_chars", correlations.loc["client_chars"], lang),
        charts.correlation_forest(correlations, lang),
        charts.experience_chart(feedback.experience_bins(dialogues), lang),
        charts.keyness_chart(keywords, lang),
    ]
    for fig in figures:
        assert check_japanese_glyphs(fig) == []
        assert fig.get_size_inches()[0] in (pytest.approx(3.0), pytest.approx(6.3))
        plt.close(fig)


def test_lemma_display():
    from kokoro_analysis.charts.feedback import lemma_display

    assert lemma_display("迚も", "とても") == "迚も（とても）"
    assert lemma_display("教える", "教え") == "教える"
    assert lemma_display("大切", None) == "大切"


# --------------------------------------------------------------------------- real data


@pytest.mark.realdata
def test_real_score_distribution_and_rule(real_corpus):
    dialogues = real_corpus.dialogues
    summary = feedback.score_summary(dialogues["score"])["value"]
    assert round(summary["mean"], 2) == 63.58
    assert summary["median"] == 64
    rule = feedback.score_rule_table(dialogues)
    assert rule["sessions"].to_dict() == {"sum": 6374, "halved": 203, "zeroed": 12, "all": 6589}
    assert rule.loc["all", "plain_sum_wrong"] == 215
    assert rule.loc["all", "rule_holds"] == 6589


@pytest.mark.realdata
def test_real_reported_correlations(real_corpus):
    features = feedback.session_features(real_corpus)
    reported = feedback.reported_spearman(features)
    assert round(reported["feedback.spearman_client_chars_score"], 2) == 0.42
    assert round(reported["feedback.spearman_counselor_response_time_score"], 2) == -0.21
    assert features["counselor_response_time_s"].notna().all()


@pytest.mark.realdata
def test_real_subset_counts(real_corpus):
    sessions = feedback.subset_statistics(real_corpus).loc["sessions"]
    assert sessions.to_dict() == {"low": 3870, "high": 2601, "full": 6471, "test": 118, "all": 6589}
