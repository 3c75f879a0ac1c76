"""The viewer's state panel shows a chain hash as its first 8 hex digits, as the drawings do.

The full value stays on hover (a ``title``) and in the trace file; only the text a reader sees
is cut. The explorer page cuts the same way in its script (``short``), with the same pattern.
"""

from __future__ import annotations

import re

import pytest

from paxchain.checker.explore_page import page_html
from paxchain.checker.render_html import trace_html
from paxchain.checker.render_text import _HASH
from paxchain.models import registry

HEX64 = re.compile(r"\b[0-9a-f]{64}\b")


@pytest.fixture(scope="module")
def chain_trace():
    if "chain" not in registry.entries():
        pytest.skip("no chain model registered")
    from paxchain.checker.testing import assert_violated
    return assert_violated("chain", "genesis_agreement", variant="adopt_unknown_parent",
                           params={"tie": "lowest-hash", "k": 2})


def _state_panels(page: str) -> list[str]:
    return re.findall(r'<div class="state" data-i="\d+".*?</div></div>', page, re.S)


def test_the_state_panel_cuts_hashes_to_8_digits_and_keeps_them_on_hover(chain_trace):
    page = trace_html(chain_trace)
    panels = _state_panels(page)
    assert len(panels) == len(chain_trace.steps)
    shown = [re.sub(r' title="[^"]*"', "", p) for p in panels]
    full = [h for p in panels for h in HEX64.findall(p)]
    assert full, "the trace should carry 64-hex parent hashes (nothing to cut otherwise)"
    assert not any(HEX64.search(p) for p in shown)
    assert all("title=" in p for p in panels if HEX64.search(p))


def test_the_explorer_cuts_with_the_same_pattern_as_the_text_renderer():
    assert _HASH.pattern == r"\b([0-9a-f]{8})[0-9a-f]{56}\b"
    assert "/\\b([0-9a-f]{8})[0-9a-f]{56}\\b/g" in page_html("x")
