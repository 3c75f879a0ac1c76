"""``paxchain simulate chain``: deterministic per seed, sensible statistics, bad input exit 2."""

from __future__ import annotations

import os
import subprocess
import sys

from click.testing import CliRunner

from paxchain.checker.chain_runs import report
from paxchain.checker.commands.simulate_chain import subcommand
from paxchain.impl.simulator import Crash, Latency
from paxchain.models.chain_driver import ChainScenario, simulate_scenario

ARGS = ["--nodes", "5", "--block-interval", "60", "--delay", "1..30", "--seed", "7",
        "--blocks", "30", "--loss", "0.05", "--crash", "n2:500:300", "--clock-offset", "n3:40",
        "--drift", "n4:0.01"]


def cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "paxchain.checker", "simulate", "chain", *args],
                          capture_output=True, text=True, env=env)


def test_same_seed_same_output_byte_for_byte_across_processes():
    outs = [cli(*ARGS, env={**os.environ, "PYTHONHASHSEED": h}) for h in ("1", "2")]
    assert all(o.returncode == 0 for o in outs), outs[0].stderr
    assert outs[0].stdout == outs[1].stdout
    assert "forks:" in outs[0].stdout and "orphan rate:" in outs[0].stdout
    assert "reorg depths:" in outs[0].stdout and "time to 6 confirmations" in outs[0].stdout


def test_another_seed_gives_another_run():
    a = CliRunner().invoke(subcommand, ARGS)
    b = CliRunner().invoke(subcommand, [*ARGS[:-10], "--seed", "8", *ARGS[-8:]])
    assert a.exit_code == 0 and b.exit_code == 0 and a.output != b.output


def test_slow_network_forks_more_than_a_fast_one():
    def stale(latency):
        sc = ChainScenario(nodes=5, block_interval=20, blocks=60, latency=latency, seed=3)
        result = simulate_scenario(sc)
        text = report(sc, result)
        line = next(x for x in text.splitlines() if x.startswith("orphan rate"))
        return int(line.split()[2].split("/")[0])
    assert stale(Latency("uniform", 15, 30)) > stale(Latency("uniform", 0.1, 0.5))


def test_nodes_converge_without_faults_under_lowest_hash_ties():
    sc = ChainScenario(nodes=4, block_interval=50, blocks=30, latency=Latency("uniform", 1, 20),
                       seed=2, tie="lowest-hash", crashes=(Crash("n2", 300, 200),))
    result = simulate_scenario(sc)
    tips = {st.tip for st in result.states.values()}
    assert len(tips) == 1 and next(iter(tips)).height >= 10
    assert "(converged)" in report(sc, result)


def test_bad_parameters_are_one_line_errors_with_exit_2():
    for args in (["--nodes", "0"], ["--delay", "5"], ["--crash", "n9:1"], ["--tie", "x"],
                 ["--block-interval", "-1"], ["--variant", "nope"], ["--loss", "1.5"]):
        p = cli(*args)
        assert p.returncode == 2, args
        assert p.stderr.count("\n") == 1 and "Traceback" not in p.stderr, p.stderr
