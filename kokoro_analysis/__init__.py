"""Reference analysis toolkit for KokoroChat (Qi et al., ACL 2025).

Terms used throughout the package:

* **session** / **dialogue**: one counseling conversation, one JSON file upstream.
* **utterance**: one stored message (one element of the upstream ``dialogue`` list).
  Consecutive messages of one speaker are *not* merged.
* **turn**: a maximal run of consecutive utterances by the same speaker, merged.
* **length**: number of characters (``len()`` of the unnormalised text).
"""

__version__ = "0.1.0"

from kokoro_analysis.corpus.loading import Corpus, load_corpus, merge_turns
from kokoro_analysis.corpus.validation import DataNotFoundError, KokoroDataError, ValidationReport
from kokoro_analysis.text.mecab import Tokens, tokenize_corpus

__all__ = [
    "Corpus",
    "DataNotFoundError",
    "KokoroDataError",
    "Tokens",
    "ValidationReport",
    "load_corpus",
    "merge_turns",
    "tokenize_corpus",
]
