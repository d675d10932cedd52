"""Tokens that are not words: paralinguistic marks, emoji, pseudonym letters and URL fragments.

MeCab tags the laughter mark （笑） as the noun 笑 ("laugh") and a pseudonym like A子 as the noun A, so
without this class they top word lists (笑 was rank 5 of the high-score keyness words). Each token gets
one class of :data:`TOKEN_CLASSES` (or none) from its surface and its neighbours in the message:

* ``laugh``: 笑 standing alone as a token (（笑）, (笑), a 笑 ending: そうです笑; the verb 笑う and the
  noun 笑い are spelled 笑っ, 笑い... and are words), and runs of w/ｗ (ｗｗｗ);
* ``cry``: 泣 standing alone as a token (（泣）, 泣 endings);
* ``emoji``: a token with a pictographic character (U+1F000–U+1FAFF, dingbats U+2700–U+27BF and the
  emoji of U+2600–U+26FF: ☀☁☂☔☕☺⚡⛄; not ♪ or ☆, which are punctuation here);
* ``letter``: a single Latin letter (A, Ａ, b), the pseudonyms of the role-play (A子, Aさん), and the
  子 of such a name;
* ``url``: the tokens of a web address (from http/https/www through the following URL characters) and
  percent-encoded bytes (%E3%81%82: the hex digits after each %).

Marks are counted (:func:`mark_counts`); every class is left out of content words
(:meth:`kokoro_analysis.text.tokens.Tokens.content`).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from kokoro_analysis.published import TableSpec, Words, register
from kokoro_analysis.text.categories import codes_in
from kokoro_analysis.text.token_results import cached_by_tokens

TOKEN_CLASSES = ("laugh", "cry", "emoji", "letter", "url")
"""Non-word token classes; the first three are the paralinguistic marks counted per group."""
MARK_CLASSES = ("laugh", "cry", "emoji")
"""Classes of :data:`TOKEN_CLASSES` that are paralinguistic marks (the rest are artefacts)."""

_LAUGH = re.compile(r"^(笑|[wｗ]+)$")
_CRY = re.compile(r"^泣$")
_LETTER = re.compile(r"^[A-Za-zＡ-Ｚａ-ｚ]$")
_EMOJI = re.compile(
    "[\U0001f000-\U0001faff\u2700-\u27bf\u2600-\u2603\u2614\u2615\u263a\u2639\u26a1\u26c4\u26c5]"
)
_URL_START = re.compile(r"^(https?|www)$", re.IGNORECASE)
_URL_PART = re.compile(r"^[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%：／．？＝＆＿－％]+$")
_HEX = re.compile(r"^[0-9A-Fa-f]{1,2}$")
_PERCENT = ("%", "％")


def classify_surfaces(surfaces) -> np.ndarray:
    """The context-free class of each distinct surface (index into :data:`TOKEN_CLASSES`, -1 none):
    laugh, cry, emoji or letter."""
    out = np.full(len(surfaces), -1, dtype=np.int8)
    for i, text in enumerate(surfaces):
        text = str(text)
        if _LAUGH.match(text):
            out[i] = 0
        elif _CRY.match(text):
            out[i] = 1
        elif _EMOJI.search(text):
            out[i] = 2
        elif _LETTER.match(text):
            out[i] = 3
    return out


def token_classes(table: pd.DataFrame) -> np.ndarray:
    """Class of every token of a token table (index into :data:`TOKEN_CLASSES`, -1 for words), from
    its ``surface`` and, for URL fragments, the tokens before it in its message (``utterance``)."""
    surface = table["surface"]
    if not isinstance(surface.dtype, pd.CategoricalDtype):
        surface = surface.astype("category")
    names = np.asarray(surface.cat.categories.astype(str), dtype=object)
    codes = surface.cat.codes.to_numpy()
    by_name = np.append(classify_surfaces(names), -1)  # code -1 (missing) -> none
    classes = by_name[codes]
    owners = table["utterance"].to_numpy()
    letter = TOKEN_CLASSES.index("letter")
    after_letter = (
        np.flatnonzero(
            (classes[:-1] == letter)
            & (owners[1:] == owners[:-1])
            & codes_in(codes[1:], _codes_of(names, "子"), len(names))
        )
        + 1
    )
    classes[after_letter] = letter  # A子: the name's 子 is not the word "child"
    url = _url_tokens(codes, names, owners)
    classes[url] = TOKEN_CLASSES.index("url")
    return classes


def _codes_of(names: np.ndarray, *wanted: str) -> np.ndarray:
    return np.flatnonzero(np.isin(names, list(wanted)))


def _url_tokens(codes: np.ndarray, names: np.ndarray, owners: np.ndarray) -> np.ndarray:
    """Positions of the tokens of web addresses and of percent-encoded bytes."""
    part = np.array([bool(_URL_PART.match(n)) for n in names] + [False])
    hex_like = np.array([bool(_HEX.match(n)) for n in names] + [False])
    starts = np.flatnonzero(np.isin(names, [n for n in names if _URL_START.match(n)]))
    percents = np.flatnonzero(np.isin(names, _PERCENT))
    found: list[int] = []
    for start in np.flatnonzero(codes_in(codes, starts, len(names))):
        end = start
        while end < len(codes) and owners[end] == owners[start] and part[codes[end]]:
            found.append(end)
            end += 1
    for at in np.flatnonzero(codes_in(codes, percents, len(names))):
        taken = 0
        at += 1
        while at < len(codes) and owners[at] == owners[at - 1] and hex_like[codes[at]]:
            taken += len(names[codes[at]])
            if taken > 2:
                break
            found.append(at)
            at += 1
    return np.asarray(sorted(set(found)), dtype=np.int64)


def non_word_mask(table: pd.DataFrame) -> np.ndarray:
    """Boolean mask of the tokens of any class of :data:`TOKEN_CLASSES`."""
    return token_classes(table) >= 0


def mark_counts(table: pd.DataFrame, groups: pd.DataFrame, *, by: str) -> pd.DataFrame:
    """Tokens of each class of :data:`TOKEN_CLASSES` and messages with at least one, per value of the
    column ``by`` of ``groups`` (one row per message, indexed like the ``utterance`` labels of
    ``table``; messages without tokens count in ``messages``).

    Columns: ``by``, ``messages``, then for each class ``<class>_tokens`` and ``<class>_messages``
    and ``<class>_per_1000`` (messages with the class per 1,000 messages of the group)."""
    classes = token_classes(table)
    keep = classes >= 0
    owners = table["utterance"].to_numpy()[keep]
    found = pd.DataFrame(
        {
            "utterance": owners,
            "class": np.asarray(TOKEN_CLASSES, dtype=object)[classes[keep]],
        }
    )
    found[by] = groups[by].reindex(found["utterance"]).to_numpy()
    totals = groups.groupby(by, observed=True, sort=True).size().rename("messages")
    frame = totals.to_frame()
    for name in TOKEN_CLASSES:
        mine = found[found["class"] == name]
        frame[f"{name}_tokens"] = mine.groupby(by, observed=True).size()
        frame[f"{name}_messages"] = (
            mine.drop_duplicates("utterance").groupby(by, observed=True).size()
        )
    frame = frame.fillna(0).astype(np.int64)
    for name in TOKEN_CLASSES:
        frame[f"{name}_per_1000"] = (
            1000.0 * frame[f"{name}_messages"] / frame["messages"].clip(lower=1)
        )
    return frame.rename_axis(by).reset_index()


@cached_by_tokens(uses=("role", "dialogue_id"))
def mark_table(
    tokens, utterances: pd.DataFrame, session_groups: dict[str, pd.Series]
) -> pd.DataFrame:
    """:func:`mark_counts` of ``tokens`` (a :class:`~kokoro_analysis.text.tokens.Tokens`, whose result
    is cached when it has a key, or its table) per role and per each session attribute of
    ``session_groups`` (name -> Series indexed by ``dialogue_id``, e.g. the main topic and the score
    band), stacked: columns ``by`` (``role`` or the attribute's name), ``group``, then those of
    :func:`mark_counts`."""
    table = getattr(tokens, "table", tokens)
    groups = pd.DataFrame(
        {"role": utterances["role"].astype(str).to_numpy()}, index=utterances.index
    )
    for name, values in session_groups.items():
        groups[name] = values.reindex(utterances["dialogue_id"].to_numpy()).astype(str).to_numpy()
    parts = [
        mark_counts(table, groups, by=by).rename(columns={by: "group"}).assign(by=by)
        for by in groups.columns
    ]
    frame = pd.concat(parts, ignore_index=True)
    return frame[["by", "group", *[c for c in frame.columns if c not in ("by", "group")]]]


MARKS = TableSpec(
    "corpus_paralinguistic_marks",
    title=Words(
        "Paralinguistic marks and non-word tokens per role, main topic and score band: tokens and "
        "messages with laughter marks （笑）/笑/w, crying marks （泣）, emoji; pseudonym letters (A子) and "
        "URL or percent-encoded fragments, which word lists leave out.",
        "役割・メイントピック・スコア帯別のパラ言語記号と非語トークン：笑い（（笑）・笑・w）、泣き（（泣））、"
        "絵文字のトークン数とメッセージ数、語リストから除く仮名の英字（A子）と URL・パーセント符号化の断片。",
    ),
    index=False,
    thousands=True,
    number_format="{:.2f}",
)
"""The marks table of notebook 01 (a data table: CSV and Markdown)."""
TABLES = register(MARKS)
