"""The release: finding it, reading its records, validating them and loading the session and message
tables (plus the ESConv peer corpus and synthetic sessions for tests)."""
