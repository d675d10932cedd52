"""Results of a whole token table kept in the cache (:func:`kokoro_analysis.cache.cached_value`), so a
warm notebook run does not count ten million tokens again: :func:`cached_by_tokens`."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from kokoro_analysis.cache import cached_value, value_digest

TOKEN_RESULTS_FORMAT = 1
"""Bump when what :func:`cached_by_tokens` stores changes shape."""


def cached_by_tokens(*, uses: tuple[str, ...]) -> Callable:
    """Decorator for ``function(tokens, utterances, *args, **options)`` whose result depends only on
    the tokens, the columns ``uses`` of ``utterances`` (with their index) and the other arguments: the
    result is kept in the cache under the function's name, ``tokens.key``
    (:attr:`~kokoro_analysis.text.tokens.Tokens.key`), those columns and arguments (pickled, see
    :func:`~kokoro_analysis.cache.value_digest`), the package's code and the installed libraries.
    Computed as usual for a table without a key (a restricted one) or arguments that cannot be
    pickled."""

    def decorate(function: Callable) -> Callable:
        @functools.wraps(function)
        def cached(tokens, utterances, *args: Any, **options: Any):
            def compute():
                return function(tokens, utterances, *args, **options)

            if getattr(tokens, "key", None) is None:
                return compute()
            inputs = value_digest(utterances[list(uses)], args, sorted(options.items()))
            if inputs is None:
                return compute()
            key_parts = [f"{function.__module__}.{function.__qualname__}", tokens.key, inputs]
            return cached_value("token-results", TOKEN_RESULTS_FORMAT, key_parts, compute)

        return cached

    return decorate
