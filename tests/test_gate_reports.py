"""The gate's reports as a CI job reads them: a tolerated incomplete never looks like a pass,
trace links open from a job summary when given a base URL (and say where they open when not),
and every report file gets the mode the umask gives."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path

import pytest

from paxchain.checker.explicit import check
from paxchain.checker.result import Options
from paxchain.checker.suite import line_of, run_checks, run_suite
from paxchain.checker.checks_file import load
from paxchain.models.errors import UserError
from tests.test_bad_input import umask_027  # noqa: F401  (a fixture)

TOLERATED = ('[[check]]\nname = "cut"\nmodel = "lamport-paxos"\nmax_depth = 2\n'
             'incomplete_fails = false\n')
HOLDS = '[[check]]\nname = "fine"\nmodel = "lamport-paxos"\nparams = { max_ballot = 0 }\n'
BROKEN = ('[[check]]\nname = "bug"\nmodel = "lamport-paxos"\nvariant = "small_quorums"\n'
          'properties = ["agreement"]\n')


def gate(tmp_path: Path, text: str, **kw) -> tuple[int, Path]:
    (tmp_path / "checks.toml").write_text(text)
    out = tmp_path / "reports"
    code = run_suite(Options(), out=None, json_path=str(out / "r.json"),
                     junit_path=str(out / "j.xml"), summary_path=str(out / "summary.md"),
                     artifacts_dir=str(out / "traces"), checks_file=str(tmp_path / "checks.toml"),
                     search=check, **kw)
    return code, out


def test_a_tolerated_incomplete_shows_as_incomplete_not_as_a_pass(tmp_path, capsys):
    code, out = gate(tmp_path, HOLDS + TOLERATED)
    assert code == 0  # tolerated: the gate passes
    text = capsys.readouterr().out
    assert re.search(r"^inc +2\. cut: .* got incomplete", text, re.M), text
    assert "1 of 2 checks passed, 1 incomplete (tolerated)" in text
    md = (out / "summary.md").read_text()
    assert md.startswith("## paxchain check: ⚠ 1 of 2 checks passed, 1 incomplete (tolerated)")
    row = next(line for line in md.splitlines() if "| cut |" in line)
    assert row.startswith("| ⚠ |") and "✅" not in row and "incomplete (tolerated)" in row
    assert "| ✅ | fine |" in md
    data = json.loads((out / "r.json").read_text())
    assert data["tolerated_incomplete"] == 1 and data["ok"] is True


def test_a_plain_pass_is_still_a_green_line(tmp_path):
    outcomes = run_checks(load(_write(tmp_path, HOLDS)).checks, Options(), check)
    assert line_of(1, outcomes[0]).startswith("ok ")


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "checks.toml"
    path.write_text(text)
    return str(path)


def test_trace_links_are_absolute_under_a_link_base(tmp_path):
    base = "https://ci.example.org/runs/42/traces/"
    code, out = gate(tmp_path, HOLDS + BROKEN, link_base=base)
    assert code == 1
    md = (out / "summary.md").read_text()
    link = re.search(r"\[agreement\]\(([^)]+)\)", md).group(1)
    assert link == base + "bug/agreement.html"
    assert (out / "traces" / "bug" / "agreement.html").is_file()  # the published path exists
    assert "relative to this summary's folder" not in md


def test_relative_trace_links_say_where_they_open(tmp_path):
    _, out = gate(tmp_path, HOLDS + BROKEN)
    md = (out / "summary.md").read_text()
    link = re.search(r"\[agreement\]\(([^)]+)\)", md).group(1)
    assert (out / link).is_file()
    assert "relative to this summary's folder" in md and "--link-base URL" in md


@pytest.mark.parametrize("url", ["traces/", "ftp://host/x", "https:///nohost", "example.org/x"])
def test_a_link_base_that_is_not_an_absolute_url_is_refused_before_the_gate_runs(tmp_path,
                                                                                  url, capsys):
    with pytest.raises(UserError, match="--link-base takes an absolute URL"):
        gate(tmp_path, HOLDS, link_base=url)
    assert capsys.readouterr().out == "" and not (tmp_path / "reports").exists()


def test_every_report_file_gets_the_umask_mode(tmp_path, umask_027):
    _, out = gate(tmp_path, HOLDS + BROKEN)
    files = [p for p in out.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"r.json", "j.xml", "summary.md", "agreement.html"}
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o640 for p in files), [
        (p.name, oct(stat.S_IMODE(p.stat().st_mode))) for p in files]
    folders = [p for p in out.rglob("*") if p.is_dir()]
    assert folders and all(stat.S_IMODE(p.stat().st_mode) == 0o750 for p in folders)
