"""A user's own protocol, checked from the command line and the gate: ``FILE.py:FACTORY``,
``MODULE:FACTORY`` and installed entry points (``paxchain.models.registry.entry``), with
``examples/two_phase_commit.py`` as the protocol. The CLI runs in a child process, in a scratch
directory holding a copy of the example, so that relative paths are what a user types."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Literal

import pytest

from paxchain.models import registry
from paxchain.models.errors import UserError
from tests.toy_models import Counters

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "two_phase_commit.py"
SPEC = "examples/two_phase_commit.py:two_phase_commit"
BUG = [SPEC, "--variant", "majority_commit"]


def paxchain(*args: str, cwd: Path, env: dict[str, str] | None = None
             ) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "paxchain.checker", *args], cwd=cwd,
                          capture_output=True, text=True, env=env)


def assert_one_line_error(proc: subprocess.CompletedProcess, *words: str) -> None:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("paxchain: error: "), proc.stderr
    assert all(w in lines[0] for w in words), (words, lines[0])


@pytest.fixture
def project(tmp_path) -> Path:
    """A scratch directory with ``examples/two_phase_commit.py``, as a user's project."""
    (tmp_path / "examples").mkdir()
    shutil.copy(EXAMPLE, tmp_path / "examples" / EXAMPLE.name)
    return tmp_path


def test_the_correct_protocol_holds_exhaustively(project):
    r = paxchain("check", "--model", SPEC, "-q", cwd=project)
    assert r.returncode == 0, r.stderr
    assert re.search(r"atomicity +invariant +holds", r.stdout)
    assert re.search(r"validity +invariant +holds", r.stdout)
    assert re.search(r"committed +sometimes +holds", r.stdout)  # not a vacuous pass
    assert f"Verdict: HOLDS — every property, exhaustively, over all 349 reachable states " \
           f"(depth 12) of {SPEC} participants=3" in r.stdout
    # the positional MODEL is the same model; giving both is a usage error
    assert paxchain("check", SPEC, "-q", "-p", "participants=2", cwd=project).returncode == 0
    assert_one_line_error(paxchain("check", SPEC, "--model", SPEC, cwd=project), "once")


def test_the_seeded_bug_is_found_with_a_shortest_trace_that_reproduces_replays_renders(project):
    r = paxchain("check", *BUG, "--out", "cx", "-q", cwd=project)
    assert r.returncode == 1, r.stderr
    assert "Verdict: VIOLATED — validity." in r.stdout
    assert "validity (invariant) violated in 6 steps" in r.stdout
    assert "decision commit; p1: yes; p2: yes; p3: not voted" in r.stdout
    reproduce = re.search(r"^Reproduce: (.*)$", r.stdout, re.M).group(1)
    assert reproduce == (f"paxchain check {SPEC} --param participants=3 "
                         "--variant majority_commit")
    assert "Replay:    paxchain replay cx/trace.json" in r.stdout
    meta = json.loads((project / "cx" / "trace.json").read_text())["#meta"]
    assert (meta["model"], meta["params"], meta["variant"]) == (
        SPEC, {"participants": 3}, "majority_commit")

    # shortest: no run of 5 steps breaks validity (the search is cut short, exit 3)
    shorter = paxchain("check", *BUG, "--max-depth", "5", "-q", cwd=project)
    assert shorter.returncode == 3 and "violated" not in shorter.stdout, shorter.stdout

    # the printed Reproduce line, run as printed, gives the same verdict and trace
    again = paxchain(*shlex.split(reproduce)[1:], "-q", cwd=project)
    assert again.returncode == 1 and "validity (invariant) violated in 6 steps" in again.stdout

    replayed = paxchain("replay", "cx/trace.json", cwd=project)
    assert replayed.returncode == 1, replayed.stderr
    assert "replayed 6 steps of" in replayed.stdout
    assert "confirmed: validity (invariant) is violated" in replayed.stdout

    rendered = paxchain("render", "cx/trace.json", "--html", "cx.html", "--dot", "cx.dot",
                        cwd=project)
    assert rendered.returncode == 0, rendered.stderr
    assert "majority_commit" in (project / "cx.html").read_text()
    assert "VIOLATED: validity" in (project / "cx.dot").read_text()


def test_keep_going_breaks_atomicity_too(project):
    r = paxchain("check", *BUG, "--keep-going", "-q", cwd=project)
    assert r.returncode == 1
    assert "atomicity  invariant  violated (trace: 9 steps)" in r.stdout
    assert "Verdict: VIOLATED — atomicity, validity." in r.stdout


GATE = """\
[[check]]
name = "2pc"
model = "protocols/tpc.py:two_phase_commit"

[[check]]
name = "2pc-majority-commit"
model = "protocols/tpc.py:two_phase_commit"
variant = "majority_commit"
params = { participants = 3 }
expect = "violated"
violates = "atomicity"
"""


def test_the_gate_runs_a_model_file_relative_to_paxchain_toml(tmp_path):
    (tmp_path / "protocols").mkdir()
    shutil.copy(EXAMPLE, tmp_path / "protocols" / "tpc.py")
    (tmp_path / "paxchain.toml").write_text(GATE)
    gate = paxchain("check", "--quiet", cwd=tmp_path)
    assert gate.returncode == 0, gate.stdout + gate.stderr
    assert "2 of 2 checks passed" in gate.stdout
    # run from elsewhere, the file is still found relative to the checks file, and named
    # relative to the working directory
    (tmp_path / "elsewhere").mkdir()
    away = paxchain("check", "--checks", "../paxchain.toml", "--quiet", cwd=tmp_path / "elsewhere")
    assert away.returncode == 0, away.stdout + away.stderr
    assert f"{tmp_path.resolve() / 'protocols' / 'tpc.py'}:two_phase_commit" in away.stdout


def test_a_failed_gate_check_of_an_own_model_leaves_a_trace_that_reproduces(tmp_path):
    (tmp_path / "protocols").mkdir()
    shutil.copy(EXAMPLE, tmp_path / "protocols" / "tpc.py")
    (tmp_path / "paxchain.toml").write_text(
        '[[check]]\nname = "wrong"\nmodel = "protocols/tpc.py:two_phase_commit"\n'
        'variant = "majority_commit"\n')  # expects holds: the seeded bug fails it
    gate = paxchain("check", "--quiet", "--artifacts", "traces", "--junit", "junit.xml",
                    cwd=tmp_path)
    assert gate.returncode == 1, gate.stdout + gate.stderr
    text = (tmp_path / "traces" / "wrong" / "validity.txt").read_text()
    reproduce = re.search(r"^Reproduce: (.*)$", text, re.M).group(1)
    assert reproduce.startswith("paxchain check protocols/tpc.py:two_phase_commit ")
    again = paxchain(*shlex.split(reproduce)[1:], "-q", cwd=tmp_path)
    assert again.returncode == 1 and "Verdict: VIOLATED — validity." in again.stdout
    replayed = paxchain("replay", "traces/wrong/atomicity.json", cwd=tmp_path)
    assert replayed.returncode == 1, replayed.stderr
    assert "protocols/tpc.py:two_phase_commit" in (tmp_path / "junit.xml").read_text()


def test_a_path_with_a_space_is_quoted_in_the_printed_lines(tmp_path):
    (tmp_path / "my protocols").mkdir()
    shutil.copy(EXAMPLE, tmp_path / "my protocols" / "tpc.py")
    r = paxchain("check", "my protocols/tpc.py:two_phase_commit", "--variant",
                 "majority_commit", "--out", "c x", "-q", cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    reproduce = re.search(r"^Reproduce: (.*)$", r.stdout, re.M).group(1)
    replay = re.search(r"^Replay: +(.*)$", r.stdout, re.M).group(1)
    assert reproduce.startswith("paxchain check 'my protocols/tpc.py:two_phase_commit' ")
    assert paxchain(*shlex.split(reproduce)[1:], "-q", cwd=tmp_path).returncode == 1
    assert paxchain(*shlex.split(replay)[1:], cwd=tmp_path).returncode == 1


def test_module_factory_and_an_installed_entry_point(tmp_path):
    """``MODULE:FACTORY`` on the import path, and a package offering the model by name through
    the entry-point group ``paxchain.models`` (a dist-info folder is what an install leaves)."""
    shutil.copy(EXAMPLE, tmp_path / "tpc.py")
    dist = tmp_path / "tpc_protocols-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: tpc-protocols\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[paxchain.models]\ntwo-phase-commit = tpc:two_phase_commit\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    work = tmp_path / "work"
    work.mkdir()
    by_module = paxchain("check", "tpc:two_phase_commit", "-q", cwd=work, env=env)
    assert by_module.returncode == 0, by_module.stderr
    listed = paxchain("list", cwd=work, env=env)
    assert re.search(r"^two-phase-commit  params: participants=3  variants: majority_commit  "
                     r"properties: atomicity,validity,committed$", listed.stdout, re.M)
    bug = paxchain("check", "two-phase-commit", "--variant", "majority_commit", "--out", "cx",
                   "-q", cwd=work, env=env)
    assert bug.returncode == 1, bug.stderr
    assert ("Reproduce: paxchain check two-phase-commit --param participants=3 "
            "--variant majority_commit") in bug.stdout
    assert paxchain("replay", "cx/trace.json", cwd=work, env=env).returncode == 1


def test_list_shows_an_own_model(project):
    r = paxchain("list", SPEC, "--long", cwd=project)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[:3] == [
        f"{SPEC}  params: participants=3  variants: majority_commit  "
        "properties: atomicity,validity,committed",
        "    Two-phase commit: a coordinator and N participants on a lossy, duplicating network.",
        "    --param participants=…  an integer"]


@pytest.mark.parametrize("args, words", [
    (["check", "nosuch.py:f"], ["nosuch.py", "no such file"]),
    (["check", "examples/two_phase_commit.py:nofactory"], ["has no 'nofactory'"]),
    (["check", "examples/two_phase_commit.py"], ["unknown model", "FILE.py:FACTORY"]),
    (["check", "no_such_module_x:f"], ["cannot import no_such_module_x"]),
    (["check", "examples/two_phase_commit.py:Prepare"], ["returned a Prepare, not a paxchain Model"]),
    (["check", "examples/two_phase_commit.py:COORDINATOR"], ["not a factory"]),
    (["check", "examples/two_phase_commit.py:"], ["MODULE:FACTORY"]),
    (["check", SPEC, "--variant", "nope"], ["no variant 'nope'", "majority_commit"]),
    (["check", SPEC, "-p", "participants=many"], ["participants", "not an integer"]),
    (["check", SPEC, "-p", "participants=9"], ["participants must be 1..6"]),
    (["check", SPEC, "-p", "voters=3"], ["no parameter 'voters'"]),
    (["list", "nosuch.py:f"], ["no such file"]),
])
def test_bad_specs_are_one_line_exit_2(project, args, words):
    assert_one_line_error(paxchain(*args, cwd=project), *words)


def test_broken_files_and_traces_are_one_line_exit_2(project):
    (project / "broken.py").write_text("raise RuntimeError('half-written')\n")
    assert_one_line_error(paxchain("check", "broken.py:f", cwd=project),
                          "RuntimeError: half-written")
    (project / "raises.py").write_text("def f():\n    return {}['x']\n")
    assert_one_line_error(paxchain("check", "raises.py:f", cwd=project), "KeyError")
    (project / "gate.toml").write_text('[[check]]\nname = "c"\nmodel = "gone.py:f"\n')
    assert_one_line_error(paxchain("check", "--checks", "gate.toml", cwd=project),
                          "gate.toml:3: check 'c':", "no such file")
    # a trace whose model file is no longer there
    assert paxchain("check", *BUG, "--out", "cx", "-q", cwd=project).returncode == 1
    (project / "examples" / "two_phase_commit.py").unlink()
    assert_one_line_error(paxchain("replay", "cx/trace.json", cwd=project), "no such file")


def readme_session() -> list[tuple[str, list[str]]]:
    """The commands of README's "Check your own protocol" and the output lines shown under
    each (``...`` stands for anything)."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Check your own protocol\n", 1)[1].split("\n## ", 1)[0]
    runs: list[tuple[str, list[str]]] = []
    for block in re.findall(r"```console\n(.*?)```", section, re.S):
        for line in block.splitlines():
            if line.startswith("$ "):
                runs.append((line[2:], []))
            else:
                runs[-1][1].append(line)
    return runs


def test_the_readme_section_runs_as_shown(project):
    runs = readme_session()
    assert [c.split()[:2] for c, _ in runs] == [["paxchain", "check"], ["paxchain", "check"],
                                              ["paxchain", "replay"], ["paxchain", "render"],
                                              ["paxchain", "list"], ["paxchain", "simulate"],
                                              ["paxchain", "simulate"]]
    for command, shown in runs:
        r = paxchain(*shlex.split(command)[1:], cwd=project)
        assert r.returncode in (0, 1), (command, r.stderr)
        printed = r.stdout.splitlines()
        for line in shown:
            if line.strip() in ("", "..."):
                continue
            pattern = ".*".join(re.escape(piece) for piece in line.split("..."))
            assert any(re.fullmatch(pattern, out) for out in printed), (command, line)


# -- the factory's parameters, typed (in process) ---------------------------------------------

def counters(top: int = 2, reset: bool = False, scale: float = 1.0, label: str = "x",
             mode: Literal["a", "b"] | None = None, size=3,
             variant: Literal["loose"] | None = None) -> Counters:
    """Counters built by a factory."""
    return Counters(top=top, reset=reset)


def test_factory_parameters_are_typed_by_annotations_and_defaults():
    e = registry.factory_entry("toy:counters", counters)
    assert [p.name for p in e.params] == ["top", "reset", "scale", "label", "mode", "size"]
    assert dict(e.variants) == {"loose": ""} and e.summary == "Counters built by a factory."
    values = registry.parse_params(e, {"top": "3", "reset": "true", "scale": "0.5",
                                       "label": "y z", "mode": "b", "size": "4"})
    assert values == {"top": 3, "reset": True, "scale": 0.5, "label": "y z", "mode": "b",
                      "size": 4}
    model = e.build(variant="loose", **values)
    # named by its spec, with the factory's arguments (a float as its text: traces hold none)
    assert (model.name, model.variant) == ("toy:counters", "loose")
    assert model.params == {"top": 3, "reset": True, "scale": "0.5", "label": "y z",
                            "mode": "b", "size": 4}
    for name, text in [("top", "2.5"), ("reset", "maybe"), ("scale", "nan"), ("mode", "c")]:
        with pytest.raises(registry.BadInput, match=name):
            registry.parse_params(e, {name: text})


def test_a_factory_parameter_without_a_default_must_be_given():
    def needs(top: int) -> Counters:
        return Counters(top=top)

    e = registry.factory_entry("toy:needs", needs)
    with pytest.raises(UserError, match="parameter top has no default"):
        e.build(**registry.parse_params(e, {}))
    assert e.build(**registry.parse_params(e, {"top": "1"})).params == {"top": 1}


def test_a_variant_parameter_must_name_its_variants():
    def loose(variant: str | None = None) -> Counters:
        return Counters()

    with pytest.raises(UserError, match="Literal"):
        registry.factory_entry("toy:loose", loose)
