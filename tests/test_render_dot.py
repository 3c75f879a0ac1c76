"""The message-sequence chart (``paxchain.checker.render_dot``): what it draws, and its geometry
as graphviz lays it out (``dot -Tjson``): no step box reaches another lane's line."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from paxchain.checker.render_dot import message_sequence, short_message, step_node_names
from paxchain.checker.render_text import final_note_lines
from paxchain.checker.testing import assert_violated
from paxchain.models.values import Record

TRACES = {
    # README's tour: quorums too small to intersect (8 steps).
    "tour": lambda: assert_violated("lamport-paxos", "agreement", variant="small_quorums"),
    # README's paxos-system example: two proposers with one ballot, the Prepares sent at start.
    "ballots": lambda: assert_violated(
        "paxos-system", "refinement", variant="ballots_not_unique",
        params={"max_rounds": 1, "crashes": 0}),
    # A crash point: a1 promises and crashes before its write.
    "crash": lambda: assert_violated(
        "paxos-system", "refinement", variant="reply_before_persist",
        params={"proposers": 1, "max_rounds": 1, "crashes": 1}),
    "corrupt": lambda: assert_violated(
        "paxos-system", "refinement", variant="corrupt_storage",
        params={"proposers": 2, "max_rounds": 1, "crashes": 1}),
    "chain": lambda: assert_violated(
        "chain", "tip_max_work", variant="latest_arrival_fork_choice",
        params={"nodes": 3, "budget": 3, "tie": "lowest-hash", "k": 2}),
}


@pytest.fixture(scope="module", params=sorted(TRACES))
def trace(request):
    return TRACES[request.param]()


def _layout(dot_source: str) -> dict[str, dict]:
    """graphviz's layout of a chart: node name -> its json object (pos and size in points)."""
    if not shutil.which("dot"):
        pytest.skip("graphviz's dot is not installed")
    proc = subprocess.run(["dot", "-Tjson"], input=dot_source, capture_output=True, text=True,
                          check=True)
    return {o["name"]: o for o in json.loads(proc.stdout)["objects"]}


def test_no_box_overlaps_another_lane(trace):
    nodes = _layout(message_sequence(trace))
    lanes = {int(k[1:]): float(o["pos"].split(",")[0]) for k, o in nodes.items()
             if re.fullmatch(r"h\d+", k)}
    assert len(lanes) >= 2
    boxes = {k: o for k, o in nodes.items() if re.fullmatch(r"n\d+_\d+|s\d+", k)}
    assert boxes
    for name, o in boxes.items():
        own = int(re.match(r"[ns](\d+)", name).group(1))
        x = float(o["pos"].split(",")[0])
        half = float(o["width"]) * 72 / 2
        assert abs(x - lanes[own]) < 0.5, f"{name} sits on its own lane's line"
        for k, lx in lanes.items():
            if k != own:
                assert not (x - half - 2 <= lx <= x + half + 2), \
                    f"{name} ({o['label']!r}, {x - half:.0f}..{x + half:.0f}) covers lane {k} at {lx:.0f}"
    # Nor do boxes overlap one another (two rows, or the note and the boxes).
    rects = []
    for name, o in list(boxes.items()) + [("final", nodes["final"])]:
        x, y = map(float, o["pos"].split(","))
        w, h = float(o["width"]) * 36, float(o["height"]) * 36
        rects.append((name, x - w, x + w, y - h, y + h))
    for i, a in enumerate(rects):
        for b in rects[i + 1:]:
            assert a[2] <= b[1] or b[2] <= a[1] or a[4] <= b[3] or b[4] <= a[3], (a, b)


def test_every_message_is_an_arrow_from_its_sender_to_its_reader(trace):
    dot = message_sequence(trace)
    nodes = step_node_names(trace)
    labels = re.findall(r'\n  l\d+ \[label="([^"]*)",[^\n]*tooltip="([^"]*)"', dot)
    for r, step in enumerate(trace.steps[1:], start=1):
        for msg in step.label.reads:
            whole = str(msg).replace('"', '\\"')
            assert re.search(rf'\n  \w+ -> {nodes[r]} \[tooltip="{re.escape(whole)}"', dot), (r, msg)
            assert (short_message(msg), whole) in labels, (r, msg)


def test_start_up_sends_come_from_a_start_row_on_the_senders_lane():
    trace = TRACES["ballots"]()
    dot = message_sequence(trace)
    lanes = list(trace.model.lanes())
    p1 = lanes.index("p1")
    assert re.search(rf'\n  s{p1} \[label="start"', dot)
    first = trace.steps[1].label  # a1 (or a2) receives p1's Prepare sent at start-up
    assert first.reads and first.reads[0].get("src") == "p1"
    whole = str(first.reads[0]).replace('"', '\\"')  # the whole message, on hover
    assert f'  s{p1} -> {step_node_names(trace)[1]} [tooltip="{whole}"' in dot
    assert re.search(rf'\n  l\d+ \[label="Prepare \(1,0\)",[^\n]*tooltip="{re.escape(whole)}"', dot)


def test_short_messages_are_type_and_ballot():
    prepare = Record.of("Prepare", src="p1", dst="a1", ballot=(1, 0))
    assert short_message(prepare) == "Prepare (1,0)"
    accept = Record.of("Accept", src="p1", dst="a1", ballot=(2, 1), value="v1")
    assert short_message(accept) == "Accept (2,1) v1"
    assert short_message(Record.of("2a", bal=0, val="v1")) == "2a bal=0 v1"
    assert short_message(Record.of("1b", acc="a1", bal=1, mbal=-1, mval=None)) == "1b bal=1"
    assert short_message(Record.of("get_tip", src="n1", dst="n2")) == "get_tip"


def test_lane_events_are_marks_and_the_note_shows_what_the_property_reads(trace):
    dot = message_sequence(trace)
    assert not re.search(r"[0-9a-f]{64}", dot), "hashes are 8 hex digits, as everywhere else"
    note = final_note_lines(trace)
    assert note[0].startswith("VIOLATED: ") and trace.summary in note
    assert any(line.startswith(("what it reads", "what the last step changed")) for line in note)
    full = trace.model.to_vars(trace.steps[-1].state)
    assert len([line for line in note if " = " in line]) < len(full), "not the whole state"
    if trace.model.name == "paxos-system":
        assert "history = " in "\n".join(note) and "network = " not in "\n".join(note)
    for r, step in enumerate(trace.steps[1:], start=1):
        if "crash" in step.label.events and "restart" not in step.label.events:
            name = step_node_names(trace)[r]
            assert re.search(rf"\n  {name} \[[^\n]*shape=\"octagon\"", dot), name


def test_the_readmes_charts_have_no_box_over_another_lane():
    """docs/*.svg, the charts README shows (made with README's own commands), read as SVG."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    readme = (root / "README.md").read_text(encoding="utf-8")
    charts = sorted((root / "docs").glob("*-chart.svg"))
    assert len(charts) >= 2
    for chart in charts:
        assert f"](docs/{chart.name})" in readme, f"README shows {chart.name}"
        svg = chart.read_text(encoding="utf-8")
        nodes = re.findall(r'<g id="node\d+" class="node">\s*<title>(\w+)</title>(.*?)</g>\s*<!--',
                           svg + "<!--", flags=re.S)
        lanes, boxes = {}, {}
        for name, body in nodes:
            xs = [float(x) for x, _ in re.findall(r"(-?[\d.]+),(-?[\d.]+)",
                                                 " ".join(re.findall(r'(?:points|d)="([^"]*)"',
                                                                     body)))]
            if re.fullmatch(r"h\d+", name):
                lanes[int(name[1:])] = (min(xs) + max(xs)) / 2
            elif re.fullmatch(r"n\d+_\d+|s\d+", name):
                boxes[name] = (int(re.match(r"[ns](\d+)", name).group(1)), min(xs), max(xs))
        assert len(lanes) >= 4 and len(boxes) >= 8, chart.name
        for name, (own, left, right) in boxes.items():
            assert left < lanes[own] < right, (chart.name, name)
            for k, x in lanes.items():
                assert k == own or not (left - 2 <= x <= right + 2), (chart.name, name, k)
