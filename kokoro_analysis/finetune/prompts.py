"""What training and inference share about chat prompts: one length rule, measured with the model's
own tokenizer and chat template, and the order and batches in which prompts are sent to a model.

Length rule (:func:`fit_to_length`): a conversation longer than its token budget loses its oldest
context messages first (never the system prompt, never the target); a prompt reduced to one user
message (a score-prediction transcript) loses its first lines instead. The length is the number of
tokens of the rendered chat template, counted by the real tokenizer, so a fitted example is never
cut again by the trainer. Training fits prompt + target into ``max_length``; inference fits the
prompt with its generation header into ``max_length - max_new_tokens``, so a prompt is cut exactly
where the same conversation was cut in training.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Cut:
    """What :func:`fit_to_length` removed: whole context messages and first transcript lines."""

    messages: int = 0
    lines: int = 0

    def __bool__(self) -> bool:
        return bool(self.messages or self.lines)

    def as_dict(self) -> dict[str, int]:
        return {"messages": self.messages, "lines": self.lines}


class TooLong(ValueError):
    """The system prompt and the target alone exceed the budget: nothing can be cut."""


def chat_ids(tokenizer, messages: Sequence[dict], *, generation_prompt: bool = False) -> list[int]:
    """Token ids of ``messages`` rendered with the tokenizer's chat template (special tokens
    included), as TRL's SFTTrainer tokenizes a conversation."""
    return tokenizer.apply_chat_template(
        list(messages), tokenize=True, add_generation_prompt=generation_prompt, return_dict=True
    )["input_ids"]


def chat_length(tokenizer, messages: Sequence[dict], *, generation_prompt: bool = False) -> int:
    """Tokens of ``messages`` rendered with the tokenizer's chat template (special tokens included)."""
    return len(chat_ids(tokenizer, messages, generation_prompt=generation_prompt))


SIZE_MEMO = 4096
"""Message sizes remembered (a session's turns recur in every later example of it)."""


def text_counter(tokenizer) -> Callable[[str], int]:
    """Tokens of a text without special tokens (memoised)."""

    @lru_cache(maxsize=SIZE_MEMO)
    def count(text: str) -> int:
        return len(tokenizer(text, add_special_tokens=False)["input_ids"])

    return count


def message_sizer(tokenizer) -> Callable[[dict], int]:
    """Tokens one message adds to a rendered conversation: its rendering after a system message
    minus that system message's (memoised). Exact for templates that render each message on its
    own, as Llama 3's (special tokens between messages keep them from merging)."""
    anchor = [{"role": "system", "content": "s"}]
    base = chat_length(tokenizer, anchor)

    @lru_cache(maxsize=SIZE_MEMO)
    def size(role: str, content: str) -> int:
        return chat_length(tokenizer, [*anchor, {"role": role, "content": content}]) - base

    return lambda message: size(message["role"], message["content"])


def fit_to_length(
    prompt: Sequence[dict],
    completion: Sequence[dict],
    budget: int,
    length: Callable[[list[dict]], int],
    size: Callable[[dict], int],
    count: Callable[[str], int],
) -> tuple[list[dict], Cut]:
    """``prompt`` cut (see the module docstring) so that ``length(prompt + completion) <= budget``.

    ``length`` is the exact rendered length of a message list (:func:`chat_length`), ``size`` the
    tokens one message adds (:func:`message_sizer`), ``count`` the tokens of a text
    (:func:`text_counter`). The oldest messages go while the first message's rendering plus the
    others' sizes exceeds the budget; one exact rendering then checks the result (and, for a
    template that is not additive over messages, more messages go one at a time). A prompt left
    with one message loses its first lines until the exact length fits. Raises :class:`TooLong`
    when only the system prompt, the last message and the completion are left and still do not
    fit."""
    prompt, completion = list(prompt), list(completion)
    first = 1 if prompt and prompt[0]["role"] == "system" else 0
    dropped = lines_dropped = 0
    if prompt:
        estimate = length(prompt[:1]) + sum(size(m) for m in prompt[1:] + completion)
        while estimate > budget and len(prompt) - first > 1:
            estimate -= size(prompt.pop(first))
            dropped += 1
    total = length(prompt + completion)
    while total > budget and len(prompt) - first > 1:
        prompt.pop(first)
        dropped += 1
        total = length(prompt + completion)
    if total > budget and len(prompt) > first:
        message = prompt[-1]
        lines = message["content"].split("\n")
        while total > budget and len(lines) > 1:
            excess = total - budget
            while excess > 0 and len(lines) > 1:
                excess -= count(lines.pop(0) + "\n")
                lines_dropped += 1
            prompt[-1] = {**message, "content": "\n".join(lines)}
            total = length(prompt + completion)
    if total > budget:
        raise TooLong(f"{total:,} tokens with every context message cut; budget {budget:,}")
    return prompt, Cut(dropped, lines_dropped)


def longest_first(prompts: Mapping, keys: Sequence) -> list:
    """``keys`` ordered by the characters of their prompt (a list of messages), longest first and
    stable, so a batch holds prompts of similar length (little padding) and memory peaks early."""
    return sorted(keys, key=lambda key: -sum(len(m["content"]) for m in prompts[key]))


def batches(keys: Sequence, size: int) -> Iterator[list]:
    """Consecutive batches of ``size`` keys (the last may be shorter)."""
    if size < 1:
        raise ValueError(f"batch size must be at least 1, got {size}")
    for start in range(0, len(keys), size):
        yield list(keys[start : start + size])
