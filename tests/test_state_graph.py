"""The state graph (`paxchain graph`): the same states and steps the checker explores, drawn."""

from __future__ import annotations

import json
import re

import pytest

from paxchain.checker.cli import main
from paxchain.checker.explicit import check
from paxchain.checker.render_graph import explorer_html, graph_dot
from paxchain.checker.result import Options
from paxchain.checker.state_graph import explore
from paxchain.models.registry import build

B0 = {"acceptors": "3", "values": "2", "max_ballot": "0"}
B1 = {"acceptors": "3", "values": "2", "max_ballot": "1"}


def _run(argv):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    return exc.value.code


@pytest.mark.parametrize("params, symmetry", [(B0, False), (B1, False), (B1, True)])
def test_the_graph_has_the_checkers_states_and_steps(params, symmetry):
    """Every distinct state the explicit search counts is a node, and every transition it
    generates (the coverage counts, one per successor) is an edge."""
    model = build("lamport-paxos", params)
    g = explore(model, 100_000, symmetry)
    r = check(model, Options(symmetry=symmetry, fingerprints=False))
    assert g.complete and not g.unexpanded
    assert len(g.states) == r.stats.distinct
    assert len(g.edges) == sum(r.coverage.values())
    assert g.initial == [0] and not g.fails


def test_states_that_break_a_property_are_marked_red():
    model = build("lamport-paxos", B1, "small_quorums")
    g = explore(model, 100_000)
    assert g.fails and all(names == ("agreement",) for names in g.fails.values())
    dot = graph_dot(g)
    bad = min(g.fails)
    assert re.search(rf"  s{bad} \[.*fillcolor=\"#f4cccc\"", dot)
    assert "agreement!" in dot


def test_a_cut_graph_says_so_and_exits_3(tmp_path):
    out = tmp_path / "g.dot"
    assert _run(["graph", "lamport-paxos", "-p", "max_ballot=1", "--max-states", "50",
                 "--dot", str(out)]) == 3
    text = out.read_text()
    assert "cut at 50 states" in text and "dashed" in text
    g = explore(build("lamport-paxos", B1), 50)
    assert not g.complete and len(g.states) == 50 and g.unexpanded


def test_the_whole_graph_exits_0_and_the_page_carries_it(tmp_path):
    html_out, dot_out = tmp_path / "g.html", tmp_path / "g.dot"
    assert _run(["graph", "lamport-paxos", "-p", "acceptors=3", "-p", "values=2", "-p",
                 "max_ballot=0", "--html", str(html_out), "--dot", str(dot_out)]) == 0
    page = html_out.read_text()
    data = json.loads(re.search(r'id="graph">(.*?)</script>', page, re.S).group(1))
    g = explore(build("lamport-paxos", B0), 10_000)
    assert len(data["states"]) == len(g.states) == 73
    assert sum(len(s["next"]) for s in data["states"]) == len(g.edges)
    assert data["states"][0]["next"][0]["step"] == "Phase1a(bal=0)"
    assert explorer_html(g) == page  # byte-identical for the same graph
    assert "http" not in page.replace("http-equiv", "")  # nothing loaded from the network


def test_bad_input_is_one_line_exit_2(tmp_path, capsys):
    assert _run(["graph", "lamport-paxos"]) == 2
    assert _run(["graph", "lamport-paxos", "--dot", str(tmp_path / "a"),
                 "--html", str(tmp_path / "a")]) == 2
    assert _run(["graph", "no-such-model", "--dot", str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and not list(tmp_path.iterdir())
