"""README keeps exactly two set-up commands, and CI runs the same test command."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Set-up", 1)[1].split("\n## ", 1)[0]
    return [b.strip() for b in re.findall(r"```sh\n(.*?)```", section, re.S)]


def test_readme_has_exactly_two_setup_commands():
    cmds = setup_commands()
    assert len(cmds) == 2 and all("\n" not in c for c in cmds)
    assert cmds[0].endswith("paxchain check")
    assert "pytest" in cmds[1]


def test_ci_runs_the_readme_test_command_verbatim():
    ci = (ROOT / ".ci" / "run").read_text()
    test_cmd = setup_commands()[1]
    assert any(line.strip() == test_cmd for line in ci.splitlines()), test_cmd


def test_ci_runs_the_whole_gate_slow_checks_included():
    """README's main job runs the default gate; .ci/run runs every check of it (--slow)."""
    ci = (ROOT / ".ci" / "run").read_text()
    gate = [line.split() for line in ci.splitlines() if line.startswith("paxchain check")]
    assert len(gate) == 1 and "--slow" in gate[0], gate
    assert "--slow" not in setup_commands()[0]
