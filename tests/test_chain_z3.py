"""The chain's structural invariants (specs/chain_z3.py) and the common-prefix counterexample."""

from __future__ import annotations

import pytest

from paxchain.checker import induction
from paxchain.checker.common_prefix import common_prefix_cti
from paxchain.checker.render_cti import cti_dot
from paxchain.specs import chain_z3
from paxchain.specs.z3_vocabulary import TransitionSystem
from tests.z3_limits import RLIMIT


@pytest.fixture(scope="module")
def prefix():
    return common_prefix_cti(rlimit=RLIMIT)


def test_structural_invariants_are_inductive():
    report = induction.check(chain_z3.system(), rlimit=RLIMIT)
    assert report.verdict == induction.PROVED, report.checklist()
    # 7 conjuncts x (init + 2 actions) + 1 safety property (unique_parent).
    assert report.counts()["proved"] == 22
    names = {o.conjunct for o in report.obligations}
    assert {"hash_links", "genesis_rooted", "closed_under_parents", "tip_max_work",
            "work_monotone", "mtp_monotone"} <= names


def test_a_spent_resource_limit_is_unknown_not_proved():
    """The resource limit, like the time limit, ends an obligation as unknown (exit 3)."""
    report = induction.check(chain_z3.system(), rlimit=1)
    assert report.verdict == induction.UNKNOWN and report.exit_code == 3
    assert {o.reason for o in report.obligations} == {"max. resource limit exceeded"}


def test_common_prefix_is_not_inductive(prefix):
    assert prefix.verdict == "failed"
    cti = prefix.cti
    assert cti.verified and cti.action == "AddAndSwitch" and cti.conjunct == "common_prefix"
    pre, post = cti.view(False), cti.view(True)
    # The pre-state has a block confirmed at least K deep under the tip; the step adopts a
    # heavier block of which the confirmed block is not an ancestor.
    assert (pre["confirmed"], pre["tip"]) in pre["anc"]
    assert (post["confirmed"], post["tip"]) not in post["anc"]
    assert post["work"][(post["tip"],)] > pre["work"][(pre["tip"],)]
    text = prefix.text()
    assert "not inductive" in text and "honest" in text and "bounded delay" in text


def test_common_prefix_cti_draws(prefix):
    dot = cti_dot(prefix.cti, chain_z3.ORDERS)
    assert "AddAndSwitch breaks common_prefix" in dot and "cluster_post" in dot


def test_dropping_hash_injectivity_breaks_unique_parent():
    """The injectivity axiom is what lets a header's hash identify its parent."""
    sysm = chain_z3.system()
    no_injectivity = TransitionSystem(**{
        **sysm.__dict__, "axioms": tuple(a for a in sysm.axioms if a.name != "injective")})
    report = induction.check(no_injectivity, rlimit=RLIMIT)
    assert [o.conjunct for o in report.failures()] == ["unique_parent"]
    assert report.failures()[0].cti.verified
