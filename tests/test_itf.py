"""Trace files are ITF: no JSON null anywhere, and an ITF library (itf-py) reads them."""

from __future__ import annotations

import json

import pytest

from paxchain.checker.testing import assert_reached, assert_violated
from paxchain.checker.trace import replay
from paxchain.models.values import NIL, decode, encode

itf_py = pytest.importorskip("itf_py", reason="itf-py is a test dependency")

TRACES = [
    ("lamport-paxos", "agreement", "ignore_votes", {"acceptors": 3, "values": 2, "max_ballot": 1}),
    ("lamport-paxos", "value_chosen", None, {"acceptors": 3, "values": 2, "max_ballot": 1}),
    ("paxos-system", "refinement", "reply_before_persist",
     {"acceptors": 3, "proposers": 1, "values": 2, "max_rounds": 1, "crashes": 1}),
]


def _nulls(x, path="$"):
    if x is None:
        yield path
    elif isinstance(x, dict):
        for k, v in x.items():
            yield from _nulls(v, f"{path}.{k}")
    elif isinstance(x, list):
        for i, v in enumerate(x):
            yield from _nulls(v, f"{path}[{i}]")


@pytest.mark.parametrize("model, prop, variant, params", TRACES)
def test_a_trace_file_has_no_null_and_itf_py_reads_it(model, prop, variant, params):
    find = assert_violated if variant else assert_reached  # no variant: a goal's witness
    trace = find(model, prop, variant=variant, params=params)
    data = json.loads(trace.dumps())
    assert list(_nulls(data)) == []
    itf = itf_py.trace_from_json(data)
    assert itf.vars == data["vars"] and len(itf.states) == len(trace.steps)
    # None inside a state is the Nil variant, which itf-py reads as a tagged value.
    text = json.dumps(data)
    if '"tag": "Nil"' in text:
        assert any("Nil(" in repr(v) for s in itf.states for v in s.values.values())
    # And paxchain replays its own ITF file step by step.
    assert replay(trace.model, data).trace.steps[-1].state == trace.steps[-1].state


def test_none_and_big_integers_round_trip():
    for value in (None, (None, 2**60), frozenset({None, -2**53}), {None: 1}):
        assert decode(json.loads(json.dumps(encode(value)))) == value
    assert encode(None) == NIL and encode(2**53) == {"#bigint": str(2**53)}
    assert decode(None) is None  # format version 1 wrote None as null


def test_a_lasso_carries_itfs_loop_and_itf_py_reads_it():
    from paxchain.checker.testing import run

    r = run("paxos-system", params={"proposers": 1, "crashes": 0, "acceptors": 2,
                                    "max_rounds": 2, "network": "budgeted", "drops": 1},
            variant="proposer_ignores_retry_timer", properties=["eventually_chosen"])
    trace = r.get("eventually_chosen").trace
    data = json.loads(trace.dumps())
    assert data["loop"] == trace.loop and "loop" not in data["#meta"]
    assert list(_nulls(data)) == []
    assert itf_py.trace_from_json(data).loop == trace.loop


def test_every_trace_set_has_an_itf_file_that_replays(tmp_path):
    """The gate's and check --out's trace sets hold trace.itf.json: itf-py reads it with the
    trace's states, and paxchain replay confirms it."""
    from paxchain.checker.artifacts import write_trace
    from paxchain.checker.cli import main

    model, prop, variant, params = TRACES[2]  # paxos-system, reply_before_persist
    trace = assert_violated(model, prop, variant=variant, params=params)
    write_trace(trace, tmp_path / "cx")
    data = json.loads((tmp_path / "cx" / "trace.itf.json").read_text())
    assert len(itf_py.trace_from_json(data).states) == len(trace.steps)
    with pytest.raises(SystemExit) as exc:
        main(["replay", str(tmp_path / "cx" / "trace.itf.json")])
    assert exc.value.code == 1
