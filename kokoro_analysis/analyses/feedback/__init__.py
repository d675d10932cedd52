"""The client feedback of notebook 03: the score and its items (``scores``), item correlations and
factor structure (``item_structure``), dialogue features against the score (``score_features``) and
rater, counselor and experience effects (``raters``)."""
