#!/usr/bin/env python
"""Unknown-word rate of the full corpus with unidic-lite: MeCab alone, the merge rule before issue 25
(six compounds merged after MeCab, not isolated), and the current rule (README, "Tokens").

    python scripts/unknown_words.py [--data PATH]
"""

from __future__ import annotations

import argparse

from kokoro_analysis import load_corpus
from kokoro_analysis.text.compounds import COMPOUNDS
from kokoro_analysis.text.coverage import unknown_word_rate

BEFORE = {
    w: COMPOUNDS[w] for w in ("リスカ", "アムカ", "リストカット", "希死念慮", "モラハラ", "毒親")
}
"""The merged words before issue 25."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="KokoroChat release (default: $KOKOROCHAT_DATA)")
    args = parser.parse_args()
    texts = load_corpus(args.data).utterances["text"].tolist()
    for name, options in (
        ("MeCab alone", {"compounds": None, "isolate": False}),
        ("before (6 compounds merged)", {"compounds": BEFORE, "isolate": False}),
        (f"after ({len(COMPOUNDS)} compounds isolated and merged)", {}),
    ):
        result = unknown_word_rate(texts, **options)
        print(
            f"{name}: {result['unknown']:,} unknown of {result['tokens']:,} tokens "
            f"({100 * result['rate']:.3f} %)",
            flush=True,
        )


if __name__ == "__main__":
    main()
