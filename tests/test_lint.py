"""The lint and type checks that .ci/run runs before the tests, as configured in pyproject.toml:
``ruff check .`` over the repository and ``mypy`` over impl/ and the model interface. Each is
skipped, saying so, where its tool is not installed (both come with the ``test`` extra)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True,
                          text=True)


def _needs(tool: str) -> pytest.MarkDecorator:
    return pytest.mark.skipif(importlib.util.find_spec(tool) is None,
                              reason=f"{tool} is not installed (pip install -e '.[test]')")


@_needs("ruff")
def test_ruff_passes_on_the_repository():
    proc = _run("ruff", "check", ".")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]


@_needs("mypy")
def test_mypy_passes_on_impl_and_the_model_interface():
    proc = _run("mypy")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "no issues found" in proc.stdout


def test_mypy_sees_the_source_folders_under_their_installed_names():
    """mypy cannot follow the editable install's import hook: .mypy_path/paxchain/ links each
    checked folder under its installed name, and the links must point at this checkout."""
    for layer in ("impl", "models"):
        link = ROOT / ".mypy_path" / "paxchain" / layer
        assert link.is_symlink() and link.resolve() == (ROOT / layer).resolve(), link


def test_ci_lints_and_type_checks_before_the_gate_and_the_tests():
    lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    at = {cmd: lines.index(cmd) for cmd in ("python3 -m ruff check .", "python3 -m mypy")}
    first_gate = next(i for i, line in enumerate(lines) if line.startswith("paxchain check"))
    first_tests = next(i for i, line in enumerate(lines) if "pytest" in line)
    assert max(at.values()) < min(first_gate, first_tests), at
