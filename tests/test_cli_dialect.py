"""One CLI dialect: every command's options are listed, documented and spelled one way.

The walk below reads the options from the click commands themselves, so a new command or
option is covered without editing this file. Older spellings (``--bug``, ``--delay``,
``--timeout`` of simulate/run, one flag per protocol parameter) are rewritten by
``paxchain.checker.driver_cli.DialectCommand`` and must never be visible options.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import click
import pytest

from paxchain.checker.cli import cli, main
from paxchain.checker.commands.run_chain import PARAMS as RUN_CHAIN_PARAMS
from paxchain.checker.commands.simulate_chain import PARAMS as SIM_CHAIN_PARAMS
from paxchain.checker.commands.simulate_paxos import PARAMS as SIM_PAXOS_PARAMS
from paxchain.checker.driver_cli import DialectCommand


def commands() -> dict[str, click.Command]:
    """Every leaf command by its path (``"simulate paxos"``)."""
    found: dict[str, click.Command] = {}

    def walk(cmd: click.Command, path: str) -> None:
        if isinstance(cmd, click.Group):
            ctx = click.Context(cmd)
            for name in cmd.list_commands(ctx):
                sub = cmd.get_command(ctx, name)
                assert sub is not None, f"{path} {name}"
                walk(sub, f"{path} {name}".strip())
        else:
            found[path] = cmd

    walk(cli, "")
    return found


def options(cmd: click.Command) -> list[click.Option]:
    return [p for p in cmd.params if isinstance(p, click.Option) and not p.hidden
            and p.name != "help"]


def spellings(cmd: click.Command) -> set[str]:
    return {o for p in options(cmd) for o in p.opts + p.secondary_opts}


ALL = commands()


def test_the_walk_finds_every_driver_command():
    assert {"check", "prove paxos", "simulate paxos", "simulate chain", "run paxos",
            "run chain", "replay", "render", "list"} <= set(ALL)


@pytest.mark.parametrize("path", sorted(ALL))
def test_every_option_has_help(path):
    undocumented = [p.opts[0] for p in options(ALL[path]) if not (p.help or "").strip()]
    assert not undocumented, f"paxchain {path}: no help for {undocumented}"


# Each concept has one spelling; these spellings of the same concepts must not be options.
OLD = {"--bug": "--variant", "--delay": "--latency", "--params": "--param"}


@pytest.mark.parametrize("path", sorted(ALL))
def test_no_command_offers_an_older_spelling(path):
    seen = spellings(ALL[path])
    assert not seen & set(OLD), f"paxchain {path}: {sorted(seen & set(OLD))}"
    if not path.startswith("prove"):  # --timeout is the solver's seconds, and only there
        assert "--timeout" not in seen, path


@pytest.mark.parametrize("path", sorted(ALL))
def test_json_takes_an_optional_file_everywhere(path):
    for p in options(ALL[path]):
        if "--json" in p.opts:
            assert not p.is_flag and p.flag_value == "-" and p.metavar == "[FILE]", path


DRIVERS = {"simulate paxos": SIM_PAXOS_PARAMS, "run paxos": SIM_PAXOS_PARAMS,
           "simulate chain": SIM_CHAIN_PARAMS, "run chain": RUN_CHAIN_PARAMS}


@pytest.mark.parametrize("path", sorted(DRIVERS))
def test_protocol_parameters_are_params_named_as_the_models_name_them(path):
    cmd = ALL[path]
    seen = spellings(cmd)
    assert {"--param", "-p", "--variant", "--latency", "--seed"} <= seen
    for p in DRIVERS[path]:
        assert p.old_flag not in seen  # only as an older spelling
        assert p.name in (next(o for o in options(cmd) if "--param" in o.opts).help or "")
    assert isinstance(cmd, DialectCommand)


def parsed(path: str, args: list[str]) -> dict:
    """The values click hands the command for ``args`` (nothing runs)."""
    cmd = ALL[path]
    return cmd.make_context(path, list(args)).params


@pytest.mark.parametrize("path,old,new", [
    ("simulate paxos", ["--bug", "ballots_not_unique"], ["--variant", "ballots_not_unique"]),
    ("simulate paxos", ["--bug=ballots_not_unique"], ["--variant", "ballots_not_unique"]),
    ("simulate paxos", ["--timeout", "20"], ["--retry-timeout", "20"]),
    ("simulate paxos", ["--acceptors", "5", "--learners=2"], ["-p", "acceptors=5",
                                                              "-p", "learners=2"]),
    ("simulate chain", ["--delay", "1..30", "--k", "3", "--max-drift", "5"],
     ["--latency", "1..30", "-p", "k=3", "-p", "max_drift=5"]),
    ("run paxos", ["--delay", "20", "--timeout", "0.5"], ["--latency", "0..20",
                                                          "--retry-timeout", "0.5"]),
    ("run chain", ["--delay", "7", "--tie", "lowest-hash", "--bug", "no_hash_link_check"],
     ["--latency", "0..7", "-p", "tie=lowest-hash", "--variant", "no_hash_link_check"]),
])
def test_older_spellings_still_work_as_the_new_ones(path, old, new):
    assert parsed(path, old) == parsed(path, new)


def test_an_older_spelling_after_double_dash_is_left_alone():
    cmd = ALL["simulate paxos"]
    assert isinstance(cmd, DialectCommand)
    from paxchain.checker.driver_cli import _rewrite
    assert _rewrite(["--bug", "x", "--", "--bug", "y"], cmd.old) == [
        "--variant", "x", "--", "--bug", "y"]


def run(*args: str, capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def test_a_simulation_reads_the_same_in_both_spellings(capsys):
    new = run("simulate", "paxos", "-p", "acceptors=5", "--seed", "7", "--retry-timeout",
              "20", "--latency", "1..20", capsys=capsys)
    old = run("simulate", "paxos", "--acceptors", "5", "--seed", "7", "--timeout", "20",
              "--latency", "1..20", capsys=capsys)
    assert new == old and new[0] == 0, new
    assert "5 acceptors" in new[1] and "retry timeout 20" in new[1]


@pytest.mark.parametrize("args,names", [
    (["simulate", "paxos", "--variant", "nope"], ["ballots_not_unique", "no_durable_storage"]),
    (["run", "chain", "--variant", "nope"], ["no_hash_link_check"]),
    (["simulate", "chain", "-p", "tie=newest"], ["first-seen", "lowest-hash"]),
    (["run", "chain", "--tie", "newest"], ["first-seen", "lowest-hash"]),
    (["simulate", "paxos", "-p", "acceptor=3"], ["acceptors", "proposers", "learners"]),
    (["check", "lamport-paxos", "--engine", "z4"], ["explicit", "bmc"]),
])
def test_enumerated_values_are_checked_with_the_known_ones_listed(args, names, capsys):
    code, out, err = run(*args, capsys=capsys)
    assert code == 2 and out == "", err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("paxchain: error: "), err
    assert all(n in lines[0] for n in names), lines[0]


@pytest.mark.parametrize("args", [["run", "paxos", "--latency", "5..10"],
                                  ["run", "chain", "--latency", "exp:5"],
                                  ["run", "paxos", "--latency", "0..-1"],
                                  ["simulate", "paxos", "--retry-timeout", "0"]])
def test_latency_and_retry_timeout_are_checked_before_anything_runs(args, capsys):
    code, out, err = run(*args, capsys=capsys)
    assert code == 2 and out == "" and err.count("\n") == 1, err
    assert args[2] in err


def test_an_unknown_command_names_the_nearest(capsys):
    code, out, err = run("chek", "lamport-paxos", capsys=capsys)
    assert code == 2 and err.count("\n") == 1
    assert "No such command 'chek'" in err and "did you mean 'check'?" in err


@pytest.mark.parametrize("proof", [["quorums", "--acceptors", "3"],
                                   ["paxos", "--rlimit", "5000000"]])
def test_prove_json_is_checks_json_on_stdout_or_into_a_file(proof, tmp_path, capsys):
    code, out, _ = run("prove", *proof, "--json", capsys=capsys)
    assert code == 0 and json.loads(out)["verdict"] == "proved"
    path = tmp_path / "r.json"
    code, text, _ = run("prove", *proof, "--json", str(path), capsys=capsys)
    assert code == 0 and untimed(json.loads(path.read_text())) == untimed(json.loads(out))
    code, plain, _ = run("prove", *proof, capsys=capsys)
    assert untimed(text) == untimed(plain) and not plain.lstrip().startswith("{")


def untimed(value):
    """``value`` without its timings (JSON ``seconds`` keys, text ``(0.008 s)``)."""
    if isinstance(value, dict):
        return {k: untimed(v) for k, v in value.items() if k != "seconds"}
    if isinstance(value, list):
        return [untimed(v) for v in value]
    if isinstance(value, str):
        return re.sub(r"\d+(\.\d+)? s\b", "T s", value)
    return value


def test_help_of_every_driver_command_shows_the_dialect():
    for path in DRIVERS:
        p = subprocess.run([sys.executable, "-m", "paxchain.checker", *path.split(), "--help"],
                           capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        assert "--param" in p.stdout and "--latency" in p.stdout
        assert "--bug" not in p.stdout and "--delay" not in p.stdout


@pytest.mark.parametrize("args,words", [
    (["check", "lamport-paxos", "--bfs", "--dfs"], ["--bfs", "--dfs"]),
    (["check", "lamport-paxos", "--property", "agreemnt"], ["'agreemnt'", "agreement, msg_1b",
                                                           "did you mean 'agreement'?"]),
    (["check", "lamport-paxos", "--engine", "bmc", "--depth", "2", "--property", "agremeent"],
     ["did you mean 'agreement'?"]),
    (["check", "lamport-paxos", "--link-base", "https://example.org/"], ["--link-base"]),
])
def test_check_refuses_before_printing_anything(args, words, capsys):
    code, out, err = run(*args, capsys=capsys)
    assert code == 2 and out == "", out  # no header before the error
    assert err.count("\n") == 1 and err.startswith("paxchain: error: ")
    assert all(w in err for w in words), err


def test_the_gate_links_traces_under_link_base(tmp_path, capsys):
    (tmp_path / "checks.toml").write_text(
        '[[check]]\nname = "bug"\nmodel = "lamport-paxos"\nvariant = "small_quorums"\n'
        'properties = ["agreement"]\n')
    code, _, _ = run("check", "--checks", str(tmp_path / "checks.toml"), "--quiet",
                     "--summary", str(tmp_path / "s.md"), "--artifacts", str(tmp_path / "t"),
                     "--link-base", "https://ci.example.org/42", capsys=capsys)
    assert code == 1
    assert "(https://ci.example.org/42/bug/agreement.html)" in (tmp_path / "s.md").read_text()
    code, out, err = run("check", "--checks", str(tmp_path / "checks.toml"), "--link-base",
                         "traces", capsys=capsys)
    assert code == 2 and out == "" and "--link-base takes an absolute URL" in err


@pytest.mark.parametrize("args,near", [
    (["simulate", "paxos", "--variant", "ballot_not_unique"], "ballots_not_unique"),
    (["run", "chain", "-p", "node=3"], "nodes"),
    (["simulate", "chain", "--param", "max_drfit=3"], "max_drift"),
])
def test_a_mistyped_variant_or_parameter_names_the_nearest(args, near, capsys):
    code, out, err = run(*args, capsys=capsys)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.rstrip().endswith(f"did you mean {near!r}?"), err
