"""Properties of Lamport's Paxos (``paxchain.models.lamport_paxos``), each a function of ``(model, state)``.

Each docstring's first line states the property in words; the rest says how it is evaluated.
``votes[a]`` is the set of ``(bal, val)`` with ``2b(a, bal, val)`` sent; ``v`` is *chosen at
ballot b* when every member of some quorum voted ``(b, v)``. The Z3 twins of these predicates
live in ``paxchain.specs.paxos_z3``.

Seeded variants that break each one (``tests/test_lamport_paxos.py`` asserts them):

=================== ===================================================
property            broken by
=================== ===================================================
agreement           ignore_votes, small_quorums
type_ok             promise_off_by_one
vote_bookkeeping    phase2b_ignores_promise
msg_1b              phase2b_ignores_promise
msg_2a              ignore_votes, duplicate_2a
one_vote            duplicate_2a
votes_safe          ignore_votes
value_chosen        strict_phase2b (the goal is never reached)
=================== ===================================================
"""

from __future__ import annotations

from paxchain.models.properties import Property, invariant, sometimes

__all__ = ["PROPERTIES", "properties", "chosen", "chosen_mask", "safe_at"]


def chosen(m, s) -> dict[int, list[int]]:
    """Values chosen in state ``s``: value -> ballots at which some quorum voted for it."""
    msgs, nv, vm = s[3], m.nv, m.value_mask
    out: dict[int, list[int]] = {}
    for q in m.quorums:
        common = -1
        for a in q:
            common &= m.msgs.votes(msgs, a)
        for b in m.ballots:
            for v in m.value_bits[(common >> (b * nv)) & vm]:
                out.setdefault(v, []).append(b)
    return out


def _explain_chosen(m, s) -> str:
    c = chosen(m, s)
    parts = [f"{m.val_name(v)} at ballot {', '.join(map(str, sorted(set(bs))))}"
             for v, bs in sorted(c.items())]
    return "chosen = {" + "; ".join(parts) + "}"


def chosen_mask(m, s) -> int:
    """The chosen values as a bitmask. Memoised on the 2b messages, the only part it reads.

    A value is chosen at some ballot iff, for some quorum, the AND of its members' vote masks
    has that (ballot, value) bit set.
    """
    key = s[3] & m.mask_2b
    memo = m.memo["chosen"]
    mask = memo.get(key)
    if mask is None:
        mask = memo[key] = _chosen_mask(m, key)
    return mask


def _chosen_mask(m, msgs: int) -> int:
    nv, vm = m.nv, m.value_mask
    out = 0
    for q in m.quorums:
        common = -1
        for a in q:
            common &= m.msgs.votes(msgs, a)
        while common:
            out |= common & vm
            common >>= nv
    return out


@invariant(explain=_explain_chosen)
def agreement(m, s) -> bool:
    """Agreement: at most one value is chosen."""
    mask = chosen_mask(m, s)
    return mask & (mask - 1) == 0


def _explain_type(m, s) -> str:
    bad = []
    for name, vals in zip(("maxBal", "maxVBal"), s[:2]):
        for a, b in enumerate(vals):
            if not -1 <= b <= m.max_ballot:
                bad.append(f"{name}[{m.acc_name(a)}] = {b} is outside -1..{m.max_ballot}")
    for a, v in enumerate(s[2]):
        if not -1 <= v < m.nv:
            bad.append(f"maxVal[{m.acc_name(a)}] = {v} is not a value or None")
    if s[3] & ~m.universe:
        bad.append("msgs holds an ill-formed message")
    return "; ".join(bad)


@invariant(explain=_explain_type)
def type_ok(m, s) -> bool:
    """Type invariant: ballots stay in -1..MaxBallot, maxVal in Values ∪ {None}, messages well-formed.

    Messages are well-formed by construction of the bitmask universe, so only stray bits are
    checked for them.
    """
    hi = m.max_ballot
    for b in s[0]:
        if b < -1 or b > hi:
            return False
    for b in s[1]:
        if b < -1 or b > hi:
            return False
    for v in s[2]:
        if v < -1 or v >= m.nv:
            return False
    return not s[3] & ~m.universe


def _bookkeeping_errors(m, s) -> list[str]:
    max_bal, max_vbal, max_val, msgs = s
    nv = m.nv
    errs = []
    for a in range(m.n):
        name = m.acc_name(a)
        vb, vv, votes = max_vbal[a], max_val[a], m.msgs.votes(msgs, a)
        if (vb == -1) != (vv == -1):
            errs.append(f"maxVBal[{name}] = {vb} but maxVal[{name}] = {m.val_name(vv)}")
        if vb > max_bal[a]:
            errs.append(f"maxVBal[{name}] = {vb} > maxBal[{name}] = {max_bal[a]}")
        if vb >= 0 and vv >= 0 and not votes >> (vb * nv + vv) & 1:
            errs.append(f"{name} never voted ({vb}, {m.val_name(vv)})")
        if votes >> ((vb + 1) * nv):
            errs.append(f"{name} voted at a ballot above maxVBal[{name}] = {vb}")
    return errs


@invariant(explain=lambda m, s: "; ".join(_bookkeeping_errors(m, s)))
def vote_bookkeeping(m, s) -> bool:
    """Vote bookkeeping: maxVBal[a] = -1 exactly when maxVal[a] = None, otherwise (maxVBal[a], maxVal[a]) is one of a's votes; and no vote of a is above maxVBal[a] nor maxVBal[a] above maxBal[a].

    This is Lamport's AccInv. Memoised per acceptor on (maxBal, maxVBal, maxVal, votes).
    """  # noqa: E501 (its first line is the property's summary, one line)
    max_bal, max_vbal, max_val, msgs = s
    memo = m.memo["vote_bookkeeping"]
    width = m.msgs.vote_width
    mask = (1 << width) - 1
    votes = msgs >> m.msgs.base_2b
    for a in range(m.n):
        key = (max_bal[a], max_vbal[a], max_val[a], votes & mask)
        votes >>= width
        ok = memo.get(key)
        if ok is None:
            ok = memo[key] = _bookkeeping(m.nv, *key)
        if not ok:
            return False
    return True


def _bookkeeping(nv: int, mb: int, vb: int, vv: int, votes: int) -> bool:
    if vb == -1:
        return vv == -1 and not votes
    if vv == -1 or vb > mb:
        return False
    return bool(votes >> (vb * nv + vv) & 1) and not votes >> ((vb + 1) * nv)


def _msg_1b_errors(m, s, only: int | None = None) -> list[str]:
    max_bal, _, _, msgs = s
    nv = m.nv
    errs = []
    for a in range(m.n) if only is None else (only,):
        votes = m.msgs.votes(msgs, a)
        for b in m.ballots:
            g = m.msgs.reports(msgs, a, b)
            w = 0
            while g:
                if g & 1:
                    mb, mv = (-1, -1) if w == 0 else divmod(w - 1, nv)
                    text = f"1b(acc={m.acc_name(a)}, bal={b}, mbal={mb}, mval={m.val_name(mv)})"
                    if b > max_bal[a]:
                        errs.append(f"{text} but maxBal[{m.acc_name(a)}] = {max_bal[a]}")
                    if mb >= 0 and not votes >> (mb * nv + mv) & 1:
                        errs.append(f"{text} reports a vote never cast")
                    between = votes >> ((mb + 1) * nv) & ((1 << (max(0, b - mb - 1) * nv)) - 1)
                    if between:
                        errs.append(f"{text} hides a vote between ballots {mb} and {b}")
                g >>= 1
                w += 1
    return errs


@invariant(explain=lambda m, s: "; ".join(_msg_1b_errors(m, s)))
def msg_1b(m, s) -> bool:
    """1b messages: for every 1b(a, b, mb, mv), maxBal[a] ≥ b, and (mb, mv) is a vote of a (or mb = -1), and a cast no vote at a ballot strictly between mb and b.

    Memoised per acceptor on (maxBal[a], votes[a], a's 1b messages).
    """  # noqa: E501 (its first line is the property's summary, one line)
    max_bal, msgs = s[0], s[3]
    if not msgs >> m.msgs.base_1b:
        return True
    memo = m.memo["msg_1b"]
    vw, bw = m.msgs.vote_width, m.msgs.nb * m.msgs.report_width
    vmask, bmask = (1 << vw) - 1, (1 << bw) - 1
    votes, blocks = msgs >> m.msgs.base_2b, msgs >> m.msgs.base_1b
    for a in range(m.n):
        key = (a, max_bal[a], votes & vmask, blocks & bmask)
        votes >>= vw
        blocks >>= bw
        ok = memo.get(key)
        if ok is None:
            ok = memo[key] = not _msg_1b_errors(m, s, a)
        if not ok:
            return False
    return True


def safe_at(m, s, b: int, v: int) -> bool:
    """SafeAt(b, v): for every ballot c < b some quorum Q shows no value but v is choosable at c.

    Every member of Q voted (c, v), or has maxBal > c and cast no vote at c.
    """
    max_bal, msgs, nv, vm = s[0], s[3], m.nv, m.value_mask
    votes = [m.msgs.votes(msgs, a) for a in range(m.n)]
    for c in range(b):
        ok = 0
        for a in range(m.n):
            at_c = votes[a] >> (c * nv) & vm
            if at_c >> v & 1 or (max_bal[a] > c and not at_c):
                ok |= 1 << a
        if not m.has_quorum[ok]:
            return False
    return True


def _msg_2a_errors(m, s) -> list[str]:
    msgs, vm = s[3], m.value_mask
    errs = []
    for b in m.ballots:
        sent = msgs >> m.msgs.bit_2a(b, 0) & vm
        if sent & (sent - 1):
            errs.append(f"two 2a messages for ballot {b}: "
                        + ", ".join(str(m.val_name(v)) for v in m.value_bits[sent]))
        for v in m.value_bits[sent]:
            if not safe_at(m, s, b, v):
                errs.append(f"2a(bal={b}, val={m.val_name(v)}) is not safe at ballot {b}")
    return errs


@invariant(explain=lambda m, s: "; ".join(_msg_2a_errors(m, s)))
def msg_2a(m, s) -> bool:
    """2a messages: at most one 2a per ballot, and every 2a(b, v) is safe at b (SafeAt(b, v)).

    Memoised on (maxBal, 2a and 2b messages), the parts of the state it reads.
    """
    key = (s[0], s[3] & m.mask_2a_2b)
    memo = m.memo["msg_2a"]
    ok = memo.get(key)
    if ok is None:
        ok = memo[key] = _msg_2a(m, s)
    return ok


def _msg_2a(m, s) -> bool:
    msgs, vm = s[3], m.value_mask
    for b in m.ballots:
        sent = msgs >> m.msgs.bit_2a(b, 0) & vm
        if sent:
            if sent & (sent - 1):
                return False
            if b and not safe_at(m, s, b, sent.bit_length() - 1):
                return False
    return True


def _one_vote_errors(m, s) -> list[str]:
    errs = []
    for a in range(m.n):
        votes = m.msgs.votes(s[3], a)
        for b in m.ballots:
            at_b = votes >> (b * m.nv) & m.value_mask
            if at_b & (at_b - 1):
                errs.append(f"{m.acc_name(a)} voted for "
                            + " and ".join(str(m.val_name(v)) for v in m.value_bits[at_b])
                            + f" at ballot {b}")
    return errs


@invariant(explain=lambda m, s: "; ".join(_one_vote_errors(m, s)))
def one_vote(m, s) -> bool:
    """Voting's OneVote: an acceptor votes for at most one value in each ballot."""
    if m.nv == 1:
        return True
    key = s[3] & m.mask_2b
    memo = m.memo["one_vote"]
    ok = memo.get(key)
    if ok is None:
        ok = memo[key] = not _one_vote_errors(m, s)
    return ok


def _unsafe_votes(m, s) -> list[tuple[int, int]]:
    union = 0
    for a in range(m.n):
        union |= m.msgs.votes(s[3], a)
    out = []
    for b in m.ballots[1:]:
        for v in m.value_bits[union >> (b * m.nv) & m.value_mask]:
            if not safe_at(m, s, b, v):
                out.append((b, v))
    return out


@invariant(explain=lambda m, s: "; ".join(
    f"vote ({b}, {m.val_name(v)}) is not safe at ballot {b}" for b, v in _unsafe_votes(m, s)))
def votes_safe(m, s) -> bool:
    """Voting's VotesSafe: every vote (b, v) cast by any acceptor is safe at b (SafeAt(b, v)).

    Memoised on (maxBal, 2b messages), the parts of the state it reads.
    """
    key = (s[0], s[3] & m.mask_2b)
    memo = m.memo["votes_safe"]
    ok = memo.get(key)
    if ok is None:
        ok = memo[key] = not _unsafe_votes(m, s)
    return ok


@sometimes()
def value_chosen(m, s) -> bool:
    """Some value is chosen (a reachability goal: the search must reach such a state)."""
    return chosen_mask(m, s) != 0


PROPERTIES = [agreement, type_ok, vote_bookkeeping, msg_1b, msg_2a, one_vote, votes_safe,
              value_chosen]


def properties(m) -> list[Property]:
    """The properties of the instance ``m`` (a ``LamportPaxos``), bound to it."""
    return [p.bind(m) for p in PROPERTIES]
