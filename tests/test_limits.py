"""Exit codes that never overclaim (issue 10): Ctrl-C, time and memory limits and running out
of memory end *incomplete* (exit 3) with partial statistics and whole reports, for single
checks, bounded model checking and the gate alike; a closed stdout keeps the verdict's code; a
check of nothing, a malformed checks file or a usage error is one line and exit 2; a run's
output folder lands whole; plugins load from the command line and the checks file."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import z3

from paxchain.checker import bmc
from paxchain.checker.bmc import NONE_UP_TO_DEPTH, UNKNOWN, Budget, unroll
from paxchain.checker.checks_file import CheckSpec
from paxchain.models.errors import UserError
from paxchain.checker.explicit import check
from paxchain.checker.parallel import check as parallel
from paxchain.checker.outdir import staged_dir
from paxchain.models.properties import invariant
from paxchain.checker.result import (INCOMPLETE, STOP_INTERRUPTED, STOP_MEMORY_LIMIT, STOP_OUT_OF_MEMORY,
                            STOP_TIME_LIMIT, Options, PropertyResult, Result, Stats)
from paxchain.checker.report import summary_text
from paxchain.specs.z3_vocabulary import SymbolicSystem
from paxchain.checker.suite import NOT_RUN, judge, run_suite
from tests.toy_models import Counters, always_true

SMALL = ["lamport-paxos", "-p", "acceptors=3", "-p", "values=2", "-p", "max_ballot=1"]
QUICK = '[[check]]\nname = "{name}"\nmodel = "lamport-paxos"\nparams = {{ max_ballot = 0 }}\n'
# 3 acceptors, 2 values, ballots 0..3: 8.2 million states, minutes of search — still running
# whenever the test interrupts it.
LONG = ('[[check]]\nname = "long"\nmodel = "lamport-paxos"\nparams = { max_ballot = 3 }\n'
        'incomplete_fails = false\n')


def paxchain(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "paxchain.checker", *args], capture_output=True,
                          text=True, cwd=cwd)


def popen(*args: str, cwd: Path | None = None) -> subprocess.Popen:
    """A child that Ctrl-C can reach (SIGINT at its default, as in a terminal)."""
    return subprocess.Popen([sys.executable, "-m", "paxchain.checker", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=cwd,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def assert_one_line_error(proc: subprocess.CompletedProcess, *words: str) -> str:
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("paxchain: error: "), proc.stderr
    for w in words:
        assert w in lines[0], lines[0]
    return lines[0]


# -- the explicit engine: out of memory, the memory limit, nothing to check --------------------

class _OutOfMemory(Counters):
    """Counters whose 30th expansion runs out of memory."""

    calls = 0

    def successors(self, state):
        self.calls += 1
        if self.calls == 30:
            raise MemoryError
        return super().successors(state)


@pytest.mark.parametrize("strategy", ["bfs", "dfs"])
def test_running_out_of_memory_is_incomplete_with_statistics(strategy):
    r = check(_OutOfMemory(top=10, props=[always_true]), Options(strategy=strategy))
    assert r.verdict == INCOMPLETE and r.exit_code == 3 and r.stopped_by == STOP_OUT_OF_MEMORY
    assert r.stats.distinct >= 29 and r.get("always_true").verdict == INCOMPLETE
    assert json.loads(json.dumps(r.to_json()))["stopped_by"] == "out_of_memory"
    assert "the process ran out of memory" in summary_text(r)
    if strategy == "bfs":  # a breadth-first search still states the depth it covered
        assert r.stats.checked_depth is not None


def test_a_worker_running_out_of_memory_is_incomplete_with_statistics():
    # a worker's MemoryError comes to the coordinator as its reply, and is raised there
    r = parallel(_OutOfMemory(top=10, props=[always_true]), Options(), 2)
    assert r.verdict == INCOMPLETE and r.exit_code == 3 and r.stopped_by == STOP_OUT_OF_MEMORY
    assert r.stats.distinct > 0 and r.stats.checked_depth is not None
    assert r.get("always_true").verdict == INCOMPLETE
    assert json.loads(json.dumps(r.to_json()))["stopped_by"] == "out_of_memory"


def test_the_memory_limit_stops_the_search_at_its_first_tick():
    r = check(Counters(top=10, props=[always_true]), Options(memory_limit=0.001))
    assert r.verdict == INCOMPLETE and r.stopped_by == STOP_MEMORY_LIMIT
    assert "Verdict: INCOMPLETE — the memory limit was reached" in summary_text(r)
    assert check(Counters(props=[always_true]), Options(memory_limit=1e9)).exit_code == 0


def test_a_check_of_nothing_is_refused():
    with pytest.raises(ValueError, match="nothing to check"):
        check(Counters())


@pytest.mark.skipif(shutil.which("prlimit") is None, reason="needs util-linux prlimit")
def test_out_of_memory_in_a_real_process_exits_3_with_whole_json():
    """The issue's probe, with a smaller address space so that it runs out sooner."""
    proc = subprocess.run(["prlimit", "--as=80000000", sys.executable, "-m", "paxchain.checker", "check",
                           "lamport-paxos", "-p", "max_ballot=3", "--exact", "--json"],
                          capture_output=True, text=True)
    assert proc.returncode == 3 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    data = json.loads(proc.stdout)
    assert data["verdict"] == "incomplete" and data["stopped_by"] == "out_of_memory"
    assert data["stats"]["distinct"] > 0 and data["stats"]["checked_depth"] is not None


@pytest.mark.skipif(shutil.which("prlimit") is None, reason="needs util-linux prlimit")
def test_out_of_memory_with_workers_exits_3_with_whole_json():
    """The same with two workers, forked under the same limit (numpy, which their tables use,
    needs more address space than 80 MB; one BLAS thread keeps its share small)."""
    proc = subprocess.run(["prlimit", "--as=300000000", sys.executable, "-m", "paxchain.checker",
                           "check", "lamport-paxos", "-p", "max_ballot=3", "--workers", "2",
                           "--json"], capture_output=True, text=True,
                          env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
    assert proc.returncode == 3 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    data = json.loads(proc.stdout)
    assert data["verdict"] == "incomplete" and data["stopped_by"] == "out_of_memory"
    assert data["stats"]["checked_depth"] is not None
    assert len(data["stats"]["levels"]) == data["stats"]["checked_depth"] + 1


def test_memory_limit_option_exits_3():
    proc = paxchain("check", "lamport-paxos", "-p", "max_ballot=3", "--memory-limit", "50",
                    "--json")
    assert proc.returncode == 3, proc.stderr
    data = json.loads(proc.stdout)
    assert data["stopped_by"] == "memory_limit" and data["options"]["memory_limit_mb"] == 50
    assert data["stats"]["distinct"] > 0


# -- bounded model checking: one budget, the first Ctrl-C stops it all, depth per property -------

def _counter(interrupt_at: int | None = None, calls: list | None = None) -> SymbolicSystem:
    """A 4-bit counter from 0 that never reaches 15 within 14 steps; its transition formula
    raises KeyboardInterrupt when step ``interrupt_at`` is built (Ctrl-C between solver
    calls). ``calls`` collects each step index built."""

    def fresh(k):
        if calls is not None:
            calls.append(k)
        if k == interrupt_at:
            raise KeyboardInterrupt
        return z3.BitVec(f"x{k}", 4)

    return SymbolicSystem(fresh=fresh, init=lambda x: x == 0, trans=lambda x, y: y == x + 1,
                          bad=lambda x: x == 15,
                          decode=lambda m, x: m.eval(x, model_completion=True).as_long())


def test_ctrl_c_in_one_unrolling_stops_every_later_one():
    budget = Budget()
    first = unroll(_counter(interrupt_at=3), 10, budget=budget)
    assert first.verdict == UNKNOWN and first.checked == 2
    assert budget.stopped_by == STOP_INTERRUPTED
    calls: list[int] = []
    later = unroll(_counter(calls=calls), 10, budget=budget)
    assert later.verdict == UNKNOWN and later.checked is None and calls == []  # no solver call
    assert unroll(_counter(), 10).verdict == NONE_UP_TO_DEPTH  # a fresh budget runs it all


def test_a_passed_deadline_stops_before_the_first_solver_call():
    budget = Budget(deadline=time.monotonic() - 1)
    r = unroll(_counter(), 10, budget=budget)
    assert r.verdict == UNKNOWN and r.checked is None and budget.stopped_by == STOP_TIME_LIMIT


@invariant()
def first(m, s) -> bool:
    """Always true."""
    return True


@invariant()
def second(m, s) -> bool:
    """Always true."""
    return True


@invariant()
def third(m, s) -> bool:
    """Always true."""
    return True


class _Encoding:
    """A stand-in ``specs/<model>_bmc.py``: ``second``'s unrolling is interrupted at step 3."""

    PROPERTIES = ("first", "second", "third")
    GOALS = ()

    @staticmethod
    def symbolic(model, name):
        return _counter(interrupt_at=3 if name == "second" else None)


def test_a_bounded_claim_states_the_depth_each_property_reached(monkeypatch):
    monkeypatch.setattr(bmc, "encoding_module", lambda name: _Encoding)
    r = bmc.check(Counters(props=[first, second, third]), None, 5)
    assert r.exit_code == 3 and r.stopped_by == STOP_INTERRUPTED
    assert [p.checked_depth for p in r.properties] == [5, 2, None]
    assert r.get("third").detail == "not checked: the search was interrupted"
    assert [p.get("checked_depth") for p in r.to_json()["properties"]] == [5, 2, None]
    text = summary_text(r)
    # The weakest claim first; never the deepest depth for all.
    assert ("Verdict: INCOMPLETE — the search was interrupted before depth 5; no violation of "
            "second in any run of up to 2 steps, of first in any run of up to 5 steps; not "
            "checked: third") in text


class _OutOfMemoryEncoding(_Encoding):
    """``second``'s encoding runs out of memory before any solver call."""

    @staticmethod
    def symbolic(model, name):
        if name == "second":
            raise MemoryError
        return _Encoding.symbolic(model, name)


def test_bmc_out_of_memory_ends_the_run_incomplete(monkeypatch):
    monkeypatch.setattr(bmc, "encoding_module", lambda name: _OutOfMemoryEncoding)
    r = bmc.check(Counters(props=[first, second, third]), None, 4)
    assert r.exit_code == 3 and r.stopped_by == STOP_OUT_OF_MEMORY
    assert [p.checked_depth for p in r.properties] == [4, None, None]
    assert r.get("third").detail == "not checked: the process ran out of memory"


def test_bmc_check_of_nothing_is_refused(monkeypatch):
    monkeypatch.setattr(bmc, "encoding_module", lambda name: _Encoding)
    with pytest.raises(ValueError, match="nothing to check"):
        bmc.check(Counters(props=[first]), (), 3)


def test_bmc_honours_the_time_limit():
    proc = paxchain("check", "lamport-paxos", "-p", "max_ballot=2", "--engine", "bmc",
                    "--depth", "100000", "--time-limit", "2", "--json")
    assert proc.returncode == 3, proc.stderr
    data = json.loads(proc.stdout)
    assert data["stopped_by"] == "time_limit" and data["options"]["time_limit"] == 2
    props = {p["name"]: p for p in data["properties"]}
    assert all(p["verdict"] == "incomplete" for p in props.values())
    assert props["agreement"].get("checked_depth", 0) < 100000
    assert props["msg_1b"]["detail"] == "not checked: the time limit was reached"


def test_sigterm_ends_an_explicit_search_as_incomplete():
    # A CI runner's timeout sends SIGTERM: the run reports what it checked, exit 3.
    proc = popen("check", "paxos-system", "--symmetry")
    assert proc.stderr.readline().startswith("progress: depth")  # the search is under way
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate()
    assert proc.returncode == 3 and "Traceback" not in err, err
    assert "Verdict: INCOMPLETE — the search was interrupted" in out


def test_one_ctrl_c_stops_a_whole_bmc_run():
    proc = popen("check", "lamport-paxos", "-p", "max_ballot=2", "--engine", "bmc", "--depth",
                 "100000")
    # The first plain progress line (after 5 s) says the solver is at work on agreement.
    assert proc.stderr.readline().startswith("progress: bounded model checking: agreement")
    proc.send_signal(signal.SIGINT)  # once
    out, err = proc.communicate()
    assert proc.returncode == 3 and "Traceback" not in err, err
    assert "Verdict: INCOMPLETE — the search was interrupted before depth 100000" in out
    assert "incomplete (not checked: the search was interrupted)" in out


# -- the gate: the first Ctrl-C stops it, reports whole, nothing not run counts as passed --------

def test_an_interrupt_is_never_tolerated():
    spec = CheckSpec(name="c", model="m", incomplete_fails=False)
    for stop, passes in ((STOP_INTERRUPTED, False), (STOP_MEMORY_LIMIT, False),
                         (STOP_OUT_OF_MEMORY, False), (STOP_TIME_LIMIT, True)):
        r = Result("m", Options(), Stats(), [PropertyResult("p", "invariant", "")], stop)
        assert judge(spec, r)[1] is passes, stop


def _interrupting_search(how: str):
    """A gate search whose second call is interrupted: inside the engine (which returns an
    interrupted result) or outside it (KeyboardInterrupt escapes)."""
    calls = []

    def search(model, opts):
        calls.append(model)
        if len(calls) == 2:
            if how == "raise":
                raise KeyboardInterrupt
            return Result(model.describe(), opts, Stats(distinct=7),
                          [PropertyResult("agreement", "invariant", "")], STOP_INTERRUPTED)
        return check(model, opts)
    return search, calls


@pytest.mark.parametrize("how", ["engine", "raise"])
def test_after_an_interrupt_the_gate_lists_the_rest_as_not_run(tmp_path, how):
    text = "".join(QUICK.format(name=n) for n in ("a", "b", "c", "d"))
    text = text.replace('name = "b"', 'name = "b"\nincomplete_fails = false')
    (tmp_path / "checks.toml").write_text(text)
    search, calls = _interrupting_search(how)
    code = run_suite(Options(), out=None, json_path=str(tmp_path / "r.json"),
                     junit_path=str(tmp_path / "j.xml"), summary_path=str(tmp_path / "s.md"),
                     artifacts_dir=None, checks_file=str(tmp_path / "checks.toml"),
                     search=search)
    assert code == 3 and len(calls) == 2  # c and d never started
    data = json.loads((tmp_path / "r.json").read_text())
    rows = [(c["name"], c["verdict"], c["ok"], c["ran"]) for c in data["checks"]]
    assert rows == [("a", "holds", True, True), ("b", "incomplete", False, True),
                    ("c", NOT_RUN, False, False), ("d", NOT_RUN, False, False)]
    assert (data["passed"], data["failed"], data["not_run"]) == (1, 1, 2)
    assert data["interrupted"] is True and data["ok"] is False
    junit = ET.parse(tmp_path / "j.xml").getroot()
    assert junit.get("skipped") == "2"
    assert [c.get("classname") for c in junit.iter("testcase") if c.find("skipped") is not None
            ] == ["paxchain.c", "paxchain.d"]
    assert (tmp_path / "s.md").read_text().startswith(
        "## paxchain check: ⚠ INTERRUPTED: 1 of 4 checks passed, 1 failed or incomplete, "
        "2 not run")


def test_out_of_memory_outside_the_engine_fails_only_that_check(tmp_path):
    text = "".join(QUICK.format(name=n) for n in "abc")
    (tmp_path / "checks.toml").write_text(text.replace('name = "b"',
                                                       'name = "b"\nincomplete_fails = false'))
    calls = []

    def search(model, opts):
        calls.append(model)
        if len(calls) == 2:
            raise MemoryError
        return check(model, opts)

    code = run_suite(Options(), out=None, json_path=str(tmp_path / "r.json"), junit_path=None,
                     summary_path=None, artifacts_dir=None,
                     checks_file=str(tmp_path / "checks.toml"), search=search)
    data = json.loads((tmp_path / "r.json").read_text())
    assert code == 3 and len(calls) == 3 and data["interrupted"] is False
    assert [(c["verdict"], c["ok"], c["stopped_by"]) for c in data["checks"]] == [
        ("holds", True, None), ("incomplete", False, "out_of_memory"), ("holds", True, None)]


def test_one_ctrl_c_stops_the_whole_gate_with_whole_reports(tmp_path):
    """The issue's probe: Ctrl-C while a check with incomplete_fails = false runs."""
    (tmp_path / "checks.toml").write_text(QUICK.format(name="first") + LONG
                                          + QUICK.format(name="last"))
    proc = popen("check", "--checks", "checks.toml", "--json", "r.json", "--junit", "j.xml",
                 "--summary", "s.md", cwd=tmp_path)
    assert proc.stdout.readline().startswith("ok    1. first")
    # The long check's first plain progress line (after 5 s): it is being searched.
    assert proc.stderr.readline().startswith("progress: ")
    proc.send_signal(signal.SIGINT)  # once
    out, err = proc.communicate()
    assert proc.returncode == 3 and "Traceback" not in err, err
    assert "INTERRUPTED: 1 of 3 checks passed, 1 failed or incomplete, 1 not run" in out
    data = json.loads((tmp_path / "r.json").read_text())
    assert [(c["verdict"], c["ok"]) for c in data["checks"]] == [
        ("holds", True), ("incomplete", False), (NOT_RUN, False)]
    assert data["checks"][1]["stopped_by"] == "interrupted" and data["interrupted"] is True
    assert ET.parse(tmp_path / "j.xml").getroot().get("skipped") == "1"
    assert "⚠ INTERRUPTED" in (tmp_path / "s.md").read_text()


# -- a reader that closes stdout early -----------------------------------------------------------

@pytest.mark.parametrize("variant, code", [(None, 0), ("small_quorums", 1)])
def test_a_closed_stdout_keeps_the_verdicts_exit_code(variant, code):
    args = [*SMALL] + (["--variant", variant] if variant else [])
    proc = popen("check", *args)
    assert proc.stdout.readline().startswith("Checking")  # `| head -1`
    proc.stdout.close()  # the rest of the output meets a closed pipe
    err = proc.stderr.read()
    assert proc.wait() == code, err
    assert "Traceback" not in err and "Exception ignored" not in err


def test_a_closed_stdout_does_not_stop_the_gate(tmp_path):
    (tmp_path / "checks.toml").write_text("".join(QUICK.format(name=n) for n in "abc"))
    proc = popen("check", "--checks", "checks.toml", "--json", "r.json", cwd=tmp_path)
    proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait() == 0 and "Traceback" not in err, err
    assert json.loads((tmp_path / "r.json").read_text())["passed"] == 3


# -- bad input: one line, exit 2 -----------------------------------------------------------------

CHECK = '[[check]]\nname = "c"\nmodel = "lamport-paxos"\n'


@pytest.mark.parametrize("text, words", [
    (CHECK + "properties = []\n", ["checks.toml:4:", "check 'c'", "nothing to check"]),
    ("x = " + "[" * 5000 + "]" * 5000 + "\n", ["checks.toml:1:", "nested too deeply"]),
    (CHECK + "max_depth = " + "9" * 5000 + "\n", ["checks.toml:4:", "too many digits"]),
    (CHECK + "time_limit = nan\n", ["checks.toml:4:", "time_limit must be a finite number"]),
    # an integer beyond any float (found by test_fuzz_inputs: it was an OverflowError)
    (CHECK + "max_depth = 0x" + "f" * 300 + "\n", ["checks.toml:4:", "max_depth must be a finite"]),
    (CHECK + "max_states = inf\n", ["checks.toml:4:", "max_states must be an integer"]),
    (CHECK + "time_limit = true\n", ["checks.toml:4:", "time_limit must be a number"]),
    ("plugins = 5\n" + CHECK, ["checks.toml:1:", "plugins must be a list"]),
    ("plugins = [\"missing.py\"]\n" + CHECK, ["checks.toml:1:", "missing.py"]),
])
def test_a_malformed_checks_file_is_one_line(tmp_path, text, words):
    (tmp_path / "checks.toml").write_text(text)
    assert_one_line_error(paxchain("check", "--checks", "checks.toml", cwd=tmp_path), *words)


def test_a_malformed_pyproject_section_is_one_line(tmp_path):
    (tmp_path / "checks.toml").write_text("tool = 5\n")
    (tmp_path / "pyproject.toml").write_text("[tool]\npaxchain = 5\n")
    assert_one_line_error(paxchain("check", "--checks", "pyproject.toml", cwd=tmp_path),
                          "[tool.paxchain] must be a table")


@pytest.mark.parametrize("args, words", [
    (["check", "--frobnicate"], ["No such option", "paxchain check --help"]),
    (["frobnicate"], ["No such command"]),
    (["check", "lamport-paxos", "--max-depth", "x"], ["'x' is not a valid integer"]),
    (["check", "lamport-paxos", "--time-limit", "nan"], ["--time-limit must be a finite"]),
    (["check", "lamport-paxos", "--memory-limit", "0"], ["--memory-limit must be more than 0"]),
    (["check", "lamport-paxos", "--engine", "warp"], ["--engine"]),
    (["--plugin", "/no/such/plugin.py", "list"], ["--plugin", "/no/such/plugin.py"]),
])
def test_usage_errors_are_one_line(args, words):
    assert_one_line_error(paxchain(*args), *words)


def test_help_still_works():
    proc = paxchain("check", "--help")
    assert proc.returncode == 0 and proc.stdout.startswith("Usage: paxchain check")
    assert "--memory-limit" in proc.stdout


# -- output folders land whole -------------------------------------------------------------------

def test_two_runs_writing_one_folder_never_mix(tmp_path):
    out = tmp_path / "cx"
    with staged_dir(out) as a:
        (a.path / "trace.json").write_text("A")
        with staged_dir(out) as b:  # a second run finishes first ...
            (b.path / "trace.json").write_text("B")
            (b.path / "trace.svg").write_text("B")
        assert sorted(p.name for p in out.iterdir()) == ["trace.json", "trace.svg"]
        (a.path / "trace.txt").write_text("A")
    # ... and the first one's set replaces it whole: no trace.svg of the other run is left.
    assert {p.name: p.read_text() for p in out.iterdir()} == {"trace.json": "A", "trace.txt": "A"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cx"]  # no staging folders left


def test_a_failed_run_leaves_the_folder_as_it_was(tmp_path):
    out = tmp_path / "cx"
    out.mkdir()
    (out / "trace.json").write_text("old")
    with pytest.raises(RuntimeError):
        with staged_dir(out) as stage:
            (stage.path / "trace.json").write_text("new")
            raise RuntimeError("rendering failed")
    assert (out / "trace.json").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cx"]


def test_out_never_replaces_a_folder_of_other_files(tmp_path):
    (tmp_path / "keep.py").write_text("x = 1\n")
    proc = paxchain("check", *SMALL, "--variant", "small_quorums", "--out", str(tmp_path))
    assert_one_line_error(proc, "not paxchain output")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.py"]
    with pytest.raises(UserError):
        with staged_dir(tmp_path):
            pass


def test_a_rerun_replaces_the_previous_traces_whole(tmp_path):
    out = tmp_path / "cx"
    assert paxchain("check", *SMALL, "--variant", "ignore_votes", "--keep-going",
                    "--out", str(out)).returncode == 1
    several = sorted(p.name for p in out.iterdir())
    assert len(several) > 1 and all((out / n).is_dir() for n in several)  # one per property
    assert paxchain("check", *SMALL, "--variant", "small_quorums", "--out",
                    str(out)).returncode == 1
    assert not any(p.is_dir() for p in out.iterdir())  # the earlier run's folders are gone
    assert "Replay:    paxchain replay " + str(out / "trace.json") in (
        out / "trace.txt").read_text()


# -- plugins -------------------------------------------------------------------------------------

PLUGIN = "from pathlib import Path\nPath(__file__).with_suffix('.loaded').write_text('yes')\n"


def test_a_plugin_from_the_command_line_is_loaded(tmp_path):
    (tmp_path / "my_bugs.py").write_text(PLUGIN)
    proc = paxchain("--plugin", str(tmp_path / "my_bugs.py"), "check", *SMALL, "-q")
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "my_bugs.loaded").read_text() == "yes"


def test_checks_file_plugins_are_relative_to_the_file(tmp_path):
    (tmp_path / "ci").mkdir()
    (tmp_path / "ci" / "my_bugs.py").write_text(PLUGIN)
    (tmp_path / "ci" / "checks.toml").write_text('plugins = ["my_bugs.py"]\n'
                                                 + QUICK.format(name="a"))
    proc = paxchain("check", "--checks", "ci/checks.toml", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr
    assert (tmp_path / "ci" / "my_bugs.loaded").is_file()
