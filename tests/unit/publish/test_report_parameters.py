"""Runs with non-default parameters are named in the reproduction report."""

from __future__ import annotations

from kokoro_analysis.publish.reproduction import gather_report
from kokoro_analysis.publish.reproduction_log import ReproductionLog


def test_non_default_parameters_reach_the_report(tmp_path):
    ReproductionLog("01_corpus_statistics", tmp_path).save()
    ReproductionLog("02_topic_distribution", tmp_path, {"seed": 3, "lang": "ja"}).save()
    report = gather_report(tmp_path)
    assert report.parameters == {"02_topic_distribution": {"lang": "'ja'", "seed": "3"}}
    line = "non-default parameters: 02_topic_distribution: lang='ja', seed=3"
    assert report.parameters_line == line
    assert (
        "Non-default parameters: 02_topic_distribution: lang='ja', seed=3"
        in report.markdown_path.read_text(encoding="utf-8")
    )
    assert "lang=&#x27;ja&#x27;, seed=3" in report.html_path.read_text(encoding="utf-8")


def test_default_runs_add_nothing(tmp_path):
    path = ReproductionLog("01_corpus_statistics", tmp_path, {}).save()
    assert "parameters" not in path.read_text(encoding="utf-8")
    report = gather_report(tmp_path)
    assert report.parameters_line == "" and "parameters" not in report.markdown_path.read_text(
        encoding="utf-8"
    )
