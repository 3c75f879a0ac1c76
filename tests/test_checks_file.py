"""Checks files: where they are found (walking up from the working directory, like pytest's
configuration), what they mean, and the FILE:LINE error for every kind of mistake (checked in a
subprocess for the exit code 2 and the single stderr line)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from paxchain.checker.checks_file import find_source, load, parse_checks
from paxchain.models.errors import UserError

GOOD = textwrap.dedent("""\
    # a comment
    [[check]]
    name = "paxos"
    model = "lamport-paxos"
    params = { acceptors = 3, values = 2, max_ballot = "1" }
    sometimes = ["value_chosen"]

    [[check]]
    name = "small-quorums"
    model = "lamport-paxos"
    variant = "small_quorums"
    expect = "violated"
    violates = "agreement"
    max_depth = 10
    """)


def test_a_good_file_parses_with_lines_and_defaults():
    a, b = parse_checks(GOOD, "paxchain.toml")
    assert (a.name, a.line, a.expect, a.incomplete_fails, a.engine) == ("paxos", 2, "holds",
                                                                        True, "explicit")
    assert a.param_text() == {"acceptors": "3", "values": "2", "max_ballot": "1"}
    assert a.sometimes == ("value_chosen",) and a.properties is None
    assert (b.line, b.variant, b.violates, b.max_depth) == (8, "small_quorums", "agreement", 10)
    assert b.checked() == ("agreement",)


def _error(text: str) -> str:
    with pytest.raises(UserError) as info:
        parse_checks(textwrap.dedent(text), "f.toml")
    msg = str(info.value)
    assert "\n" not in msg
    return msg


HEAD = '[[check]]\nname = "c"\nmodel = "lamport-paxos"\n'


@pytest.mark.parametrize("extra, expected", [
    ('max_dept = 3\n', 'f.toml:4: check \'c\': unknown key \'max_dept\''),
    ('max_depth = "3"\n', 'f.toml:4: check \'c\': max_depth must be an integer, not a string'),
    ('symmetry = 1\n', 'f.toml:4: check \'c\': symmetry must be true or false, not an integer'),
    ('variant = "nope"\n', 'f.toml:4: check \'c\': model lamport-paxos has no variant \'nope\''),
    ('[check.params]\nacceptors = 3\nvaluez = 2\n',
     'f.toml:6: check \'c\': model lamport-paxos has no parameter \'valuez\''),
    ('[check.params]\nacceptors = 30\n',
     'f.toml:5: check \'c\': parameter acceptors: 30 is above the maximum 9'),
    ('params = { acceptors = true }\n',
     'f.toml:4: check \'c\': parameter acceptors must be text or an integer, not a boolean'),
    ('properties = ["agreemnt"]\n', 'f.toml:4: check \'c\': lamport-paxos has no property '
                                    '\'agreemnt\''),
    ('sometimes = ["agreement"]\n', 'f.toml:4: check \'c\': \'agreement\' is a invariant '
                                    'property, not a sometimes goal'),
    ('expect = "fails"\n', 'f.toml:4: check \'c\': expect must be "holds" or "violated"'),
    ('expect = "violated"\n', 'f.toml:4: check \'c\': expect = "violated" needs violates'),
    ('violates = "agreement"\n', 'f.toml:4: check \'c\': violates goes with expect'),
    ('engine = "tlc"\n', 'f.toml:4: check \'c\': unknown engine \'tlc\''),
    ('engine = "simulate"\n', 'f.toml:4: check \'c\': engine \'simulate\' cannot run from a '
                              'checks file yet'),
    ('engine = "prove"\n', 'f.toml:4: check \'c\': engine \'prove\' cannot run'),
    ('max_states = -1\n', 'f.toml:4: check \'c\': max_states must not be negative'),
    ('strategy = "random"\n', 'f.toml:4: check \'c\': strategy must be "bfs" or "dfs"'),
    ('slow = "yes"\n', 'f.toml:4: check \'c\': slow must be true or false, not a string'),
    ('slow = 1\n', 'f.toml:4: check \'c\': slow must be true or false, not an integer'),
])
def test_each_mistake_is_named_with_its_line(extra, expected):
    assert _error(HEAD + extra).startswith(expected)


def test_structural_mistakes():
    assert _error('[[check]]\nname = "c"\n').startswith(
        "f.toml:1: check 'c': missing required key 'model'")
    assert _error('[[check]]\nname = "c"\nmodel = "raft"\n').startswith(
        "f.toml:3: check 'c': unknown model 'raft' (known: ")
    assert _error(HEAD + "\n" + HEAD).startswith(
        "f.toml:6: check name 'c' is used twice (first on line 1)")
    assert _error('title = "x"\n' + HEAD).startswith("f.toml:1: unknown top-level key 'title'")
    assert _error("").startswith("f.toml:1: no checks")
    assert _error(HEAD + "max_depth = = 3\n").startswith("f.toml:4: invalid TOML: ")
    assert _error('[[check]]\nname = "a b"\nmodel = "lamport-paxos"\n').startswith(
        "f.toml:2: check 'a b': name 'a b' must be letters")


def test_symmetry_must_exist():
    from paxchain.models import registry

    plain = [n for n, e in registry.entries().items()
             if not registry.build(n, {}, None).has_symmetry]
    if not plain:
        pytest.skip("every registered model offers symmetry")
    assert _error(f'[[check]]\nname = "c"\nmodel = "{plain[0]}"\nsymmetry = true\n').startswith(
        f"f.toml:4: check 'c': {plain[0]}")
    assert "has no symmetry to reduce by" in _error(
        f'[[check]]\nname = "c"\nmodel = "{plain[0]}"\nsymmetry = true\n')


def test_bmc_engine_where_an_encoding_exists():
    from paxchain.checker.bmc import bmc_properties

    if bmc_properties("lamport-paxos") is None:
        pytest.skip("specs/lamport_paxos_bmc.py is not there")
    assert _error(HEAD + 'engine = "bmc"\n').startswith(
        "f.toml:4: check 'c': engine \"bmc\" needs max_depth")
    assert _error(HEAD + 'engine = "bmc"\nmax_depth = 4\nmax_states = 9\nproperties = ["agreement"]\n'
                  ).startswith("f.toml:6: check 'c': max_states does not apply to engine \"bmc\"")
    assert _error(HEAD + 'engine = "bmc"\nmax_depth = 4\n').startswith(
        "f.toml:4: check 'c': engine \"bmc\" needs properties = [...] or sometimes = [...]")
    (c,) = parse_checks(HEAD + 'engine = "bmc"\nmax_depth = 8\nexpect = "violated"\n'
                        'violates = "agreement"\nvariant = "small_quorums"\n', "f.toml")
    assert c.engine == "bmc"


def test_slow_is_read_and_defaults_to_false():
    a, b = parse_checks(HEAD + "slow = true\n" + HEAD.replace('"c"', '"d"'), "f.toml")
    assert (a.slow, b.slow) == (True, False)
    assert a.to_json()["slow"] is True


def _no_checks_file_above(path: Path) -> None:
    """Skip when a folder above ``path`` (outside the test's control) holds a checks file."""
    for folder in path.resolve().parents:
        for name in ("paxchain.toml", "pyproject.toml"):
            if (folder / name).is_file():
                pytest.skip(f"{folder / name} exists above the test's folder")


def test_pyproject_table_and_search_order(tmp_path):
    _no_checks_file_above(tmp_path)
    with pytest.raises(UserError, match="no checks file"):
        find_source(None, tmp_path)
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    with pytest.raises(UserError, match="no checks file"):  # not ours without [tool.paxchain]
        find_source(None, tmp_path)
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[[tool.paxchain.check]]\nname = "c"\nmodel = "lamport-paxos"\n'
        'bogus = 1\n')
    assert find_source(None, tmp_path) == tmp_path / "pyproject.toml"
    with pytest.raises(UserError, match=r"pyproject.toml:7: check 'c': unknown key 'bogus'"):
        load(None, tmp_path)
    (tmp_path / "paxchain.toml").write_text(HEAD)
    assert find_source(None, tmp_path) == tmp_path / "paxchain.toml"  # takes precedence
    assert [c.name for c in load(None, tmp_path).checks] == ["c"]
    with pytest.raises(UserError, match="no such checks file"):
        find_source(str(tmp_path / "missing.toml"))


def test_the_nearest_folder_up_from_the_working_directory_wins(tmp_path):
    _no_checks_file_above(tmp_path)
    deep = tmp_path / "a" / "b" / "c"
    deep.mkdir(parents=True)
    (tmp_path / "paxchain.toml").write_text(HEAD)
    assert find_source(None, deep) == tmp_path.resolve() / "paxchain.toml"
    assert [c.name for c in load(None, deep).checks] == ["c"]
    # A pyproject.toml without [tool.paxchain] on the way up is passed over ...
    (tmp_path / "a" / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert find_source(None, deep) == tmp_path.resolve() / "paxchain.toml"
    # ... one with it is nearer, and wins over the paxchain.toml further up.
    (tmp_path / "a" / "pyproject.toml").write_text(
        '[[tool.paxchain.check]]\nname = "near"\nmodel = "lamport-paxos"\n')
    assert find_source(None, deep) == tmp_path.resolve() / "a" / "pyproject.toml"
    assert [c.name for c in load(None, deep).checks] == ["near"]
    # In the starting folder itself the path stays as given.
    assert find_source(None, tmp_path) == tmp_path / "paxchain.toml"


def test_a_malformed_pyproject_is_ours_only_when_it_opens_tool_paxchain(tmp_path):
    _no_checks_file_above(tmp_path)
    sub = tmp_path / "sub"
    sub.mkdir()
    (tmp_path / "paxchain.toml").write_text(HEAD)
    (sub / "pyproject.toml").write_text('[project\nname = "x"\n')  # some other tool's problem
    assert find_source(None, sub) == tmp_path.resolve() / "paxchain.toml"
    (sub / "pyproject.toml").write_text('[[tool.paxchain.check]]\nname = = "c"\n')
    assert find_source(None, sub) == sub / "pyproject.toml"
    with pytest.raises(UserError, match=r"pyproject.toml:2: invalid TOML"):
        load(None, sub)


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "paxchain.checker", *args],
                          capture_output=True, text=True, cwd=cwd)


def test_cli_gate_from_a_subdirectory_uses_the_file_above_and_its_plugin_paths(tmp_path):
    _no_checks_file_above(tmp_path)
    (tmp_path / "helper.py").write_text("LOADED = True\n")  # found only beside the file
    (tmp_path / "paxchain.toml").write_text(
        'plugins = ["helper.py"]\n\n' + HEAD + "params = { max_ballot = 0 }\n")
    sub = tmp_path / "src" / "deep"
    sub.mkdir(parents=True)
    proc = _cli("check", "--quiet", cwd=sub)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    found = tmp_path.resolve() / "paxchain.toml"
    assert proc.stdout.rstrip().endswith(f"1 of 1 checks passed ({found}).")


def test_cli_gate_without_a_checks_file_is_one_line_and_exit_2(tmp_path):
    _no_checks_file_above(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    proc = _cli("check", cwd=tmp_path)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == (
        "paxchain: error: no checks file: neither paxchain.toml nor pyproject.toml with "
        f"[tool.paxchain] in {tmp_path.resolve()} or any directory above it (name one with "
        "--checks FILE, or a MODEL to check)\n")


def test_a_removed_working_directory_is_one_line_and_exit_2(tmp_path):
    gone = tmp_path / "gone"
    gone.mkdir()
    code = ("import os, sys; from paxchain.checker.cli import main; os.chdir(sys.argv[1]); "
            "os.rmdir(sys.argv[1]); sys.argv[1:] = ['check']; main()")
    proc = subprocess.run([sys.executable, "-c", code, str(gone)], capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == ("paxchain: error: no checks file: cannot read the working directory "
                           "(No such file or directory)\n")


def test_cli_rejects_a_bad_checks_file_with_one_line_and_exit_2(tmp_path):
    bad = tmp_path / "checks.toml"
    bad.write_text(HEAD + "max_depth = 3\nmax_depht = 4\n")
    proc = subprocess.run([sys.executable, "-m", "paxchain.checker", "check", "--checks", str(bad)],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr == (f"paxchain: error: {bad}:5: check 'c': unknown key 'max_depht' "
                           "(known: deadlock, engine, expect, fail_on_unfired, incomplete_fails, "
                           "max_depth, max_states, model, name, params, properties, slow, "
                           "sometimes, strategy, symmetry, time_limit, variant, violates)\n")
