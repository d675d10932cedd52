"""The feedback tables whose bootstraps or shuffles take seconds are kept in the package cache, so a
warm run of notebook 03 reads them: :func:`cached_table` keys an entry on a digest of every input the
computation reads (:func:`inputs_digest`: the data, the cluster labels, every parameter) and stores it
with :func:`kokoro_analysis.cache.cached_frame`. A table's ``attrs`` (its caption's parameters) are not
stored: the table functions set them after reading, from their parameters.

Tables cached apart can share a computation (a bootstrap two tables print): :func:`recall` and
:func:`remember` keep such intermediate results in this process under a digest of their inputs, so a
cold run computes each once."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from kokoro_analysis.cache import cached_frame
from kokoro_analysis.stats.resampling import TwoWay


def cached_table(
    kind: str, version: int, inputs: list, compute: Callable[[], pd.DataFrame]
) -> pd.DataFrame:
    """``compute()``, or the frame a previous call with the same ``inputs`` stored under
    ``feedback-<kind>`` in format ``version`` (raise it when the computation changes)."""
    return cached_frame(f"feedback-{kind}", version, [inputs_digest(*inputs)], compute)


MEMO_ENTRIES = 256
"""How many intermediate results :func:`remember` keeps (the least recently used go first)."""

_MEMO: OrderedDict[bytes, object] = OrderedDict()


def recall(key: bytes):
    """What :func:`remember` kept under ``key`` (an :func:`inputs_digest` of everything the result
    depends on) in this process, or None."""
    if key not in _MEMO:
        return None
    _MEMO.move_to_end(key)
    return _MEMO[key]


def remember(key: bytes, value) -> None:
    """Keep ``value`` under ``key`` for :func:`recall` (the last :data:`MEMO_ENTRIES` values)."""
    _MEMO[key] = value
    _MEMO.move_to_end(key)
    while len(_MEMO) > MEMO_ENTRIES:
        _MEMO.popitem(last=False)


def inputs_digest(*inputs) -> bytes:
    """SHA-256 of ``inputs``: DataFrames and Series (column names, dtypes, index and values), arrays,
    :class:`~kokoro_analysis.stats.resampling.TwoWay` labels, mappings and sequences of these (in
    their order), bytes (e.g. another digest) and scalars (``repr``). Every part is tagged and length-prefixed, so different inputs
    cannot run together into the same bytes."""
    digest = hashlib.sha256()
    for value in inputs:
        _add(digest, value)
    return digest.digest()


def _part(digest, tag: bytes, data: bytes) -> None:
    digest.update(tag + len(data).to_bytes(8, "little"))
    digest.update(data)


def _add(digest, value) -> None:
    if isinstance(value, pd.DataFrame | pd.Series):
        frame = value.to_frame() if isinstance(value, pd.Series) else value
        names = repr([(str(c), str(t)) for c, t in frame.dtypes.items()]) + repr(value.index.names)
        _part(digest, b"frame", names.encode())
        _part(digest, b"rows", pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    elif isinstance(value, np.ndarray):
        _part(digest, b"array", repr((value.dtype.str, value.shape)).encode())
        _add(digest, pd.Series(value.ravel()))
    elif isinstance(value, TwoWay):
        _part(digest, b"two-way", repr(value.persons).encode())
        _add(digest, value.first)
        _add(digest, value.second)
    elif isinstance(value, Mapping):
        _part(digest, b"mapping", str(len(value)).encode())
        for key, item in value.items():
            _add(digest, key)
            _add(digest, item)
    elif isinstance(value, list | tuple):
        _part(digest, b"sequence", str(len(value)).encode())
        for item in value:
            _add(digest, item)
    elif isinstance(value, bytes):
        _part(digest, b"bytes", value)
    elif value is None or isinstance(value, str | int | float | bool | np.generic):
        _part(digest, b"scalar", repr(value).encode())
    else:
        raise TypeError(f"cannot digest a {type(value).__name__} for the cache key")
