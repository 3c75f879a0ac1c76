"""A user's bug variant, written in their own file as README shows, reaches every command."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def _readme_plugin() -> str:
    text = README.read_text()
    block = re.search(r"```python\n# my_bugs.py\n(.*?)```", text, re.S)
    assert block, "README shows the plugin file"
    return block.group(1)


def _paxchain(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from paxchain.checker.cli import main; main()", *args],
                          cwd=cwd,
                          capture_output=True, text=True)


def test_the_readme_plugin_is_a_variant_of_check_and_of_the_gate(tmp_path):
    (tmp_path / "my_bugs.py").write_text(_readme_plugin())
    r = _paxchain("--plugin", "my_bugs.py", "check", "paxos-system", "-p", "proposers=2",
                  "-p", "max_rounds=1", "-p", "crashes=0", "--variant", "forgets_votes", "-q",
                  cwd=tmp_path)
    assert r.returncode == 1 and "Verdict: VIOLATED — refinement." in r.stdout, r.stderr
    (tmp_path / "paxchain.toml").write_text(
        'plugins = ["my_bugs.py"]\n\n[[check]]\nname = "user-bug"\nmodel = "paxos-system"\n'
        'variant = "forgets_votes"\n'
        'params = { proposers = 2, max_rounds = 1, crashes = 0 }\n'
        'expect = "violated"\nviolates = "refinement"\n')
    gate = _paxchain("check", "--quiet", cwd=tmp_path)
    assert gate.returncode == 0 and "1 of 1 checks passed" in gate.stdout, gate.stdout + gate.stderr


def test_an_unknown_variant_without_its_plugin_is_one_line(tmp_path):
    r = _paxchain("check", "paxos-system", "--variant", "forgets_votes", cwd=tmp_path)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert "forgets_votes" in r.stderr and "Traceback" not in r.stderr
