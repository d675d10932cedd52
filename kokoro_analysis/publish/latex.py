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

ACL_COLUMN_PT = 219.09
"""ACL column width, points."""
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
