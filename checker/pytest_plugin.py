"""pytest plugin: attach the counterexample of a failing ``paxchain.checker.testing`` assertion.

Enable it with ``pytest -p checker.pytest_plugin`` (or through the ``pytest11`` entry point
``paxchain = "paxchain.checker.pytest_plugin"``). With ``--paxchain-traces DIR``, every test that fails
with a ``paxchain.checker.testing.CheckFailure`` carrying a trace gets a folder
``DIR/<test id>/`` holding ``trace.json/.txt/.dot/.svg/.html`` (``paxchain replay`` and
``paxchain render`` read the JSON), and the test's report gains a "paxchain trace" section
listing the files. Without the option the plugin does nothing: the assertion message already
holds the trace text.
"""

from __future__ import annotations

from pathlib import Path

import pytest

__all__ = ["pytest_addoption", "pytest_runtest_makereport"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("paxchain").addoption(
        "--paxchain-traces", metavar="DIR", default=None,
        help="write the trace of each failing checker.testing assertion into DIR/<test id>/ "
             "(json, txt, dot, svg, html)")


def _slug(nodeid: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in nodeid)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    out = item.config.getoption("paxchain_traces")
    if not out or call.excinfo is None:
        return
    # pytest loads this plugin into every session wherever paxchain is installed; what it
    # imports here (the model registry, the trace writers) costs about 18 ms more, paid only
    # with --paxchain-traces and a failure
    from paxchain.checker.testing import CheckFailure

    failure = call.excinfo.value
    if not isinstance(failure, CheckFailure) or failure.trace is None:
        return
    # (the same start-up cost as above)
    from paxchain.checker.artifacts import write_trace
    from paxchain.checker.files import write_atomic
    from paxchain.checker.render_html import trace_html

    folder = Path(out) / _slug(item.nodeid)
    paths = write_trace(failure.trace, folder)
    paths.append(write_atomic(folder / "trace.html", trace_html(failure.trace)))
    outcome.get_result().sections.append(("paxchain trace", "\n".join(map(str, paths))))
