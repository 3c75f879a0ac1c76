"""Smoke test of the mutation benchmark (``benchmarks/mutation.py``): a few deterministic mutants
through the real machinery — the current source parsed and mutated, each mutant compiled and
installed in a fresh process, the gate's own checks from ``paxchain.toml`` run on it — and their
outcome and hand classification asserted. The full benchmark is too slow for CI (README)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("mutation_bench",
                                                  ROOT / "benchmarks" / "mutation.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


def _pick(mutants, function, operator, after):
    found = [m for m in mutants
             if m.function == function and m.operator == operator and after in m.after]
    assert found, f"no {operator} mutant of {function} with {after!r}"
    return found[0]


def _run(bench, target, mutant):
    snap = bench.Snapshot.read(bench.TARGETS[target])
    checks = bench.gate_checks(bench.TARGETS[target].model, bench.CHECKS_FILE)
    return bench.run_job(snap, mutant, checks, bench.CHECKS_FILE, 600, None)


def test_generated_mutants_are_stable_and_cover_every_operator(bench):
    for target in bench.TARGETS.values():
        first = bench.Snapshot.read(target).mutants()
        again = bench.Snapshot.read(target).mutants()
        assert [m.id for m in first] == [m.id for m in again]
        assert len({m.id for m in first}) == len(first)
        assert not {m.function for m in first} & set(target.excluded)
    paxos = bench.Snapshot.read(bench.TARGETS["paxos"]).mutants()
    assert {m.cls for m in paxos} == set(bench.PAXOS_CLASSES)
    assert {m.operator for m in paxos} == set(bench.OPERATORS)


def test_seeded_bug_code_is_never_mutated(bench):
    import ast

    src = (
        "class Acceptor:\n"
        "    def on_message(self, s, b):\n"
        "        if 'accept_below_promise' in self.bugs and b > 0:\n"      # line 3
        "            return b + 1\n"                                        # line 4
        "        if b > s and not self.rules.has('no_check'):\n"           # line 5
        "            return [Persist(b), Send('p', b)]\n"                   # line 6
        "        return s\n")
    tree = ast.parse(src)
    func = tree.body[0].body[0]
    sites = bench._Sites(bench.TARGETS["paxos"], func, (("body", 0), ("body", 0))).run()
    lines = {line for _, line, _, _, _ in sites}
    assert 3 not in lines and 4 not in lines           # the flag's test and its branch
    assert all("has(" not in after or "has(" in before for _, _, before, after, _ in sites)
    flips = [after for op, line, _, after, _ in sites if op == "cmp_flip" and line == 5]
    assert flips == ["if b >= s and (not self.rules.has('no_check')): return [Persist(b), "
                     "Send('p', b)]"]                    # the bug-free part of a mixed test
    assert {op for op, line, *_ in sites if line == 6} == {"drop_effect", "reorder_effects"}


def test_baseline_passes_and_mutants_are_judged_by_the_gate(bench):
    paxos = bench.Snapshot.read(bench.TARGETS["paxos"]).mutants()
    chain = bench.Snapshot.read(bench.TARGETS["chain"]).mutants()

    # The unmutated chain passes the gate's chain checks.
    assert _run(bench, "chain", None).status == bench.SURVIVED

    # The acceptor votes only above its promise (not at it): no value is ever chosen.
    accepts = _pick(paxos, "Acceptor._accepts", "cmp_flip", "b > s.promised")
    out = _run(bench, "paxos", accepts)
    assert out.status == bench.KILLED, out.reason

    # A block whose height does not follow its parent's is accepted: caught by the gate.
    height = _pick(chain, "check_block", "cmp_flip", "b.height == parent.height + 1")
    out = _run(bench, "chain", height)
    assert out.status == bench.KILLED, out.reason

    # The rejected-input counter counts two per malformed message: no property reads it.
    counter = _pick(chain, "ChainNode.on_message", "off_by_one", "state.rejected + 2")
    out = _run(bench, "chain", counter)
    assert out.status == bench.SURVIVED, out.reason
    assert bench.CLASSIFICATION[counter.id][0] == bench.EQUIVALENT
