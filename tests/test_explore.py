"""``paxchain explore``: the explorer's JSON API in-process, its command's input and exits, and
the page driven in headless Chromium to a violation whose bookmarked trace replays.

The server runs in a thread on port 0 (a free port) and is shut down and joined after each
test. The browser test drives Debian's ``chromium`` with Selenium as tests/test_html_viewer.py
does, and is skipped only when those are not installed (.ci/run installs them).
"""

from __future__ import annotations

import contextlib
import json
import re
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request

import pytest

from paxchain.checker import Options, check
from paxchain.checker.cli import main
from paxchain.checker.commands import explore as explore_command
from paxchain.checker.explore_server import make_server
from paxchain.checker.trace import replay
from paxchain.models.registry import build

from tests.test_html_viewer import _driver

TINY = {"acceptors": "1", "values": "1", "max_ballot": "1"}


@contextlib.contextmanager
def serving(model):
    server = make_server(model, 0)
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    try:
        yield server, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


def get(url: str):
    """``(status, JSON body)`` of a GET, errors included."""
    try:
        with urllib.request.urlopen(url) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


@pytest.fixture(scope="module")
def bad_model():
    return build("lamport-paxos", {"max_ballot": "1"}, "small_quorums")


# -- the JSON API ------------------------------------------------------------------------------

def test_states_are_walked_by_successor_index_and_expanded_lazily(monkeypatch):
    model = build("lamport-paxos", TINY)
    calls = []
    real = model.successors
    monkeypatch.setattr(model, "successors", lambda s: calls.append(s) or real(s))
    with serving(model) as (server, base):
        status, info = get(base + "/api/model")
        assert status == 200 and info["initial"] == 1
        assert info["title"] == "lamport-paxos acceptors=1 values=1 max_ballot=1"
        status, s0 = get(base + "/api/state?path=0")
        s = next(iter(model.initial_states()))
        succ = list(real(s))
        assert status == 200 and s0["depth"] == 0 and s0["trail"] == []
        assert [e["label"] for e in s0["steps"]] == [str(lb) for lb, _ in succ]
        assert s0["changed"] == [] and s0["fails"] == [] and s0["claims"] == []
        status, s1 = get(base + "/api/state?path=0/1")
        assert s1["trail"] == [str(succ[1][0])] and s1["path"] == [0, 1]
        assert s1["changed"] == ["msgs"]  # Phase1a(bal=1) adds a message and nothing else
        assert s0["steps"][1]["changes"] == ["msgs + 1a(bal=1)"]
        assert s1["vars"] == [[k, v] for k, v in get(base + "/api/state?path=/0/1/")[1]["vars"]]
    # two states shown (one of them twice): a handful of expansions, never the whole space
    assert len(calls) <= 6


def test_a_bad_path_is_one_error_not_a_crash():
    with serving(build("lamport-paxos", TINY)) as (_, base):
        assert get(base + "/api/state?path=1") == (
            404, {"error": "there are 1 initial states, no 1"})
        assert get(base + "/api/state?path=0/99") == (
            404, {"error": "step 1: 2 steps are enabled, no 99"})
        status, body = get(base + "/api/state?path=0/x")
        assert status == 404 and "indices separated by '/'" in body["error"]
        status, body = get(base + "/api/trace?path=0")
        assert status == 404 and "breaks no property and reaches no goal" in body["error"]
        assert get(base + "/nothing")[0] == 404
        with urllib.request.urlopen(base + "/") as r:
            page = r.read().decode()
        # one self-contained page: nothing loaded from the network
        assert "<script>" in page and "<link" not in page
        assert not re.search(r'(src|href)\s*=\s*"(https?:)?//', page)


def test_jump_finds_the_checkers_shortest_violation_and_its_bookmark_replays(bad_model, tmp_path):
    expected = check(bad_model, Options(only=("agreement",))).get("agreement").trace
    with serving(bad_model) as (server, base):
        status, v = get(base + "/api/violation")
        assert status == 200 and v["found"] and v["property"] == "agreement"
        assert v["steps"] == len(expected.steps) - 1 == 8
        path = "/".join(map(str, v["path"]))
        _, last = get(base + f"/api/state?path={path}")
        assert last["fails"] == ["agreement"]
        assert {"property": "agreement", "outcome": "violation"} in last["claims"]
        with urllib.request.urlopen(base + f"/api/trace?path={path}&property=agreement") as r:
            assert "attachment" in r.headers["Content-Disposition"]
            text = r.read().decode()
        status, body = get(base + f"/api/trace?path={path}&property=type_ok")
        assert status == 404 and "does not show 'type_ok'" in body["error"]
    data = json.loads(text)
    assert replay(bad_model, data).outcome == "violation"
    assert [s.state for s in replay(bad_model, data).trace.steps] == [
        s.state for s in expected.steps]
    # and the command line's replay confirms it (exit 1: a violation confirmed)
    f = tmp_path / "bookmark.json"
    f.write_text(text)
    proc = subprocess.run([sys.executable, "-m", "paxchain.checker", "replay", str(f)],
                          capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr
    assert "confirmed: agreement (invariant) is violated" in proc.stdout


def test_a_path_that_reaches_a_goal_is_saved_as_a_witness():
    model = build("lamport-paxos", TINY)
    witness = check(model).get("value_chosen").trace
    with serving(model) as (server, base):
        status, v = get(base + "/api/violation")
        assert v == {"found": False, "message": "no violation: every safety property holds "
                                                "over all 25 reachable states"}
        path = "/".join(map(str, server.explorer.path_of(witness)))
        _, last = get(base + f"/api/state?path={path}")
        assert last["reaches"] == ["value_chosen"] and last["fails"] == []
        with urllib.request.urlopen(base + f"/api/trace?path={path}") as r:
            data = json.load(r)
    assert data["#meta"]["outcome"] == "witness"
    assert replay(model, data).outcome == "witness"


# -- the command -------------------------------------------------------------------------------

def _stopped_at_once(monkeypatch):
    """``make_server`` whose server stops as Ctrl-C stops it, as soon as it serves."""
    def make(model, port):
        server = make_server(model, port)

        def interrupted(*args, **kwargs):
            raise KeyboardInterrupt
        server.serve_forever = interrupted  # type: ignore[method-assign]
        return server
    monkeypatch.setattr(explore_command, "make_server", make)


def test_dump_graph_writes_the_checkers_25_states(monkeypatch, tmp_path, capsys):
    """TLC's -dump dot: 1 acceptor, 1 value, ballots 0..1 has 25 distinct states (as
    ``paxchain check`` counts them) and 81 steps (its 82 generated states less the initial)."""
    _stopped_at_once(monkeypatch)
    out = tmp_path / "g.dot"
    with pytest.raises(SystemExit) as exc:
        main(["explore", "lamport-paxos", *[f"-p{k}={v}" for k, v in TINY.items()],
              "--no-browser", "--dump-graph", str(out)])
    assert exc.value.code == 0
    text = out.read_text()
    nodes = [line for line in text.splitlines() if line.startswith("  s") and "->" not in line]
    r = check(build("lamport-paxos", TINY))
    assert len(nodes) == r.stats.distinct == 25
    assert text.count(" -> ") == 81 == r.stats.generated - 1
    printed = capsys.readouterr().out
    assert "25 states, 81 steps (the whole reachable graph)" in printed
    assert "exploring lamport-paxos acceptors=1 values=1 max_ballot=1 at http://127.0.0.1:" in printed
    assert printed.endswith("stopped\n")


def test_ctrl_c_stops_the_server_with_exit_0():
    # SIGINT at its default in the child, as in a terminal: a test run started in the
    # background (CI, nohup) has it ignored, and a child would inherit that and never stop.
    proc = subprocess.Popen([sys.executable, "-m", "paxchain.checker", "explore",
                             "lamport-paxos", "-p", "max_ballot=0", "--no-browser"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    first = proc.stdout.readline()  # printed once the server is listening
    assert first.startswith("exploring lamport-paxos") and "http://127.0.0.1:" in first
    url = first.split(" at ")[1].split()[0]
    assert get(url + "api/state?path=0")[0] == 200
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate()
    assert proc.returncode == 0 and out == "stopped\n" and err == ""


@pytest.mark.parametrize("args, words", [
    (["no-such-model"], "no-such-model"),
    (["lamport-paxos", "-p", "acceptorz=2"], "acceptorz"),
    (["lamport-paxos", "--variant", "nope"], "nope"),
    (["lamport-paxos", "-p", "acceptors"], "NAME=VALUE"),
])
def test_bad_input_is_one_line_and_exit_2(args, words):
    proc = subprocess.run([sys.executable, "-m", "paxchain.checker", "explore", *args,
                           "--no-browser"], capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("paxchain: error:")
    assert words in proc.stderr and "Traceback" not in proc.stderr


def test_a_port_in_use_is_one_line_and_exit_2():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run([sys.executable, "-m", "paxchain.checker", "explore",
                               "lamport-paxos", "--no-browser", "--port", str(port)],
                              capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert proc.stderr.startswith(f"paxchain: error: cannot serve on 127.0.0.1:{port}")


# -- in a real browser -------------------------------------------------------------------------

def test_the_page_walks_to_a_violation_and_bookmarks_it_in_headless_chromium(bad_model, tmp_path):
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    driver = _driver(tmp_path / "profile")
    try:
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import WebDriverWait

        driver.execute_cdp_cmd("Browser.setDownloadBehavior",
                               {"behavior": "allow", "downloadPath": str(downloads)})

        def shown(path: str) -> None:  # waits for the page to render the state at ``path``
            WebDriverWait(driver, 120).until(
                lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-path") == path)

        with serving(bad_model) as (server, base):
            driver.get(base + "/")
            shown("0")
            steps = driver.find_elements(By.CSS_SELECTOR, "#next a.step")
            initial = next(iter(bad_model.initial_states()))
            assert [a.text for a in steps] == [str(lb) for lb, _ in bad_model.successors(initial)]
            assert driver.find_element(By.ID, "back").get_property("disabled")
            steps[1].click()
            shown("0/1")
            assert driver.current_url.endswith("#/0/1")
            changed = driver.find_elements(By.CSS_SELECTOR, "#state tr.changed td")
            assert [td.text for td in changed][:1] == ["msgs"]
            driver.find_element(By.ID, "back").click()
            shown("0")
            driver.find_element(By.ID, "jump").click()
            v = server.explorer.violation()
            path = "/".join(map(str, v["path"]))
            shown(path)
            assert "agreement (invariant) violated in 8 steps" in driver.find_element(
                By.ID, "message").text
            assert driver.find_element(By.ID, "fails").text == "breaks: agreement"
            assert len(driver.find_elements(By.CSS_SELECTOR, "#path a")) == 9
            driver.refresh()  # the path is in the URL: a reload reopens the same state
            shown(path)
            bookmark = driver.find_element(
                By.XPATH, "//a[@class='bookmark'][contains(., 'violation of agreement')]")
            bookmark.click()
            WebDriverWait(driver, 120).until(
                lambda d: [f for f in downloads.iterdir() if f.suffix == ".json"])
        saved = next(f for f in downloads.iterdir() if f.suffix == ".json")
        assert saved.name == "lamport-paxos-agreement-8-steps.json"
        done = replay(bad_model, json.loads(saved.read_text()))
        assert done.outcome == "violation" and len(done.trace.steps) == 9
    finally:
        driver.quit()
