"""CTI drawings (``paxchain.checker.render_cti``) on a hand-made counterexample: edges are named
by their relation (and argument sort), never by a bare position, and each sort is one row, the
rows ordered so that the sorts edges join are neighbours."""

from __future__ import annotations

import re
import shutil
import subprocess

from paxchain.checker.induction import POST, Cti
from paxchain.checker.render_cti import cti_dot
from paxchain.specs.z3_vocabulary import Structure


def _cti() -> Cti:
    universe = {"Ballot": ["none", "b0", "b1"], "Value": ["nil", "v0"],
                "Quorum": ["q0", "q1"], "Acceptor": ["a0", "a1", "a2"]}
    member = {("a0", "q0"), ("a1", "q0"), ("a1", "q1"), ("a2", "q1")}
    sent1b = {("a1", "b1", "b0", "v0")}
    tables = {
        "le": {(x, y) for i, x in enumerate(universe["Ballot"])
               for y in universe["Ballot"][i:]},
        "member": member,
        "maxBal": {("a0",): "b0", ("a1",): "b1", ("a2",): "b1"},
        "sent1b": set(), "sent1b" + POST: sent1b,
        "maxBal" + POST: {("a0",): "b0", ("a1",): "b1", ("a2",): "b1"},
    }
    return Cti("consecution", "msg_1b", "Phase1b", {"a": "a1", "b": "b1"},
               Structure(universe, tables), ("le", "member"), ("maxBal", "sent1b"), True)


def test_edges_are_named_by_relation_and_sort_not_position():
    dot = cti_dot(_cti(), {"Ballot": "le"})
    labels = re.findall(r'\[(?:x?label)="([^"]*)"', dot)
    assert not [x for x in labels if re.fullmatch(r"\d+", x)], labels
    for arg in ("sent1b.Acceptor", "sent1b.Ballot", "sent1b.Ballot#2", "sent1b.Value"):
        assert f'label="{arg}"' in dot
    assert 'tooltip="sent1b(a1, b1, b0, v0)"' in dot  # the whole tuple on hover
    assert 'label="member"' in dot and 'label="maxBal"' in dot
    assert 'xlabel="le"' in dot  # an order's covering edges lie in one row: labelled beside


def test_each_sort_is_a_row_and_joined_sorts_are_neighbours():
    dot = cti_dot(_cti(), {"Ballot": "le"})
    rows = re.findall(r'\{ rank=same; ((?:"pre:\w+" ?)+) \}', dot)
    assert len(rows) == 4
    order = []
    for row in rows:
        first = re.match(r'"pre:(\w+)"', row).group(1)
        order.append(next(s for s, es in _cti().structure.universe.items() if first in es))
    # member joins Acceptor and Quorum, maxBal Acceptor and Ballot: Acceptor sits between.
    i = order.index("Acceptor")
    assert abs(order.index("Quorum") - i) == 1 and abs(order.index("Ballot") - i) == 1
    if shutil.which("dot"):
        proc = subprocess.run(["dot", "-Tsvg"], input=dot, capture_output=True, text=True)
        assert proc.returncode == 0 and "<svg" in proc.stdout and not proc.stderr, proc.stderr


def test_a_sort_with_edges_inside_it_is_laid_out_along_them():
    cti = _cti()
    cti.structure.tables["prev"] = {("a1", "a0"), ("a2", "a1")}  # a chain of acceptors
    cti.rigid = cti.rigid + ("prev",)
    dot = cti_dot(cti, {"Ballot": "le"})
    rows = re.findall(r'\{ rank=same; ((?:"pre:\w+" ?)+) \}', dot)
    assert len(rows) == 3 and not any('"pre:a0"' in row for row in rows)
    assert 'label="prev"' in dot
