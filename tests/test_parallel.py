"""The parallel engine (``paxchain.checker.parallel``) gives what the sequential one gives.

For each case both engines search the same model with the same options; the verdicts, the
reason for stopping, every count (distinct, generated, left on queue, depth, checked depth, the
size of each breadth-first level), the coverage, the reductions and every trace, step by step,
must be equal — at a first violation too, where the parallel engine stops at the event the
sequential search meets first.
Small bounds only; nothing here is timed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from paxchain.checker.explicit import check as sequential
from paxchain.checker.parallel import check as parallel
from paxchain.checker.parallel import parse_workers
from paxchain.checker.result import (INCOMPLETE, STOP_INTERRUPTED, STOP_MEMORY_LIMIT,
                                     STOP_TIME_LIMIT, STOP_VIOLATION, Options, Result)
from paxchain.models import registry
from paxchain.models.properties import quiescent
from tests.toy_models import (Counters, always_true, never_decreases, reaches_beyond,
                              reaches_top, sum_below_3)

PAXOS_1 = {"acceptors": "3", "values": "2", "max_ballot": "1"}
# subsume=0: state subsumption is applied by the sequential search only (the parallel engines
# refuse it), and these tests compare the two searches count for count
SYSTEM_SMALL = {"acceptors": "2", "proposers": "1", "max_rounds": "1", "subsume": "0"}


def outcome(r: Result) -> tuple:
    """Everything a run reports that must not depend on the number of workers (trace states by
    their variables: an interning model's ids differ between two instances). A reduction
    switched off is compared by name: which state's premise failure a worker reports first
    may differ from the sequential search's."""
    s = r.stats
    return (r.verdict, r.stopped_by, s.distinct, s.generated, s.queue, s.depth, s.checked_depth,
            s.levels, r.coverage, [x.split(" (premise failed")[0] for x in r.reductions],
            [(p.name, p.verdict, p.detail,
              None if p.trace is None
              else [(str(x.label), p.trace.model.to_vars(x.state)) for x in p.trace.steps])
             for p in r.properties])


def guaranteed(r: Result) -> tuple:
    """What the parallel engine promises for a model whose successor order depends on the
    process (interned ids): an exhaustive search's every verdict, trace length and count; of
    a search stopped at its first violation, the verdict and the violation's depth (which
    violation of that depth is met first, and the counts there, may differ)."""
    s = r.stats
    reductions = [x.split(" (premise failed")[0] for x in r.reductions]
    if r.stopped_by == STOP_VIOLATION:
        return (r.verdict, reductions, min(len(p.trace.steps) for p in r.violations()))
    return (r.verdict, r.stopped_by, (s.distinct, s.generated, s.depth, s.levels), reductions,
            [(p.name, p.verdict, None if p.trace is None else len(p.trace.steps))
             for p in r.properties])


def same(build, workers: int = 2, interned: bool = False, **options) -> Result:
    a = sequential(build(), Options(**options))
    b = parallel(build(), Options(**options), workers)
    compare = guaranteed if interned else outcome
    assert compare(b) == compare(a)
    return b


@quiescent(quiet=lambda m, s: s == (m.top, m.top))
def stops_at_top_sum(m, s) -> bool:
    """At the top both counters are equal (they are)."""
    return s[0] == s[1]


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_every_property_kind_gives_the_same_verdicts_and_counts(workers):
    props = [always_true, reaches_top, reaches_beyond, never_decreases, stops_at_top_sum]
    r = same(lambda: Counters(top=3, reset=True, props=props), workers, deadlock=True,
             keep_going=True)
    assert r.verdict == "violated" and r.get("reaches_beyond").verdict == "violated"
    assert r.get("never_decreases").verdict == "violated"  # Reset decreases both


@pytest.mark.parametrize("props", [[sum_below_3], [never_decreases, reaches_top],
                                   [always_true]])
@pytest.mark.parametrize("keep_going", [False, True])
def test_first_violation_stops_where_the_sequential_search_stops(props, keep_going):
    same(lambda: Counters(top=4, reset=True, props=props), 2, deadlock=True,
         keep_going=keep_going)


def test_deadlock_is_found_at_the_same_state():
    r = same(lambda: Counters(top=2, props=[always_true]), 2, deadlock=True)
    assert r.get("deadlock_free").verdict == "violated"


@pytest.mark.parametrize("workers", [2, 3])
def test_seeded_paxos_bug_gives_the_same_shortest_trace(workers):
    r = same(lambda: registry.build("lamport-paxos", PAXOS_1, "small_quorums"), workers)
    assert r.verdict == "violated" and len(r.get("agreement").trace.steps) - 1 == 8


def test_correct_paxos_holds_with_the_same_counts_with_and_without_symmetry():
    r = same(lambda: registry.build("lamport-paxos", PAXOS_1, None))
    assert r.verdict == "holds" and r.stats.distinct == 3921
    r = same(lambda: registry.build("lamport-paxos", PAXOS_1, None), symmetry=True)
    assert r.verdict == "holds" and r.stats.distinct == 443
    same(lambda: registry.build("lamport-paxos", PAXOS_1, "small_quorums"), symmetry=True,
         keep_going=True)


def test_limits_give_incomplete_with_the_same_counts():
    build = lambda: registry.build("lamport-paxos", PAXOS_1, None)  # noqa: E731
    r = same(build, max_states=1000)
    assert r.verdict == INCOMPLETE and r.stats.distinct == 1000 and r.stats.checked_depth == 8
    same(build, max_states=0)  # fewer than the initial states: stops at the first new one
    r = same(build, max_depth=5)
    assert r.verdict == INCOMPLETE and r.stopped_by == "max_depth"
    # depth 11 holds 780 states: the sequential search expands the whole last level too,
    # past its clock readings (every 512 expansions)
    r = same(build, max_depth=11)
    assert r.verdict == INCOMPLETE and r.stopped_by == "max_depth"
    r = same(build, max_depth=40)
    assert r.verdict == "holds"


def test_time_memory_and_ctrl_c_give_incomplete_never_holds():
    m = registry.build("lamport-paxos", PAXOS_1, None)
    r = parallel(m, Options(time_limit=0), 2)
    assert r.verdict == INCOMPLETE and r.stopped_by == STOP_TIME_LIMIT
    assert all(p.verdict == INCOMPLETE for p in r.properties)
    # the memory limit counts the workers' resident memory with the coordinator's
    r = parallel(m, Options(memory_limit=1), 2)
    assert r.verdict == INCOMPLETE and r.stopped_by == STOP_MEMORY_LIMIT

    def interrupt(stats):
        raise KeyboardInterrupt

    r = parallel(m, Options(progress=interrupt, progress_interval=0), 2)
    assert r.verdict == INCOMPLETE and r.stopped_by == STOP_INTERRUPTED


def test_interrupt_inside_a_worker_stops_cleanly():
    class Interrupted(Counters):
        def successors(self, state):
            if state == (1, 1):
                raise KeyboardInterrupt
            return super().successors(state)

    r = parallel(Interrupted(props=[always_true]), Options(), 2)
    assert r.verdict == INCOMPLETE and r.stopped_by == STOP_INTERRUPTED


def test_interned_states_travel_by_their_variables():
    # paxos-system interns its states per process: workers exchange to_vars encodings. Its
    # successor order follows its ids, so what ``guaranteed`` lists is compared.
    same(lambda: registry.build("paxos-system", SYSTEM_SMALL, None), interned=True,
         keep_going=True)
    r = same(lambda: registry.build("paxos-system", SYSTEM_SMALL | {"max_rounds": "2"},
                                    "ballots_not_unique"), interned=True)
    assert r.verdict == "holds"


def test_a_failed_premise_redoes_the_search_as_the_sequential_engine_does():
    bound = {"acceptors": "2", "proposers": "1", "max_rounds": "2", "subsume": "0"}
    r = same(lambda: registry.build("paxos-system", bound, "proposer_ignores_reply_ballot"),
             interned=True)
    assert r.verdict == "violated" and any(t.startswith("bury off") for t in r.reductions)


def test_refusals_are_one_line_value_errors():
    m = registry.build("paxos-system", SYSTEM_SMALL, None)
    with pytest.raises(ValueError, match="subsume=0"):
        parallel(registry.build("paxos-system", {**SYSTEM_SMALL, "subsume": "1"}, None),
                 Options(), 2)
    with pytest.raises(ValueError, match="breadth-first"):
        parallel(m, Options(strategy="dfs"), 2)
    with pytest.raises(ValueError, match="--exact"):
        parallel(m, Options(fingerprints=False), 2)
    with pytest.raises(ValueError, match="unknown property"):
        parallel(m, Options(only=("nope",)), 2)


def test_workers_text():
    assert parse_workers("3") == 3 and parse_workers("auto") >= 1
    for bad in ("0", "-1", "two", ""):
        with pytest.raises(ValueError, match="--workers"):
            parse_workers(bad)


def check_out(*args: str) -> tuple[int, str, str]:
    """``paxchain ARGS`` in a child process: (exit code, stdout, stderr)."""
    proc = subprocess.run([sys.executable, "-m", "paxchain.checker", *args],
                          capture_output=True, text=True)
    return proc.returncode, proc.stdout, proc.stderr


def test_cli_workers():
    code, out, err = check_out("check", "lamport-paxos", "-p", "max_ballot=1",
                               "--workers", "2", "-q")
    assert code == 0 and "workers: 2 processes" in out and "3,921 distinct" in out
    code, out, err = check_out("check", "lamport-paxos", "--variant", "small_quorums",
                               "-p", "max_ballot=1", "--workers", "2", "-q")
    assert code == 1 and "agreement (invariant) violated in 8 steps" in out
    for args in (("--workers", "0"), ("--workers", "many"), ("--workers", "2", "--dfs")):
        code, out, err = check_out("check", "lamport-paxos", *args)
        assert code == 2 and len(err.strip().splitlines()) == 1, err


def test_an_interrupted_run_resumes_to_the_same_counts_and_verdicts(tmp_path):
    build = lambda: registry.build("lamport-paxos", PAXOS_1, "small_quorums")  # noqa: E731
    full = sequential(build(), Options(keep_going=True))

    def interrupt(stats):
        if stats.depth >= 6:
            raise KeyboardInterrupt

    cut = parallel(build(), Options(keep_going=True, progress=interrupt, progress_interval=0),
                   2, checkpoint=str(tmp_path), every=0)
    assert cut.stopped_by == STOP_INTERRUPTED and cut.verdict == INCOMPLETE
    # resumed with another number of workers: the shares are regrouped by fingerprint
    resumed = parallel(build(), Options(keep_going=True), 3, resume=str(tmp_path))
    assert outcome(resumed) == outcome(full)
    with pytest.raises(ValueError, match="options differ"):
        parallel(build(), Options(max_depth=3), 2, resume=str(tmp_path))


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_a_run_stopped_after_its_first_checkpoint_resumes(tmp_path, sig):
    # SIGKILL: the last checkpoint written stays whole (written atomically). SIGTERM: the run
    # finishes its level, writes a checkpoint and stops as incomplete (exit 3).
    args = ("check", "lamport-paxos", "-p", "max_ballot=2", "--symmetry", "--workers", "2",
            "-q")
    proc = subprocess.Popen([sys.executable, "-m", "paxchain.checker", *args, "--checkpoint",
                             str(tmp_path), "--checkpoint-every", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True, start_new_session=True)
    saved = tmp_path / "checkpoint.pkl"
    while not saved.exists() and proc.poll() is None:
        time.sleep(0.01)
    if proc.poll() is None and sig == signal.SIGKILL:
        os.killpg(proc.pid, sig)
    elif proc.poll() is None:
        proc.send_signal(sig)
    out, _ = proc.communicate()
    if sig == signal.SIGTERM and proc.returncode != 0:  # 0: it had finished already
        assert proc.returncode == 3 and "interrupted" in out
    code, out, err = check_out(*args, "--resume", str(tmp_path))
    assert code == 0 and "17,153 distinct states" in out, err


def test_gate_runs_with_workers_and_falls_back_where_the_parallel_engine_cannot(tmp_path):
    checks = tmp_path / "paxchain.toml"
    checks.write_text(
        '[[check]]\nname = "paxos"\nmodel = "lamport-paxos"\n'
        'params = { max_ballot = 1 }\n\n'
        '[[check]]\nname = "system-symmetry"\nmodel = "paxos-system"\nsymmetry = true\n'
        'params = { acceptors = 2, proposers = 1, max_rounds = 1 }\n')
    code, out, err = check_out("check", "--checks", str(checks), "--workers", "2", "-q")
    assert code == 0, out + err
