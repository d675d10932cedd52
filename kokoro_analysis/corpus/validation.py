"""Problems found while loading, the exception strict mode raises, and the lenient-mode report."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one record.

    ``message_index`` is the 0-based position in the session's ``dialogue`` list, or ``None``
    when the problem is not about one message.
    """

    file: str
    field: str
    detail: str
    message_index: int | None = None
    session_id: str | None = None

    def __str__(self) -> str:
        where = f"message {self.message_index}, " if self.message_index is not None else ""
        return f"{printable(self.file)}: {where}field '{self.field}': {self.detail}"


def printable(path: str) -> str:
    """``path`` as text any terminal can print: bytes of a file name that are not UTF-8 (kept by
    Python as surrogates) are shown as ``\\xff`` escapes."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


class KokoroDataError(Exception):
    """Raised for data the package cannot use: missing, unreadable or invalid records.

    The message names the file, the message index (where there is one) and the field.
    """

    def __init__(self, message: str, problems: list[Problem] | None = None):
        super().__init__(message)
        self.problems = list(problems or [])

    @classmethod
    def from_problems(cls, problems: list[Problem], *, shown: int = 10) -> KokoroDataError:
        sessions = len({p.file for p in problems})
        lines = [f"{len(problems)} problem(s) in {sessions} session file(s):"]
        lines += [f"  {p}" for p in problems[:shown]]
        if len(problems) > shown:
            lines.append(f"  ... and {len(problems) - shown} more")
        lines.append(
            "Load with strict=False (CLI: --lenient) to skip these sessions and get a report."
        )
        return cls("\n".join(lines), problems)


class DataNotFoundError(KokoroDataError):
    """No KokoroChat data at the given or default locations."""


@dataclass
class ValidationReport:
    """What validation found. In lenient mode every session with a problem is skipped, and counted here."""

    source: str
    sessions_seen: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def skipped_files(self) -> list[str]:
        return sorted({p.file for p in self.problems})

    @property
    def sessions_skipped(self) -> int:
        return len(self.skipped_files)

    @property
    def sessions_valid(self) -> int:
        return self.sessions_seen - self.sessions_skipped

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_frame(self) -> pd.DataFrame:
        """One row per problem: file, session id, message index, field, detail."""
        columns = ["file", "session_id", "message_index", "field", "detail"]
        rows = [[getattr(p, c) for c in columns] for p in self.problems]
        return pd.DataFrame(rows, columns=columns).astype({"message_index": "Int64"})

    def summary(self) -> str:
        """A short human-readable summary; always states how many sessions were skipped."""
        lines = [
            f"source: {self.source}",
            f"sessions: {self.sessions_seen} seen, {self.sessions_valid} valid, "
            f"{self.sessions_skipped} skipped",
            f"problems: {len(self.problems)}",
        ]
        if self.problems:
            by_field = pd.Series([p.field for p in self.problems]).value_counts()
            lines += [f"  {name}: {count}" for name, count in by_field.items()]
        return "\n".join(lines)
