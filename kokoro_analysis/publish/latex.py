"""Compile LaTeX tables inside an ACL-sized two-column document and report what breaks (the check
behind "tables compile under pdflatex at ACL widths"; needs Debian's texlive-latex-extra,
texlive-luatex and texlive-lang-japanese, as installed by ``.ci/run``).

The ACL style is not shipped here; the harness sets its geometry (10 pt, two columns of 219.09 pt,
text width 455.24 pt, column gap 17.07 pt) with Latin Modern, which is wider than ACL's Times, so a
table that fits here fits there. English tables compile with pdflatex, ``_ja`` tables with LuaLaTeX
and luatexja.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

ACL_TEXT_PT = 455.24
"""ACL text width (both columns), points."""
ACL_COLUMN_SEP_PT = 17.07
"""Gap between ACL's two columns, points."""
OVERFULL_TOLERANCE_PT = 1.0
"""Largest overfull box that is not reported, points."""

_PREAMBLE = {
    "pdflatex": [r"\usepackage[T1]{fontenc}", r"\usepackage{lmodern}"],
    "lualatex": [r"\usepackage{luatexja}"],
}
_MARKER = "KOKORO-TABLE:"


@dataclass(frozen=True)
class LatexProblem:
    """One problem of one table: ``kind`` is ``error``, ``overfull`` or ``float``."""

    table: str
    kind: str
    message: str

    def __str__(self) -> str:
        return f"{self.table}: {self.kind}: {self.message}"


def engine_for(path: Path) -> str:
    """``lualatex`` for ``*_ja.tex`` tables, ``pdflatex`` otherwise."""
    return "lualatex" if path.stem.endswith("_ja") else "pdflatex"


def acl_document(tables: list[Path], engine: str) -> str:
    """A two-column ACL-sized document that inputs each table after a log marker."""
    lines = [
        r"\documentclass[10pt,twocolumn]{article}",
        rf"\usepackage[letterpaper,textwidth={ACL_TEXT_PT}pt,columnsep={ACL_COLUMN_SEP_PT}pt,"
        r"top=1in,textheight=9in]{geometry}",
        r"\usepackage{booktabs}",
        *_PREAMBLE[engine],
        r"\begin{document}",
    ]
    for path in tables:
        lines += [
            rf"\typeout{{{_MARKER}{path.stem}}}",
            rf"\input{{{path.as_posix()}}}",
            r"\clearpage",
        ]
    lines.append(r"\end{document}")
    return "\n".join(lines) + "\n"


def check_tables(folder: str | os.PathLike) -> list[LatexProblem]:
    """Compile every ``.tex`` table in ``folder``: English ones with pdflatex, ``_ja`` ones with
    LuaLaTeX (one document per engine). Returns every problem found (empty: all compile and fit)."""
    tables = sorted(Path(folder).glob("*.tex"))
    problems: list[LatexProblem] = []
    for engine in ("pdflatex", "lualatex"):
        chosen = [path for path in tables if engine_for(path) == engine]
        if chosen:
            problems += compile_tables(chosen, engine)
    return problems


def compile_tables(tables: list[Path], engine: str) -> list[LatexProblem]:
    """Compile ``tables`` with ``engine`` in one ACL-sized document; return every error, overfull
    box wider than :data:`OVERFULL_TOLERANCE_PT` and float too large for the page, per table."""
    if shutil.which(engine) is None:
        raise FileNotFoundError(
            f"{engine} is not installed (Debian: texlive-latex-extra texlive-luatex "
            "texlive-lang-japanese)"
        )
    with tempfile.TemporaryDirectory(prefix="kokoro-latex-") as folder:
        source = Path(folder) / "acl.tex"
        source.write_text(acl_document([p.resolve() for p in tables], engine), encoding="utf-8")
        result = subprocess.run(
            [engine, "-interaction=nonstopmode", "-file-line-error", "acl.tex"],
            cwd=folder,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=600,
            env={**os.environ, "max_print_line": "100000"},
        )
        log_path = Path(folder) / "acl.log"
        log = (
            log_path.read_text(encoding="utf-8", errors="replace")
            if log_path.exists()
            else result.stdout
        )
        problems = parse_log(log)
        if not (Path(folder) / "acl.pdf").exists() and not any(p.kind == "error" for p in problems):
            problems.append(LatexProblem("(document)", "error", f"{engine} produced no PDF"))
    return problems


_OVERFULL = re.compile(r"Overfull \\hbox \((\d+(?:\.\d+)?)pt too wide\)")


def parse_log(log: str) -> list[LatexProblem]:
    """Problems in a TeX log, attributed to the table whose marker precedes them."""
    problems: list[LatexProblem] = []
    table = "(preamble)"
    lines = log.splitlines()
    for index, line in enumerate(lines):
        if line.startswith(_MARKER):
            table = line[len(_MARKER) :].strip()
        elif line.startswith("! ") or re.match(r"^\S+:\d+: ", line):
            context = " ".join(lines[index : index + 2]).strip()
            problems.append(LatexProblem(table, "error", context))
        elif (match := _OVERFULL.search(line)) and float(match.group(1)) > OVERFULL_TOLERANCE_PT:
            problems.append(LatexProblem(table, "overfull", f"{match.group(1)} pt too wide"))
        elif "Float too large for page" in line:
            problems.append(LatexProblem(table, "float", line.strip()))
    return problems


_HEADER_CELL = re.compile(r"\\multicolumn\{\d+\}\{\w+\}\{(.*)\}")
_ASCII_FORMULA = re.compile(
    r"[A-Za-z0-9)]\s*[*^]\s*[A-Za-z0-9(]|>=|<=|!=|\b[xX] ?100\b|\bmu\b|\(\w{1,3}\s*[-+]\s*\w{1,3}\)"
)
_ENGLISH_WORD = re.compile(r"(?<![A-Za-z\\-])[a-z]{3,}(?![A-Za-z-])")
ALLOWED_IN_JAPANESE = frozenset({"seed", "low", "high", "full", "all", "test", "chars", "words"})
"""Lower-case ASCII words a Japanese caption or cell may hold: parameter values and sample names."""


def caption_problems(folder: str | os.PathLike) -> list[LatexProblem]:
    """Check what every paper table in ``folder`` says about itself (``kind`` ``caption``): the
    caption names every printed column (its header, or the spanning header of an interval), holds
    no code name (no ``_``, no unprinted CSV column name with a digit or an upper-case letter) and
    no ASCII formula (``*`` or ``^`` between terms, ``(a-b)``, ``>=``, ``x 100``, ``mu``); a ``_ja``
    table's caption and text cells hold no English word (but :data:`ALLOWED_IN_JAPANESE`)."""
    problems = []
    for tex in sorted(Path(folder).glob("*.tex")):
        text = tex.read_text(encoding="utf-8")
        caption = _caption(text)
        if caption is None:
            problems.append(LatexProblem(tex.stem, "caption", "no \\caption"))
            continue
        header, cells = _tabular_parts(text)
        said = caption.casefold()
        for name in header:
            if name and name.casefold() not in said:
                problems.append(LatexProblem(tex.stem, "caption", f"column {name!r} not named"))
        for bad in [*re.findall(r"\w*\\_\w*", caption), *_ASCII_FORMULA.findall(caption)]:
            problems.append(LatexProblem(tex.stem, "caption", f"code name or formula {bad!r}"))
        csv = tex.with_suffix(".csv")
        columns = (
            csv.read_text(encoding="utf-8").split("\n", 1)[0].split(",") if csv.exists() else []
        )
        for column in columns:
            coded = any(c.isdigit() or c.isupper() for c in column) and column not in header
            if coded and re.search(rf"(?<!\w){re.escape(column)}(?!\w)", caption):
                problems.append(LatexProblem(tex.stem, "caption", f"unprinted column {column!r}"))
        if tex.stem.endswith("_ja"):
            for place, texts in (("caption", [caption]), ("cell", cells)):
                english = {w for t in texts for w in _ENGLISH_WORD.findall(_plain(t))}
                for word in sorted(english - ALLOWED_IN_JAPANESE):
                    problems.append(LatexProblem(tex.stem, "caption", f"English {place} {word!r}"))
    return problems


def _caption(text: str) -> str | None:
    line = next((ln for ln in text.splitlines() if ln.startswith(r"\caption{")), None)
    return None if line is None else line[len(r"\caption{") : -1]


def _tabular_parts(text: str) -> tuple[list[str], list[str]]:
    """The printed headers (bottom header row, and spanning headers in place of the columns they
    span) and the text cells of a booktabs tabular."""
    lines = text.splitlines()
    top, middle = lines.index(r"\toprule"), lines.index(r"\midrule")
    rows = [ln for ln in lines[top + 1 : middle] if not ln.startswith(r"\cmidrule")]
    split = [[c.strip() for c in ln.removesuffix(r"\\").split(" & ")] for ln in rows]
    header = split[-1]
    for row in split[:-1]:
        for cell in row:
            if match := _HEADER_CELL.fullmatch(cell):
                header.append(match.group(1))
        spanned = [m for c in row if (m := _HEADER_CELL.fullmatch(c))]
        if spanned:  # the columns under a spanning header are named through it
            header = [h for h in header if h not in {"low", "high", "下限", "上限"}]
    end = lines.index(r"\bottomrule")
    cells = [c.strip() for ln in lines[middle + 1 : end] for c in ln.removesuffix(r"\\").split("&")]
    return header, cells


def _plain(text: str) -> str:
    """Text without LaTeX commands and math."""
    return re.sub(r"\$[^$]*\$|\\[A-Za-z]+", " ", text)
