"""Text: MeCab tokens of every message (cached), lexical statistics and keyness."""
