"""Unit tests of the Paxos handlers (impl/paxos.py), driven with events in memory (h11 style)."""

from __future__ import annotations

import pytest

from paxchain.impl.actor import CancelTimer, Output, Persist, Send, SetTimer, sends
from paxchain.impl.paxos import (ACCEPTING, DECIDED, IDLE, PREPARING, PROPOSER_PHASES, RETRY, Accept,
                        Accepted, Acceptor, AcceptorState, Learner, LearnerState, Nack, Prepare,
                        Promise, Proposer, ProposerState, make_cluster, state_diagram_dot)
from paxchain.impl.paxos_variants import PAXOS
from paxchain.impl.variants import load_plugins

ACCS = ["a1", "a2", "a3"]


def proposer(**kw):
    return Proposer(1, kw.pop("values", "v1"), ACCS, timeout=10.0, **kw)


def started(p, durable=None):
    return p.on_start("p1", durable, 0.0)


def promise_all(p, s, votes=None):
    """Deliver promises from a1, a2 (a quorum) for the proposer's current ballot."""
    votes = votes or {}
    b = p.ballot(s.round)
    effects = []
    for a in ("a1", "a2"):
        vb, vv = votes.get(a, (None, None))
        s, effects = p.on_message("p1", s, a, Promise(b, a, vb, vv), 1.0)
    return s, effects


# -- proposer -------------------------------------------------------------------------------

def test_proposer_persists_round_before_sending_prepare():
    s, effects = started(proposer())
    assert s.phase == PREPARING and s.round == 1
    assert effects[0] == Persist((1, 0))
    assert [e.dst for e in sends(effects)] == ACCS
    assert all(e.msg == Prepare((1, 1)) for e in sends(effects))
    assert isinstance(effects[-1], SetTimer) and effects[-1].name == RETRY


def test_restarted_proposer_uses_a_higher_round_and_next_value():
    p = proposer(values=("v1", "v2"))
    s, effects = started(p, durable=(4, 0))
    assert s.round == 5 and s.incarnation == 1
    assert effects[0] == Persist((5, 1))
    s, effects = promise_all(p, s)
    assert set(e.msg for e in sends(effects)) == {Accept((5, 1), "v2")}


def test_proposer_adopts_value_of_highest_voted_ballot():
    p = proposer()
    s, _ = started(p)
    s, effects = promise_all(p, s, {"a1": ((0, 2), "x"), "a2": ((0, 3), "y")})
    assert s.phase == ACCEPTING and s.value == "y"
    assert set(e.msg for e in sends(effects)) == {Accept((1, 1), "y")}


def test_proposer_uses_own_value_when_no_votes():
    p = proposer()
    s, _ = started(p)
    s, effects = promise_all(p, s)
    assert s.value == "v1" and len(sends(effects)) == 3


def test_one_promise_is_not_a_quorum_and_duplicates_do_not_count():
    p = proposer()
    s, _ = started(p)
    prom = Promise((1, 1), "a1", None, None)
    s, e1 = p.on_message("p1", s, "a1", prom, 1.0)
    s, e2 = p.on_message("p1", s, "a1", prom, 1.0)
    assert s.phase == PREPARING and s.promises == {"a1"} and e1 == e2 == []


def test_stale_promise_is_ignored_without_counting():
    p = proposer()
    s, _ = started(p)
    t, effects = p.on_message("p1", s, "a1", Promise((0, 1), "a1", None, None), 1.0)
    assert t == s and effects == []


def test_quorum_of_accepted_decides_and_cancels_timer():
    p = proposer()
    s, _ = started(p)
    s, _ = promise_all(p, s)
    s, _ = p.on_message("p1", s, "a1", Accepted((1, 1), "a1", "v1"), 2.0)
    s, effects = p.on_message("p1", s, "a3", Accepted((1, 1), "a3", "v1"), 2.0)
    assert s.phase == DECIDED and effects == [CancelTimer(RETRY)]
    assert p.on_timer("p1", s, RETRY, 99.0) == (s, [])


def test_timeout_starts_a_higher_ballot():
    p = proposer()
    s, _ = started(p)
    s, effects = p.on_timer("p1", s, RETRY, 11.0)
    assert s.round == 2 and s.phase == PREPARING and effects[0] == Persist((2, 0))
    assert sends(effects)[0].msg == Prepare((2, 1))


def test_nack_with_higher_promise_backs_off_then_beats_it():
    p = proposer()
    s, _ = started(p)
    s, effects = p.on_message("p1", s, "a1", Nack((1, 1), (7, 2)), 1.0)
    assert s.phase == IDLE and s.round == 7
    assert len(effects) == 1 and isinstance(effects[0], SetTimer)
    assert effects[0].delay == p.nack_delay(7)
    s, effects = p.on_timer("p1", s, RETRY, 5.0)
    assert sends(effects)[0].msg == Prepare((8, 1))


def test_backoff_grows_is_capped_and_jitter_is_deterministic():
    p = Proposer(2, "v", ACCS, timeout=1.0, backoff=2.0, max_timeout=8.0, jitter=0.5)
    delays = [p.delay(r) for r in range(1, 8)]
    assert all(1.0 <= d < 1.5 for d in delays[:1])
    assert all(8.0 <= d < 12.0 for d in delays[4:])  # capped at max_timeout (+ jitter)
    assert delays == [Proposer(2, "v", ACCS, timeout=1.0, max_timeout=8.0).delay(r)
                      for r in range(1, 8)]
    assert p.delay(3) != Proposer(3, "v", ACCS, timeout=1.0, max_timeout=8.0).delay(3)


def test_max_rounds_bounds_the_proposer():
    p = proposer(max_rounds=2)
    s, _ = started(p)
    s, _ = p.on_timer("p1", s, RETRY, 1.0)
    assert s.round == 2
    s, effects = p.on_timer("p1", s, RETRY, 2.0)
    assert s.phase == IDLE and s.round == 2 and effects == [CancelTimer(RETRY)]
    s, effects = started(p, durable=(2, 0))  # also after a restart
    assert s.phase == IDLE and not sends(effects)


# -- acceptor -------------------------------------------------------------------------------

def test_acceptor_persists_promise_before_replying():
    a = Acceptor(["l1"])
    s, _ = a.on_start("a1", None, 0.0)
    s, effects = a.on_message("a1", s, "p1", Prepare((1, 1)), 0.0)
    assert s.promised == (1, 1)
    assert effects == [Persist(((1, 1), None)), Send("p1", Promise((1, 1), "a1", None, None))]


def test_acceptor_nacks_lower_and_retransmits_equal_prepare():
    a = Acceptor(["l1"])
    s = AcceptorState((2, 1), None)
    assert a.on_message("a1", s, "p2", Prepare((1, 2)), 0.0) == (
        s, [Send("p2", Nack((1, 2), (2, 1)))])
    assert a.on_message("a1", s, "p1", Prepare((2, 1)), 0.0) == (
        s, [Send("p1", Promise((2, 1), "a1", None, None))])
    voted = AcceptorState((2, 1), ((2, 1), "v"))
    assert a.on_message("a1", voted, "p1", Prepare((2, 1)), 0.0) == (voted, [])


def test_acceptor_persists_vote_before_sending_accepted_to_proposer_and_learners():
    a = Acceptor(["l1", "l2"])
    s = AcceptorState((1, 1), ((0, 2), "old"))
    s, effects = a.on_message("a1", s, "p1", Accept((1, 1), "v"), 0.0)
    assert s == AcceptorState((1, 1), ((1, 1), "v"))
    reply = Accepted((1, 1), "a1", "v")
    assert effects == [Persist(((1, 1), ((1, 1), "v"))), Send("p1", reply), Send("l1", reply),
                       Send("l2", reply)]
    # A duplicate re-sends Accepted but has nothing new to persist.
    t, effects = a.on_message("a1", s, "p1", Accept((1, 1), "v"), 0.0)
    assert t == s and not any(isinstance(e, Persist) for e in effects) and len(effects) == 3


def test_acceptor_rejects_accept_below_promise():
    a = Acceptor()
    s = AcceptorState((3, 1), None)
    assert a.on_message("a1", s, "p2", Accept((2, 2), "v"), 0.0) == (
        s, [Send("p2", Nack((2, 2), (3, 1)))])


def test_acceptor_restart_keeps_only_durable_state():
    a = Acceptor()
    s = AcceptorState((3, 1), ((2, 1), "v"), ignored=5)
    assert a.on_start("a1", (s.promised, s.vote), 0.0) == (AcceptorState((3, 1), ((2, 1), "v")), [])
    assert a.on_start("a1", None, 0.0) == (AcceptorState(), [])
    assert a.on_start("a1", "garbage", 0.0) == (AcceptorState(), [])


# -- learner --------------------------------------------------------------------------------

def test_learner_decides_once_on_quorum_in_one_ballot():
    l = Learner(ACCS)
    s, _ = l.on_start("l1", None, 0.0)
    s, e = l.on_message("l1", s, "a1", Accepted((1, 1), "a1", "v"), 0.0)
    assert e == [] and s.decided is None
    s, e = l.on_message("l1", s, "a2", Accepted((1, 1), "a2", "v"), 0.0)
    assert s.decided == "v" and e == [Persist("v"), Output(("decided", "v"))]
    assert l.on_message("l1", s, "a3", Accepted((1, 1), "a3", "v"), 0.0) == (s, [])
    assert l.on_start("l1", "v", 0.0) == (LearnerState(decided="v"), [])


def test_learner_does_not_mix_ballots():
    l = Learner(ACCS)
    s = LearnerState()
    s, _ = l.on_message("l1", s, "a1", Accepted((1, 1), "a1", "v"), 0.0)
    s, e = l.on_message("l1", s, "a2", Accepted((2, 2), "a2", "v"), 0.0)
    assert s.decided is None and e == []


# -- malformed input --------------------------------------------------------------------------

@pytest.mark.parametrize("msg", [
    "hello", None, 42, Prepare("x"), Prepare((1,)), Prepare((1, -1)), Prepare((True, 1)),
    Accept((1, 1), None), Accept((1, 1), ["unhashable"]), Nack((1, 1), "x"),
    Promise((1, 1), "stranger", None, None), Promise((1, 1), "a1", (0, 1), None),
    Accepted((1, 1), "stranger", "v"),
])
def test_malformed_messages_are_ignored_and_counted(msg):
    for node, role in make_cluster(3, 1).items():
        actor = role[0]
        s, _ = actor.on_start(node, None, 0.0)
        t, effects = actor.on_message(node, s, "x", msg, 0.0)
        assert effects == [] and t.ignored == s.ignored + 1, (node, msg)


def test_messages_of_the_wrong_role_are_counted():
    l = Learner(ACCS)
    s, e = l.on_message("l1", LearnerState(), "p1", Prepare((1, 1)), 0.0)
    assert e == [] and s.ignored == 1


# -- seeded variants: each changes exactly its rule, from outside the production code ----------

def variant(name, actor):
    """``actor`` with the catalogue's variant ``name`` applied (as every driver applies it)."""
    role = actor.role
    return PAXOS[name].apply({"x": (actor, role)})["x"][0]


def test_production_handlers_carry_no_bug_flags():
    import ast
    import inspect
    import paxchain.impl.paxos as px
    names = {n.id for n in ast.walk(ast.parse(inspect.getsource(px))) if isinstance(n, ast.Name)}
    names |= {n.attr for n in ast.walk(ast.parse(inspect.getsource(px)))
              if isinstance(n, ast.Attribute)}
    names |= {a.arg for n in ast.walk(ast.parse(inspect.getsource(px)))
              if isinstance(n, ast.arguments) for a in n.args + n.kwonlyargs}
    assert not {x for x in names if "bug" in x.lower()}


def test_bug_no_durable_storage():
    a = variant("no_durable_storage", Acceptor())
    s, effects = a.on_message("a1", AcceptorState(), "p1", Prepare((1, 1)), 0.0)
    assert s.promised == (1, 1) and effects == [Send("p1", Promise((1, 1), "a1", None, None))]
    assert a.on_start("a1", ((1, 1), None), 0.0)[0] == AcceptorState()


def test_bug_ignore_promised_votes():
    p = variant("ignore_promised_votes", proposer())
    s, _ = started(p)
    s, effects = promise_all(p, s, {"a1": ((0, 2), "x")})
    assert s.value == "v1"
    s, _ = started(proposer())
    assert promise_all(proposer(), s, {"a1": ((0, 2), "x")})[0].value == "x"


def test_bug_ballots_not_unique():
    p = variant("ballots_not_unique", proposer())
    s, effects = started(p)
    assert sends(effects)[0].msg == Prepare((1, 0))


def test_bug_reuse_ballot_after_restart():
    p = variant("reuse_ballot_after_restart", proposer())
    s, effects = started(p, durable=(0, 0))
    assert s.round == 1 and sends(effects)[0].msg == Prepare((1, 1))
    assert effects[0] == Persist((0, 1))  # the incarnation is durable, the round is not
    s, effects = p.on_timer("p1", s, RETRY, 1.0)
    assert s.round == 2 and effects[0] == Persist((0, 1))


def test_bug_accept_below_promise():
    a = variant("accept_below_promise", Acceptor())
    s, effects = a.on_message("a1", AcceptorState((3, 1), None), "p2", Accept((2, 2), "v"), 0.0)
    assert s == AcceptorState((3, 1), ((2, 2), "v"))  # the promise does not go down
    assert effects[0] == Persist(((3, 1), ((2, 2), "v")))


def test_bug_learner_mixes_ballots():
    l = variant("learner_mixes_ballots", Learner(ACCS))
    s = LearnerState()
    s, _ = l.on_message("l1", s, "a1", Accepted((1, 1), "a1", "v"), 0.0)
    s, e = l.on_message("l1", s, "a2", Accepted((2, 2), "a2", "v"), 0.0)
    assert s.decided == "v"


def test_bug_reply_before_persist_reorders_only():
    good, bad = Acceptor(["l1"]), variant("reply_before_persist", Acceptor(["l1"]))
    for msg in (Prepare((1, 1)), Accept((1, 1), "v")):
        s1, e1 = good.on_message("a1", AcceptorState(), "p1", msg, 0.0)
        s2, e2 = bad.on_message("a1", AcceptorState(), "p1", msg, 0.0)
        assert s1 == s2 and sorted(map(repr, e1)) == sorted(map(repr, e2))
        assert isinstance(e1[0], Persist) and isinstance(e2[-1], Persist)


def test_bug_proposer_ignores_reply_ballot():
    p, good = variant("proposer_ignores_reply_ballot", proposer()), proposer()
    s, _ = started(p)
    s, _ = p.on_timer("p1", s, RETRY, 1.0)  # now in round 2
    stale = Promise((1, 1), "a1", None, None)
    assert p.on_message("p1", s, "a1", stale, 2.0)[0].promises == {"a1"}
    assert good.on_message("p1", s, "a1", stale, 2.0)[0] == s


def test_variants_leave_other_roles_alone():
    cluster = make_cluster(3, 1)
    for name in PAXOS:
        changed = PAXOS.apply(name, cluster)
        roles = {r for x, (a, r) in changed.items() if a is not cluster[x][0]}
        assert len(roles) == 1, name
    with pytest.raises(ValueError, match="no variant 'no_such_bug'"):
        PAXOS.apply("no_such_bug", cluster)


def test_a_user_variant_from_a_plugin_file(tmp_path, monkeypatch):
    monkeypatch.delenv("PAXCHAIN_PLUGINS", raising=False)
    plugin = tmp_path / "my_bugs.py"
    plugin.write_text(
        "from paxchain.impl.paxos import Acceptor\n"
        "from paxchain.impl.paxos_variants import PAXOS\n"
        "@PAXOS.subclass('test_plugin_never_nacks', 'acceptor: never sends a Nack', 'acceptor')\n"
        "class NeverNacks(Acceptor):\n"
        "    def on_message(self, node, state, src, msg, now):\n"
        "        st, eff = super().on_message(node, state, src, msg, now)\n"
        "        return st, [e for e in eff if type(getattr(e, 'msg', None)).__name__ != 'Nack']\n")
    load_plugins([str(plugin)])
    import os
    assert str(plugin) in os.environ["PAXCHAIN_PLUGINS"]
    try:
        a = variant("test_plugin_never_nacks", Acceptor())
        assert a.on_message("a1", AcceptorState((3, 1)), "p1", Prepare((1, 1)), 0.0)[1] == []
    finally:
        PAXOS._variants.pop("test_plugin_never_nacks")  # other tests enumerate the shipped ones
    with pytest.raises(ValueError, match="no such file"):
        load_plugins([str(tmp_path / "missing.py")])


# -- cluster, states, table -------------------------------------------------------------------

def test_make_cluster_names_and_values():
    c = make_cluster(3, 2, learners=2)
    assert list(c) == ["a1", "a2", "a3", "p1", "p2", "l1", "l2"]
    assert [r for _, r in c.values()] == ["acceptor"] * 3 + ["proposer"] * 2 + ["learner"] * 2
    assert c["p2"][0].values == ("v2",) and c["a1"][0].learners == ("l1", "l2")
    with pytest.raises(ValueError):
        make_cluster(0, 1)


def test_states_are_hashable_and_frozen():
    s = ProposerState(1, 0, PREPARING, frozenset({"a1"}), ((0, 1), "v"))
    assert hash(s) == hash(ProposerState(1, 0, PREPARING, frozenset({"a1"}), ((0, 1), "v")))
    with pytest.raises(AttributeError):
        s.round = 2  # type: ignore[misc]


def test_phase_table_reaches_every_phase_and_draws():
    assert {IDLE, PREPARING, ACCEPTING, DECIDED} == {p for k in PROPOSER_PHASES for p in k[:1]} | {
        v for v in PROPOSER_PHASES.values()}
    assert '"accepting" -> "decided"' in state_diagram_dot()
