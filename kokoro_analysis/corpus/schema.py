"""The KokoroChat record schema: feedback items, check flags, the rule that makes ``score`` and the
main topics (labels and order of the authors' figure).

Upstream each session is one JSON file with ``dialogue`` (list of messages with ``role``, ``time``,
``utterance``), ``topic`` (``main_jp``, ``main_en``, ``sub``) and the client's review twice, with
Japanese keys (``review_by_client_jp``) and English keys (``review_by_client_en``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

ROLES = ("counselor", "client")
"""Speaker roles, in the order used for categorical columns."""

ROLE_COLUMNS = ("total", *ROLES)
"""Table columns of per-role statistics: all messages, then each role."""

ROLE_LABELS = {"counselor": ("カウンセラー", "Counselor"), "client": ("クライアント", "Client")}
"""Japanese and English display names of the roles (クライアント as in the data's クライアント役ID)."""

LANGS = ("en", "ja")
"""Label languages of tables and figures."""


def pick(ja: str, en: str, *, lang: str) -> str:
    """The Japanese or the English text, by ``lang`` ("ja" or "en")."""
    if lang not in LANGS:
        raise ValueError(f"lang must be 'en' or 'ja', not {lang!r}")
    return ja if lang == "ja" else en


TIME_FORMAT = "%Y-%m-%dT%H:%M:%S"
"""Upstream timestamp format (local time, second resolution, no zone)."""
TIME_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}$"
"""The only accepted spelling of a timestamp (no zone, no fraction, no other separator)."""
TIME_PATTERN_TEXT = "YYYY-MM-DDTHH:MM:SS"


def release_times(times: pd.Series) -> list[str]:
    """Timestamps spelled as the release writes them (:data:`TIME_FORMAT`): NumPy's ISO format at
    second resolution for zone-less ones (what ``strftime(TIME_FORMAT)`` gives, 20 times faster),
    ``strftime`` for others."""
    if (
        times.dtype.kind == "M"
        and getattr(times.dtype, "tz", None) is None
        and not times.isna().any()
    ):
        seconds = times.to_numpy().astype("datetime64[s]")
        if len(seconds) == 0 or (seconds.min().astype(int) >= 0):  # 1970 on: truncation as strftime
            return np.datetime_as_string(seconds, unit="s").tolist()
    return times.dt.strftime(TIME_FORMAT).tolist()


ID_RANGE = (0, 2**63 - 1)
"""Accepted ids (evaluation, client, counselor): non-negative 64-bit integers."""


def is_timestamp(value) -> bool:
    """Whether ``value`` is a string in exactly :data:`TIME_PATTERN` naming a real date and time."""
    if not isinstance(value, str) or not re.fullmatch(TIME_PATTERN, value):
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:  # e.g. 2020-02-30
        return False
    return True


BLOCKS = {
    "overall_impression": ("会話全体の印象", "Overall impression of the conversation"),
    "counseling_skills": ("カウンセリングスキルの評価", "Evaluation of counseling skills"),
}
"""The two blocks of ten items each (items 1–10 and 11–20), as in the authors' example figure."""


@dataclass(frozen=True)
class Item:
    """One of the 20 feedback items (each answered 0–5 by the client)."""

    number: int
    key: str
    upstream_key: str
    label_ja: str
    label_en: str
    block: str


_ITEM_ROWS = [
    (
        "felt_heard_and_understood",
        None,
        "聴いてもらえた、わかってもらえたと感じた",
        "Felt heard and understood",
    ),
    ("felt_respected", None, "尊重されたと感じた", "Felt respected"),
    (
        "gained_new_insights",
        None,
        "新しい気づきや体験があった",
        "Gained new insights or experiences",
    ),
    ("felt_hopeful_or_expectant", None, "希望や期待を感じられた", "Felt hope or expectation"),
    (
        "concerns_were_addressed",
        None,
        "取り組みたかったことを扱えた",
        "Could address what I wanted to",
    ),
    (
        "thought_through_concerns_together",
        None,
        "一緒に考えながら取り組めた",
        "Worked on it together",
    ),
    (
        "conversation_had_good_rhythm",
        None,
        "やりとりのリズムがあっていた",
        "Exchange had a good rhythm",
    ),
    (
        "conversation_felt_comfortable",
        None,
        "居心地のよいやりとりだった",
        "Exchange felt comfortable",
    ),
    (
        "felt_appropriate_and_satisfying",
        None,
        "全体として適切でよかった",
        "Appropriate and good overall",
    ),
    ("conversation_was_valuable", None, "今回の相談は価値があった", "The session was valuable"),
    ("conversation_started_smoothly", None, "相談開始の円滑さ", "Smooth opening"),
    (
        "conversation_ended_well",
        None,
        "相談終了のタイミング（不必要に聴きすぎていないか）、円滑さ",
        "Timing and smoothness of closing",
    ),
    ("showed_acceptance_and_empathy", None, "受容・共感", "Acceptance and empathy"),
    (
        "provided_acknowledgment_and_affirmation",
        None,
        "肯定・承認",
        "Affirmation and acknowledgment",
    ),
    ("asked_effective_questions", None, "的確な質問による会話の促進", "Effective questions"),
    ("summarized_key_points_effectively", None, "要約", "Summarizing"),
    (
        "clarified_issues_clearly",
        "clarified_issues_cleraly",
        "問題の明確化",
        "Clarifying the problem",
    ),
    ("helped_identify_goals", None, "この相談での目標の明確化", "Clarifying the session's goal"),
    (
        "offered_actionable_suggestions",
        None,
        "次の行動につながる提案",
        "Suggestions for next steps",
    ),
    ("encouraged_and_instilled_hope", None, "勇気づけ・希望の喚起", "Encouragement and hope"),
]

ITEMS: tuple[Item, ...] = tuple(
    Item(
        number=i + 1,
        key=key,
        upstream_key=upstream or key,
        label_ja=label_ja,
        label_en=label_en,
        block="overall_impression" if i < 10 else "counseling_skills",
    )
    for i, (key, upstream, label_ja, label_en) in enumerate(_ITEM_ROWS)
)
ITEM_KEYS: tuple[str, ...] = tuple(item.key for item in ITEMS)
ITEM_MIN, ITEM_MAX = 0, 5
SCORE_MIN, SCORE_MAX = 0, 100


@dataclass(frozen=True)
class Flag:
    """A check flag of the review: upstream ``null`` (not set) or the string ``"チェックあり"`` (set)."""

    key: str
    label_ja: str
    label_en: str


FLAGS: tuple[Flag, ...] = (
    Flag(
        "harmful_due_to_ignorance",
        "無理解と軽率さによる傷つけ発言",
        "Hurtful remark from ignorance or carelessness",
    ),
    Flag(
        "other_potentially_unethical",
        "その他の倫理違反が疑われる発言",
        "Other possibly unethical remark",
    ),
    Flag("unwilling_to_continue", "離脱", "Client left (unwilling to continue)"),
)
FLAG_KEYS: tuple[str, ...] = tuple(flag.key for flag in FLAGS)
FLAG_SET_VALUE = "チェックあり"

REVIEW_META_EN = ("evaluation_id", "evaluation_created_at", "client_id", "counselor_id", "score")
REVIEW_META_JA = ("評価ID", "評価作成日時", "クライアント役ID", "カウンセラー役ID", "点数")
REVIEW_KEYS_EN: tuple[str, ...] = (
    REVIEW_META_EN + tuple(item.upstream_key for item in ITEMS) + FLAG_KEYS
)
REVIEW_KEYS_JA: tuple[str, ...] = (
    REVIEW_META_JA + tuple(item.label_ja for item in ITEMS) + tuple(flag.label_ja for flag in FLAGS)
)
TOPIC_KEYS = ("main_jp", "main_en", "sub")
MESSAGE_KEYS = ("role", "time", "utterance")
TOP_KEYS = ("dialogue", "topic", "review_by_client_jp", "review_by_client_en")


def item_table() -> pd.DataFrame:
    """The 20 items: number, key, upstream English key, Japanese and English labels, block."""
    frame = pd.DataFrame([item.__dict__ for item in ITEMS]).set_index("key")
    frame["block_ja"] = frame["block"].map(lambda b: BLOCKS[b][0])
    frame["block_en"] = frame["block"].map(lambda b: BLOCKS[b][1])
    return frame


SCORE_RULE = """\
score = 0                      if harmful_due_to_ignorance or other_potentially_unethical is set;
score = floor(item_sum / 2)    else if unwilling_to_continue is set;
score = item_sum               otherwise,
where item_sum is the sum of the 20 items (0–100). Found from the data; it holds on all 6,589
sessions of the release (6,374 plain sums, 203 halved, 12 set to zero).
"""


def expected_score(item_sum, harmful, unethical, unwilling):
    """Apply :data:`SCORE_RULE`; works on scalars and on NumPy/pandas arrays alike."""
    item_sum = np.asarray(item_sum)
    zeroed = np.asarray(harmful, dtype=bool) | np.asarray(unethical, dtype=bool)
    halved = np.asarray(unwilling, dtype=bool)
    result = np.where(zeroed, 0, np.where(halved, item_sum // 2, item_sum))
    return result if result.ndim else int(result)


def score_rule_branch(harmful, unethical, unwilling) -> np.ndarray:
    """Which branch of :data:`SCORE_RULE` applies: ``"zeroed"``, ``"halved"`` or ``"sum"``."""
    zeroed = np.asarray(harmful, dtype=bool) | np.asarray(unethical, dtype=bool)
    halved = np.asarray(unwilling, dtype=bool)
    return np.where(zeroed, "zeroed", np.where(halved, "halved", "sum"))


HIGH_SCORE = 70
"""Lowest score of the "high" subset; sessions scored at least this are "high-scored" (keyness)."""
TEST_SCORE = 99
"""Lowest score of the authors' held-out test pool ("test"); the training subsets stay below it."""

SUBSETS: dict[str, tuple[int, int, str]] = {
    "all": (0, 100, "all sessions"),
    "low": (
        0,
        HIGH_SCORE - 1,
        f"score < {HIGH_SCORE} (training data of Llama-3.1-KokoroChat-Low)",
    ),
    "high": (
        HIGH_SCORE,
        TEST_SCORE - 1,
        f"{HIGH_SCORE} ≤ score ≤ {TEST_SCORE - 1} (training data of Llama-3.1-KokoroChat-High)",
    ),
    "full": (
        0,
        TEST_SCORE - 1,
        f"score ≤ {TEST_SCORE - 1} (training data of Llama-3.1-KokoroChat-Full)",
    ),
    "test": (TEST_SCORE, 100, f"score ≥ {TEST_SCORE} (the authors' held-out test pool)"),
}
"""Score subsets of the paper: name → (lowest score, highest score, description), bounds inclusive."""


def subset_mask(scores, name: str) -> np.ndarray:
    """Boolean mask of the sessions whose ``score`` falls in subset ``name`` (see :data:`SUBSETS`)."""
    if name not in SUBSETS:
        raise ValueError(f"unknown subset {name!r}; choose one of {', '.join(SUBSETS)}")
    low, high, _ = SUBSETS[name]
    scores = np.asarray(scores)
    return (scores >= low) & (scores <= high)


def item_matrix(
    dialogues: pd.DataFrame, keys: Sequence[str] = ITEM_KEYS, dtype=np.int64
) -> np.ndarray:
    """The item answers (sessions x items, ``dtype``) in item order, rows as ``dialogues``."""
    missing = [k for k in keys if k not in dialogues]
    if missing:
        raise KeyError(f"dialogues lacks item columns {missing}")
    return dialogues[list(keys)].to_numpy(dtype=dtype)


def item_frame() -> pd.DataFrame:
    """A fresh table of the 20 items (index: item key, questionnaire order) with ``number``,
    ``label_ja``, ``label_en`` and ``block``, for per-item results to be added to."""
    return item_table()[["number", "label_ja", "label_en", "block"]].copy()


# --------------------------------------------------------------------------- main topics


@dataclass(frozen=True)
class MainTopic:
    """One main topic: the data's labels and the short labels of the authors' figure."""

    main_en: str
    main_jp: str
    label_en: str
    """Label printed in the authors' figure (English)."""
    label_ja: str
    """Short Japanese label (ours, for ``lang="ja"`` figures)."""


MAIN_TOPICS: tuple[MainTopic, ...] = (
    MainTopic(
        "Family Issues (Non-Spousal)",
        "家庭内問題（夫婦以外）",
        "Family (Non-Spousal)",
        "家庭（夫婦以外）",
    ),
    MainTopic("Workplace Issues", "職場問題", "Workplace", "職場"),
    MainTopic("Mental Health Issues", "心理的問題", "Mental Health", "心理"),
    MainTopic("School Issues", "学校問題", "School", "学校"),
    MainTopic(
        "Career and Educational Issues",
        "進路・キャリア問題",
        "Career & Education",
        "進路・キャリア",
    ),
    MainTopic("Romantic Issues", "恋愛問題", "Romantic", "恋愛"),
    MainTopic("Family Issues (Spouse)", "家庭内問題（夫婦）", "Family (Spouse)", "家庭（夫婦）"),
    MainTopic("Interpersonal Issues", "人間関係", "Interpersonal", "人間関係"),
    MainTopic("Financial Issues", "経済的問題", "Financial", "経済"),
    MainTopic("Physical Health Issues", "身体的健康問題", "Physical Health", "身体的健康"),
    MainTopic("Others", "その他", "Others", "その他"),
)
"""The main topics in the order of the authors' figure (by share); "Others" (not in the figure) last."""

OTHERS = "Others"
"""``topic_main_en`` of the residual topic (7 sessions; not labelled in the authors' figure)."""

_TOPIC_BY_EN = {t.main_en: t for t in MAIN_TOPICS}

OTHER_SUBTOPIC = "other"
"""Sub-topic of sessions no keyword rule matches."""
OTHER_SUBTOPIC_JA = "その他"


def topic_label(main_en: str, *, lang: str = "en") -> str:
    """Short figure label of a main topic (``lang`` "en" or "ja"); unknown topics keep their name."""
    topic = _TOPIC_BY_EN.get(main_en)
    if topic is None:
        return main_en
    return pick(topic.label_ja, topic.label_en, lang=lang)


def topic_order(main_en_values) -> list[str]:
    """The topics present in ``main_en_values``: known ones in figure order, then unknown ones
    alphabetically, "Others" last."""
    present = set(pd.unique(pd.Series(main_en_values, dtype=object)))
    known = [t.main_en for t in MAIN_TOPICS if t.main_en in present and t.main_en != OTHERS]
    unknown = sorted(present - set(_TOPIC_BY_EN))
    return known + unknown + ([OTHERS] if OTHERS in present else [])
