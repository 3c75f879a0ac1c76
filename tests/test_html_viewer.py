"""The HTML trace viewer: structure without a browser, then stepping in headless Chromium.

The browser test drives Debian's ``chromium`` through ``chromium-driver`` with Selenium (no
driver download: the Service points at /usr/bin/chromedriver). It is skipped only when those
are not installed; .ci/run installs them, so CI runs it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from paxchain.checker import Options, check
from paxchain.checker.render_html import step_nodes, trace_html
from paxchain.models import registry

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


@pytest.fixture(scope="module")
def trace():
    # small_quorums breaks agreement quickly; BFS gives the shortest trace (8 steps, as the
    # assertion below pins via the step list length, so the test notices if it changes).
    model = registry.build("lamport-paxos", {}, "small_quorums")
    result = check(model, Options(only=("agreement",)))
    return result.get("agreement").trace


@pytest.fixture(scope="module")
def page(trace, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("viewer") / "trace.html"
    path.write_text(trace_html(trace), encoding="utf-8")
    return path


def test_page_is_self_contained_and_deterministic(trace, page):
    text = page.read_text(encoding="utf-8")
    assert text == trace_html(trace)  # same trace, same bytes
    # Nothing to fetch: no external scripts, styles, images or links (xmlns URIs are names).
    assert not re.search(r'(src|href)\s*=\s*"(https?:)?//', text)
    assert "<link" not in text
    assert text.count('class="step"') == len(trace.steps)
    assert text.count('class="state"') == len(trace.steps)
    if shutil.which("dot"):
        assert "<svg" in text and "<title>n" in text
    assert "VIOLATED: agreement" in text


def test_chain_traces_carry_the_models_drawings():
    if "chain" not in registry.entries():
        pytest.skip("no chain model registered")
    from paxchain.checker.testing import assert_violated

    trace = assert_violated("chain", "tip_max_work", variant="latest_arrival_fork_choice",
                            params={"nodes": 3, "budget": 3, "tie": "lowest-hash", "k": 2})
    text = trace_html(trace)
    drawings = trace.model.drawings([s.state for s in trace.steps])
    assert drawings  # the block tree
    for name in drawings:
        assert f'<section class="drawing"><h2>{name}</h2>' in text
    assert text.count("<svg") == 1 + len(drawings) or not shutil.which("dot")


def test_a_witness_is_shown_as_reached():
    from paxchain.checker.testing import assert_reached

    text = trace_html(assert_reached("lamport-paxos", "value_chosen"))
    assert '<div id="broken" class="reached" hidden><strong>REACHED: value_chosen (sometimes)' in text
    assert "VIOLATED" not in text.split("<section id=\"chart\">")[0]


def test_step_nodes_name_the_chart_boxes(trace):
    nodes = step_nodes(trace)
    assert nodes[0] is None and len(nodes) == len(trace.steps)
    assert all(re.fullmatch(rf"n\d+_{i}", n) for i, n in enumerate(nodes[1:], start=1))


def test_render_command_rejects_a_bad_file_with_one_line(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"#meta": {"format": "paxchain-trace", "format_version": 1,
                                         "model": "lamport-paxos", "property": "agreement",
                                         "kind": "invariant"}, "vars": [], "states": []}))
    proc = subprocess.run([sys.executable, "-m", "paxchain.checker", "render", str(bad), "--html",
                           str(tmp_path / "out.html")], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "paxchain: error:" in proc.stderr
    assert not (tmp_path / "out.html").exists()


def test_render_command_writes_every_format(trace, tmp_path):
    src = tmp_path / "trace.json"
    src.write_text(trace.dumps())
    out = {ext: tmp_path / f"v.{ext}" for ext in ("html", "dot", "txt")}
    proc = subprocess.run([sys.executable, "-m", "paxchain.checker", "render", str(src),
                           "--html", str(out["html"]), "--dot", str(out["dot"]),
                           "--text", str(out["txt"])], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert out["html"].read_text() == trace_html(trace)
    assert out["dot"].read_text().startswith("digraph")
    assert "agreement (invariant) violated" in out["txt"].read_text()


# -- in a real browser -------------------------------------------------------------------------

def _driver(profile: Path):
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.skip("chromium/chromium-driver not installed (apt-get install chromium "
                    "chromium-driver); .ci/run installs them")
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium not installed")
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                f"--user-data-dir={profile}", "--window-size=1280,900"):
        opts.add_argument(arg)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)


def test_viewer_steps_with_arrow_keys_in_headless_chromium(trace, page, tmp_path):
    driver = _driver(tmp_path / "profile")
    try:
        from selenium.webdriver.common.by import By
        from selenium.webdriver.common.keys import Keys

        driver.get(page.as_uri())
        body = driver.find_element(By.TAG_NAME, "body")

        def current():
            step = driver.find_element(By.CSS_SELECTOR, "#steps li.current")
            state = [s for s in driver.find_elements(By.CSS_SELECTOR, "#states .state")
                     if s.is_displayed()]
            assert len(state) == 1
            node = driver.execute_script(
                "var g = document.querySelector('#chart g.node.current');"
                "return g ? g.querySelector('title').textContent : null;")
            return step.get_attribute("data-i"), state[0].text, node

        assert driver.find_elements(By.CSS_SELECTOR, "#steps li.step").__len__() == len(trace.steps)
        i0, state0, node0 = current()
        assert (i0, node0) == ("0", None)
        assert not driver.find_element(By.ID, "broken").is_displayed()
        body.send_keys(Keys.ARROW_RIGHT)
        i1, state1, node1 = current()
        assert i1 == "1" and state1 != state0
        assert node1 == step_nodes(trace)[1]
        changed = driver.find_elements(By.CSS_SELECTOR, "#states .state:not([hidden]) .changed")
        assert changed, "step 1 changes something, and the change is highlighted"
        body.send_keys(Keys.ARROW_RIGHT)
        i2, state2, node2 = current()
        assert i2 == "2" and state2 != state1 and node2 == step_nodes(trace)[2]
        body.send_keys(Keys.ARROW_LEFT)
        assert current()[0] == "1"
        body.send_keys(Keys.END)
        last = str(len(trace.steps) - 1)
        assert current()[0] == last
        broken = driver.find_element(By.ID, "broken")
        assert broken.is_displayed() and "VIOLATED: agreement" in broken.text
        body.send_keys(Keys.ARROW_RIGHT)  # stays on the last step
        assert current()[0] == last
        shot = tmp_path / "viewer.png"
        assert driver.save_screenshot(str(shot))
        data = shot.read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 1000
    finally:
        driver.quit()
