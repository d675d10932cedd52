"""The client feedback of notebook 03.

* ``scores``: the total score, the 20 items and their reliability, the check flags;
  ``item_structure``: item correlations and factor structure; ``score_subsets``: the paper's score
  subsets, score tiers, mean scores with intervals; ``counselor_keyness``: counselor words of high- and
  low-scored sessions.
* ``session_measures``: per-session dialogue features (and per third of a session);
  ``score_features``: those features against the score; ``phase_correlations``: the same per phase.
* ``raters``: rater and counselor effects (ICC, influence, cluster sizes); ``variance_components``:
  the crossed REML model; ``experience_effects``: the counselor's experience.
* ``uncertainty``: the resampling schemes of every interval and how captions state them.

Conventions used throughout:

* *score* is the released 0–100 total (``schema.SCORE_RULE``); *item sum* is the plain sum of the 20
  items. Reliability, item–total and factor analyses use the items (and their sum), never ``score``,
  because the flags change ``score`` without changing the answers.
* ``method`` is ``"spearman"`` (Pearson on average ranks, ties get their mean rank) or ``"pearson"``.
* Bootstrap: percentile intervals. Sessions are nested in raters (``client_id``) and counselors
  (``counselor_id``), so next to the interval that resamples sessions (``ci_low``/``ci_high``) the
  tables give intervals that resample whole raters or whole counselors with all their sessions
  (``ci_low_rater``, ``ci_low_counselor``, …) and both at once (``ci_low_two_way``, the headline;
  :mod:`~kokoro_analysis.analyses.feedback.uncertainty`). Resamples are drawn as a matrix of counts
  (one row per resample), so every statistic is computed for all resamples at once; Spearman ρ of a
  resample uses the ranks *within that resample* (mid-ranks of tied values), i.e. exactly what
  ``scipy.stats.spearmanr`` gives on the resampled rows. Each table function records its parameters
  in ``frame.attrs`` (``uncertainty.describe_run``: correlation, resamples, the headline interval),
  and each published table is declared once at the end of its module
  (:class:`kokoro_analysis.published.TableSpec`, caption and method statement included).
"""
