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
    states = [s.state for s in trace.steps]
    drawings = trace.model.drawings(states)
    assert drawings  # the block tree
    frames = 0
    for name in drawings:
        assert f'<section class="drawing" data-name="{name}"><h2>{name} ' in text
        section = text.split(f'data-name="{name}"')[1].split("</section>")[0]
        shown = [[int(i) for i in m.split()]
                 for m in re.findall(r'<div class="frame" data-steps="([\d ]+)"', section)]
        # Every step shows exactly one frame: the drawing of the states up to it.
        assert sorted(i for f in shown for i in f) == list(range(len(states)))
        assert len(shown) > 1, "the block tree grows along the trace"
        frames += len(shown)
    assert text.count("<svg") == 1 + frames or not shutil.which("dot")


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

def _driver(profile: Path, size=(1280, 900)):
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
                f"--user-data-dir={profile}", f"--window-size={size[0]},{size[1]}"):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    # The page's own size, whatever the browser's frame takes (headless has none, but say so).
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": size[0], "height": size[1], "deviceScaleFactor": 1, "mobile": False})
    return driver


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


_RECTS = """
function r(el){ var b = el.getBoundingClientRect();
  return {left: b.left, right: b.right, top: b.top, bottom: b.bottom, width: b.width,
          height: b.height}; }
var state = document.querySelector('#states .state:not([hidden])');
return {win: {width: window.innerWidth, height: window.innerHeight},
        port: r(document.querySelector('#chart .viewport')),
        chart: r(document.querySelector('#chart svg g.graph')),
        state: r(document.getElementById('state-panel')),
        stateText: r(state.querySelector('h2'))};
"""


def _inside(inner, outer, slack=1.0):
    return (inner["left"] >= outer["left"] - slack and inner["right"] <= outer["right"] + slack
            and inner["top"] >= outer["top"] - slack and inner["bottom"] <= outer["bottom"] + slack)


def _assert_whole_chart_beside_the_state(driver):
    g = driver.execute_script(_RECTS)
    win = {"left": 0, "top": 0, "right": g["win"]["width"], "bottom": g["win"]["height"]}
    assert g["win"] == {"width": 1400, "height": 1000}
    assert g["chart"]["width"] > 100 and g["chart"]["height"] > 100
    assert _inside(g["chart"], g["port"]), ("the whole chart is in its panel", g)
    assert _inside(g["port"], win), ("the panel is on screen", g)
    # Side by side: the state's panel is on screen too, left of the chart.
    assert _inside(g["stateText"], win) and g["state"]["right"] <= g["port"]["left"], g
    return g


@pytest.fixture(scope="module")
def system_page(tmp_path_factory) -> Path:
    # README's paxos-system example: six lanes, the widest chart of the README's.
    from paxchain.checker.testing import assert_violated

    trace = assert_violated("paxos-system", "refinement", variant="ballots_not_unique",
                            params={"max_rounds": 1, "crashes": 0})
    path = tmp_path_factory.mktemp("viewer") / "system.html"
    path.write_text(trace_html(trace), encoding="utf-8")
    return path


def test_fit_shows_the_whole_chart_beside_the_state_at_1400_by_1000(system_page, page, tmp_path):
    if not shutil.which("dot"):
        pytest.skip("graphviz's dot is not installed: no chart to fit")
    driver = _driver(tmp_path / "profile", (1400, 1000))
    try:
        from selenium.webdriver.common.by import By
        from selenium.webdriver.common.keys import Keys

        for path in (system_page, page):
            driver.get(path.as_uri())
            fitted = _assert_whole_chart_beside_the_state(driver)  # fitted when it opens
            body = driver.find_element(By.TAG_NAME, "body")
            for _ in range(3):
                driver.find_element(By.ID, "zoom-in").click()
            zoomed = driver.execute_script(_RECTS)
            assert zoomed["chart"]["width"] > 1.9 * fitted["chart"]["width"]
            assert not _inside(zoomed["chart"], zoomed["port"])
            body.send_keys(Keys.END)  # the last step's box is panned into view
            current = driver.execute_script(
                "var b = document.querySelector('#chart g.node.current').getBoundingClientRect();"
                "return {left: b.left, right: b.right, top: b.top, bottom: b.bottom};")
            assert _inside(current, zoomed["port"])
            driver.find_element(By.ID, "fit").click()
            again = _assert_whole_chart_beside_the_state(driver)
            assert abs(again["chart"]["width"] - fitted["chart"]["width"]) < 1
    finally:
        driver.quit()


def test_the_block_tree_follows_the_current_step_in_headless_chromium(tmp_path):
    if not shutil.which("dot"):
        pytest.skip("graphviz's dot is not installed")
    from paxchain.checker.testing import assert_violated

    trace = assert_violated("chain", "tip_max_work", variant="latest_arrival_fork_choice",
                            params={"nodes": 3, "budget": 3, "tie": "lowest-hash", "k": 2})
    path = tmp_path / "chain.html"
    path.write_text(trace_html(trace), encoding="utf-8")
    driver = _driver(tmp_path / "profile", (1400, 1000))
    try:
        from selenium.webdriver.common.by import By
        from selenium.webdriver.common.keys import Keys

        driver.get(path.as_uri())
        _assert_whole_chart_beside_the_state(driver)
        body = driver.find_element(By.TAG_NAME, "body")

        def shown():
            frames = [f for f in driver.find_elements(By.CSS_SELECTOR, ".drawing .frame")
                      if f.is_displayed()]
            assert len(frames) == 1
            return frames[0].get_attribute("data-steps").split()

        seen = []
        for i in range(len(trace.steps)):
            assert str(i) in shown()
            seen.append(shown())
            body.send_keys(Keys.ARROW_RIGHT)
        assert seen[0] != seen[-1], "the tree at the first step is not the final one"
        # Only the blocks known at step 0: genesis alone.
        body.send_keys(Keys.HOME)
        frame = [f for f in driver.find_elements(By.CSS_SELECTOR, ".drawing .frame")
                 if f.is_displayed()][0]
        assert len(frame.find_elements(By.CSS_SELECTOR, "g.node")) < len(
            driver.find_elements(By.CSS_SELECTOR, ".drawing .frame")[-1].find_elements(
                By.CSS_SELECTOR, "g.node"))
    finally:
        driver.quit()
