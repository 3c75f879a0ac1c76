"""Drivers (``paxchain.models.drivers``): ``simulate`` and ``run`` find a protocol's driver
through the model registry, drivers find nodes by their declared role, and the run-level
properties (``paxchain.specs.paxos_run``, ``paxchain.specs.chain_run``) judge what a run
showed with the model specs' own predicates."""

from __future__ import annotations

import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from paxchain.checker.cli import cli
from paxchain.impl.net import Cluster, NetSpec
from paxchain.impl.paxos import make_cluster
from paxchain.models.drivers import Driver, driver
from paxchain.models.paxos_driver import PaxosRun, nodes_in_role, observe_net
from paxchain.models.registry import BadInput
from paxchain.specs.chain_run import behind, divergences
from paxchain.specs.paxos_run import check_real, check_simulated
from paxchain.specs.paxos_system import agreement_holds, validity_holds

ROOT = Path(__file__).resolve().parent.parent


# -- the registry ---------------------------------------------------------------------------------

def test_a_driver_is_found_by_its_model_or_its_own_name():
    assert driver("paxos") == driver("paxos-system") == Driver("paxos", "paxos-system")
    assert driver("chain") == Driver("chain", "chain")


@pytest.mark.parametrize("name, words", [
    ("lamport-paxos", "model lamport-paxos has no driver"),
    (f"{ROOT}/tests/toy_models.py:Counters", "has no driver"),  # a model, not an actor system
    ("nonsense", "unknown model 'nonsense' (drivers: chain, paxos (paxos-system))"),
])
def test_a_model_without_a_driver_is_bad_input(name, words):
    with pytest.raises(BadInput, match=words.replace("(", r"\(").replace(")", r"\)")):
        driver(name)


def test_simulate_takes_the_registry_name_and_the_short_one_alike():
    short = CliRunner().invoke(cli, ["simulate", "paxos", "--seed", "3"])
    full = CliRunner().invoke(cli, ["simulate", "paxos-system", "--seed", "3"])
    assert short.exit_code == full.exit_code == 0
    assert short.output == full.output and "agreement: holds" in short.output


@pytest.mark.parametrize("args", [["simulate", "lamport-paxos"], ["run", "lamport-paxos"],
                                  ["run", "paxos-system", "--acceptors", "0"],
                                  ["simulate", "nonsense", "--seed", "1"]])
def test_no_driver_or_bad_options_is_one_line_exit_2(args):
    p = subprocess.run(["paxchain", *args], capture_output=True, text=True)
    assert p.returncode == 2, (p.stdout, p.stderr)
    assert p.stderr.count("\n") == 1 and p.stderr.startswith("paxchain: error:"), p.stderr


# -- roles are declared, not read from names --------------------------------------------------

def test_a_real_cluster_knows_each_nodes_declared_role(tmp_path):
    spec = NetSpec("paxchain.impl.paxos:make_cluster",
                   {"acceptors": 3, "proposers": 1, "learners": 2},
                   "paxchain.impl.paxos:MESSAGES", str(tmp_path))
    roles = Cluster(spec).roles  # no process starts before ``async with``
    assert roles == {"a1": "acceptor", "a2": "acceptor", "a3": "acceptor",
                     "p1": "proposer", "l1": "learner", "l2": "learner"}
    chain = NetSpec("paxchain.models.chain_driver:make_nodes",
                    {"nodes": 2, "difficulty": 4, "tie": "first-seen", "tries": 1, "tick": 1.0,
                     "epoch": 0.0}, "paxchain.impl.chain_node:MESSAGES", str(tmp_path))
    assert Cluster(chain).roles == {"n1": "node", "n2": "node"}


def test_learners_are_the_nodes_whose_role_says_so_whatever_their_names():
    renamed = {"lurker" if n == "a1" else "zed" if n == "l1" else n: v
               for n, v in make_cluster(3, 1, 1).items()}
    assert nodes_in_role(renamed, "learner") == ["zed"]
    assert nodes_in_role(renamed, "acceptor") == ["lurker", "a2", "a3"]
    cluster = SimpleNamespace(
        nodes=list(renamed), roles={n: role for n, (_, role) in renamed.items()},
        recovered={"zed": ["v1"]}, outputs={"lurker": [(0.5, ("decided", "v9"))],
                                            "zed": [(1.0, ("decided", "v1"))]})
    run = observe_net(cluster)
    assert run.decisions == {"zed": [(None, "v1"), (1.0, "v1")]}  # lurker is an acceptor
    assert run.quorum == 2


# -- run-level properties -----------------------------------------------------------------------

def paxos_run(decisions, votes=None, proposed=("v1", "v2"), quorum=3) -> PaxosRun:
    return PaxosRun(decisions, votes or {}, {}, frozenset(proposed), quorum)


def test_the_run_and_the_model_share_agreement_and_validity():
    assert agreement_holds({"v1"}, {"v1"}) and not agreement_holds({"v1"}, {"v2"})
    assert agreement_holds((), ()) and validity_holds(("v1",), {"v1", "v2"})
    assert not validity_holds({"v3"}, {"v1"})


def test_simulated_runs_are_judged_by_decisions_and_quorum_votes():
    one = ((1, 1), "v1")
    two = ((2, 2), "v2")
    fine = paxos_run({"l1": [(3.0, "v1")], "l2": []},
                     {one: frozenset({"a1", "a2", "a3"}), two: frozenset({"a4", "a5"})})
    v = check_simulated(fine)
    assert v.violated is None and v.chosen == [one] and not v.all_decided
    # Three acceptors of five accepted v2 in one ballot: v2 is chosen while l1 decided v1.
    split = paxos_run({"l1": [(3.0, "v1")]}, {one: frozenset({"a1", "a2", "a3"}),
                                             two: frozenset({"a3", "a4", "a5"})})
    v = check_simulated(split)
    assert v.violated == "agreement"
    assert v.explanation == "learners decided v1; chosen: v1 in ballot 1.1, v2 in ballot 2.2"
    twice = check_simulated(paxos_run({"l1": [(1.0, "v1"), (2.0, "v1")]}))
    assert (twice.violated, twice.explanation) == ("agreement",
                                                   "learner l1 decided more than once")
    invented = check_simulated(paxos_run({"l1": [(1.0, "v7")]}))
    assert (invented.violated, invented.explanation) == ("validity", "[v7] never proposed")


def test_a_real_run_is_judged_by_its_learners_decisions():
    assert check_real(paxos_run({"l1": [(None, "v1")], "l2": [(0.2, "v1")]})).violated is None
    v = check_real(paxos_run({"l1": [(None, "v1")], "l2": [(0.2, "v2")]}))
    assert (v.violated, v.explanation) == ("agreement", "learners decided ['v1', 'v2']")


def test_persisted_chains_behind_are_consistent_and_deep_forks_diverge():
    g = ("g",)
    chains = {"n1": g + ("a1", "a2"), "n2": g + ("a1",), "n3": g}
    assert behind(chains) == "n2 is behind n1, n3 is behind n1"
    assert divergences(chains, 0) == []
    chains["n2"] = g + ("b1",)
    assert divergences(chains, 0) == [
        "n1 and n2 part after height 0: 2 and 1 blocks of their own, both more than k=0"]
    assert divergences(chains, 1) == []
