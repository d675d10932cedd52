"""Synthetic KokoroChat sessions in the upstream schema, for tests and examples.

The dataset's licence (CC BY-NC-ND 4.0) forbids redistributing it or modified copies, so tests never
ship real sessions: they build these instead. The sentences are invented; the schema, the topic labels,
the feedback items and the score rule are the real ones.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from kokoro_analysis.corpus import schema
from kokoro_analysis.corpus.translation_sources import TRANSLATION_FOLDERS

TOPICS = (
    (
        "家庭内問題（夫婦以外）",
        "Family Issues (Non-Spousal)",
        ["親との関係に悩んでいる", "子育ての不安と疲れ", "家族の介護による負担"],
    ),
    (
        "職場問題",
        "Workplace Issues",
        [
            "上司からのパワハラによるストレス",
            "仕事でのミスが続くことによる焦り",
            "残業が多く疲れている",
        ],
    ),
    (
        "心理的問題",
        "Mental Health Issues",
        ["気分が落ち込み眠れない", "将来への不安が強い", "孤独を感じてつらい"],
    ),
    (
        "学校問題",
        "School Issues",
        ["クラスでいじめを受けている", "学校に行きたくない", "友人関係がうまくいかない"],
    ),
    (
        "進路・キャリア問題",
        "Career and Educational Issues",
        ["就職活動がうまくいかない", "受験のプレッシャー", "転職するか迷っている"],
    ),
    ("恋愛問題", "Romantic Issues", ["恋人の浮気に悩んでいる", "失恋から立ち直れない"]),
    ("家庭内問題（夫婦）", "Family Issues (Spouse)", ["夫が家事を手伝わない", "妻との会話がない"]),
    ("人間関係", "Interpersonal Issues", ["友人に無視されている", "職場の同僚との誤解"]),
    ("経済的問題", "Financial Issues", ["借金の返済が苦しい", "ギャンブルがやめられない"]),
    ("身体的健康問題", "Physical Health Issues", ["体調不良が続いている"]),
    ("その他", "Others", ["特に相談したいことがまとまらない"]),
)

COUNSELOR_LINES = (
    "こんにちは。相談員です。",
    "今日はどのようなご相談ですか？",
    "そうなんですね。それはつらいですね。",
    "もう少し詳しく教えていただけますか？",
    "お話ししてくださってありがとうございます。",
    "そのとき、どんなお気持ちでしたか？",
    "大変な中、よく頑張ってこられたのですね。",
    "ここまでのお話をまとめると、不安が大きいということですね。",
    "これからどうしていきたいと思われますか？",
    "少しでも気持ちが楽になればと思います。",
)
CLIENT_LINES = (
    "こんにちは。よろしくお願いします。",
    "最近、仕事のことで悩んでいて。",
    "なかなか眠れないんです。",
    "家族にも相談できなくて",
    "どうしたらいいのかわからない",
    "はい、そうです。",
    "ありがとうございます。",
    "少し気持ちが整理できました。",
    "自分が情けなくて",
    "学校に行くのがつらいです。",
)


def make_session(
    dialogue_id: int, rng: np.random.Generator, *, n_messages: int | None = None
) -> dict:
    """One synthetic session as the upstream JSON object (ids, topic, messages, both reviews)."""
    main_jp, main_en, subs = TOPICS[int(rng.integers(len(TOPICS)))]
    dialogue, end = _make_dialogue(rng, n_messages or int(rng.integers(6, 40)))
    review_en = _make_review(dialogue_id, end + timedelta(minutes=30), rng)
    review_ja = dict(zip(schema.REVIEW_KEYS_JA, review_en.values()))
    return {
        "dialogue": dialogue,
        "topic": {
            "main_jp": main_jp,
            "main_en": main_en,
            "sub": str(subs[int(rng.integers(len(subs)))]),
        },
        "review_by_client_jp": review_ja,
        "review_by_client_en": review_en,
    }


def _make_dialogue(rng: np.random.Generator, n_messages: int) -> tuple[list[dict], datetime]:
    """``n_messages`` messages from a random start (the speaker changes with probability 0.7), and
    the time after the last one."""
    time = datetime(
        2020 + int(rng.integers(0, 5)),
        int(rng.integers(1, 13)),
        int(rng.integers(1, 28)),
        int(rng.integers(9, 20)),
        int(rng.integers(0, 60)),
    )
    dialogue = []
    role = "counselor"
    for _ in range(n_messages):
        lines = COUNSELOR_LINES if role == "counselor" else CLIENT_LINES
        dialogue.append(
            {
                "role": role,
                "time": time.strftime(schema.TIME_FORMAT),
                "utterance": str(lines[int(rng.integers(len(lines)))]),
            }
        )
        time += timedelta(seconds=int(rng.integers(5, 120)))
        if rng.random() < 0.7:
            role = "client" if role == "counselor" else "counselor"
    return dialogue, time


def _make_review(dialogue_id: int, created: datetime, rng: np.random.Generator) -> dict:
    """The English review: ids, items and flags drawn, the score by the score rule."""
    quality = float(rng.uniform(0.3, 0.97))  # spreads scores over the low, high and test subsets
    items = [int(x) for x in rng.binomial(5, quality, size=len(schema.ITEMS))]
    flags = [None, None, None]
    draw = rng.random()
    if draw < 0.05:
        flags[2] = schema.FLAG_SET_VALUE
    elif draw < 0.07:
        flags[int(rng.integers(0, 2))] = schema.FLAG_SET_VALUE
    score = schema.expected_score(sum(items), *(f is not None for f in flags))
    values = [
        dialogue_id,
        created.strftime(schema.TIME_FORMAT),
        int(rng.integers(1, 15)),
        int(rng.integers(1, 12)),
        score,
        *items,
        *flags,
    ]
    return dict(zip(schema.REVIEW_KEYS_EN, values))


def make_corpus(n_sessions: int = 60, seed: int = 0) -> dict[int, dict]:
    """``n_sessions`` synthetic sessions keyed by id. Item answers are drawn so that every score
    subset (low, high, test) is populated when ``n_sessions`` is large enough (≥ 30)."""
    rng = np.random.default_rng(seed)
    sessions = {}
    for dialogue_id in range(1, n_sessions + 1):
        session = make_session(dialogue_id, rng)
        if dialogue_id % 10 == 0:  # a high scorer for the test pool (score ≥ 99)
            _set_items(session, [5] * 19 + [int(rng.integers(4, 6))])
        sessions[dialogue_id] = session
    return sessions


def _set_items(session: dict, items: list[int]) -> None:
    review_en, review_ja = session["review_by_client_en"], session["review_by_client_jp"]
    for item, value in zip(schema.ITEMS, items):
        review_en[item.upstream_key] = review_ja[item.label_ja] = value
    for flag in schema.FLAGS:
        review_en[flag.key] = review_ja[flag.label_ja] = None
    review_en["score"] = review_ja["点数"] = sum(items)


def write_corpus(folder: str | os.PathLike, sessions: dict[int, dict]) -> Path:
    """Write sessions as ``<folder>/kokorochat_dialogues/<id>.json`` (a repository-like layout)."""
    target = Path(folder) / "kokorochat_dialogues"
    target.mkdir(parents=True, exist_ok=True)
    for dialogue_id, session in sessions.items():
        (target / f"{dialogue_id}.json").write_text(
            json.dumps(session, ensure_ascii=False, indent=2), encoding="utf-8"
        )
    return Path(folder)


def write_synthetic_corpus(folder: str | os.PathLike, n_sessions: int = 60, seed: int = 0) -> Path:
    """Build and write a synthetic corpus; returns ``folder`` (pass it to ``load_corpus``)."""
    return write_corpus(folder, make_corpus(n_sessions, seed))


# --------------------------------------------------------------------------- translations

LINE_TRANSLATIONS = {
    "en": dict(
        zip(
            COUNSELOR_LINES + CLIENT_LINES,
            (
                "Hello. I'm the counselor.",
                "What would you like to talk about today?",
                "I see. That sounds hard.",
                "Could you tell me a little more?",
                "Thank you for telling me.",
                "How did you feel at that time?",
                "You have worked so hard through all this.",
                "So, to sum up, your worries are weighing on you.",
                "What would you like to do from here?",
                "I hope you can feel a little lighter.",
                "Hello. Thank you for seeing me.",
                "I have been worried about work lately.",
                "I just can't sleep.",
                "I can't talk to my family about it either",
                "I don't know what to do",
                "Yes, that's right.",
                "Thank you.",
                "I feel a bit more organised now.",
                "I feel so pathetic",
                "Going to school is hard.",
            ),
        )
    ),
    "zh": dict(
        zip(
            COUNSELOR_LINES + CLIENT_LINES,
            (
                "你好。我是咨询师。",
                "今天想聊些什么呢？",
                "是这样啊。那一定很难受。",
                "能再详细说说吗？",
                "谢谢你告诉我。",
                "那时你是什么感受？",
                "在这么困难的情况下，你真的很努力了。",
                "总结一下，你的不安很强烈。",
                "今后你想怎么做呢？",
                "希望你的心情能轻松一些。",
                "你好。请多关照。",
                "最近因为工作的事情很烦恼。",
                "总是睡不着。",
                "也没法和家人商量",
                "不知道该怎么办",
                "是的，没错。",
                "谢谢。",
                "心情稍微整理好了一些。",
                "觉得自己很没用",
                "去学校很痛苦。",
            ),
        )
    ),
}
"""Invented translations of the synthetic sentences (English, Chinese)."""

TRANSLATION_DEFECTS = (
    "misaligned",
    "wrong_origin",
    "wrong_role",
    "wrong_time",
    "dropped_message",
    "wrong_topic",
    "wrong_review",
)
"""Tampering :func:`tamper_translation` applies; each must be reported as a mismatch."""


def make_translation(session: dict, translation: str = "en") -> dict:
    """The Multilingual KokoroChat file of a synthetic session: every message with ``role``, ``time``,
    ``origin`` (the Japanese text) and ``content`` (its invented translation), ``topic`` and
    ``review_by_client`` (the English review)."""
    lines = LINE_TRANSLATIONS[translation]
    dialogue = [
        {
            "role": m["role"],
            "time": m["time"],
            "origin": m["utterance"],
            "content": lines.get(m["utterance"], f"[{translation}] {m['utterance']}"),
        }
        for m in session["dialogue"]
    ]
    return {
        "dialogue": dialogue,
        "topic": dict(session["topic"]),
        "review_by_client": dict(session["review_by_client_en"]),
    }


def make_translations(
    sessions: dict[int, dict],
    translation: str = "en",
    *,
    missing: tuple[int, ...] = (),
    empty: tuple[tuple[int, int], ...] = (),
) -> dict[int, dict]:
    """Translations of ``sessions`` keyed by id, as the release has them: without the sessions in
    ``missing`` and with an empty ``content`` at each (session id, message index) of ``empty``."""
    translations = {
        i: make_translation(s, translation) for i, s in sessions.items() if i not in missing
    }
    for dialogue_id, index in empty:
        translations[dialogue_id]["dialogue"][index]["content"] = ""
    return translations


def tamper_translation(translation: dict, defect: str, index: int = 1) -> dict:
    """A copy of ``translation`` with one defect of :data:`TRANSLATION_DEFECTS` at message ``index``:
    two messages swapped (``index`` and ``index + 1``, so they no longer align with the original), a
    changed ``origin``, ``role`` or ``time``, a message removed, or a changed topic or review score."""
    copy = json.loads(json.dumps(translation))
    dialogue = copy["dialogue"]
    if defect == "misaligned":
        dialogue[index], dialogue[index + 1] = dialogue[index + 1], dialogue[index]
    elif defect == "wrong_origin":
        dialogue[index]["origin"] += "（改変）"
    elif defect == "wrong_role":
        dialogue[index]["role"] = (
            "client" if dialogue[index]["role"] == "counselor" else "counselor"
        )
    elif defect == "wrong_time":
        dialogue[index]["time"] = "1999-01-01T00:00:00"
    elif defect == "dropped_message":
        del dialogue[index]
    elif defect == "wrong_topic":
        copy["topic"]["main_en"] = "Something Else"
    elif defect == "wrong_review":
        copy["review_by_client"]["score"] = (copy["review_by_client"]["score"] + 1) % 101
    else:
        raise ValueError(f"defect must be one of {', '.join(TRANSLATION_DEFECTS)}, not {defect!r}")
    return copy


def write_translations(
    folder: str | os.PathLike, translations: dict[int, dict], translation: str = "en"
) -> Path:
    """Write the sessions of ``translations`` as ``<folder>/English/en<id>.json`` (``translation``
    "zh": ``Chinese/zh<id>.json``): a release-like layout; returns ``folder``."""
    target = Path(folder) / TRANSLATION_FOLDERS[translation]
    target.mkdir(parents=True, exist_ok=True)
    for dialogue_id, session in translations.items():
        (target / f"{translation}{dialogue_id}.json").write_text(
            json.dumps(session, ensure_ascii=False, indent=2), encoding="utf-8"
        )
    return Path(folder)
