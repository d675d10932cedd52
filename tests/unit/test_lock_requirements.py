"""scripts/lock_requirements.py: the pinned install of run_all.sh stays in step with pyproject.toml."""

from __future__ import annotations

import importlib.util
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]


def _load_script():
    spec = importlib.util.spec_from_file_location(
        "lock_requirements", ROOT / "scripts" / "lock_requirements.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


lock = _load_script()

PYPROJECT = """\
[project]
name = "demo"
requires-python = ">=3.11"
dependencies = ["numpy>=1.26", "pandas>=3.0"]

[project.optional-dependencies]
test = ["pytest>=8"]
llm = ["torch>=2.4"]

[tool.ruff]
line-length = 100
"""


def _pins(text: str) -> dict[str, list[Requirement]]:
    """Package name -> its pinned lines (one per marker branch)."""
    pins: dict[str, list[Requirement]] = {}
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            requirement = Requirement(line)
            pins.setdefault(requirement.name.lower().replace("_", "-"), []).append(requirement)
    return pins


def test_the_committed_lock_matches_pyproject():
    assert lock.recorded_digest() is not None, "requirements-lock.txt has no digest line"
    assert lock.lock_is_current(), (
        "requirements-lock.txt is stale: run python scripts/lock_requirements.py"
    )


def test_every_declared_dependency_is_pinned_to_a_version_it_allows_on_this_python():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = project["dependencies"] + project["optional-dependencies"]["test"]
    pins = _pins(lock.LOCK.read_text())
    for line in declared:
        wanted = Requirement(line)
        if wanted.marker is not None and not wanted.marker.evaluate():
            continue
        name = wanted.name.lower().replace("_", "-")
        here = [p for p in pins.get(name, []) if p.marker is None or p.marker.evaluate()]
        assert len(here) == 1, f"{name}: {len(here)} pins apply to this Python"
        (version,) = [spec.version for spec in here[0].specifier if spec.operator == "=="]
        assert wanted.specifier.contains(version, prereleases=True), f"{name}=={version} vs {line}"


def test_the_digest_follows_the_dependencies_and_only_them(tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(PYPROJECT)
    before = lock.dependency_digest(pyproject)
    pyproject.write_text(PYPROJECT.replace("line-length = 100", "line-length = 90"))
    assert lock.dependency_digest(pyproject) == before
    pyproject.write_text(PYPROJECT.replace('"torch>=2.4"', '"torch>=2.5"'))
    assert lock.dependency_digest(pyproject) == before, "the llm extra is not locked"
    for old, new in (
        ("numpy>=1.26", "numpy>=2.0"),
        ("pytest>=8", "pytest>=9"),
        (">=3.11", ">=3.12"),
    ):
        pyproject.write_text(PYPROJECT.replace(f'"{old}"', f'"{new}"'))
        assert lock.dependency_digest(pyproject) != before, new


def test_a_lock_without_its_digest_or_for_other_dependencies_is_stale(tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(PYPROJECT)
    stale = tmp_path / "requirements-lock.txt"
    assert not lock.lock_is_current(pyproject, stale), "a missing lock"
    stale.write_text("numpy==2.4.6\n")
    assert lock.recorded_digest(stale) is None
    assert not lock.lock_is_current(pyproject, stale)
    stale.write_text(lock.lock_text("numpy==2.4.6\n", "0" * 64))
    assert not lock.lock_is_current(pyproject, stale)
    current = lock.lock_text("numpy==2.4.6\n", lock.dependency_digest(pyproject))
    stale.write_text(current)
    assert lock.lock_is_current(pyproject, stale)
    assert current.endswith("numpy==2.4.6\n") and current.startswith("# Pinned install")


def test_check_exits_1_on_a_stale_lock_and_says_how_to_mend_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(lock, "LOCK", tmp_path / "requirements-lock.txt")
    (tmp_path / "requirements-lock.txt").write_text("numpy==2.4.6\n")
    assert lock.main(["--check"]) == 1
    assert "python scripts/lock_requirements.py" in capsys.readouterr().out
    monkeypatch.setattr(lock, "LOCK", ROOT / "requirements-lock.txt")
    assert lock.main(["--check"]) == 0


def test_the_minimum_python_is_the_lower_bound_of_requires_python(tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(PYPROJECT)
    assert lock.minimum_python(pyproject) == "3.11"
    pyproject.write_text(PYPROJECT.replace('">=3.11"', '"<3.14"'))
    with pytest.raises(SystemExit, match="no lower bound"):
        lock.minimum_python(pyproject)


def test_the_lock_is_written_whole_or_not_at_all(tmp_path):
    target = tmp_path / "requirements-lock.txt"
    target.write_text("old\n")
    lock.write_atomically(target, "new\n")
    assert target.read_text() == "new\n"
    assert [p.name for p in tmp_path.iterdir()] == ["requirements-lock.txt"]
