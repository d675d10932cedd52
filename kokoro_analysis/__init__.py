"""Reference analysis toolkit for KokoroChat (Qi et al., ACL 2025).

Terms used throughout the package:

* **session** / **dialogue**: one counseling conversation, one JSON file upstream.
* **utterance**: one stored message (one element of the upstream ``dialogue`` list).
  Consecutive messages of one speaker are *not* merged.
* **turn**: a maximal run of consecutive utterances by the same speaker, merged.
* **length**: number of characters (``len()`` of the unnormalised text).
"""

__version__ = "0.1.0"

_EXPORTS = {
    "Corpus": "kokoro_analysis.corpus.loading",
    "load_corpus": "kokoro_analysis.corpus.loading",
    "merge_turns": "kokoro_analysis.corpus.loading",
    "DataNotFoundError": "kokoro_analysis.corpus.validation",
    "KokoroDataError": "kokoro_analysis.corpus.validation",
    "ValidationReport": "kokoro_analysis.corpus.validation",
    "Tokens": "kokoro_analysis.text.tokens",
    "tokenize_corpus": "kokoro_analysis.text.token_cache",
}
"""The public names, imported on first use (PEP 562), so that ``kokoro-analysis --version`` and
``--help`` do not import pandas."""


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'kokoro_analysis' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


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
