"""What a notebook records: each number compared with the reported one by its status rules, saved as a
deterministic part, and shown as the report shows it."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from kokoro_analysis.publish.reproduction_log import (
    TABLE_COLUMNS,
    ReproductionLog,
    ReproductionRow,
    _display_ours,
    _signed,
    _unit_label,
    rows_frame,
    table_cells,
)
from kokoro_analysis.reported import _reported_values, topic_key

# --------------------------------------------------------------------------- status rules


def test_match_uses_printed_precision(tmp_path):
    log = ReproductionLog("01_stats", tmp_path)
    key = "stats.avg_utterances_per_dialogue.total"  # printed 91.20
    assert log.record(key, 91.204).status == "match"
    assert log.record(key, 91.195).status == "match"  # rounds half-up to 91.20
    assert log.record(key, 91.21).status == "differs"
    assert log.record(key, 91.2051).status == "differs"
    assert log.record("stats.utterances.total", 600939).status == "match"
    assert log.record("stats.utterances.total", 600940).status == "differs"
    assert (
        log.record(topic_key("Family Issues (Spouse)"), 100 * 438 / 6589).status == "match"
    )  # 6.647 -> 6.6


def test_explicit_tolerance(tmp_path):
    log = ReproductionLog("02_feedback", tmp_path)
    row = log.record("feedback.spearman_client_chars_score", 0.40, tolerance=0.03)
    assert row.status == "match" and row.difference == pytest.approx(-0.02)
    assert (
        log.record("feedback.spearman_client_chars_score", 0.38, tolerance=0.03).status == "differs"
    )
    with pytest.raises(ValueError):
        log.record("feedback.spearman_client_chars_score", 0.4, tolerance=-1)


def test_text_cells_compare_as_text(tmp_path):
    log = ReproductionLog("03_peers", tmp_path)
    assert log.record("peers.esconv.language", "english").status == "match"
    assert log.record("peers.esconv.manual", True).status == "match"
    assert log.record("peers.augesc.manual", True).status == "differs"
    assert log.record("peers.esconv.dialogues", "1300 dialogues").status == "differs"


def test_unreported_number_needs_quantity_and_is_measured(tmp_path):
    log = ReproductionLog("01_stats", tmp_path)
    with pytest.raises(KeyError):
        log.record("stats.turns.avg_per_dialogue", 71.63)
    row = log.record(
        "stats.turns.avg_per_dialogue", 71.63, quantity="Mean merged turns per dialogue"
    )
    assert row.status == "measured" and row.reported == "" and row.rule == "no reported value"
    assert row.ours_display == "71.63"
    # without a reported precision: one number of decimals per unit, whatever the size
    assert log.record("stats.people", 0.6247063, quantity="Dist-1").ours_display == "0.62"
    rho = log.record("stats.rho", -0.0054551, quantity="ρ", unit="rho")
    assert rho.ours_display == "-0.005"
    bleu = [log.record(f"b.{v}", v, quantity="BLEU", unit="x100") for v in (2.46e-12, 0.0, 15.08)]
    assert [row.ours_display for row in bleu] == ["0.00", "0.00", "15.08"]
    year = log.record("stats.first_year", 2020, quantity="First year", unit="year")
    assert year.ours_display == "2020"  # no thousands separator in a year


def test_measured_and_not_reproducible_never_match(tmp_path):
    log = ReproductionLog("06_generation", tmp_path)
    key = "finetune.generation.kokorochat_full.bleu_1"  # printed 25.69
    row = log.record(key, 25.69, expect="measured", note="small model measured here")
    assert row.status == "measured" and row.difference == pytest.approx(0)
    row = log.record("finetune.generation.gpt_4o.bleu_1", None, expect="not_reproducible")
    assert row.status == "not reproducible"
    with pytest.raises(ValueError):
        log.record(key, None)
    with pytest.raises(ValueError):
        log.record(key, 1.0, expect="close")
    with pytest.raises(ValueError):
        log.record(key, float("inf"))


def test_to_frame_and_numpy_values(tmp_path):
    import numpy as np

    log = ReproductionLog("notebooks/01_stats.ipynb", tmp_path)
    log.record("stats.dialogues.total", np.int64(6589))
    log.record("stats.avg_chars_per_utterance.total", np.float64(28.3912))
    frame = log.to_frame()
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.index) == ["stats.avg_chars_per_utterance.total", "stats.dialogues.total"]
    assert frame.loc["stats.avg_chars_per_utterance.total", "ours_display"] == "28.39 (28.3912)"
    assert set(frame["notebook"]) == {"01_stats"}


def test_save_is_deterministic_json(tmp_path):
    cells = {
        "stats.dialogues.total": 6589,
        "stats.utterances.total": 600939,
        "stats.avg_utterances_per_dialogue.total": 91.20,
    }

    def run(order):
        log = ReproductionLog("01_stats", tmp_path)
        for key in order:
            log.record(key, cells[key])
        return log.save().read_bytes()

    keys = list(cells)
    first, second = run(keys), run(list(reversed(keys)))
    assert first == second
    payload = json.loads(first)
    assert payload["notebook"] == "01_stats"
    assert [r["key"] for r in payload["rows"]] == sorted(keys)
    assert (tmp_path / "reports" / "parts" / "01_stats.json").exists()


# --------------------------------------------------------------------------- rows as shown


def test_years_have_no_thousands_separator(tmp_path):
    row = ReproductionLog("01_stats", tmp_path).record("stats.collection.first_year", 2020)
    assert row.status == "match" and row.reported == "2020" and row.ours_display == "2020"


def _display_row(**fields):
    base = dict(
        notebook="04", key="k", quantity="q", unit="", reported="", ours=None, ours_display="—",
        difference=None, rule="no reported value", expect="measured", status="measured",
        source_kind="", source="", note="",
    )  # fmt: skip
    return ReproductionRow(**{**base, **fields})


def _cells(*rows):
    return [dict(zip(TABLE_COLUMNS, cells)) for cells in table_cells(rows_frame(rows))]


def test_report_names_units_once_and_no_code():
    assert [_unit_label(u) for u in ("x100", "fraction", "percent", "rho", "count")] == [
        "×100", "%", "%", "", "count",
    ]  # fmt: skip
    for ref in _reported_values().values():  # the reported quantities read as text, not code
        assert not re.search(r"\b[a-z]+_[a-z_]+\b|\.main_|\+-|<=|>=|\brho\b", ref.quantity)
        assert not re.search(r"\((%|x100|×100|rho|percent|fraction)\)", ref.quantity)


def test_fractions_are_shown_in_percent_and_tiny_values_plainly():
    accuracy = _display_row(
        quantity="ACC", unit="fraction", reported="0.287", ours=0.2912, ours_display="0.291",
        difference=0.0042, rule="rounds to printed (3 dp)", status="differs", expect="match",
    )  # fmt: skip
    measured = _display_row(
        quantity="ACC_soft", unit="fraction", ours=0.41967, ours_display="0.4197"
    )
    tiny = _display_row(quantity="BLEU-1", unit="x100", ours=2.46e-12, ours_display="—")
    missing = _display_row(
        quantity="ACC", unit="fraction", reported="0.3535", status="not reproducible"
    )
    first, second, third, fourth = _cells(accuracy, measured, tiny, missing)
    assert (fourth["Reported"], fourth["Ours"]) == ("35.35", "—")
    negative = _display_row(reported="-0.21", ours=-0.2092, ours_display="-0.21 (-0.2092)")
    assert _cells(negative)[0]["Reported"] == "\u22120.21"
    assert _cells(negative)[0]["Ours"] == "\u22120.21 (\u22120.2092)"
    assert (first["Unit"], first["Reported"], first["Ours"]) == ("%", "28.7", "29.1 (29.12)")
    assert first["Δ"] == "+0.420" and first["Rule"] == "rounds to printed (1 dp, in %)"
    assert second["Ours"] == "41.97"
    assert _display_ours(2.46e-12, None, "x100") == "0.00"
    assert _signed(-3e-9) == "\u2212<0.0001"
    assert (third["Quantity"], third["Unit"]) == ("BLEU-1", "×100")


def test_a_reported_label_is_a_descriptor_not_a_missing_number(tmp_path):
    log = ReproductionLog("01_stats", tmp_path)
    row = log.record("peers.augesc.language", None, expect="not_reproducible")
    assert (row.status, row.reported) == ("descriptor", "English")
    number = log.record("peers.augesc.dialogues", None, expect="not_reproducible")
    assert number.status == "not reproducible"
