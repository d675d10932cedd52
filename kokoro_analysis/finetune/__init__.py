"""Fine-tuning (notebook 04): the training and test data as the paper built them (``data``), the
metrics (``metrics``), measured baselines (``baselines``), scoring predictions files
(``predictions``) and the result tables (``results``)."""
