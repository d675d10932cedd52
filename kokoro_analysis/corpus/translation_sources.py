"""Finding Multilingual KokoroChat, the official English and Chinese translations of the corpus.

The release (Suzuki, Qi & Inaba, LREC 2026; github.com/UEC-InabaLab/MultilingualKokoroChat, CC BY-NC-ND
4.0) holds ``English/en<ID>.json`` and ``Chinese/zh<ID>.json``. A *translation* is one of its
languages, named by its code (``"en"``, ``"zh"``: :data:`TRANSLATION_FOLDERS`).

Resolution order: an explicit path, ``$KOKOROCHAT_TRANSLATIONS`` (a folder holding ``English/`` and/or
``Chinese/``; a relative value is tried from the working directory, then from the project root),
``data/MultilingualKokoroChat`` in the project, then a shallow ``git clone`` of the upstream repository.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from kokoro_analysis.corpus.sources import DataSource, clone_upstream
from kokoro_analysis.corpus.validation import DataNotFoundError
from kokoro_analysis.paths import PROJECT_ROOT

TRANSLATION_FOLDERS = {"en": "English", "zh": "Chinese"}
"""Translation code → release folder, also the language's name (the file prefix is the code:
``en<ID>.json``)."""
UPSTREAM_URL = "https://github.com/UEC-InabaLab/MultilingualKokoroChat"
DEFAULT_DIR = PROJECT_ROOT / "data" / "MultilingualKokoroChat"
ENV = "KOKOROCHAT_TRANSLATIONS"
LICENCE_NOTE = (
    "Multilingual KokoroChat is licensed CC BY-NC-ND 4.0: read it, never redistribute it "
    "or a modified copy."
)

HOW_TO_PROVIDE = f"""\
Provide Multilingual KokoroChat in one of these ways:
  * pass a path (Python: load_translations(corpus, "en", path); CLI: kokoro-analysis translations PATH),
  * set {ENV}=/path/to/MultilingualKokoroChat (the folder holding English/ and/or Chinese/),
  * or clone it yourself: git clone --depth 1 {UPSTREAM_URL} {DEFAULT_DIR}"""


def check_translation(translation: str) -> str:
    """``translation`` if it is a release language ("en", "zh"); else a ValueError naming the choices."""
    if translation not in TRANSLATION_FOLDERS:
        raise ValueError(
            f"translation language must be one of {', '.join(TRANSLATION_FOLDERS)}, "
            f"not {translation!r}"
        )
    return translation


@dataclass(frozen=True)
class TranslationSource:
    """One translation of the release: ``root`` (holding ``English/`` …), ``folder`` and its session
    files."""

    translation: str
    root: Path
    folder: Path
    files: tuple[Path, ...]

    def fingerprint(self) -> str:
        """A content hash of the files (:meth:`DataSource.fingerprint`), the cache key."""
        return DataSource(f"translations-{self.translation}", self.folder, self.files).fingerprint()

    @property
    def readme(self) -> Path:
        return self.root / "README.md"


def translation_files(folder: Path, translation: str) -> tuple[Path, ...]:
    """``<translation><ID>.json`` files of ``folder`` in numeric id order. Folders, FIFOs and dangling
    links of such names are listed too, so that the check reports them (they are never read)."""
    with os.scandir(folder) as entries:
        names = [e.name for e in entries if e.name.endswith(".json")]
    names.sort(key=lambda n: (file_id(n, translation) is None, file_id(n, translation) or 0, n))
    return tuple(folder / name for name in names)


def file_id(name: str, translation: str) -> int | None:
    """The session id a file name ``<translation><ID>.json`` names, or None."""
    match = re.fullmatch(rf"{translation}(\d+)\.json", name)
    return int(match.group(1)) if match else None


def source_from_path(path: str | os.PathLike, translation: str = "en") -> TranslationSource:
    """Interpret ``path``: the release root (holding ``English/``, ``Chinese/``) or a language folder."""
    check_translation(translation)
    path = Path(path).expanduser()
    if not path.is_dir():
        state = "is not a folder" if path.exists() else "does not exist"
        raise DataNotFoundError(f"Multilingual KokoroChat not found: {path} {state}")
    name = TRANSLATION_FOLDERS[translation]
    folder = path / name
    if not folder.is_dir():
        if path.name == name or any(
            file_id(p.name, translation) is not None for p in path.glob("*.json")
        ):
            folder = path
        else:
            present = [n for n in TRANSLATION_FOLDERS.values() if (path / n).is_dir()]
            raise DataNotFoundError(
                f"{path} holds no {name}/ folder of Multilingual KokoroChat"
                + (f" (found: {', '.join(p + '/' for p in present)})" if present else "")
                + f".\n{HOW_TO_PROVIDE}"
            )
    files = translation_files(folder, translation)
    if not files:
        raise DataNotFoundError(
            f"{folder} holds no {translation}<ID>.json files.\n{HOW_TO_PROVIDE}"
        )
    folder = folder.resolve()
    return TranslationSource(
        translation, folder.parent, folder, tuple(folder / f.name for f in files)
    )


def find_translations(
    path: str | os.PathLike | None = None, translation: str = "en", *, clone: bool = True
) -> TranslationSource:
    """Resolve the release's ``translation`` (see the module docstring for the order)."""
    check_translation(translation)
    if path is not None:
        return source_from_path(path, translation)
    env = os.environ.get(ENV)
    if env:
        given = Path(env).expanduser()
        if not given.exists() and not given.is_absolute() and (PROJECT_ROOT / given).exists():
            given = PROJECT_ROOT / given
        return source_from_path(given, translation)
    if DEFAULT_DIR.exists():
        return source_from_path(DEFAULT_DIR, translation)
    tried = f"tried: no path given, ${ENV} unset, {DEFAULT_DIR} absent"
    if not clone:
        raise DataNotFoundError(f"Multilingual KokoroChat not found ({tried}).\n{HOW_TO_PROVIDE}")
    target = clone_upstream(
        DEFAULT_DIR,
        url=UPSTREAM_URL,
        what="Multilingual KokoroChat",
        how_to=f"({tried})\n{HOW_TO_PROVIDE}",
    )
    return source_from_path(target, translation)
