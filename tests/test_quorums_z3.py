"""Quorum intersection proofs (specs/quorums_z3.py) and `paxchain prove quorums`."""

from __future__ import annotations

import pytest

from paxchain.checker.cli import main
from paxchain.models.errors import UserError
from paxchain.specs import quorums_z3 as qz


def test_majorities_of_every_size_intersect():
    res = qz.prove_majorities()
    assert res.verdict == "proved" and res.exit_code == 0
    assert [v for _, v, _ in res.checks] == ["proved", "proved"]
    assert "n div 2 do not suffice" in res.note


@pytest.mark.parametrize("n", [1, 2, 3, 4, 7])
def test_majorities_of_a_given_size_intersect(n):
    assert qz.prove_majorities(n).verdict == "proved"


def test_explicit_system_that_intersects():
    res = qz.prove_explicit(qz.parse_quorums("a1+a2,a2+a3,a1+a3"))
    assert res.verdict == "proved" and res.counterexample is None


def test_non_intersecting_system_is_rejected_with_two_disjoint_quorums():
    quorums = qz.parse_quorums("a1+a2,a3+a4,a1+a3")
    res = qz.prove_explicit(quorums)
    assert res.verdict == "failed" and res.exit_code == 1
    q1, q2 = res.counterexample
    assert frozenset(q1) in quorums and frozenset(q2) in quorums
    assert not set(q1) & set(q2)
    assert "are disjoint" in res.text()


def test_weighted_systems():
    w = qz.parse_weights("a1=3,a2=1,a3=1,a4=1")
    # total weight 6: threshold 4 > 6/2 forces intersection, threshold 3 does not.
    assert qz.prove_weighted(w, 4).verdict == "proved"
    bad = qz.prove_weighted(w, 3)
    assert bad.verdict == "failed"
    q1, q2 = bad.counterexample
    assert not set(q1) & set(q2)
    assert sum(w[a] for a in q1) >= 3 and sum(w[a] for a in q2) >= 3


@pytest.mark.parametrize("text", ["a1+", "b1+a2", "a0", ""])
def test_bad_quorum_text_is_a_user_error(text):
    with pytest.raises(UserError):
        qz.parse_quorums(text)


def test_cli_exit_codes(capsys):
    for argv, code in [(["prove", "quorums", "--acceptors", "4"], 0),
                       (["prove", "quorums", "--quorums", "a1+a2,a3"], 1),
                       (["prove", "quorums", "--weights", "a1=x", "--threshold", "1"], 2),
                       (["prove", "quorums"], 2)]:
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == code, argv
    assert "counterexample: quorums" in capsys.readouterr().out
