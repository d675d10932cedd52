"""Figure functions, one module per analysis. Each takes tidy data and returns a matplotlib Figure;
style, fonts and saving live in :mod:`kokoro_analysis.charts.style`."""
