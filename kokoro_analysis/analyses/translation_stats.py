"""KokoroChat read through its official translations (Multilingual KokoroChat): lengths in the
translation's words, the translation/original length ratio, and where the translation is missing.

Every function takes the per-message table of
:meth:`kokoro_analysis.corpus.translations.Translations.for_utterances` (``dialogue_id``,
``position``, ``role``, ``text``, ``translation``, ``status``). A message *is translated* when its
``status`` is ``"translated"`` (a non-empty translation); a session *is untranslated* when the release
has no file for it (``"no_translation"``). Words are whitespace tokens, counted by the same rule as
ESConv (:func:`kokoro_analysis.corpus.esconv.whitespace_word_counts`); characters are ``len`` of the
unnormalised text.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as sps

from kokoro_analysis.cache import cached_frame, texts_digest
from kokoro_analysis.corpus import schema
from kokoro_analysis.corpus.esconv import whitespace_word_counts
from kokoro_analysis.published import TableSpec, Words, register
from kokoro_analysis.stats.distributions import describe_many
from kokoro_analysis.stats.p_values import chi2_permutation_test, p_value_text

KOKOROCHAT_EN = "KokoroChat (English)"
"""Row label of the translated corpus in :func:`english_comparison_table`."""

TABLE_LABELS = {
    "avg_utterances_per_dialogue": "utt./dial.",
    "avg_words_per_utterance": "words/utt.",
    "avg_words_per_utterance_counselor": "counselor",
    "avg_words_per_utterance_client": "client",
    "words_per_message": "words/msg",
    "chars_per_message": "chars/msg",
    "original_chars_per_message": "original chars/msg",
    "chars_ratio": "chars ratio",
    "untranslated_pct": "untr. %",
    "sessions_with_empty": "with empty",
    "empty_translations": "empty msgs",
    "claimed_dialogues": "README dialogues",
    "files_dialogues": "files dialogues",
    "claimed_avg_utterances": "README utt./dial.",
    "files_avg_utterances": "files utt./dial.",
    "n_gap": "n",
    "p_value": "p",
    "gap_median": "median",
    "other_median": "others",
}
"""Short column labels for the written tables (``frame.rename(columns=TABLE_LABELS)``), so they fit
a printed page."""


def translated_messages(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows with a non-empty translation, with ``words`` (whitespace words of the translation),
    ``chars`` (characters of the translation), ``original_chars`` and ``ratio`` (chars /
    original_chars)."""
    mine = frame[frame["status"] == "translated"].copy()
    mine["words"] = _word_counts(mine["translation"])
    mine["chars"] = mine["translation"].str.len().astype(np.int64)
    mine["original_chars"] = mine["text"].str.len().astype(np.int64)
    mine["ratio"] = mine["chars"] / mine["original_chars"]
    return mine


def _word_counts(translations: pd.Series) -> np.ndarray:
    """:func:`whitespace_word_counts` of the translations, cached on their content (four tables of
    notebook 01 need them; splitting 500,000 messages takes seconds)."""
    words = cached_frame(
        "translation-words",
        1,
        [texts_digest(translations)],
        lambda: pd.DataFrame({"words": whitespace_word_counts(translations).to_numpy()}),
    )
    return words["words"].to_numpy(dtype=np.int64)


def length_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Per role and in total (index ``total``, ``counselor``, ``client``): ``sessions`` and
    ``messages`` translated, mean whitespace ``words_per_message`` and ``chars_per_message`` of the
    translation, ``original_chars_per_message`` (Japanese characters of the same messages) and
    ``chars_ratio`` (total translation characters / total original characters)."""
    mine = translated_messages(frame)
    rows = {}
    for name in ("total", *schema.ROLES):
        part = mine if name == "total" else mine[mine["role"] == name]
        rows[name] = {
            "sessions": int(part["dialogue_id"].nunique()),
            "messages": len(part),
            "words_per_message": float(part["words"].mean()),
            "chars_per_message": float(part["chars"].mean()),
            "original_chars_per_message": float(part["original_chars"].mean()),
            "chars_ratio": float(part["chars"].sum() / part["original_chars"].sum()),
        }
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "role"
    return table


def english_comparison_table(
    frame: pd.DataFrame, esconv_stats: dict[str, float] | None
) -> pd.DataFrame:
    """The like-for-like row: KokoroChat in the translation's whitespace words next to ESConv
    (:func:`kokoro_analysis.analyses.peer_comparison.esconv_statistics`; omitted when None). Columns
    ``dialogues``, ``utterances``, ``avg_utterances_per_dialogue``, ``avg_words_per_utterance`` and
    per role. KokoroChat counts translated sessions and their non-empty translated messages."""
    lengths = length_table(frame)
    sessions = int(frame.loc[frame["status"] != "no_translation", "dialogue_id"].nunique())
    rows = {
        KOKOROCHAT_EN: {
            "dialogues": sessions,
            "utterances": int(lengths.loc["total", "messages"]),
            "avg_utterances_per_dialogue": lengths.loc["total", "messages"] / sessions
            if sessions
            else np.nan,
            "avg_words_per_utterance": lengths.loc["total", "words_per_message"],
            **{
                f"avg_words_per_utterance_{role}": lengths.loc[role, "words_per_message"]
                for role in schema.ROLES
            },
        }
    }
    if esconv_stats is not None:
        rows["ESConv"] = {column: esconv_stats[column] for column in rows[KOKOROCHAT_EN]}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table[["dialogues", "utterances"]] = table[["dialogues", "utterances"]].astype("Int64")
    table.index.name = "dataset"
    return table


def ratio_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Distribution of the per-message length ratio (translation characters / original characters)
    by role (:func:`kokoro_analysis.stats.distributions.describe_many`)."""
    mine = translated_messages(frame)
    return describe_many({role: mine.loc[mine["role"] == role, "ratio"] for role in schema.ROLES})


def ratios_by_role(frame: pd.DataFrame) -> dict[str, pd.Series]:
    """The per-message length ratios (translation / original characters) of each role."""
    mine = translated_messages(frame)
    return {role: mine.loc[mine["role"] == role, "ratio"] for role in schema.ROLES}


def session_gaps(frame: pd.DataFrame, dialogues: pd.DataFrame) -> pd.DataFrame:
    """One row per session of ``dialogues``: ``untranslated`` (no file in the release),
    ``empty_translations`` (messages with an empty translation), ``topic_main_en``, ``score`` and
    ``n_messages``."""
    status = frame["status"].astype(str)
    untranslated = status.eq("no_translation").groupby(frame["dialogue_id"]).any()
    empty = status.eq("empty").groupby(frame["dialogue_id"]).sum()
    gaps = dialogues[["topic_main_en", "score", "n_messages"]].copy()
    gaps.insert(0, "untranslated", untranslated.reindex(gaps.index, fill_value=False).astype(bool))
    gaps.insert(1, "empty_translations", empty.reindex(gaps.index, fill_value=0).astype(np.int64))
    return gaps


def gaps_by_topic(gaps: pd.DataFrame) -> pd.DataFrame:
    """Per main topic (most sessions first): ``sessions``, ``untranslated`` sessions and their
    ``untranslated_pct``, ``sessions_with_empty`` (≥ 1 empty translation) and ``empty_translations``."""
    grouped = gaps.groupby("topic_main_en")
    table = pd.DataFrame(
        {
            "sessions": grouped.size(),
            "untranslated": grouped["untranslated"].sum().astype(np.int64),
            "sessions_with_empty": grouped["empty_translations"].apply(
                lambda s: int((s > 0).sum())
            ),
            "empty_translations": grouped["empty_translations"].sum().astype(np.int64),
        }
    ).sort_values("sessions", ascending=False)
    table.insert(2, "untranslated_pct", 100 * table["untranslated"] / table["sessions"])
    table.index.name = "topic"
    return table


def gap_tests(gaps: pd.DataFrame, *, n_permutations: int = 10_000, seed: int = 0) -> pd.DataFrame:
    """Is the gap random? For the untranslated sessions and the sessions with an empty translation:
    topic × gap, a permutation χ² test (χ² of the topic × gap table; p = share of ``n_permutations``
    seeded shuffles of the gap labels with a χ² at least as large, +1 smoothing; the asymptotic χ²
    is unreliable with so few gaps); score and messages per session, two-sided Mann–Whitney U of
    the gap sessions against the others. ``gap``: "untranslated" (no file) or "empty translation"
    (at least one empty message); ``variable``: "main topic", "score", "n_messages"; ``test``:
    "permutation chi-square" or "Mann-Whitney U". Columns: ``gap``, ``variable``, ``test``, ``n_gap``,
    ``n_other``, ``statistic``, ``p_value``, ``gap_median``, ``other_median``.
    Cached on the content of ``gaps`` and the parameters (:func:`kokoro_analysis.cache.cached_frame`)."""
    columns = ["untranslated", "empty_translations", "topic_main_en", "score", "n_messages"]
    digest = pd.util.hash_pandas_object(gaps[columns], index=True).to_numpy().tobytes()
    return cached_frame(
        "translation-gap-tests",
        1,
        [digest, f"{n_permutations} {seed}"],
        lambda: _gap_tests(gaps, n_permutations=n_permutations, seed=seed),
    )


def _gap_tests(gaps: pd.DataFrame, *, n_permutations: int, seed: int) -> pd.DataFrame:
    """The tests of :func:`gap_tests`, computed."""
    rows = []
    for gap_name, mask in (
        ("untranslated", gaps["untranslated"].to_numpy()),
        ("empty translation", (gaps["empty_translations"] > 0).to_numpy()),
    ):
        n_gap, n_other = int(mask.sum()), int((~mask).sum())
        base = {"gap": gap_name, "n_gap": n_gap, "n_other": n_other}
        statistic, p_value = chi2_permutation_test(
            gaps["topic_main_en"].to_numpy(), mask, n_permutations=n_permutations, seed=seed
        )
        rows.append(
            {
                **base,
                "variable": "main topic",
                "test": "permutation chi-square",
                "statistic": statistic,
                "p_value": p_value,
                "gap_median": np.nan,
                "other_median": np.nan,
            }
        )
        for variable in ("score", "n_messages"):
            values = gaps[variable].to_numpy(dtype=float)
            if n_gap and n_other:
                result = sps.mannwhitneyu(values[mask], values[~mask], alternative="two-sided")
                statistic, p_value = float(result.statistic), float(result.pvalue)
            else:
                statistic, p_value = np.nan, np.nan
            rows.append(
                {
                    **base,
                    "variable": variable,
                    "test": "Mann-Whitney U",
                    "statistic": statistic,
                    "p_value": p_value,
                    "gap_median": float(np.median(values[mask])) if n_gap else np.nan,
                    "other_median": float(np.median(values[~mask])) if n_other else np.nan,
                }
            )
    return pd.DataFrame(
        rows,
        columns=[
            "gap",
            "variable",
            "test",
            "n_gap",
            "n_other",
            "statistic",
            "p_value",
            "gap_median",
            "other_median",
        ],
    )


def empty_translation_originals(frame: pd.DataFrame) -> pd.DataFrame:
    """The messages with an empty translation: ``dialogue_id``, ``position``, ``role``, ``text`` (the
    Japanese original) and ``previous`` (the session's previous message, which the translators
    usually merged it into), with ``chars`` of the original."""
    empty = frame.index[frame["status"] == "empty"]
    locations = frame.index.get_indexer(empty)
    previous = [
        frame["text"].iat[i - 1]
        if i > 0 and frame["dialogue_id"].iat[i - 1] == frame["dialogue_id"].iat[i]
        else None
        for i in locations
    ]
    table = frame.loc[empty, ["dialogue_id", "position", "role", "text"]].copy()
    table["previous"] = pd.Series(previous, index=empty, dtype="str")
    table["chars"] = table["text"].str.len().astype(np.int64)
    return table


def example_messages(frame: pd.DataFrame, n: int = 6, seed: int = 0) -> pd.DataFrame:
    """A seeded sample of ``n`` translated messages (in corpus order), half per role where possible:
    ``dialogue_id``, ``position``, ``role``, ``text``, ``translation``."""
    mine = frame[frame["status"] == "translated"]
    rng = np.random.default_rng(seed)
    chosen = []
    for number, role in enumerate(schema.ROLES):
        rows = np.flatnonzero((mine["role"] == role).to_numpy())
        take = min(len(rows), n // len(schema.ROLES) + (number < n % len(schema.ROLES)))
        chosen.extend(rng.choice(rows, size=take, replace=False).tolist())
    return mine.iloc[np.sort(chosen)][["dialogue_id", "position", "role", "text", "translation"]]


def _p_relation(p: float) -> str:
    """``= 0.012`` or ``< 0.001``: what follows "p" in a sentence."""
    text = p_value_text(p)
    return text if text.startswith("<") else f"= {text}"


def gap_findings(tests: pd.DataFrame, alpha: float = 0.05) -> str:
    """One sentence per row of :func:`gap_tests` with ``p_value < alpha`` (with the medians for the
    Mann-Whitney rows), or a sentence saying no test is below ``alpha``."""
    significant = tests[tests["p_value"] < alpha]
    if significant.empty:
        return f"No test finds a dependence at the {alpha:.0%} level: the gaps look random."
    lines = []
    for row in significant.itertuples():
        medians = (
            f" (median {row.gap_median:g} vs {row.other_median:g})"
            if pd.notna(row.gap_median)
            else ""
        )
        lines.append(
            f"Sessions with gap '{row.gap}' differ in {row.variable}{medians}: {row.test}, "
            f"p {_p_relation(row.p_value)}."
        )
    rest = len(tests) - len(significant)
    lines.append(f"The other {rest} test(s) find no dependence at the {alpha:.0%} level.")
    return " ".join(lines)


RELEASE_README = TableSpec(
    "corpus_translation_release_readme",
    title=Words(
        "The translation release README's statistics against its files.",
        "翻訳リリースの README の統計とファイルの比較。",
    ),
)
ENGLISH_WORDS_VS_ESCONV = TableSpec(
    "corpus_english_words_vs_esconv",
    title=Words(
        "KokoroChat in its official English translation and ESConv: mean whitespace words per "
        "utterance, overall and by role.",
        "英訳 KokoroChat と ESConv の発話あたり平均語数（空白区切り、全体と役割別）。",
    ),
    thousands=True,
    number_format="{:.2f}",
)
LENGTHS = TableSpec(
    "corpus_translation_lengths",
    title=Words(
        "Lengths of the English translation (translated messages).",
        "英訳の長さ（翻訳済みメッセージ）。",
    ),
    thousands=True,
    number_format="{:,.2f}",
)
LENGTH_RATIO = TableSpec(
    "corpus_translation_length_ratio",
    title=Words(
        "Per-message length ratio, translation over original characters.",
        "メッセージごとの訳文／原文の文字数比。",
    ),
    thousands=True,
    number_format="{:,.2f}",
)
GAPS_BY_TOPIC = TableSpec(
    "corpus_translation_gaps_by_topic",
    title=Words(
        "Untranslated sessions and empty translations by main topic.",
        "トピック別の未翻訳セッションと空の訳。",
    ),
    thousands=True,
    number_format="{:.2f}",
)
GAP_TESTS = TableSpec(
    "corpus_translation_gap_tests",
    title=Words(
        "Is the translation gap random? Tests against topic, score and length.",
        "翻訳の欠落は無作為か（トピック・スコア・長さとの検定）。",
    ),
    index=False,
    number_format="{:.3g}",
    formats={"p": p_value_text},
)
EMPTY = TableSpec(
    "corpus_translation_empty",
    title=Words(
        "Empty translations: the original and the previous message (which the translators usually "
        "merged it into).",
        "空の訳：原文と直前のメッセージ（訳者はたいてい直前の訳に統合している）。",
    ),
    index=False,
)
TABLES = register(
    RELEASE_README,
    ENGLISH_WORDS_VS_ESCONV,
    LENGTHS,
    LENGTH_RATIO,
    GAPS_BY_TOPIC,
    GAP_TESTS,
    EMPTY,
)
"""The published tables of this module by name (:class:`kokoro_analysis.published.TableSpec`)."""
