"""One module per analysis notebook: corpus statistics (01), topics (02), client feedback (03)."""
