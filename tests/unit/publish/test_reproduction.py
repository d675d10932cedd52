from __future__ import annotations

import subprocess
import sys

import pytest

from kokoro_analysis.cli import main
from kokoro_analysis.publish.reproduction import DuplicateRecordError, gather_report
from kokoro_analysis.publish.reproduction_log import ReproductionLog
from kokoro_analysis.reported import (
    REPORTED_CSV,
    ReportedValue,
    load_reported,
    reported,
    topic_key,
)

STATS_CELLS = {
    "stats.dialogues.total": 6589,
    "stats.speakers.total": 480,
    "stats.speakers.counselor": 424,
    "stats.speakers.client": 463,
    "stats.utterances.total": 600939,
    "stats.utterances.counselor": 306495,
    "stats.utterances.client": 294444,
    "stats.avg_utterances_per_dialogue.total": 91.20,
    "stats.avg_utterances_per_dialogue.counselor": 46.52,
    "stats.avg_utterances_per_dialogue.client": 44.69,
    "stats.avg_chars_per_utterance.total": 28.39,
    "stats.avg_chars_per_utterance.counselor": 35.84,
    "stats.avg_chars_per_utterance.client": 20.63,
}
# upstream topic.main_en -> share printed in topic_distribution.png (percent)
TOPIC_SHARES = {
    "Family Issues (Non-Spousal)": 20.2,
    "Workplace Issues": 17.0,
    "Mental Health Issues": 14.7,
    "School Issues": 14.1,
    "Career and Educational Issues": 12.9,
    "Romantic Issues": 6.9,
    "Family Issues (Spouse)": 6.6,
    "Interpersonal Issues": 4.7,
    "Financial Issues": 2.1,
    "Physical Health Issues": 0.7,
}


# --------------------------------------------------------------------------- reported.csv


def test_reported_csv_has_statistics_table():
    # The statistics table has 15 cells; the two "# Dialogues" cells for counselor/client are
    # printed as "–" (not applicable), so 13 carry numbers.
    table = load_reported()
    for key, value in STATS_CELLS.items():
        assert table.loc[key, "value"] == pytest.approx(value), key
        assert table.loc[key, "source_kind"] == "authors"
    assert "stats.dialogues.counselor" not in table.index
    assert table.loc["stats.avg_utterances_per_dialogue.total", "printed"] == "91.20"
    assert table.loc["stats.avg_utterances_per_dialogue.total", "decimals"] == 2
    assert table.loc["stats.utterances.total", "decimals"] == 0


def test_reported_csv_has_ten_topic_shares():
    table = load_reported()
    shares = table[table.index.str.startswith("topics.share.")]
    assert len(shares) == 10
    for main_en, share in TOPIC_SHARES.items():
        row = shares.loc[topic_key(main_en)]
        assert row["value"] == pytest.approx(share)
        assert row["decimals"] == 1 and row["unit"] == "percent"
        assert main_en in row["quantity"]
    assert shares["value"].sum() == pytest.approx(
        100 - 0.1, abs=0.2
    )  # "Others" (7 dialogues) unlabelled
    assert shares.loc[topic_key("Family Issues (Non-Spousal)"), "label"] == "Family (Non-Spousal)"


def test_every_reported_row_has_a_source_and_precision():
    table = load_reported()
    assert table.index.is_unique
    assert set(table["source_kind"]) == {"authors", "secondary"}
    assert (table["source"].str.strip() != "").all()
    assert (table["quantity"].str.strip() != "").all()
    numeric = table["value"].notna()
    assert table.loc[numeric, "decimals"].notna().all()
    assert set(table.loc[~numeric, "unit"]) <= {"text", "flag"}
    # printed precision agrees with the printed string
    for key, row in table[numeric].iterrows():
        printed_decimals = len(row["printed"].split(".")[1]) if "." in row["printed"] else 0
        assert printed_decimals == row["decimals"], key


def test_reported_secondary_sources_and_peer_table():
    table = load_reported()
    assert table.loc["feedback.score_mean", "value"] == pytest.approx(63.58)
    assert table.loc["feedback.spearman_counselor_response_time_score", "value"] == pytest.approx(
        -0.21
    )
    assert table.loc["feedback.spearman_client_chars_score", "source_kind"] == "secondary"
    assert table.loc["subsets.full.dialogues", "value"] == 6471
    assert table.loc["subsets.test.dialogues", "value"] == 118
    assert table.loc["peers.esconv.avg_turns", "value"] == pytest.approx(29.5)
    assert table.loc["peers.client_reactions.language", "printed"] == "Chinese"
    assert table.loc["finetune.generation.kokorochat_high.bleu_4", "printed"] == "6.00"
    assert table[table.index.str.startswith("finetune.")]["source_kind"].eq("secondary").all()
    jsai = table[table.index.str.startswith("finetune.score_prediction.jsai_slud105.")]
    assert len(jsai) == 6 and jsai["source"].str.contains("SIG-SLUD 105").all()


def test_reported_lookup():
    value = reported("stats.utterances.total")
    assert isinstance(value, ReportedValue)
    assert value.value == 600939 and value.decimals == 0
    assert value.display() == "600,939"
    assert reported("stats.avg_chars_per_utterance.total").default_tolerance == pytest.approx(0.005)
    assert reported("peers.augesc.language").value == "English"
    with pytest.raises(KeyError):
        reported("stats.no_such_number")


def test_reported_csv_holds_no_dialogue_text():
    text = REPORTED_CSV.read_text(encoding="utf-8")
    assert len(text.splitlines()) < 200
    assert 'dialogue":' not in text and "review_by_client" not in text


# --------------------------------------------------------------------------- gather + CLI


def _write_parts(tmp_path, *, differing: bool) -> None:
    stats = ReproductionLog("01_stats", tmp_path)
    stats.record("stats.avg_utterances_per_dialogue.total", 91.21 if differing else 91.204)
    stats.record("stats.dialogues.total", 6589)
    stats.record("stats.turns.avg_per_dialogue", 71.63, quantity="Mean merged turns per dialogue")
    stats.save()
    generation = ReproductionLog("06_generation", tmp_path)
    generation.record("finetune.generation.kokorochat_full.bleu_1", 12.5, expect="measured")
    generation.save()


def test_gather_writes_markdown_and_html_with_counts(tmp_path):
    _write_parts(tmp_path, differing=True)
    report = gather_report(tmp_path)
    assert report.counts["match"] == 1
    assert report.counts["differs"] == 1
    assert "not reported" not in report.counts
    assert report.counts["measured"] == 2
    assert report.counts["not checked"] == len(load_reported()) - 3
    assert report.failed["key"].tolist() == ["stats.avg_utterances_per_dialogue.total"]
    assert not report.ok
    md = report.markdown_path.read_text(encoding="utf-8")
    assert report.markdown_path == tmp_path / "reports" / "reproduction.md"
    assert (
        "1 match (1 place in the paper, 1 distinct quantity), 1 differs, 2 measured, "
        "0 descriptor, 0 not reproducible"
    ) in md
    statuses = [
        line.split(" | ")[0].strip("| ") for line in md.splitlines() if line.startswith("| ")
    ]
    assert statuses[2:] == ["match", "differs", "measured", "measured"]  # report order
    assert "- **measured**: computed here" in md  # every status defined at the top
    assert "| differs | 01_stats | Mean utterances per dialogue" in md
    assert "| `stats.avg_utterances_per_dialogue.total` |" in md  # the key last, as code
    assert "25.69 †" in md  # secondary source marked
    assert "half a unit of the last printed digit" in md
    page = report.html_path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert '<tr class="differs">' in page and '<tr class="match">' in page
    assert '<span class="differs">1 differs</span>' in page
    # gathering twice gives the same files
    again = gather_report(tmp_path)
    assert again.markdown_path.read_text(encoding="utf-8") == md
    assert again.html_path.read_text(encoding="utf-8") == page


def test_cli_exit_codes(tmp_path, capsys):
    assert main(["report", "--output-dir", str(tmp_path)]) == 2  # nothing recorded yet
    _write_parts(tmp_path, differing=False)
    assert main(["report", "--output-dir", str(tmp_path)]) == 0
    _write_parts(tmp_path, differing=True)
    assert main(["report", "--output-dir", str(tmp_path)]) == 1
    assert "stats.avg_utterances_per_dialogue.total" in capsys.readouterr().err


def test_command_entry_point(tmp_path):
    _write_parts(tmp_path, differing=True)
    result = subprocess.run(
        [sys.executable, "-m", "kokoro_analysis.cli", "report", "--output-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "stats.avg_utterances_per_dialogue.total" in result.stderr


def test_a_key_recorded_by_two_notebooks_fails_the_report(tmp_path):
    for notebook in ("03_feedback_scores", "04_finetuning_results"):
        log = ReproductionLog(notebook, tmp_path)
        log.record("subsets.test.dialogues", 118)
        log.save()
    with pytest.raises(
        DuplicateRecordError,
        match=r"subsets\.test\.dialogues: 03_feedback_scores, 04_finetuning_results",
    ):
        gather_report(tmp_path)
    assert main(["report", "--output-dir", str(tmp_path)]) == 1


def test_runs_of_one_notebook_with_other_parameters_share_the_owner(tmp_path):
    for notebook in ("04_finetuning_results", "04_finetuning_results_high"):
        log = ReproductionLog(notebook, tmp_path)
        log.record("subsets.test.dialogues", 118)
        log.save()
    assert gather_report(tmp_path).counts["match"] == 2


def test_match_within_tolerance_reads_as_such_and_differences_are_plain(tmp_path):
    log = ReproductionLog("02_topics", tmp_path)
    log.record("topics.share.interpersonal_issues", 4.64, tolerance=0.1)
    log.save()
    md = gather_report(tmp_path).markdown_path.read_text(encoding="utf-8")
    row = next(line for line in md.splitlines() if "topics.share.interpersonal_issues" in line)
    assert row.startswith("| match (±0.1) | 02_topics |")
    assert "\u22120.06" in row and "e-" not in row


def test_matches_count_places_and_distinct_quantities(tmp_path):
    log = ReproductionLog("01_stats", tmp_path)
    log.record("stats.dialogues.total", 6589)
    log.record("peers.kokorochat.dialogues", 6589)  # the same number printed in a second place
    log.record("stats.feedback_items", 20)
    log.save()
    report = gather_report(tmp_path)
    md = report.markdown_path.read_text(encoding="utf-8")
    assert "**3 match (3 places in the paper, 2 distinct quantities)," in md
    page = report.html_path.read_text(encoding="utf-8")
    assert "*match" not in page and "<em>match (±tolerance)</em>" in page  # Markdown rendered
    assert "table-layout: fixed" in page and "<colgroup>" in page  # fits the window


def test_report_on_a_missing_or_empty_output_folder_writes_nothing(tmp_path, capsys):
    from kokoro_analysis.cli import main

    missing = tmp_path / "never-run"
    assert main(["report", "--output-dir", str(missing)]) == 2
    assert "no report parts" in capsys.readouterr().err
    assert not missing.exists()
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    assert main(["report", "--output-dir", str(a_file)]) == 1
    err = capsys.readouterr().err
    assert "is not a folder" in err and "Traceback" not in err


def test_a_malformed_report_part_is_named(tmp_path):
    parts = tmp_path / "reports" / "parts"
    parts.mkdir(parents=True)
    (parts / "01_x.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"01_x\.json: not a reproduction-report part"):
        gather_report(tmp_path)
