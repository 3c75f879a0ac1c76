"""``paxchain run chain``: a short real run on 127.0.0.1 with a crash-restart from disk."""

from __future__ import annotations

import re
import subprocess
import sys


def run(*args):
    return subprocess.run([sys.executable, "-m", "paxchain.checker", "run", "chain", *args],
                          capture_output=True, text=True)


def test_restarted_node_resumes_from_its_persisted_chain(tmp_path):
    p = run("--blocks", "16", "--crash", "n1:4:1", "--deadline", "80",
            "--data-dir", str(tmp_path))
    assert p.returncode == 0, p.stdout + p.stderr
    resumed = re.search(r"n1: .*resumed from disk at height (\d+)", p.stdout)
    assert resumed, p.stdout
    # n1 was killed 4 s after the command started (start-up included): by then blocks had
    # been found (a few per second at the default difficulty, once the processes are up), so
    # a node that read its file back starts above genesis. (At 0.8 s a loaded CI machine had
    # not always started mining.)
    assert int(resumed.group(1)) >= 1, p.stdout
    assert re.search(r"n1: on disk height (\d+)", p.stdout).group(1) == "16"
    assert "prefix consistency (k=2) of the persisted chains: holds" in p.stdout
    assert {f.name for f in tmp_path.glob("n*.json")} == {"n1.json", "n2.json", "n3.json"}


def test_bad_parameters_are_one_line_errors_with_exit_2():
    for args in (["--nodes", "0"], ["--tie", "x"], ["--crash", "n7:1"], ["--loss", "2"],
                 ["--variant", "nope"], ["--base-port", "80"]):
        p = run(*args)
        assert p.returncode == 2, (args, p.stdout, p.stderr)
        assert p.stderr.count("\n") == 1 and "Traceback" not in p.stderr
