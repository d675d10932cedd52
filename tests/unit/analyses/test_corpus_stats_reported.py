"""corpus_stats_reported: our statistics at the printed precision (rounded half up) next to the authors'
values."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kokoro_analysis.analyses import corpus_stats as cs
from kokoro_analysis.analyses import corpus_stats_reported as reported
from kokoro_analysis.corpus import schema


def test_statistics_vs_reported_rounds_half_up():
    table = pd.DataFrame(np.nan, index=list(cs.STAT_ROWS), columns=list(schema.ROLE_COLUMNS))
    table.loc["avg_utterances_per_dialogue", "total"] = (
        91.195  # stored as 91.19499...; printed as people round
    )
    table.loc["avg_chars_per_utterance", "client"] = 20.634
    versus = reported.statistics_vs_reported(table).set_index("key")
    assert versus.loc["stats.avg_utterances_per_dialogue.total", "ours_printed"] == "91.20"
    assert versus.loc["stats.avg_chars_per_utterance.client", "ours_printed"] == "20.63"
    assert versus.loc["stats.avg_chars_per_utterance.client", "same_as_printed"]
