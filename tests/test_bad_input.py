"""Bad input in trace files, renderers and ``prove`` (issue 10): one line on stderr, exit 2,
never a traceback and never an output file; and a trace's files land together as one set.

The trace files are mutations of a real one, written by
``paxchain check lamport-paxos --variant small_quorums --out DIR``. Commands run in-process
through ``paxchain.checker.cli.main`` (``run_cli``), which ``tests/test_fuzz_inputs.py`` shares.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from paxchain.checker import cli
from paxchain.checker.artifacts import write_set, write_trace
from paxchain.checker.commands.replay import load_trace_file
from paxchain.models.errors import UserError, one_line
from paxchain.checker.files import MAX_JSON_DEPTH, loads_json, write_atomic
from paxchain.checker.trace import read_meta
from paxchain.models.values import MAX_VALUE_DEPTH, TraceError, decode



# -- shared helpers ----------------------------------------------------------------------------

def run_cli(*args: str) -> tuple[int, str, str]:
    """``paxchain ARGS`` in-process: (exit code, stdout, stderr). Anything escaping
    ``paxchain.checker.cli.main`` other than its ``SystemExit`` propagates and fails the test."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            cli.main(list(args))
        except SystemExit as exc:
            code = exc.code
        else:
            code = 0
    return code, out.getvalue(), err.getvalue()


def assert_bad_input(code: int, stderr: str) -> None:
    """Exit 2 with exactly one line on stderr, ``paxchain: error: ...``, and no traceback."""
    assert code == 2, stderr
    assert "Traceback" not in stderr
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("paxchain: error: "), stderr


def check_out(variant: str, out: Path) -> None:
    """``paxchain check lamport-paxos --variant VARIANT --out OUT`` in a child process."""
    proc = subprocess.run([sys.executable, "-m", "paxchain.checker", "check", "lamport-paxos",
                           "--variant", variant, "--out", str(out), "-q"],
                          capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr
    assert (out / "trace.json").is_file()


@pytest.fixture(scope="module")
def real_trace(tmp_path_factory) -> Path:
    """A valid trace file (agreement violated in 8 steps) written by ``paxchain check``."""
    out = tmp_path_factory.mktemp("real") / "cx"
    check_out("small_quorums", out)
    return out / "trace.json"


# -- trace files: every probe row gives one line and exit 2 -----------------------------------

def _set(path, value):
    """A mutation of the parsed trace: ``path`` (keys/indices) set to ``value``."""
    def apply(data):
        node = data
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
        return data
    return apply


def _delete(path):
    def apply(data):
        node = data
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]
        return data
    return apply


def _literal(path, text):
    """Put raw JSON ``text`` (which ``json.dumps`` cannot write) at ``path``."""
    marker = "__PAXCHAIN_LITERAL__"

    def apply(data):
        return json.dumps(_set(path, marker)(data)).replace(json.dumps(marker), text)
    return apply


STATE1 = ["states", 1]
MUTATIONS = {
    # the probe's rows
    "deep nesting, whole file": lambda data: "[" * 100_000 + "]" * 100_000,
    "deep nesting in a state value": _literal(STATE1 + ["maxBal"],
                                              '{"#tup": [' * 2000 + "1" + "]}" * 2000),
    "deep nesting in params": _literal(["#meta", "params", "acceptors"], "[" * 5000 + "]" * 5000),
    "5000-digit integer in the header": _literal(["#meta", "format_version"], "1" * 5000),
    "5000-digit integer in a state": _literal(STATE1 + ["maxBal", "#map", 0, 1], "9" * 5000),
    "5000-digit integer as a parameter": _literal(["#meta", "params", "acceptors"], "3" * 5000),
    "format_version true": _set(["#meta", "format_version"], True),
    # header fields of the wrong type
    "format_version 1.0": _set(["#meta", "format_version"], 1.0),
    "format_version '1'": _set(["#meta", "format_version"], "1"),
    "format_version null": _set(["#meta", "format_version"], None),
    "format_version NaN": _literal(["#meta", "format_version"], "NaN"),
    "format_version Infinity": _literal(["#meta", "format_version"], "Infinity"),
    "format_version 1e999": _literal(["#meta", "format_version"], "1e999"),
    "format_version 3": _set(["#meta", "format_version"], 3),
    "format true": _set(["#meta", "format"], True),
    "model 5": _set(["#meta", "model"], 5),
    "model missing": _delete(["#meta", "model"]),
    "model a lone surrogate": _set(["#meta", "model"], "\ud800\n"),
    "property null": _set(["#meta", "property"], None),
    "kind unknown": _set(["#meta", "kind"], "liveness"),
    "kind 1": _set(["#meta", "kind"], 1),
    "variant 5": _set(["#meta", "variant"], 5),
    "variant true": _set(["#meta", "variant"], True),
    "params a list": _set(["#meta", "params"], []),
    "parameter true": _set(["#meta", "params", "acceptors"], True),
    "parameter a float": _set(["#meta", "params", "acceptors"], 3.0),
    "parameter a map": _set(["#meta", "params", "acceptors"], {"#map": [[{"#map": []}, 1]]}),
    "parameter with a newline": _set(["#meta", "params", "acceptors"], "3\n4"),
    "summary 5": _set(["#meta", "summary"], 5),
    "tool_version a list": _set(["#meta", "tool_version"], [1]),
    "outcome against kind": _set(["#meta", "outcome"], "witness"),
    "#meta a list": _set(["#meta"], []),
    # the body
    "vars wrong": _set(["vars"], ["maxBal"]),
    "no states": _set(["states"], []),
    "a state a list": _set(STATE1, []),
    "state #meta a list": _set(STATE1 + ["#meta"], []),
    "state index true": _set(STATE1 + ["#meta", "index"], True),
    "state index 1.0": _set(STATE1 + ["#meta", "index"], 1.0),
    "label a string": _set(STATE1 + ["#meta", "label"], "Phase1a"),
    "label action 5": _set(STATE1 + ["#meta", "label", "action"], 5),
    "label args a list": _set(STATE1 + ["#meta", "label", "args"], [0]),
    "a variable missing": _delete(STATE1 + ["maxVal"]),
    "a float value": _set(STATE1 + ["maxBal", "#map", 0, 1], 0.5),
    "NaN in a state": _literal(STATE1 + ["maxBal", "#map", 0, 1], "NaN"),
    "-Infinity in a state": _literal(STATE1 + ["maxBal", "#map", 0, 1], "-Infinity"),
    "a bool ballot": _set(STATE1 + ["maxBal", "#map", 0, 1], True),
    "map keys of mixed types": _set(STATE1 + ["maxBal", "#map", 0, 0], 7),
    "a map inside a set element": _set(STATE1 + ["msgs", "#set"], [{"#tup": [{"#map": []}]}]),
    "a bare list value": _set(STATE1 + ["maxBal"], [1, 2]),
    # not a trace at all
    "empty file": lambda data: "",
    "null": lambda data: "null",
    "a list": lambda data: "[]",
    "not UTF-8": lambda data: b"\xff\xfe{",
    "truncated": lambda data: json.dumps(data)[:-40],
}


def _write_mutant(real_trace: Path, tmp_path: Path, mutate) -> Path:
    result = mutate(json.loads(real_trace.read_text()))
    path = tmp_path / "bad.json"
    if isinstance(result, bytes):
        path.write_bytes(result)
    else:
        path.write_text(result if isinstance(result, str) else json.dumps(result),
                        encoding="utf-8", errors="surrogatepass")
    return path


@pytest.mark.parametrize("case", sorted(MUTATIONS))
def test_bad_trace_is_one_line_exit_2_for_replay_and_render(real_trace, tmp_path, case):
    bad = _write_mutant(real_trace, tmp_path, MUTATIONS[case])
    out = tmp_path / "out"
    code, stdout, stderr = run_cli("replay", str(bad), "--out", str(out / "replayed"))
    assert_bad_input(code, stderr)
    code, stdout, stderr = run_cli("render", str(bad), "--html", str(out / "t.html"),
                                   "--dot", str(out / "t.dot"), "--text", str(out / "t.txt"))
    assert_bad_input(code, stderr)
    assert not out.exists()  # nothing written, not even a folder
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.json"]


def test_the_real_trace_replays_and_renders(real_trace, tmp_path):
    """The mutations above start from a trace that is itself accepted."""
    code, stdout, stderr = run_cli("replay", str(real_trace))
    assert code == 1 and "confirmed: agreement (invariant) is violated" in stdout, stderr
    code, stdout, stderr = run_cli("render", str(real_trace), "--dot", str(tmp_path / "t.dot"),
                                   "--text", str(tmp_path / "t.txt"))
    assert code == 0, stderr
    assert (tmp_path / "t.dot").read_text().startswith("digraph")
    assert "Violated: agreement" in (tmp_path / "t.txt").read_text()


def test_error_messages_name_the_problem(real_trace, tmp_path):
    cases = {
        "format_version true": "trace format version True is not supported",
        "5000-digit integer in the header": "an integer has 5000 digits (at most 4300",
        "deep nesting, whole file": f"nested 100000 levels deep (at most {MAX_JSON_DEPTH}",
        "format_version NaN": "NaN is not a JSON number",
        "variant 5": "variant must be a string or null",
        "parameter a float": "trace #meta params acceptors: unrecognised trace value 3.0",
        "state index true": "state 1: #meta index is True, not 1",
        "a map inside a set element": "state 1: a map key, set element or record field",
    }
    for case, expected in cases.items():
        bad = _write_mutant(real_trace, tmp_path, MUTATIONS[case])
        code, _, stderr = run_cli("replay", str(bad))
        assert_bad_input(code, stderr)
        assert expected in stderr, (case, stderr)


def test_a_lone_surrogate_or_control_character_is_escaped_in_the_one_line(real_trace, tmp_path):
    bad = _write_mutant(real_trace, tmp_path, MUTATIONS["model a lone surrogate"])
    code, _, stderr = run_cli("replay", str(bad))
    assert_bad_input(code, stderr)
    assert "\\ud800" in stderr
    assert one_line("a\nb\x00c\ud800") == "a b\\x00c\\ud800"
    assert str(UserError("one\ntwo\r\nthree")) == "one two  three"


# -- simulation traces (``simulate paxos --replay``): the same reader, the same contract -------

@pytest.fixture(scope="module")
def sim_trace(tmp_path_factory) -> Path:
    """A valid simulation trace, written by ``paxchain simulate paxos --save``."""
    path = tmp_path_factory.mktemp("sim") / "sim.json"
    code, _, stderr = run_cli("simulate", "paxos", "--save", str(path))
    assert code == 0, stderr
    return path


SIM_MUTATIONS = {
    "deep nesting, whole file": MUTATIONS["deep nesting, whole file"],
    "deep nesting in params": _literal(["#meta", "params", "acceptors"],
                                       "[" * 5000 + "]" * 5000),
    "5000-digit integer as a parameter": _literal(["#meta", "params", "seed"], "3" * 5000),
    "NaN as a parameter": _literal(["#meta", "params", "loss"], "NaN"),
    "format_version true": _set(["#meta", "format_version"], True),
    "format_version 1.0": _set(["#meta", "format_version"], 1.0),
    "format_version '1'": _set(["#meta", "format_version"], "1"),
    "parameter true": _set(["#meta", "params", "acceptors"], True),
    "parameter a float": _set(["#meta", "params", "acceptors"], 3.0),
    "number as text": _set(["#meta", "params", "until"], "nan"),
    "not UTF-8": MUTATIONS["not UTF-8"],
}


@pytest.mark.parametrize("case", sorted(SIM_MUTATIONS))
def test_bad_simulation_trace_is_one_line_exit_2(sim_trace, tmp_path, case):
    bad = _write_mutant(sim_trace, tmp_path, SIM_MUTATIONS[case])
    code, stdout, stderr = run_cli("simulate", "paxos", "--replay", str(bad))
    assert_bad_input(code, stderr)
    assert stdout == ""


def test_the_simulation_trace_replays_and_names_what_is_wrong(sim_trace, tmp_path):
    code, stdout, stderr = run_cli("simulate", "paxos", "--replay", str(sim_trace))
    assert code == 0 and "events reproduced exactly" in stdout, stderr
    for case, expected in (("format_version true", "format version 1 (an integer)"),
                           ("parameter true", "True is not an integer"),
                           ("deep nesting, whole file", "nested 100000 levels deep")):
        bad = _write_mutant(sim_trace, tmp_path, SIM_MUTATIONS[case])
        code, _, stderr = run_cli("simulate", "paxos", "--replay", str(bad))
        assert_bad_input(code, stderr)
        assert expected in stderr, (case, stderr)


# -- the readers, directly --------------------------------------------------------------------

def test_loads_json_bounds_depth_integers_and_non_finite_numbers():
    assert loads_json("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH) is not None
    assert loads_json('["[[[[", {"a": "]]]"}]') == ["[[[[", {"a": "]]]"}]  # strings don't nest
    for text in ("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1), "1" * 4301,
                 "NaN", "[Infinity]", '{"a": -Infinity}', "1e400", "{", ""):
        with pytest.raises(UserError):
            loads_json(text)


def test_decode_limits_depth_and_refuses_unhashable_keys():
    deep: object = 1
    for _ in range(MAX_VALUE_DEPTH):
        deep = {"#tup": [deep]}
    decode(deep)  # exactly the limit is read
    with pytest.raises(TraceError, match="nested more than"):
        decode({"#tup": [deep]})
    assert decode({"#tup": [{"#tup": [1]}]}) == ((1,),)
    with pytest.raises(TraceError):
        decode({"#set": [{"#tup": [{"#map": []}]}]})
    with pytest.raises(TraceError):
        decode({"#map": [[{"#map": [[1, 2], ["a", 3]]}, 0]]})  # a key whose keys cannot sort
    for bad in (1.5, float("nan"), [1], {"x": 1}):
        with pytest.raises(TraceError):
            decode(bad)


def test_read_meta_refuses_ints_that_are_bools_and_floats(real_trace):
    meta = json.loads(real_trace.read_text())["#meta"]
    assert read_meta({"#meta": meta}) is meta
    for field, value in (("format_version", True), ("format_version", 1.0),
                         ("format_version", float("nan")), ("model", 1), ("kind", None),
                         ("explanation", 0), ("variant", 0)):
        with pytest.raises(TraceError):
            read_meta({"#meta": {**meta, field: value}})


# -- prove --timeout --------------------------------------------------------------------------

@pytest.mark.parametrize("proof", ["paxos", "chain"])
@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", "-1", "0", "0.0001", "abc",
                                   "1e306", ""])
def test_prove_timeout_must_be_a_finite_positive_number(proof, value):
    code, stdout, stderr = run_cli("prove", proof, "--timeout", value)
    assert_bad_input(code, stderr)
    assert "--timeout" in stderr and stdout == ""


# -- render: every input checked before any output --------------------------------------------

def test_render_checks_its_outputs_before_writing_any(real_trace, tmp_path, monkeypatch):
    html = tmp_path / "t.html"
    same = tmp_path / "same"
    for args in (["--html", str(html), "--dot", str(same), "--text", str(same)],
                 ["--html", str(html), "--text", str(real_trace)],
                 ["--html", str(html), "--dot", str(tmp_path)]):
        code, _, stderr = run_cli("render", str(real_trace), *args)
        assert_bad_input(code, stderr)
        assert not html.exists() and not same.exists()
    from paxchain.checker import render_dot

    monkeypatch.setattr(render_dot, "dot_available", lambda: False)
    code, _, stderr = run_cli("render", str(real_trace), "--html", str(html),
                              "--svg", str(tmp_path / "t.svg"))
    assert_bad_input(code, stderr)
    assert "--svg needs graphviz" in stderr and not html.exists()
    code, _, stderr = run_cli("render", str(real_trace))
    assert_bad_input(code, stderr)


def test_a_dot_failure_is_one_line_for_render_and_only_a_warning_for_a_trace_set(
        real_trace, tmp_path, monkeypatch, capsys):
    from paxchain.checker import artifacts
    from paxchain.checker import render_dot
    from paxchain.checker.render_dot import DotFailed

    def failing(src):
        raise DotFailed("graphviz's dot failed: Error: <stdin>: syntax error")

    monkeypatch.setattr(render_dot, "dot_available", lambda: True)
    monkeypatch.setattr(render_dot, "render_svg", failing)
    monkeypatch.setattr(artifacts, "dot_available", lambda: True)
    monkeypatch.setattr(artifacts, "render_svg", failing)
    code, _, stderr = run_cli("render", str(real_trace), "--text", str(tmp_path / "t.txt"),
                              "--svg", str(tmp_path / "t.svg"))
    assert_bad_input(code, stderr)
    assert "syntax error" in stderr and not (tmp_path / "t.txt").exists()
    paths = write_trace(load_trace_file(str(real_trace)).trace, tmp_path / "cx")
    assert sorted(p.name for p in paths) == ["trace.dot", "trace.itf.json", "trace.json",
                                             "trace.test.py", "trace.txt"]
    assert "paxchain: warning: no trace.svg: graphviz's dot failed" in capsys.readouterr().err


def test_replay_out_that_is_a_file_or_the_working_folder_is_bad_input(real_trace, tmp_path,
                                                                      monkeypatch):
    a_file = tmp_path / "f"
    a_file.write_text("keep")
    code, _, stderr = run_cli("replay", str(real_trace), "--out", str(a_file))
    assert_bad_input(code, stderr)
    assert a_file.read_text() == "keep"
    monkeypatch.chdir(tmp_path)
    code, _, stderr = run_cli("replay", str(real_trace), "--out", ".")
    assert_bad_input(code, stderr)
    assert "is the working folder" in stderr
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "inner").mkdir()
    code, _, stderr = run_cli("replay", str(real_trace), "--out", "sub")
    assert_bad_input(code, stderr)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f", "sub"]


# -- output files: modes and sets that land together ------------------------------------------

@pytest.fixture
def umask_027():
    old = os.umask(0o027)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_written_files_honour_the_umask(real_trace, tmp_path, umask_027):
    assert _mode(write_atomic(tmp_path / "a" / "x.txt", "x")) == 0o640
    trace = load_trace_file(str(real_trace)).trace
    paths = write_trace(trace, tmp_path / "cx")
    assert _mode(tmp_path / "cx") == 0o750
    assert {p.name for p in paths} >= {"trace.json", "trace.txt", "trace.dot"}
    assert all(_mode(p) == 0o640 for p in paths)


def test_a_new_set_replaces_the_old_one_whole_and_keeps_other_files(real_trace, tmp_path):
    trace = load_trace_file(str(real_trace)).trace
    out = tmp_path / "cx"
    out.mkdir()
    # Files of an earlier run: a drawing only a chain trace has, and another trace's set.
    (out / "blocktree.dot").write_text("stale")
    (out / "blocktree.svg").write_text("stale")
    (out / "trace.html").write_text("stale")
    (out / "other.json").write_text("{}")
    (out / "other.dot").write_text("other")
    (out / "notes.md").write_text("mine")
    paths = write_trace(trace, out)
    names = sorted(p.name for p in out.iterdir())
    assert "blocktree.dot" not in names and "blocktree.svg" not in names
    assert "trace.html" not in names  # not part of this set: an old one must not stay beside it
    assert {"other.json", "other.dot", "notes.md"} <= set(names)
    assert (out / "notes.md").read_text() == "mine"
    assert set(names) == {p.name for p in paths} | {"other.json", "other.dot", "notes.md"}
    assert [p.name for p in tmp_path.iterdir()] == ["cx"]  # no temporary folder left beside
    # A second stem in the same folder keeps the first.
    more = write_trace(trace, out, "agreement", html=True)
    assert {p.name for p in more} >= {"agreement.json", "agreement.html"}
    assert all(p.exists() for p in paths + more)
    text = (out / "agreement.txt").read_text()
    assert f"Replay:    paxchain replay {out / 'agreement.json'}" in text


def test_a_failure_while_rendering_or_writing_leaves_the_folder_as_it_was(real_trace, tmp_path,
                                                                          monkeypatch):
    trace = load_trace_file(str(real_trace)).trace
    out = tmp_path / "cx"
    write_set(out, {"trace.json": "old", "trace.txt": "old"}, "trace")
    from paxchain.checker import artifacts

    def broken(*_):
        raise RuntimeError("dot failed")

    monkeypatch.setattr(artifacts, "message_sequence", broken)
    with pytest.raises(RuntimeError):
        write_trace(trace, out)
    monkeypatch.undo()
    monkeypatch.setattr(artifacts, "_carry_over", broken)
    with pytest.raises(RuntimeError):
        write_trace(trace, out)
    assert sorted(p.name for p in out.iterdir()) == ["trace.json", "trace.txt"]
    assert (out / "trace.json").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["cx"]


def test_two_runs_writing_the_same_folder_never_leave_a_mix(real_trace, tmp_path):
    """Two writers of different traces race on one folder while a reader opens the folder
    over and over: every snapshot that was in place while it was read is one whole set."""
    other = tmp_path / "other"
    check_out("duplicate_2a", other)
    traces = {v: load_trace_file(str(p)).trace for v, p in
              (("small_quorums", real_trace), ("duplicate_2a", other / "trace.json"))}
    out = tmp_path / "race" / "cx"
    write_trace(traces["small_quorums"], out)
    names = {p.name for p in out.iterdir()}
    errors: list[BaseException] = []
    done = threading.Event()

    def writer(trace):
        try:
            for _ in range(12):
                write_trace(trace, out)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    snapshots = []

    def reader():
        while not done.is_set():
            snap = _snapshot(out)
            if snap is not None:
                snapshots.append(snap)

    threads = [threading.Thread(target=writer, args=(t,)) for t in traces.values()]
    watcher = threading.Thread(target=reader)
    watcher.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done.set()
    watcher.join()
    assert not errors, errors
    final = _snapshot(out)
    assert final is not None
    for snap in snapshots + [final]:
        assert set(snap) == names
        variants = {v for v in traces if f"variant={v}" in snap["trace.txt"]}
        assert len(variants) == 1
        (variant,) = variants
        assert all(f"variant={variant}" in content or f'"variant": "{variant}"' in content
                   for content in snap.values())
    assert len(snapshots) > 0
    assert sorted(p.name for p in out.parent.iterdir()) == ["cx"]  # no temporary folders


def _snapshot(folder: Path) -> dict[str, str] | None:
    """Every file of ``folder`` read through one handle on it, or None when the folder was
    swapped out while it was read (that snapshot was being deleted)."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except FileNotFoundError:
        return None
    try:
        files = {}
        for name in os.listdir(fd):
            try:
                with open(name, "rb", opener=lambda p, f: os.open(p, f, dir_fd=fd)) as f:
                    files[name] = f.read().decode("utf-8")
            except FileNotFoundError:
                return None
        try:
            if os.stat(folder).st_ino != os.fstat(fd).st_ino:
                return None
        except FileNotFoundError:
            return None
        return files
    finally:
        os.close(fd)
