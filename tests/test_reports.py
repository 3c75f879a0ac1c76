"""The gate's judgement and reports: expectations, incomplete never passing as holds, exit
codes, JUnit/JSON/Markdown contents, artifacts, and byte-identical output across runs."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from paxchain.checker.checks_file import CheckSpec, parse_checks
from paxchain.checker.explicit import check as explicit_check
from paxchain.checker.result import Options, PropertyResult, Result, Stats
from paxchain.checker.suite import judge, run_suite

# Five small checks (each well under a second): one that holds (ballot 0 only: 73 states, as
# test_lamport_paxos pins), one expected violation, and three failures of different kinds.
CHECKS = """\
[[check]]
name = "ok-holds"
model = "lamport-paxos"
params = { max_ballot = 0 }

[[check]]
name = "ok-violated"
model = "lamport-paxos"
variant = "small_quorums"
expect = "violated"
violates = "agreement"

[[check]]
name = "bad-violated"
model = "lamport-paxos"
variant = "small_quorums"
properties = ["agreement"]

[[check]]
name = "bad-incomplete"
model = "lamport-paxos"
max_depth = 2

[[check]]
name = "bad-expectation"
model = "lamport-paxos"
params = { max_ballot = 0 }
expect = "violated"
violates = "agreement"
"""


def _gate(tmp: Path, text: str = CHECKS, capsys=None, slow: bool = False) -> tuple[int, Path]:
    (tmp / "checks.toml").write_text(text)
    code = run_suite(Options(), out=None, json_path=str(tmp / "r.json"),
                     junit_path=str(tmp / "junit.xml"), summary_path=str(tmp / "summary.md"),
                     artifacts_dir=str(tmp / "artifacts"), checks_file=str(tmp / "checks.toml"),
                     search=explicit_check, slow=slow)
    return code, tmp


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    a = _gate(tmp_path_factory.mktemp("a"))
    b = _gate(tmp_path_factory.mktemp("b"))
    return a, b


def test_verdicts_and_exit_code(runs):
    (code, d), _ = runs
    assert code == 1  # a violation among the failures: 1, not 3
    data = json.loads((d / "r.json").read_text())
    got = {c["name"]: (c["verdict"], c["ok"]) for c in data["checks"]}
    assert got == {"ok-holds": ("holds", True), "ok-violated": ("violated", True),
                   "bad-violated": ("violated", False), "bad-incomplete": ("incomplete", False),
                   "bad-expectation": ("holds", False)}
    assert (data["passed"], data["failed"], data["ok"]) == (2, 3, False)
    why = {c["name"]: c["why"] for c in data["checks"]}
    assert why["bad-violated"] == "violated: agreement"
    assert why["bad-incomplete"].startswith("incomplete (max_depth)")
    assert why["bad-expectation"] == "expected agreement violated, but it holds"
    holds = next(c for c in data["checks"] if c["name"] == "ok-holds")
    goal = next(p for p in holds["properties"] if p["name"] == "value_chosen")
    # 1a, two 1b (a majority of 3), 2a, two 2b: 1 + 2 + 1 + 2 = 6 steps.
    assert goal == {"name": "value_chosen", "kind": "sometimes", "verdict": "holds",
                    "witness_length": 6}
    assert holds["stats"]["distinct"] == 73


def _drop_timings(d: Path) -> dict[str, str]:
    out = {}
    data = json.loads((d / "r.json").read_text())
    data.pop("timings")
    out["json"] = json.dumps(data)
    out["junit"] = re.sub(r' time="[0-9.]+"', "", (d / "junit.xml").read_text())
    out["md"] = re.sub(r"\| [0-9.]+ s \|", "| T |", (d / "summary.md").read_text())
    for f in sorted((d / "artifacts").rglob("*")):
        if f.is_file():
            out[str(f.relative_to(d))] = f.read_text()
    return out


def test_reports_are_byte_identical_apart_from_timings(runs):
    (_, a), (_, b) = runs
    ra, rb = _drop_timings(a), _drop_timings(b)
    # Paths inside reports name the run's folder; compare with that folder masked.
    norm = {k: v.replace(str(a), "RUN") for k, v in ra.items()}
    assert norm == {k: v.replace(str(b), "RUN") for k, v in rb.items()}
    assert "timings" in json.loads((a / "r.json").read_text())


def test_junit_has_a_case_per_check_and_property_with_traces(runs):
    (_, d), _ = runs
    root = ET.parse(d / "junit.xml").getroot()
    cases = root.findall(".//testcase")
    names = [(c.get("classname"), c.get("name")) for c in cases]
    assert ("paxchain.ok-violated", "expect violated: agreement") in names
    assert ("paxchain.bad-violated", "agreement") in names
    # ok-holds: the model's 8 properties, one case each.
    assert sum(1 for cl, _ in names if cl == "paxchain.ok-holds") == 8
    failed = {(c.get("classname"), c.get("name")): c.find("failure") for c in cases
              if c.find("failure") is not None}
    trace = failed[("paxchain.bad-violated", "agreement")]
    assert "Step 1: Phase1a" in trace.text and "Violated: agreement" in trace.text
    assert failed[("paxchain.bad-incomplete", "agreement")].get("type") == "incomplete"
    assert root.get("failures") == str(len(failed))
    assert root.get("tests") == str(len(cases))


def test_summary_and_artifacts(runs):
    (_, d), _ = runs
    md = (d / "summary.md").read_text()
    assert md.startswith("## paxchain check: ❌ 3 of 5 checks failed")
    assert "| ✅ | ok-holds | lamport-paxos acceptors=3 values=2 max_ballot=0 | holds | holds | 73 |" in md
    assert "ok-holds: goal `value_chosen` reached (witness: 6 steps)" in md
    link = re.search(r"\[agreement\]\((artifacts/bad-violated/agreement\.html)\)", md)
    assert link and (d / link.group(1)).is_file()
    folder = d / "artifacts" / "bad-violated"
    assert {"agreement.json", "agreement.txt", "agreement.dot", "agreement.html"} <= {
        p.name for p in folder.iterdir()}
    # Only failed checks with a trace get a folder.
    assert sorted(p.name for p in (d / "artifacts").iterdir()) == ["bad-violated"]


def test_incomplete_alone_exits_3_and_can_be_tolerated(tmp_path):
    text = '[[check]]\nname = "i"\nmodel = "lamport-paxos"\nmax_depth = 2\n'
    assert _gate(tmp_path, text)[0] == 3
    code, d = _gate(tmp_path, text + "incomplete_fails = false\n")
    data = json.loads((d / "r.json").read_text())
    assert code == 0 and data["checks"][0]["verdict"] == "incomplete"  # shown as incomplete
    assert "tolerated" in data["checks"][0]["why"]


# One check that passes and two tagged slow: one that would pass, one that would fail.
SLOW = CHECKS.split('[[check]]\nname = "ok-violated"')[0] + """
[[check]]
name = "slow-holds"
model = "lamport-paxos"
params = { max_ballot = 0 }
slow = true

[[check]]
name = "slow-bad"
model = "lamport-paxos"
variant = "small_quorums"
properties = ["agreement"]
slow = true
"""


def test_slow_checks_are_listed_as_not_run_and_do_not_fail_the_gate(tmp_path, capsys):
    code, d = _gate(tmp_path, SLOW)
    out = capsys.readouterr().out
    assert code == 0  # slow-bad would fail, but it did not run
    data = json.loads((d / "r.json").read_text())
    rows = {c["name"]: (c["verdict"], c["ok"], c["ran"], c["exhaustive"]) for c in data["checks"]}
    assert rows == {"ok-holds": ("holds", True, True, True),
                    "slow-holds": ("not run (slow)", False, False, False),
                    "slow-bad": ("not run (slow)", False, False, False)}
    assert (data["passed"], data["failed"], data["not_run"], data["skipped_slow"],
            data["slow"], data["ok"]) == (1, 0, 0, 2, False, True)
    assert data["checks"][1]["spec"]["slow"] is True
    headline = "1 of 1 checks passed; 2 slow checks not run (--slow runs them)"
    assert out.rstrip().endswith(f"{headline} ({d / 'checks.toml'}).")
    assert "----  2. slow-holds: lamport-paxos: expected holds, slow: not run (--slow runs it)" \
        in out
    root = ET.parse(d / "junit.xml").getroot()
    skipped = [(c.get("classname"), c.get("name"), c.find("skipped").get("message"))
               for c in root.iter("testcase") if c.find("skipped") is not None]
    assert skipped == [("paxchain.slow-holds", "not run (slow)", "slow: not run (--slow runs it)"),
                       ("paxchain.slow-bad", "not run (slow)", "slow: not run (--slow runs it)")]
    assert (root.get("failures"), root.get("skipped")) == ("0", "2")
    md = (d / "summary.md").read_text()
    assert md.startswith("## paxchain check: ✅ all 1 checks passed; 2 slow checks not run "
                         "(--slow runs them)\n")
    assert "| ⏭ | slow-bad | lamport-paxos | holds | not run (slow) |" in md
    assert not (d / "artifacts").exists() or not any((d / "artifacts").iterdir())


def test_with_slow_every_check_runs(tmp_path, capsys):
    code, d = _gate(tmp_path, SLOW, slow=True)
    out = capsys.readouterr().out
    assert code == 1  # slow-bad ran, and its violation fails the gate
    data = json.loads((d / "r.json").read_text())
    assert [(c["name"], c["verdict"], c["ok"]) for c in data["checks"]] == [
        ("ok-holds", "holds", True), ("slow-holds", "holds", True),
        ("slow-bad", "violated", False)]
    assert (data["skipped_slow"], data["slow"]) == (0, True)
    assert out.rstrip().endswith(f"2 of 3 checks passed ({d / 'checks.toml'}).")


def test_cli_slow_flag_runs_the_slow_checks(tmp_path):
    (tmp_path / "paxchain.toml").write_text(SLOW.split('[[check]]\nname = "slow-bad"')[0])
    cmd = [sys.executable, "-m", "paxchain.checker", "check", "--quiet"]
    fast = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path)
    assert fast.returncode == 0, fast.stderr
    assert fast.stdout.rstrip().endswith(
        "1 of 1 checks passed; 1 slow check not run (--slow runs it) (paxchain.toml).")
    full = subprocess.run(cmd + ["--slow"], capture_output=True, text=True, cwd=tmp_path)
    assert full.returncode == 0, full.stderr
    assert full.stdout.rstrip().endswith("2 of 2 checks passed (paxchain.toml).")


def test_unfired_actions_warn_and_can_fail_the_check():
    spec = CheckSpec(name="c", model="m")
    result = Result("m", Options(), Stats(), [PropertyResult("p", "invariant", "", "holds")],
                    None, {"Go": 3, "Crash": 0})
    assert result.warnings == ["action Crash never fired"]
    assert judge(spec, result) == ("holds", True, "")
    strict = CheckSpec(name="c", model="m", fail_on_unfired=True)
    assert judge(strict, result) == ("holds", False, "action Crash never fired")


def test_cli_gate_over_the_shipped_checks_file_reports_to_stdout(tmp_path):
    # The project's own paxchain.toml must validate (running it is .ci/run's job).
    root = Path(__file__).resolve().parent.parent
    checks = parse_checks((root / "paxchain.toml").read_text(), "paxchain.toml")
    assert any(c.expect == "violated" for c in checks) and any(c.expect == "holds" for c in checks)
    (tmp_path / "paxchain.toml").write_text(CHECKS.split("[[check]]\nname = \"bad")[0])
    proc = subprocess.run([sys.executable, "-m", "paxchain.checker", "check", "--json"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["checks_file"] == "paxchain.toml" and data["ok"] is True


def test_the_shipped_gate_passes_with_every_report(tmp_path):
    """The project's own gate, as CI runs it: every expectation in paxchain.toml is met."""
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.run([sys.executable, "-m", "paxchain.checker", "check", "--quiet",
                           "--json", str(tmp_path / "gate.json"),
                           "--junit", str(tmp_path / "gate.xml"),
                           "--summary", str(tmp_path / "gate.md"),
                           "--artifacts", str(tmp_path / "artifacts")],
                          capture_output=True, text=True, cwd=root)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    data = json.loads((tmp_path / "gate.json").read_text())
    assert data["checks_file"] == "paxchain.toml" and data["ok"]
    slow = [c.name for c in parse_checks((root / "paxchain.toml").read_text(), "paxchain.toml")
            if c.slow]
    assert [c["name"] for c in data["checks"] if not c["ran"]] == slow  # only --slow runs them
    assert ET.parse(tmp_path / "gate.xml").getroot().get("failures") == "0"
    assert (tmp_path / "gate.md").read_text().startswith("## paxchain check: ✅ all")
