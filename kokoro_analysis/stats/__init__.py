"""General statistics used by the analyses. Nothing here knows the corpus.

* :mod:`~kokoro_analysis.stats.distributions`: Student-t intervals, descriptions, means per group with
  cluster-bootstrap intervals, a kernel density for bounded data.
* :mod:`~kokoro_analysis.stats.p_values`: printing, multiplicity corrections, a permutation χ² test.
* :mod:`~kokoro_analysis.stats.resampling`: session, cluster and two-way bootstrap weights, percentile
  and BCa intervals, Monte Carlo errors.
* :mod:`~kokoro_analysis.stats.correlation`: Spearman / Pearson correlations with bootstrap intervals,
  within clusters, partial.
* :mod:`~kokoro_analysis.stats.fixed_effects`: two-way residuals, within-cluster correlations and
  regressions, fixed-effects slopes with cluster-robust standard errors.
* :mod:`~kokoro_analysis.stats.icc`: ICC(1) by ANOVA and REML with cluster-bootstrap intervals.
* :mod:`~kokoro_analysis.stats.ordinal`: polychoric correlations and ordinal alpha.
* :mod:`~kokoro_analysis.stats.golden_section`: many one-dimensional minimisations at once.
"""
