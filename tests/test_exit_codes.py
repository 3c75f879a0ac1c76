"""A reader that closes stdout early (``paxchain ... | head -1``) never changes the exit code,
for every command, not only ``check`` (issue 10): they all print through ``paxchain.checker.cli.echo``
and record their verdict with ``paxchain.checker.cli.verdict`` (the policy in ``checker/cli.py``).

The child's stdout is a pipe whose read end is closed before the child starts, so its first
write already meets a closed pipe: the test does not depend on how fast anything runs (with a
reader that reads one line first, whether a later write fails depends on timing).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from paxchain.impl.paxos import Proposer
from tests.test_bad_input import check_out

COMMANDS = Path(__file__).resolve().parent.parent / "checker" / "commands"


def with_closed_stdout(*args: str, cwd: Path | None = None) -> tuple[int, str]:
    """``paxchain ARGS`` whose stdout is a pipe nobody reads: (exit code, stderr)."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # every write to the pipe now fails with EPIPE (BrokenPipeError)
    try:
        proc = subprocess.run([sys.executable, "-m", "paxchain.checker", *args], stdout=write_end,
                              stderr=subprocess.PIPE, text=True, cwd=cwd)
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


# -- the paxos-system model gives verdicts, not errors, for code it was not written for ------
# (found by mutating impl/paxos.py: benchmarks/mutation.py; the mutants are rebuilt here as
# plugin variants, so production code stays as it is)

@pytest.fixture
def never_votes():
    """The mutant ``drop_guard:Acceptor._accepts``: an acceptor that never votes. It answers
    every Accept with ``Nack(b, promised)``, also when it promised nothing (``promised=None``,
    a malformed Nack that the proposer ignores and counts)."""
    from paxchain.impl.paxos import Acceptor
    from paxchain.impl.paxos_variants import PAXOS

    name = "test_never_votes"

    @PAXOS.subclass(name, "acceptor: never votes", "acceptor")
    class NeverVotes(Acceptor):
        def _accepts(self, s, b):
            return False

    yield name
    PAXOS._variants.pop(name)  # other tests enumerate the shipped variants


ONE_PROPOSER = dict(acceptors=3, proposers=1, values=2, max_rounds=1, crashes=1)


def check_with_plugin(tmp_path: Path, name: str, role: str, body: str,
                      *args: str) -> subprocess.CompletedProcess:
    """``paxchain --plugin FILE check paxos-system`` at ``ONE_PROPOSER`` of the variant
    ``name``: a subclass of ``role``'s production class with the methods in ``body``."""
    base = role.capitalize()
    plugin = tmp_path / f"{name}.py"
    plugin.write_text(f"from paxchain.impl.paxos import {base}\n"
                      "from paxchain.impl.paxos_variants import PAXOS\n"
                      f"@PAXOS.subclass({name!r}, 'a test variant', {role!r})\n"
                      f"class Variant({base}):\n" + textwrap.indent(body, "    "))
    return subprocess.run(
        [sys.executable, "-m", "paxchain.checker", "--plugin", str(plugin), "check", "paxos-system",
         *[f"-p{k}={v}" for k, v in ONE_PROPOSER.items()], "--variant", name, *args, "-q"],
        capture_output=True, text=True)


def test_a_burial_premise_that_fails_is_reported_not_recursed_into(never_votes):
    # Checking that a buried Nack is a no-op ran the proposer, whose count of ignored
    # messages made a new state, where the same check ran again: RecursionError.
    from paxchain.checker.explicit import check
    from paxchain.checker.result import INCOMPLETE, Options
    from paxchain.models.paxos_system import PaxosSystem

    m = PaxosSystem(**ONE_PROPOSER, variant=never_votes, tallies=False)  # the count grows
    r = check(m, Options(symmetry=True, max_states=3000))
    assert r.verdict == INCOMPLETE
    off = [t for t in r.reductions if t.startswith("bury off (premise failed")]
    assert off and "promised=None) was removed as dead, but p1 reacts to it" in off[0]


def test_the_mutant_that_never_votes_gets_a_verdict(never_votes, tmp_path):
    # Its malformed Nacks are ignored and counted, one more at every delivery, and the
    # duplicating network delivers them again and again: kept at 0 (the ``tallies``
    # reduction), the counts leave a finite state space in which no value is ever decided.
    from paxchain.checker.explicit import check
    from paxchain.checker.result import HOLDS, VIOLATED, Options
    from paxchain.models.paxos_system import PaxosSystem

    m = PaxosSystem(**ONE_PROPOSER, variant=never_votes)
    r = check(m, Options(symmetry=True, keep_going=True))
    assert r.exhaustive and "tallies on" in r.reductions and "bury on" in r.reductions
    verdicts = {p.name: p.verdict for p in r.properties}
    assert verdicts.pop("value_decided") == VIOLATED  # the goal: nothing is ever decided
    assert verdicts.pop("quorum_suffices") == VIOLATED
    assert set(verdicts.values()) == {HOLDS}  # safety holds: nothing is chosen either
    # the command line the mutation benchmark ran, with the mutant as a plugin
    proc = check_with_plugin(tmp_path, "never_votes", "acceptor",
                             "def _accepts(self, s, b):\n    return False\n", "--symmetry")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "Verdict: VIOLATED — quorum_suffices, value_decided." in proc.stdout


def test_a_handler_that_reads_its_count_switches_the_abstraction_off(never_votes):
    # Budgeted network: every message is delivered at most once, so the counts stay finite
    # without the reduction too, and both searches must agree.
    import copy

    from paxchain.checker.explicit import check
    from paxchain.checker.result import Options
    from paxchain.impl.paxos import Proposer
    from paxchain.impl.paxos_variants import PAXOS
    from paxchain.models.paxos_system import PaxosSystem

    class ReadsItsCount(Proposer):
        def on_message(self, node, state, src, msg, now):
            st, eff = super().on_message(node, state, src, msg, now)
            return (st, []) if state.ignored >= 1 else (st, eff)  # mute once it ignored one

    def reads(actor):
        new = copy.copy(actor)
        new.__class__ = ReadsItsCount
        return new

    name = "test_reads_its_count"
    PAXOS.register(name, "never votes; the proposer reads its count",
                   acceptor=PAXOS[never_votes].transforms["acceptor"], proposer=reads)
    try:
        kw = dict(ONE_PROPOSER, network="budgeted", variant=name)
        r = check(PaxosSystem(**kw), Options(symmetry=True, keep_going=True))
        plain = check(PaxosSystem(**kw, tallies=False), Options(symmetry=True, keep_going=True))
    finally:
        PAXOS._variants.pop(name)
    off = [t for t in r.reductions if t.startswith("tallies off (premise failed: p1 reads")]
    assert off, r.reductions
    assert ([(p.name, p.verdict) for p in r.properties]
            == [(p.name, p.verdict) for p in plain.properties])
    assert r.stats.distinct == plain.stats.distinct


def test_the_production_roles_never_count_an_ignored_message():
    # What keeps the correct model finite without the reduction: no production role sends a
    # message that another ignores, so every count stays 0 and the reduction never engages.
    from paxchain.checker.explicit import check
    from paxchain.checker.result import HOLDS, Options
    from paxchain.models.paxos_system import PaxosSystem

    m = PaxosSystem(acceptors=2, proposers=2, values=2, max_rounds=1, crashes=1)
    r = check(m, Options(keep_going=True))
    assert r.exhaustive and r.get("agreement").verdict == HOLDS
    assert not m._tallied
    assert all(getattr(m.node_view(e).state, "ignored", 0) == 0
               for e in range(len(m.entries.values)))


class _StartsAtRoundZero(Proposer):
    """The mutant ``off_by_one:Proposer._resume``: a fresh proposer resumes at round -1, so
    its first ballot is ``(0, pid)``, below the model's ballots."""

    def _resume(self, durable):
        r, inc = super()._resume(durable)
        return r - 1, inc


class _NeverGivesUp(Proposer):
    """The mutant ``drop_guard:Proposer._new_ballot``: ``max_rounds`` is not kept."""

    def _new_ballot(self, s, trigger):
        limit, self.max_rounds = self.max_rounds, 0
        try:
            return super()._new_ballot(s, trigger)
        finally:
            self.max_rounds = limit


class _ProposesABallot(Proposer):
    """The mutant ``off_by_one:Proposer._choose_value``: proposes the reported vote's ballot
    instead of its value."""

    def _choose_value(self, s, best):
        return best[0] if best is not None else self.own_value(s.incarnation)


@pytest.mark.parametrize("variant, bound, words", [
    (_StartsAtRoundZero, ONE_PROPOSER, ["p1 sends Prepare(ballot=(0, 1))",
                                        "ballot (0, 1) is not one of the model's ballots"]),
    (_NeverGivesUp, ONE_PROPOSER, ["p1 sends Prepare(ballot=(2, 1))",
                                   "give up after max_rounds"]),
    (_ProposesABallot, dict(ONE_PROPOSER, proposers=2, crashes=0),
     ["Accept(ballot=(1, 2), value=(1, 1))", "value (1, 1) is not one of the model's values"]),
])
def test_a_message_the_model_cannot_map_is_an_error_that_names_it(variant, bound, words):
    from paxchain.checker.explicit import check
    from paxchain.checker.result import Options
    from paxchain.impl.paxos_variants import PAXOS
    from paxchain.models.paxos_system import PaxosSystem

    name = "test_" + variant.__name__.lstrip("_").lower()
    PAXOS.subclass(name, variant.__doc__, "proposer")(variant)
    try:
        with pytest.raises(ValueError) as err:  # was KeyError in the history or abstraction
            check(PaxosSystem(**bound, variant=name), Options(symmetry=True))
    finally:
        PAXOS._variants.pop(name)
    text = str(err.value)
    assert text.startswith("paxos-system cannot check this code: ") and "\n" not in text
    assert all(w in text for w in words), text


def test_an_unmappable_ballot_is_one_line_and_exit_2_on_the_command_line(tmp_path):
    proc = check_with_plugin(tmp_path, "past_max_rounds", "proposer",
                             "def _new_ballot(self, s, trigger):\n"
                             "    self.max_rounds = 0\n"
                             "    return super()._new_ballot(s, trigger)\n")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("paxchain: error: paxos-system cannot check")
    assert "ballot (2, 1) is not one of the model's ballots ((1, 1))" in lines[0]
