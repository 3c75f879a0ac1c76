"""The ``paxchain`` command line: exit codes, one-line errors, files written whole."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

SMALL = ["lamport-paxos", "-p", "acceptors=3", "-p", "values=2", "-p", "max_ballot=1"]
ROOT = Path(__file__).resolve().parent.parent


def paxchain(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "paxchain.checker", *args], capture_output=True,
                          text=True, cwd=cwd)


def assert_one_line_error(proc: subprocess.CompletedProcess) -> None:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("paxchain: error: "), proc.stderr


def test_holds_exits_0_and_prints_statistics_and_bounds():
    proc = paxchain("check", *SMALL)
    assert proc.returncode == 0, proc.stderr
    assert "22,995 states generated, 3,921 distinct states found, 0 states left on queue" in proc.stdout
    assert "bounds: max depth none, max states none, time limit none" in proc.stdout
    assert "Verdict: HOLDS" in proc.stdout


def test_violation_exits_1_and_writes_every_format(tmp_path):
    out = tmp_path / "cx"
    proc = paxchain("check", *SMALL, "--variant", "small_quorums", "--out", str(out))
    assert proc.returncode == 1, proc.stderr
    names = sorted(p.name for p in out.iterdir())
    expected = ["trace.dot", "trace.itf.json", "trace.json", "trace.txt", "trace.test.py"]
    if "trace.svg" in names:
        expected.append("trace.svg")
    assert names == sorted(expected)  # and no temporary files left behind
    text = (out / "trace.txt").read_text()
    assert "Step 8: Phase2b(a=a1, bal=1, val=v2)" in text or "Step 8: Phase2b" in text
    assert "Violated: agreement" in text and "chosen = {v1 at ballot" in text
    dot = (out / "trace.dot").read_text()
    assert "VIOLATED: agreement" in dot and "leaders" in dot

    replayed = paxchain("replay", str(out / "trace.json"))
    assert replayed.returncode == 1, replayed.stderr
    assert "confirmed: agreement (invariant) is violated" in replayed.stdout


def test_tampered_trace_exits_2_naming_the_step(tmp_path):
    out = tmp_path / "cx"
    paxchain("check", *SMALL, "--variant", "small_quorums", "--out", str(out))
    data = json.loads((out / "trace.json").read_text())
    data["states"][4]["maxBal"]["#map"][1][1] = 1
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    proc = paxchain("replay", str(bad))
    assert_one_line_error(proc)
    assert "step 4" in proc.stderr


@pytest.mark.parametrize("args", [
    ["check", "no-such-model"],
    ["check", "lamport-paxos", "--variant", "no_such_bug"],
    ["check", "lamport-paxos", "-p", "acceptors=zero"],
    ["check", "lamport-paxos", "-p", "acceptors=0"],
    ["check", "lamport-paxos", "-p", "nonsense=1"],
    ["check", "lamport-paxos", "-p", "novalue"],
    ["check", "lamport-paxos", "--property", "nope"],
    ["check", "lamport-paxos", "--max-depth", "-1"],
    ["check", "lamport-paxos", "-p", "quorums=a1+a2", "--symmetry"],
    ["check", "lamport-paxos", "--slow"],
    ["replay", "/no/such/file.json"],
])
def test_bad_input_is_one_line_and_exit_2(args):
    assert_one_line_error(paxchain(*args))


def test_bounds_give_incomplete_exit_3():
    proc = paxchain("check", "lamport-paxos", "-p", "max_ballot=2", "--max-depth", "4", "-q")
    assert proc.returncode == 3
    assert "Verdict: INCOMPLETE — the depth bound was reached" in proc.stdout


def test_ctrl_c_prints_partial_statistics_and_exits_3():
    # 3 acceptors / 2 values / ballots 0..3 has 8.2 million states: still running when the
    # first plain progress line (after 5 s) tells us the search has started.
    proc = subprocess.Popen(
        [sys.executable, "-m", "paxchain.checker", "check", "lamport-paxos", "-p", "max_ballot=3"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert proc.stderr.readline().startswith("progress: ")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate()
    assert proc.returncode == 3 and "Traceback" not in err
    assert "Verdict: INCOMPLETE — the search was interrupted" in out
    assert "states left on queue" in out and "agreement         invariant  incomplete" in out


def test_json_output_is_the_whole_result():
    proc = paxchain("check", *SMALL, "--variant", "ignore_votes", "--keep-going", "--json")
    assert proc.returncode == 1
    data = json.loads(proc.stdout)
    verdicts = {p["name"]: p["verdict"] for p in data["properties"]}
    assert verdicts["agreement"] == "violated" and verdicts["type_ok"] == "holds"
    assert data["stats"]["distinct"] == 5329 and data["exhaustive"] is True
    assert data["properties"][0]["trace"]["#meta"]["format"] == "paxchain-trace"


def test_list_names_models_params_variants_and_properties():
    proc = paxchain("list")
    assert proc.returncode == 0
    line = next(x for x in proc.stdout.splitlines() if x.startswith("lamport-paxos"))
    for word in ("max_ballot=1", "small_quorums", "agreement", "value_chosen"):
        assert word in line


def test_default_gate_meets_every_expectation_from_a_subdirectory():
    """README's main job, run from below the project root: paxchain.toml is found above, and
    every check not tagged slow meets its expectation; the slow ones are listed, not run."""
    proc = paxchain("check", "--json", cwd=ROOT / "tests")
    assert proc.returncode == 0, proc.stdout[-2000:]
    data = json.loads(proc.stdout)
    assert data["checks_file"] == str(ROOT / "paxchain.toml")
    ran = [row for row in data["checks"] if row["ran"]]
    slow = [row for row in data["checks"] if row["spec"]["slow"]]
    assert data["failed"] == 0 and ran and all(row["ok"] for row in ran)
    assert any(row["expect"].startswith("violated") for row in ran)
    assert slow and all(row["verdict"] == "not run (slow)" for row in slow)
    assert data["skipped_slow"] == len(slow) and data["ok"] is True


def test_bmc_engine_finds_the_shortest_violation_and_its_trace_replays(tmp_path):
    out = tmp_path / "bmc"
    proc = paxchain("check", *SMALL, "--variant", "small_quorums", "--engine", "bmc",
                    "--depth", "8", "--property", "agreement", "--out", str(out))
    assert proc.returncode == 1, proc.stderr
    assert "agreement (invariant) violated in 8 steps" in proc.stdout
    assert paxchain("replay", str(out / "trace.json")).returncode == 1


def test_bmc_without_a_violation_is_a_bounded_claim_exit_3():
    proc = paxchain("check", *SMALL, "--engine", "bmc", "--depth", "3", "--property", "agreement")
    assert proc.returncode == 3
    assert "claims nothing about longer runs" in proc.stdout


@pytest.mark.parametrize("args", [["--engine", "bmc"], ["--depth", "3"]])
def test_bmc_flags_must_go_together(args):
    assert_one_line_error(paxchain("check", *SMALL, *args))


def test_find_min_k_reports_the_least_k_and_draws_the_smaller_ones(tmp_path):
    # Chain CI bound (3 nodes, 3 blocks, delay 1, 1 crash): k=0 and k=1 fail, k=2 holds
    # exhaustively (336,584 states under first-seen ties; models/chain_system.py and
    # tests/test_chain_system.py).
    proc = paxchain("check", "chain", "-p", "tie=first-seen", "--find-min-k", "--out",
                    str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert "minimal k: 2" in proc.stdout and "k=2: holds (336,584 states)" in proc.stdout
    assert (tmp_path / "k0" / "blocktree.dot").exists() and (tmp_path / "k1" / "trace.json").exists()
    assert_one_line_error(paxchain("check", "lamport-paxos", "--find-min-k"))


def test_an_unwritable_output_path_is_bad_input():
    proc = paxchain("check", *SMALL, "--variant", "small_quorums", "--out", "/proc/no/such/dir")
    assert_one_line_error(proc)
    assert "cannot write" in proc.stderr
