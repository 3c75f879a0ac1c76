"""Unit tests of the chain node (``paxchain.impl.chain_block``, ``paxchain.impl.chain_node``): hashing, rules,
fork choice, orphans, reorgs, persistence and malformed input; and the seeded variants of
``paxchain.impl.chain_variants`` (each changes one rule from outside production code)."""

from __future__ import annotations

import hashlib
import json

import pytest

from pathlib import Path

from paxchain.impl.actor import Output, Persist, Send, SetTimer
from paxchain.impl.chain_block import (GENESIS, Block, Rules, chain_problems, check_block,
                              median_time_past, mine_block, verify_chain)
from paxchain.impl.chain_node import (BlockMsg, ChainNode, GetBlock, GetTip, NodeState, Submit,
                             fresh_state, make_cluster)
from paxchain.impl.chain_variants import CHAIN, make_network

PEERS = ("n1", "n2", "n3")
RULES = Rules.with_difficulty(1, max_drift=10)


def mine(chain, miner="n1", now=None, rules=RULES, payload=()):
    now = chain[-1].timestamp + 10 if now is None else now
    return mine_block(chain, miner, now, payload, rules)


def grow(chain, n, miner="n1", rules=RULES):
    for _ in range(n):
        chain = chain + (mine(chain, miner, rules=rules),)
    return chain


def deliver(node, state, block, src="n2", now=1000):
    return node.on_message("n1", state, src, BlockMsg(block), now)


# -- blocks ------------------------------------------------------------------------------------

def test_block_hash_is_sha256_of_the_canonical_encoding():
    b = Block(1, GENESIS.hash, 10, ("doc",), "n1", 7)
    text = json.dumps([1, GENESIS.hash, 10, ["doc"], "n1", 7], separators=(",", ":"))
    assert b.hash == hashlib.sha256(text.encode()).hexdigest()
    assert b.value == int(b.hash, 16)


@pytest.mark.parametrize("field,value", [("height", 2), ("timestamp", 11), ("payload", ("x",)),
                                         ("miner", "n2"), ("nonce", 8)])
def test_every_field_changes_the_hash(field, value):
    base = dict(height=1, parent=GENESIS.hash, timestamp=10, payload=("doc",), miner="n1",
                nonce=7)
    assert Block(**{**base, field: value}).hash != Block(**base).hash


@pytest.mark.parametrize("args", [(-1, GENESIS.hash, 0, (), "n1", 0), (1, "zz", 0, (), "n1", 0),
                                  (1, GENESIS.hash, 0.5, (), "n1", 0),
                                  (1, GENESIS.hash, 0, "abc", "n1", 0),
                                  (1, GENESIS.hash, 0, (), "", 0),
                                  (1, GENESIS.hash, 0, (), "n1", -1),
                                  (True, GENESIS.hash, 0, (), "n1", 0)])
def test_malformed_block_fields_raise(args):
    with pytest.raises(ValueError):
        Block(*args)


def test_mining_is_deterministic_and_meets_the_target():
    a, b = mine((GENESIS,)), mine((GENESIS,))
    assert a == b and a.value < RULES.target
    hard = Rules.with_difficulty(8)
    x = mine_block((GENESIS,), "n1", 10, (), hard)
    assert x.value < hard.target and x.hash.startswith("00")
    assert mine_block((GENESIS,), "n1", 10, (), Rules.with_difficulty(30), tries=5) is None


# -- validation rules --------------------------------------------------------------------------

def test_valid_block_passes_every_rule():
    b = mine((GENESIS,))
    assert check_block(b, (GENESIS,), 10, RULES) is None
    assert chain_problems((GENESIS, b), RULES, 10) == []


def test_wrong_parent_hash_is_rejected_unless_the_link_check_is_off():
    chain = grow((GENESIS,), 1)
    other = mine((GENESIS,), "n2")
    child_of_other = mine((GENESIS, other), "n2")
    assert "parent hash" in check_block(child_of_other, chain, 100, RULES)
    buggy = variant("no_hash_link_check").rules
    assert type(buggy) is not Rules and buggy.target == RULES.target
    assert check_block(child_of_other, chain, 100, buggy) is None


def test_proof_of_work_below_target_is_required():
    b = next(Block(1, GENESIS.hash, 10, (), "n1", n) for n in range(100)
             if Block(1, GENESIS.hash, 10, (), "n1", n).value >= RULES.target)
    assert "proof-of-work" in check_block(b, (GENESIS,), 10, RULES)


def test_timestamp_must_pass_median_time_past_and_not_run_ahead_of_the_clock():
    chain = grow((GENESIS,), 3)  # timestamps 0, 10, 20, 30
    assert median_time_past(chain, 11) == 20
    assert median_time_past(chain, 2) == 30
    old = next(b for n in range(100)
               if (b := Block(4, chain[-1].hash, 20, (), "n2", n)).value < RULES.target)
    assert "median time past" in check_block(old, chain, 100, RULES)
    future = mine(chain, now=100)
    assert "beyond local time" in check_block(future, chain, 80, RULES)
    assert check_block(future, chain, 90, RULES) is None
    assert check_block(future, chain, None, RULES) is None
    lax = variant("no_timestamp_check").rules
    assert check_block(old, chain, 100, lax) is None
    assert check_block(future, chain, 80, lax) is None


def test_honest_miner_stamps_after_the_median_time_past_even_with_a_slow_clock():
    chain = grow((GENESIS,), 3)
    b = mine(chain, now=5)  # the clock is behind the chain
    assert b.timestamp == median_time_past(chain, 11) + 1


def test_rules_reject_bad_parameters():
    for kw in ({"tie": "coin-flip"}, {"mtp_window": 0}, {"max_drift": -1}, {"target": 0}):
        with pytest.raises(ValueError):
            Rules(**kw)


# -- the node: fork choice, orphans, reorgs ------------------------------------------------------

def node(**kw):
    return ChainNode(Rules.with_difficulty(1, max_drift=10, **kw), PEERS)


def variant(name, actor=None):
    """The production node ``actor`` (default ``node()``) with variant ``name`` applied."""
    return CHAIN.apply(name, {"n1": (actor or node(), "node")})["n1"][0]


def test_a_block_extending_the_tip_is_adopted_persisted_then_relayed():
    n = node()
    b = mine((GENESIS,), "n3")
    st, eff = deliver(n, fresh_state(n.rules), b, src="n2")
    assert st.chain == (GENESIS, b)
    assert isinstance(eff[0], Persist) and eff[0].data == ((GENESIS, b), frozenset())
    assert [e.dst for e in eff if isinstance(e, Send)] == ["n3"]  # not n1 itself, not n2
    assert Output(("tip", b.hash, 1)) in eff


def test_a_block_from_its_own_miner_is_not_relayed():
    n = node()
    b = mine((GENESIS,), "n2")
    _, eff = deliver(n, fresh_state(n.rules), b, src="n2")
    assert not [e for e in eff if isinstance(e, Send)]


def test_first_seen_keeps_the_tip_on_a_tie_and_lowest_hash_takes_the_smaller_hash():
    a, b = mine((GENESIS,), "n2"), mine((GENESIS,), "n3")
    low, high = sorted([a, b])
    for tie, expected in (("first-seen", high), ("lowest-hash", low)):
        n = node(tie=tie)
        st, _ = deliver(n, fresh_state(n.rules), high)
        st, _ = deliver(n, st, low)
        assert st.tip == expected
        assert st.known() == {GENESIS, low, high}


def test_more_work_wins_and_a_reorg_keeps_the_old_branch():
    n = node()
    mine_a = grow((GENESIS,), 1, "n2")
    mine_b = grow((GENESIS,), 2, "n3")
    st, _ = deliver(n, fresh_state(n.rules), mine_a[1])
    st, _ = deliver(n, st, mine_b[1], src="n3")
    assert st.tip == mine_a[1]  # first seen, same work
    st, eff = deliver(n, st, mine_b[2], src="n3")
    assert st.chain == mine_b
    assert mine_a[1] in st.side
    assert Output(("reorg", 1, mine_b[2].hash, 2)) in eff


def test_reorg_forgets_old_branch_bug_drops_it():
    n = variant("reorg_forgets_old_branch")
    mine_a = grow((GENESIS,), 1, "n2")
    mine_b = grow((GENESIS,), 2, "n3")
    st, _ = deliver(n, fresh_state(n.rules), mine_a[1])
    st, _ = deliver(n, st, mine_b[1], src="n3")
    st, _ = deliver(n, st, mine_b[2], src="n3")
    assert st.chain == mine_b and mine_a[1] not in st.known()


def test_latest_arrival_bug_adopts_a_block_with_less_work():
    n = variant("latest_arrival_fork_choice")
    long = grow((GENESIS,), 2, "n2")
    short = grow((GENESIS,), 1, "n3")
    st, _ = deliver(n, fresh_state(n.rules), long[1])
    st, _ = deliver(n, st, long[2])
    st, _ = deliver(n, st, short[1], src="n3")
    assert st.tip == short[1]


def test_orphan_is_kept_its_parent_requested_and_connected_on_arrival():
    n = node()
    chain = grow((GENESIS,), 2, "n2")
    st, eff = deliver(n, fresh_state(n.rules), chain[2])
    assert st.orphans == {chain[2]} and st.tip == GENESIS
    assert Send("n2", GetBlock(chain[1].hash)) in eff
    assert isinstance(eff[0], Persist)  # orphans are durable
    st, eff = deliver(n, st, chain[1])
    assert st.chain == chain and not st.orphans


def test_adopt_unknown_parent_bug_takes_a_detached_block_as_its_chain():
    n = variant("adopt_unknown_parent")
    chain = grow((GENESIS,), 2, "n2")
    st, _ = deliver(n, fresh_state(n.rules), chain[2])
    assert st.chain == (chain[2],)


def test_no_hash_link_check_bug_links_by_height():
    n = variant("no_hash_link_check")
    mine_a = grow((GENESIS,), 1, "n2")
    mine_b = grow((GENESIS,), 2, "n3")
    st, _ = deliver(n, fresh_state(n.rules), mine_a[1])
    st, _ = deliver(n, st, mine_b[2], src="n3")
    assert st.chain == (GENESIS, mine_a[1], mine_b[2])
    assert chain_problems(st.chain, RULES, None)


def test_get_block_and_get_tip_are_served():
    n = node()
    chain = grow((GENESIS,), 2, "n1")
    st = NodeState(chain=chain)
    assert n.on_message("n1", st, "n3", GetBlock(chain[1].hash), 0)[1] == [
        Send("n3", BlockMsg(chain[1]))]
    assert n.on_message("n1", st, "n3", GetBlock("ab" * 32), 0)[1] == []
    assert n.on_message("n1", st, "n3", GetTip(), 0)[1] == [Send("n3", BlockMsg(chain[2]))]


def test_duplicates_are_ignored():
    n = node()
    b = mine((GENESIS,), "n2")
    st, _ = deliver(n, fresh_state(n.rules), b)
    again, eff = deliver(n, st, b)
    assert again == st and eff == []


@pytest.mark.parametrize("msg", [None, "hello", 42, GetBlock("xyz"), GetBlock(5),
                                 BlockMsg("not a block"), Submit(""), Submit(7), ("block",)])
def test_malformed_messages_are_counted_and_change_nothing_else(msg):
    n = node()
    st0 = fresh_state(n.rules)
    st, eff = n.on_message("n1", st0, "n2", msg, 0)
    assert eff == [] and st == NodeState(chain=st0.chain, rejected=1)


def test_invalid_blocks_are_counted():
    n = node()
    b = mine((GENESIS,), "n2", now=100)  # too far ahead of the receiver's clock 0 + 10
    st, eff = deliver(n, fresh_state(n.rules), b, now=0)
    assert st.rejected == 1 and st.tip == GENESIS and eff == []


def test_mining_adopts_persists_and_sends_to_every_peer():
    n = node()
    st, eff = n.on_timer("n1", fresh_state(n.rules), "mine", 10)
    assert st.tip.height == 1 and st.tip.miner == "n1"
    assert isinstance(eff[0], Persist)
    assert [e.dst for e in eff if isinstance(e, Send)] == ["n2", "n3"]


def test_batched_mining_resumes_its_nonce_search():
    n = ChainNode(Rules.with_difficulty(6), PEERS, mine_tries=4, mine_delay=1.0)
    st = fresh_state(n.rules)
    for _ in range(200):
        st, eff = n.on_timer("n1", st, "mine", 10)
        assert SetTimer("mine", 1.0) in eff
        if st.tip.height == 1:
            break
    assert st.tip.height == 1
    assert st.tip == mine_block((GENESIS,), "n1", 10, (), n.rules)


def test_submitted_items_are_timestamped_once():
    n = node()
    st, _ = n.on_message("n1", fresh_state(n.rules), "client", Submit("doc-1"), 0)
    st, _ = n.on_message("n1", st, "client", Submit("doc-1"), 0)
    assert st.pending == ("doc-1",)
    st, _ = n.on_timer("n1", st, "mine", 10)
    assert st.tip.payload == ("doc-1",) and st.pending == ()


def test_restart_resumes_from_the_persisted_chain_and_asks_for_tips():
    n = node()
    chain = grow((GENESIS,), 2, "n1")
    st, eff = n.on_start("n1", (chain, frozenset()), 50)
    assert st.chain == chain
    assert [e for e in eff if isinstance(e, Send)] == [Send("n2", GetTip()), Send("n3", GetTip())]
    tampered = (chain[:1] + (mine((GENESIS,), "n9"),) + chain[2:], frozenset())
    st, _ = n.on_start("n1", tampered, 50)
    assert st.chain == (GENESIS,) and st.rejected == 1
    st, _ = n.on_start("n1", "garbage", 50)
    assert st.chain == (GENESIS,) and st.rejected == 1
    assert verify_chain(chain, n.rules) and not verify_chain(tampered[0], n.rules)


def test_mining_stops_at_the_stop_height():
    n = ChainNode(RULES, PEERS, mine_delay=1.0, stop_height=1)
    st, _ = n.on_timer("n1", fresh_state(n.rules), "mine", 10)
    assert st.tip.height == 1
    again, eff = n.on_timer("n1", st, "mine", 20)
    assert again == st and eff == [SetTimer("mine", 1.0)]


def test_wire_and_disk_decoders_give_plain_tuples_that_the_node_accepts():
    from paxchain.impl.chain_node import as_block
    from paxchain.impl.net import decode_value, encode_value

    b = mine((GENESIS,), "n2")
    plain = decode_value(encode_value(b))
    assert type(plain) is tuple and as_block(plain) == b
    forged = (("0" * 64,) + plain[1:])
    assert as_block(forged) is None and as_block("x") is None
    n = node()
    st, _ = n.on_message("n1", fresh_state(n.rules), "n2", BlockMsg(plain), 100)
    assert st.tip == b
    st, _ = n.on_message("n1", fresh_state(n.rules), "n2", BlockMsg(forged), 100)
    assert st.rejected == 1


# -- variants from outside production code --------------------------------------------------------

PRODUCTION = ("impl/chain_block.py", "impl/chain_node.py")


def test_production_code_names_no_variant_and_has_no_bug_flags():
    root = Path(__file__).resolve().parent.parent
    assert set(CHAIN) >= {"no_hash_link_check", "latest_arrival_fork_choice",
                          "no_timestamp_check", "adopt_unknown_parent",
                          "reorg_forgets_old_branch", "announce_before_persist"}
    for path in PRODUCTION:
        text = (root / path).read_text()
        for name in CHAIN:
            assert name not in text, (path, name)
        assert ".has(" not in text and "bugs=frozenset" not in text, path


def test_a_variant_changes_a_copy_and_leaves_the_production_node_alone():
    n = node()
    for name in CHAIN:
        v = variant(name, n)
        assert v is not n and type(n) is ChainNode and type(n.rules) is Rules
        assert v.peers == n.peers  # the configuration is kept


def test_rules_variants_combine_and_keep_the_rules_fields():
    n = node(tie="lowest-hash")
    both = CHAIN.apply(["no_hash_link_check", "no_timestamp_check"],
                       {"n1": (n, "node")})["n1"][0]
    chain = grow((GENESIS,), 3)
    stale = next(b for k in range(100)
                 if (b := Block(4, "ab" * 32, 20, (), "n2", k)).value < RULES.target)
    assert check_block(stale, chain, 100, RULES) is not None
    assert check_block(stale, chain, 100, both.rules) is None  # neither link nor time checked
    assert both.rules.tie == "lowest-hash" and both.rules.max_drift == 10
    assert mine_block(chain, "n1", 5, (), both.rules).timestamp == 5  # raw clock


def test_announce_before_persist_sends_before_the_write():
    n = variant("announce_before_persist")
    st, eff = n.on_timer("n1", fresh_state(RULES), "mine", 10)
    kinds = [type(e).__name__ for e in eff]
    assert kinds.index("Persist") > max(i for i, k in enumerate(kinds) if k == "Send")
    want_state, want_eff = node().on_timer("n1", fresh_state(RULES), "mine", 10)
    assert st == want_state and sorted(map(repr, eff)) == sorted(map(repr, want_eff))
    b = mine((GENESIS,), "n3")
    _, eff = n.on_message("n1", fresh_state(RULES), "n2", BlockMsg(b), 100)
    assert isinstance(eff[0], Send) and any(isinstance(e, Persist) for e in eff)
    assert n.rules is not None and n.peers == PEERS  # configuration read through the wrapper


def test_a_rules_variant_reaches_a_wrapped_node():
    wrapped = variant("announce_before_persist")
    both = variant("no_timestamp_check", wrapped)
    assert type(both) is type(wrapped) and type(both.inner.rules) is not Rules
    assert type(wrapped.inner.rules) is Rules  # the wrapper given was not changed


def test_make_network_applies_variants_and_refuses_unknown_ones():
    nodes = make_network(nodes=2, difficulty=1, variants=("reorg_forgets_old_branch",))
    assert sorted(nodes) == ["n1", "n2"]
    assert all(type(a).__name__ == "ReorgForgetsOldBranch" for a in nodes.values())
    assert all(type(a) is ChainNode for a, _ in make_cluster(nodes=2).values())
    with pytest.raises(ValueError, match="no variant 'nope'"):
        make_network(nodes=2, variants=("nope",))
