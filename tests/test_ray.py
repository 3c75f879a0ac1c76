"""The Ray engine (``paxchain.checker.ray_search``) gives what the sequential one gives.

One local Ray with 2 CPUs serves the module (started once, shut down after); each case searches
with the sequential engine and with Ray shards and compares everything the run reports
(``tests.test_parallel.outcome``). Small bounds only; nothing here is timed. Without Ray
installed the cases that need it are skipped, and ``--ray`` must be a one-line error.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from paxchain.checker.explicit import check as sequential
from paxchain.checker.parallel import check as parallel
from paxchain.checker.ray_search import check as ray_check
from paxchain.checker.result import (INCOMPLETE, STOP_INTERRUPTED, STOP_MEMORY_LIMIT,
                                     STOP_TIME_LIMIT, Options, Result)
from paxchain.models import registry
from tests.test_parallel import PAXOS_1, SYSTEM_SMALL, guaranteed, outcome

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def ray_2cpu():
    ray = pytest.importorskip("ray")
    ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level="ERROR",
             log_to_driver=False)  # a new Ray, even if a `ray start` one runs here
    yield ray
    ray.shutdown()


def on_ray(model, options: Options, workers: int | None = None) -> Result:
    return ray_check(model, options, workers)  # on the module's Ray


def same(build, workers: int | None = None, interned: bool = False, **options) -> Result:
    a = sequential(build(), Options(**options))
    b = on_ray(build(), Options(**options), workers)
    compare = guaranteed if interned else outcome
    assert compare(b) == compare(a)
    return b


def paxos(variant=None):
    return lambda: registry.build("lamport-paxos", PAXOS_1, variant)


def test_correct_paxos_holds_with_the_sequential_counts(ray_2cpu):
    r = same(paxos())  # one shard per CPU of the cluster: 2
    assert r.verdict == "holds" and r.stats.distinct == 3921
    r = same(paxos(), symmetry=True, deadlock=True)
    assert r.verdict == "holds" and r.stats.distinct == 443


@pytest.mark.parametrize("workers", [1, 2])
def test_seeded_bug_gives_the_sequential_shortest_trace(ray_2cpu, workers):
    r = same(paxos("small_quorums"), workers)
    assert r.verdict == "violated" and len(r.get("agreement").trace.steps) - 1 == 8
    same(paxos("small_quorums"), workers, keep_going=True)


def test_interned_states_travel_by_their_variables(ray_2cpu):
    # paxos-system's states are ids into tables of the process that made them
    r = same(lambda: registry.build("paxos-system", SYSTEM_SMALL, None), interned=True)
    assert r.verdict == "holds"


def test_limits_give_incomplete_never_holds(ray_2cpu):
    r = same(paxos(), max_states=1000)
    assert r.verdict == INCOMPLETE and r.stats.distinct == 1000 and r.stats.checked_depth == 8
    r = same(paxos(), max_depth=5)
    assert r.verdict == INCOMPLETE and r.stopped_by == "max_depth"
    m = registry.build("lamport-paxos", PAXOS_1, None)
    r = on_ray(m, Options(time_limit=0))
    assert r.verdict == INCOMPLETE and r.stopped_by == STOP_TIME_LIMIT
    assert all(p.verdict == INCOMPLETE for p in r.properties)
    r = on_ray(m, Options(memory_limit=1))  # this process's memory alone is over 1 MB
    assert r.verdict == INCOMPLETE and r.stopped_by == STOP_MEMORY_LIMIT

    def interrupt(stats):
        raise KeyboardInterrupt

    r = on_ray(m, Options(progress=interrupt, progress_interval=0))
    assert r.verdict == INCOMPLETE and r.stopped_by == STOP_INTERRUPTED


def test_refusals_are_one_line_value_errors(ray_2cpu):
    m = registry.build("lamport-paxos", PAXOS_1, None)
    with pytest.raises(ValueError, match="--ray needs breadth-first"):
        on_ray(m, Options(strategy="dfs"))
    with pytest.raises(ValueError, match="the Ray cluster has 2"):
        on_ray(m, Options(), 3)
    # the chain's states hold None, whose hash (Python 3.11) is its address in each process
    with pytest.raises(ValueError, match="fingerprints .* differ between this process"):
        on_ray(registry.build("chain", {}, None), Options(), 1)


def check_out(*args: str, hide_ray: bool = False) -> tuple[int, str, str]:
    """``paxchain ARGS`` in a child process (with ``import ray`` failing, if asked)."""
    hide = "import sys; sys.modules['ray'] = None; " if hide_ray else "import sys; "
    code = hide + "sys.argv = ['paxchain', *sys.argv[1:]]; " \
        "from paxchain.checker.cli import main; main()"
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    return proc.returncode, proc.stdout, proc.stderr


def test_without_ray_installed_ray_is_a_one_line_error():
    code, out, err = check_out("check", "lamport-paxos", "-p", "max_ballot=1", "--ray",
                               hide_ray=True)
    assert code == 2 and "pip install 'paxchain[ray]'" in err
    assert len(err.strip().splitlines()) == 1 and "Checking" not in out


def test_cli_on_a_running_ray_at_its_address_and_on_a_local_ray_of_its_own(ray_2cpu):
    address = ray_2cpu.get_runtime_context().gcs_address  # what `ray start --head` prints
    code, out, err = check_out("check", "lamport-paxos", "--variant", "small_quorums", "-p",
                               "max_ballot=1", "--ray", address, "-q")
    assert code == 1 and f"ray: {address}, one shard per CPU" in out, out + err
    assert "agreement (invariant) violated in 8 steps" in out
    code, out, err = check_out("check", "lamport-paxos", "-p", "max_ballot=1", "--ray",
                               "--workers", "2", "--max-states", "1000", "-q")
    assert code == 3 and "ray: a local Ray, 2 shards" in out, out + err
    assert "1,000 distinct states" in out
    for args in (("--ray", "--workers", "2"), ("lamport-paxos", "--ray", "127.0.0.1:1")):
        code, out, err = check_out("check", *args, "-q")  # no model; nothing listens there
        assert code == 2 and len(err.strip().splitlines()) == 1, err


def test_a_checkpoint_resumes_on_ray_or_on_workers(ray_2cpu, tmp_path):
    build = paxos("small_quorums")
    full = sequential(build(), Options(keep_going=True))

    def interrupt(stats):
        if stats.depth >= 6:
            raise KeyboardInterrupt

    cut = ray_check(build(), Options(keep_going=True, progress=interrupt,
                                     progress_interval=0), 2, checkpoint=str(tmp_path), every=0)
    assert cut.stopped_by == STOP_INTERRUPTED and cut.verdict == INCOMPLETE
    assert outcome(ray_check(build(), Options(keep_going=True), 1,
                             resume=str(tmp_path))) == outcome(full)
    assert outcome(parallel(build(), Options(keep_going=True), 2,
                            resume=str(tmp_path))) == outcome(full)


def test_new_ranks_reach_the_driver_only():
    # the benchmark's stand-in for Ray runs ray_search's driver and actors in this process and
    # counts every object a shard receives from another: arbitrate's new ranks are a second
    # object (num_returns=2) that only the driver fetches, never given to ship
    spec = importlib.util.spec_from_file_location("ray_bench",
                                                  ROOT / "benchmarks" / "ray_search.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    row = bench.exchange({k: int(v) for k, v in PAXOS_1.items()}, 3)
    assert row["distinct"] == 3921
    assert row["between_shards"]["ranks"] == {"objects_per_level": 0.0,
                                              "bytes_per_distinct_state": 0.0}
    assert row["driver"]["ranks"]["items_per_distinct_state"] == 1.0
    assert row["between_shards"]["states"]["items_per_distinct_state"] > 0
