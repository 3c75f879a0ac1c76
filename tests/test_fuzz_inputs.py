"""Fuzzing the readers of untrusted files (issue 10): whatever a trace file or a checks file
holds, paxchain answers with an exit code in 0..3 and never a traceback; bad input is one line.

Trace files are random JSON documents (NaN/inf, deep nesting, huge integers, wrong types) and
random mutations of a real trace written by
``paxchain check lamport-paxos --variant small_quorums --out DIR``; they are driven through
``paxchain replay`` and ``paxchain render`` in-process (``paxchain.checker.cli.main``). Checks files are
random TOML documents and mutations of ``paxchain.toml``, read by
``paxchain.checker.checks_file.parse_checks``. A modest number of examples keeps this to seconds; set
``PAXCHAIN_FUZZ_EXAMPLES`` (e.g. 5000) for a longer hunt.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paxchain.checker.checks_file import CheckSpec, parse_checks
from paxchain.models.errors import UserError
from tests.test_bad_input import assert_bad_input, real_trace, run_cli  # noqa: F401 (fixture)

ROOT = Path(__file__).resolve().parent.parent
FUZZ = settings(max_examples=int(os.environ.get("PAXCHAIN_FUZZ_EXAMPLES", "100")), deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# -- JSON -------------------------------------------------------------------------------------

KEYS = st.sampled_from(["#meta", "#map", "#set", "#tup", "type", "format", "format_version",
                        "model", "property", "kind", "params", "variant", "vars", "states",
                        "label", "action", "args", "index", "maxBal", "msgs"]) | st.text(max_size=6)
NUMBERS = (st.integers() | st.integers(min_value=-(2**70), max_value=2**70)
           | st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from([0, 1, -1, True]))
SCALARS = st.none() | st.booleans() | NUMBERS | st.text(max_size=12)
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(KEYS, inner, max_size=4), max_leaves=20)
# Raw JSON text json.dumps cannot produce, or that breaks naive readers.
LITERALS = st.sampled_from([
    "NaN", "Infinity", "-Infinity", "1e999", "-1e999", "1" * 4301, "-" + "9" * 5000,
    "[" * 3000 + "]" * 3000, '{"a":' * 2000 + "1" + "}" * 2000,
    '{"#tup": [' * 200 + "1" + "]}" * 200,
    '"\\ud800"', '"a\\nb\\u0000"', "1.0", "true", "[]", "{}", '{"#map": [[1, 2], ["a", 3]]}',
    '{"#set": [{"#tup": [{"#map": []}]}]}', '{"#tup": 5}', '{"type": 5}',
])


def _paths(node, here=()):
    """Every path (keys and indices) into a parsed JSON document, the root first."""
    yield here
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, here + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, here + (i,))


def _at(node, path):
    for key in path:
        node = node[key]
    return node


MARK = "__PAXCHAIN_FUZZ_{}__"


def _mutate(data, draw) -> str:
    """The document ``data`` after one to three random mutations, as JSON text."""
    literals: dict[str, str] = {}
    for n in range(draw(st.integers(1, 3))):
        paths = list(_paths(data))
        path = paths[draw(st.integers(0, len(paths) - 1))]
        op = draw(st.sampled_from(["value", "literal", "delete", "wrap", "swap", "nudge"]))
        if not path:
            op = "value"
        parent = _at(data, path[:-1]) if path else None
        key = path[-1] if path else None
        old = _at(data, path)
        if op == "value":
            new = draw(JSON)
        elif op == "literal":
            new = MARK.format(n)
            literals[json.dumps(new)] = draw(LITERALS)
        elif op == "delete":
            del parent[key]
            continue
        elif op == "wrap":
            new = old
            for _ in range(draw(st.integers(1, 120))):
                new = [new] if draw(st.booleans()) else {"#tup": [new]}
        elif op == "swap":  # a copy of another node (the node itself could make a cycle)
            new = json.loads(json.dumps(_at(data, paths[draw(st.integers(0, len(paths) - 1))])))
        else:  # nudge a number, flip a bool, edit a string
            if isinstance(old, bool):
                new = not old
            elif isinstance(old, int):
                new = old + draw(st.sampled_from([-1, 1, 2**64]))
            elif isinstance(old, str):
                new = old + draw(st.text(max_size=2))
            else:
                new = draw(SCALARS)
        if path:
            parent[key] = new
        else:
            data = new
    text = json.dumps(data, allow_nan=True)
    for mark, literal in literals.items():
        text = text.replace(mark, literal)
    return text


def _drive(text: str, folder: Path, render_html: bool, replay_out: bool) -> None:
    """Replay and render the trace ``text``; check exit codes, one-line errors and outputs."""
    trace = folder / "trace.json"
    trace.write_text(text, encoding="utf-8", errors="surrogatepass")
    out = folder / "out"
    args = ["--out", str(out / "replayed")] if replay_out else []
    code, stdout, stderr = run_cli("replay", str(trace), *args)
    _assert_contract(code, stdout, stderr)
    if code == 2:
        assert not out.exists()
    outputs = ["--dot", str(out / "t.dot"), "--text", str(out / "t.txt")]
    if render_html:
        outputs += ["--html", str(out / "t.html")]
    code, stdout, stderr = run_cli("render", str(trace), *outputs)
    _assert_contract(code, stdout, stderr)
    written = [outputs[i + 1] for i in range(0, len(outputs), 2)]
    if code == 0:
        assert all(os.path.isfile(p) for p in written)
    else:
        assert not any(os.path.exists(p) for p in written)


def _assert_contract(code, stdout, stderr) -> None:
    assert code in (0, 1, 2, 3), (code, stderr)
    assert "Traceback" not in stdout + stderr
    if code == 2:
        assert_bad_input(code, stderr)


@FUZZ
@given(data=st.data())
def test_mutated_real_traces_replay_and_render_within_the_contract(real_trace, data):
    original = json.loads(real_trace.read_text())
    text = _mutate(json.loads(json.dumps(original)), data.draw)
    with tempfile.TemporaryDirectory() as tmp:
        _drive(text, Path(tmp), data.draw(st.booleans()), data.draw(st.booleans()))


@FUZZ
@given(doc=JSON, literal=st.none() | LITERALS, html=st.booleans())
def test_arbitrary_json_replays_and_renders_within_the_contract(doc, literal, html):
    text = literal if literal is not None else json.dumps(doc, allow_nan=True)
    with tempfile.TemporaryDirectory() as tmp:
        _drive(text, Path(tmp), html, False)


@FUZZ
@given(meta=st.dictionaries(st.sampled_from(["format", "format_version", "model", "property",
                                             "kind", "params", "variant", "summary", "outcome",
                                             "tool", "explanation"]), JSON, max_size=11))
def test_random_headers_over_the_real_trace_stay_within_the_contract(real_trace, meta):
    data = json.loads(real_trace.read_text())
    data["#meta"].update(meta)
    with tempfile.TemporaryDirectory() as tmp:
        _drive(json.dumps(data, allow_nan=True), Path(tmp), False, False)


def test_the_mutator_reaches_the_interesting_cases(real_trace):
    """The fuzzer's own unit test: its literals do reach the reader (each is bad input)."""
    for literal in ["NaN", "1" * 4301, "[" * 3000 + "]" * 3000]:
        data = json.loads(real_trace.read_text())
        data["#meta"]["format_version"] = "X"
        text = json.dumps(data).replace('"X"', literal)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "t.json"
            path.write_text(text)
            code, _, stderr = run_cli("replay", str(path))
            assert_bad_input(code, stderr)


# -- TOML checks files --------------------------------------------------------------------------

CHECK_KEYS = ["name", "model", "variant", "params", "engine", "strategy", "max_depth",
              "max_states", "time_limit", "symmetry", "properties", "sometimes", "expect",
              "violates", "incomplete_fails", "fail_on_unfired", "deadlock", "memory_limit"]
TOML_SCALARS = st.one_of(
    st.integers(), st.booleans(), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=10), st.sampled_from(["lamport-paxos", "chain", "paxos-system", "holds",
                                           "violated", "bfs", "dfs", "bmc", "explicit",
                                           "agreement", "small_quorums", "3", "0"]))
TOML_VALUES = st.recursive(TOML_SCALARS, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.sampled_from(["acceptors", "values", "max_ballot",
                                                              "x"]), inner, max_size=3),
                           max_leaves=8)
TOML_LITERALS = st.sampled_from([
    "nan", "inf", "-inf", "+nan", "1" * 5000, "0x" + "f" * 5000, "[" * 5000 + "]" * 5000,
    "{ a = " * 500 + "1" + " }" * 500, "1979-05-27T07:32:00Z", "07:32:00", '"\\ud800"',
    '"a\\nb"', "'''x\ny'''", "1e400", "-0.0", "true", "[]", "{}", '"x" = 1',
])


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a TOML basic string is a JSON string (BMP escapes)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return "{ " + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"


def _assert_checks_contract(text: str) -> None:
    try:
        checks = parse_checks(text, "fuzz.toml")
    except UserError as exc:
        message = str(exc)
        assert message.startswith("fuzz.toml:") and len(message.splitlines()) == 1, message
        return
    assert checks and all(isinstance(c, CheckSpec) for c in checks)


@FUZZ
@given(checks=st.lists(st.dictionaries(st.sampled_from(CHECK_KEYS), TOML_VALUES | TOML_LITERALS.map(
    lambda lit: ("literal", lit)), max_size=8), max_size=3), top=st.dictionaries(
    st.sampled_from(["check", "extra", "x"]), TOML_VALUES, max_size=2))
def test_random_checks_files_are_read_or_refused_in_one_line(checks, top):
    lines = [f"{json.dumps(k)} = {_toml_value(v)}" for k, v in top.items()]
    for c in checks:
        lines.append("[[check]]")
        for key, value in c.items():
            text = value[1] if isinstance(value, tuple) else _toml_value(value)
            lines.append(f"{key} = {text}")
    _assert_checks_contract("\n".join(lines) + "\n")


@FUZZ
@given(data=st.data())
def test_mutated_paxchain_toml_is_read_or_refused_in_one_line(data):
    lines = (ROOT / "paxchain.toml").read_text().splitlines()
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(0, len(lines) - 1))
        op = data.draw(st.sampled_from(["delete", "duplicate", "value", "literal", "chars"]))
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op in ("value", "literal") and " = " in lines[i]:
            key = lines[i].split(" = ", 1)[0]
            value = (data.draw(TOML_LITERALS) if op == "literal"
                     else _toml_value(data.draw(TOML_VALUES)))
            lines[i] = f"{key} = {value}"
        else:
            pos = data.draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:pos] + data.draw(st.text(max_size=3)) + lines[i][pos:]
        if not lines:
            break
    text = "\n".join(lines) + "\n"
    if "plugins" in text:  # loading plugins imports code: not this test's business
        return
    _assert_checks_contract(text)


def test_the_real_checks_file_parses():
    assert parse_checks((ROOT / "paxchain.toml").read_text(), "paxchain.toml")
