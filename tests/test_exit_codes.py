"""A reader that closes stdout early (``paxchain ... | head -1``) never changes the exit code,
for every command, not only ``check`` (issue 10): they all print through ``checker.cli.echo``
and record their verdict with ``checker.cli.verdict`` (the policy in ``checker/cli.py``).

The child's stdout is a pipe whose read end is closed before the child starts, so its first
write already meets a closed pipe: the test does not depend on how fast anything runs (with a
reader that reads one line first, whether a later write fails depends on timing).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_bad_input import check_out

SAFETY = 600  # seconds: a guard against a hung child, never a timing assertion
COMMANDS = Path(__file__).resolve().parent.parent / "checker" / "commands"


def with_closed_stdout(*args: str, cwd: Path | None = None) -> tuple[int, str]:
    """``paxchain ARGS`` whose stdout is a pipe nobody reads: (exit code, stderr)."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # every write to the pipe now fails with EPIPE (BrokenPipeError)
    try:
        proc = subprocess.run([sys.executable, "-m", "checker", *args], stdout=write_end,
                              stderr=subprocess.PIPE, text=True, cwd=cwd, timeout=SAFETY)
    finally:
        os.close(write_end)
    return proc.returncode, proc.stderr


@pytest.fixture(scope="module")
def violation_trace(tmp_path_factory) -> Path:
    """A trace file (agreement violated) written by ``paxchain check --out``."""
    out = tmp_path_factory.mktemp("cx") / "cx"
    check_out("small_quorums", out)
    return out / "trace.json"


CASES = {
    "replay a violation": (["replay", "{trace}"], 1),
    "replay --text": (["replay", "--text", "{trace}"], 1),
    "render": (["render", "{trace}", "--text", "{tmp}/t.txt"], 0),
    "prove quorums that intersect": (["prove", "quorums", "--acceptors", "3"], 0),
    "prove quorums that do not": (["prove", "quorums", "--quorums", "a1+a2,a3"], 1),
    "simulate paxos": (["simulate", "paxos", "--save", "{tmp}/sim.json"], 0),
    "simulate paxos, violated": (["simulate", "paxos", "--proposers", "3", "--variant",
                                  "ignore_promised_votes", "--to-quiescence"], 1),
    "simulate chain": (["simulate", "chain", "--nodes", "3", "--blocks", "3"], 0),
    "run paxos": (["run", "paxos", "--acceptors", "3", "--proposers", "1", "--learners", "1",
                   "--deadline", "60"], 0),
    "list": (["list", "--long"], 0),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_closed_stdout_keeps_every_commands_exit_code(case, violation_trace, tmp_path):
    args, code = CASES[case]
    args = [a.format(trace=violation_trace, tmp=tmp_path) for a in args]
    got, stderr = with_closed_stdout(*args)
    assert got == code, stderr
    assert "Traceback" not in stderr and "Exception ignored" not in stderr, stderr
    if "{tmp}/" in " ".join(CASES[case][0]):  # the files are still written
        assert any(tmp_path.iterdir())


def test_the_replayed_simulation_keeps_its_code_too(tmp_path):
    saved = tmp_path / "sim.json"
    got, stderr = with_closed_stdout("simulate", "paxos", "--proposers", "3", "--variant",
                                     "ignore_promised_votes", "--to-quiescence", "--save",
                                     str(saved))
    assert got == 1 and saved.is_file(), stderr
    got, stderr = with_closed_stdout("simulate", "paxos", "--replay", str(saved))
    assert got == 1, stderr


def test_commands_print_only_through_the_shared_helper():
    """A new command that printed with ``click.echo`` or ``print`` would bring the wrong exit
    code back under ``| head -1``."""
    direct = re.compile(r"(?<![\w.])(print|click\.echo|sys\.stdout\.write)\(")
    offenders = [f"{path.name}:{n}" for path in sorted(COMMANDS.glob("*.py"))
                 for n, line in enumerate(path.read_text().splitlines(), 1)
                 if direct.search(line)]
    assert offenders == []
