"""topics_reported: the main-topic shares against the authors' figure (rounded half up, the known exception
recorded with its tolerance), the records, and the session counts and denominators that would reproduce
each printed share; on the real data all ten printed shares."""

from __future__ import annotations

import pytest

from kokoro_analysis.analyses import topics
from kokoro_analysis.analyses import topics_reported as reported
from kokoro_analysis.reported import topic_key
from tests.unit.analyses.test_topics import RELEASED_COUNTS, dialogues_from_counts


def test_comparison_with_the_printed_shares():
    shares = topics.topic_shares(dialogues_from_counts(RELEASED_COUNTS))
    comparison = reported.reported_share_comparison(shares).set_index("main_en")
    assert "Others" not in comparison.index and len(comparison) == 10
    assert (comparison["total"] == 6589).all()
    inter = comparison.loc["Interpersonal Issues"]
    assert inter["reported_pct"] == 4.7 and inter["rounded_pct"] == 4.6 and inter["units_off"] == -1
    assert inter["tolerance"] == 0.1 and inter["match"]
    assert inter["note"] == (
        "figure prints 4.7; data gives 4.64 (306/6,589); "
        "rounding differs by one unit of the last digit"
    )
    others = comparison.drop(index="Interpersonal Issues")
    assert (
        others["match"].all() and (others["units_off"] == 0).all() and (others["note"] == "").all()
    )
    assert others["tolerance"].isna().all()


def test_comparison_fails_when_a_count_is_off():
    counts = dict(
        RELEASED_COUNTS, **{"Financial Issues": 150}
    )  # 150 / 6,599 = 2.27 -> 2.3, printed 2.1
    comparison = reported.reported_share_comparison(
        topics.topic_shares(dialogues_from_counts(counts))
    )
    row = comparison.set_index("main_en").loc["Financial Issues"]
    assert not row["match"] and row["units_off"] == 2 and "2 units" in row["note"]


def test_share_records_carry_tolerance_only_for_the_known_exception():
    shares = topics.topic_shares(dialogues_from_counts(RELEASED_COUNTS))
    comparison = reported.reported_share_comparison(shares)
    records = {record.key: record for record in reported.share_records(comparison, shares)}
    interpersonal = records[topic_key("Interpersonal Issues")]
    assert interpersonal.value == pytest.approx(306 / 6589 * 100)
    assert interpersonal.tolerance == 0.1 and interpersonal.expect == "match"
    assert interpersonal.note.startswith("figure prints 4.7")
    assert records[topic_key("Workplace Issues")].tolerance is None
    others = records["topics.sessions.others"]
    assert others.expect == "measured" and others.value == 7


def test_printed_share_consistency_released_counts():
    comparison = reported.reported_share_comparison(
        topics.topic_shares(dialogues_from_counts(RELEASED_COUNTS))
    )
    table = reported.printed_share_consistency(comparison)
    inter = table.set_index("main_en").loc["Interpersonal Issues"]
    # 4.7 % of 6,589 is [306.39, 312.98): 307..312 sessions; 306 / N rounds to 4.7 for N in 6,443..6,580
    assert (inter["sessions_min"], inter["sessions_max"]) == (307, 312)
    assert (inter["denominator_min"], inter["denominator_max"]) == (6443, 6580)
    assert reported.common_denominators(table) is None
    nine = table[table["main_en"] != "Interpersonal Issues"]
    assert (nine["denominator_min"].max(), nine["denominator_max"].min()) == (6587, 6593)
    summary = reported.rounding_summary(comparison, table)
    assert summary.startswith(
        "9 of the 10 printed shares are the plain half-up rounding of the data (6,589 sessions)."
    )
    assert (
        "**Interpersonal**: 306 / 6,589 = 4.64 %, which rounds to 4.6, but the figure prints 4.7 (recorded "
        "with a tolerance of 0.1 percentage point). 4.7 needs 307–312 sessions out of 6,589; 306 sessions "
        "give it for totals 6,443 to 6,580, so not for 6,582, the sessions of the printed topics alone."
    ) in summary
    assert summary.endswith(
        "No total reproduces all printed shares. The other 9 agree with any total from "
        "6,587 to 6,593."
    )


def test_printed_share_consistency_finds_the_common_denominator():
    counts = dict(
        RELEASED_COUNTS, **{"Interpersonal Issues": 308}
    )  # total 6,591: every printed share rounds
    shares = topics.topic_shares(dialogues_from_counts(counts))
    comparison = reported.reported_share_comparison(shares)
    assert comparison["units_off"].eq(0).all()
    consistency = reported.printed_share_consistency(comparison)
    low, high = reported.common_denominators(consistency)
    assert low <= 6591 <= high
    assert reported.rounding_summary(comparison, consistency) == (
        f"10 of the 10 printed shares are the plain half-up rounding of the data (6,591 sessions). "
        f"Totals that reproduce all printed shares: {low:,}–{high:,}."
    )
    assert reported.rounding_summary(comparison.iloc[:0], consistency.iloc[:0]).startswith(
        "No topic"
    )


@pytest.mark.realdata
def test_real_shares_match_the_authors_figure(real_corpus):
    shares = topics.topic_shares(real_corpus.dialogues)
    assert shares["sessions"].sum() == 6589
    assert dict(zip(shares["main_en"], shares["sessions"])) == RELEASED_COUNTS
    comparison = reported.reported_share_comparison(shares).set_index("main_en")
    assert len(comparison) == 10 and comparison["match"].all()
    exact = comparison.drop(index="Interpersonal Issues")
    assert (exact["rounded_pct"] == exact["reported_pct"]).all()
    inter = comparison.loc["Interpersonal Issues"]
    assert abs(inter["share_pct"] - 4.7) <= 0.1 and inter["rounded_pct"] == 4.6
