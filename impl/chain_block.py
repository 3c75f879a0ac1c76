"""Blocks of the timestamp chain: canonical encoding, SHA-256 hashes, proof of work, the rules.

Theory of operation. A block timestamps a payload (a tuple of item strings) and links to its
parent by the parent's hash. Its hash is SHA-256 over a canonical encoding of all six fields
(compact JSON of ``[height, parent, timestamp, payload, miner, nonce]``, which is injective), so
changing any field changes the hash. A block meets the proof of work when its hash, read as a
256-bit number, is below the network's ``target``; every block of a network carries the same
work ``2**256 // target``, so "most cumulative work" compares chain lengths, computed as work
so that a per-block target would only change ``block_work``.

Rules a block ``b`` on top of the chain ``parents`` (genesis .. parent) must satisfy
(``check_block``): its height is the parent's plus one; ``b.parent`` is the parent's hash (the
hash link); its hash meets the target; its timestamp is greater than the median time past (the
median of the last ``mtp_window`` timestamps of ``parents``); and its timestamp is at most the
validating node's local clock plus ``max_drift``. Honest miners stamp ``max(now, MTP + 1)``.

Nothing here does I/O or reads a clock: time is always an argument. The rules a node applies
are methods of ``Rules`` (``links``, ``check_timestamp``, ``stamp``), so a seeded bug is a
subclass that overrides one of them, registered outside production code
(``paxchain.impl.chain_variants.CHAIN``); nothing here carries a bug flag.
"""

from __future__ import annotations

import hashlib
import json
import operator
from dataclasses import dataclass
from collections.abc import Sequence
from typing import Any

__all__ = ["Block", "Rules", "ZERO_HASH", "GENESIS", "block_work", "chain_work",
           "median_time_past", "check_block", "verify_chain", "chain_problems", "mine_block",
           "is_hash", "TIE_RULES"]

ZERO_HASH = "0" * 64
TIE_RULES = ("first-seen", "lowest-hash")
MAX_PAYLOAD_ITEMS = 64
MAX_ITEM_CHARS = 256
MAX_MINER_CHARS = 64
MAX_NONCE = 2 ** 64

def is_hash(x: Any) -> bool:
    """Whether ``x`` is a 64-digit lowercase hex string."""
    return (isinstance(x, str) and len(x) == 64
            and all(c in "0123456789abcdef" for c in x))


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


class Block(tuple):
    """An immutable block; ``hash`` is the hex SHA-256 of its canonical encoding.

    The constructor checks the fields' types and sizes and raises ``ValueError`` on anything
    else, so a malformed block from the wire never gets into a node's state. A block is a tuple
    ``(hash, height, parent, timestamp, payload, miner, nonce, value)`` underneath, so hashing,
    equality and ordering (by hash first) run at C speed in the model checker's hot loop;
    ``value`` is the hash as a 256-bit number.
    """

    __slots__ = ()

    def __new__(cls, height: int, parent: str, timestamp: int, payload: tuple[str, ...],
                miner: str, nonce: int) -> Block:
        if not _is_int(height) or height < 0:
            raise ValueError("height must be a non-negative integer")
        if not is_hash(parent):
            raise ValueError("parent must be a 64-digit hex hash")
        if not _is_int(timestamp):
            raise ValueError("timestamp must be an integer")
        if (not isinstance(payload, tuple) or len(payload) > MAX_PAYLOAD_ITEMS
                or not all(isinstance(i, str) and len(i) <= MAX_ITEM_CHARS for i in payload)):
            raise ValueError("payload must be a tuple of at most 64 short strings")
        if not isinstance(miner, str) or not 0 < len(miner) <= MAX_MINER_CHARS:
            raise ValueError("miner must be a non-empty short string")
        if not _is_int(nonce) or not 0 <= nonce < MAX_NONCE:
            raise ValueError("nonce must be an integer in 0..2**64-1")
        digest = hashlib.sha256(_canonical(height, parent, timestamp, payload, miner, nonce))
        return tuple.__new__(cls, (digest.hexdigest(), height, parent, timestamp, payload, miner,
                                   nonce, int.from_bytes(digest.digest(), "big")))

    def __getnewargs__(self) -> tuple:
        return self.fields()

    hash = property(operator.itemgetter(0))
    height = property(operator.itemgetter(1))
    parent = property(operator.itemgetter(2))
    timestamp = property(operator.itemgetter(3))
    payload = property(operator.itemgetter(4))
    miner = property(operator.itemgetter(5))
    nonce = property(operator.itemgetter(6))
    value = property(operator.itemgetter(7))

    def __repr__(self) -> str:
        return (f"Block(h={self.height}, {self.hash[:8]}, parent={self.parent[:8]}, "
                f"t={self.timestamp}, miner={self.miner}, nonce={self.nonce})")

    @property
    def short(self) -> str:
        return self.hash[:8]

    def fields(self) -> tuple:
        """The six constructor arguments."""
        return tuple(self[1:7])


def _canonical(height: int, parent: str, timestamp: int, payload: tuple[str, ...], miner: str,
               nonce: int) -> bytes:
    return json.dumps([height, parent, timestamp, list(payload), miner, nonce],
                      separators=(",", ":"), ensure_ascii=True).encode("ascii")


GENESIS = Block(0, ZERO_HASH, 0, (), "genesis", 0)  # not mined: every node starts from it


@dataclass(frozen=True)
class Rules:
    """The consensus rules of one network.

    ``target``: a block's hash must be below it (``2**(256 - difficulty)`` for ``difficulty``
    leading zero bits). ``mtp_window``: how many past timestamps the median time past takes.
    ``max_drift``: how far ahead of the validator's clock a timestamp may be. ``tie``: which of
    two equal-work tips wins (``first-seen`` keeps the current one, ``lowest-hash`` takes the
    smaller hash). ``max_orphans``: the orphan pool's size.

    The per-block rules a node applies are the methods ``links`` (hash link),
    ``check_timestamp`` (median time past and clock) and ``stamp`` (an honest miner's
    timestamp); a variant overrides one in a subclass (``paxchain.impl.chain_variants``).
    """

    target: int = 1 << 255
    mtp_window: int = 11
    max_drift: int = 20
    tie: str = "first-seen"
    max_orphans: int = 16
    genesis: Block = GENESIS

    def __post_init__(self) -> None:
        if not 0 < self.target <= 1 << 256:
            raise ValueError("target must be in 1..2**256")
        if self.mtp_window < 1:
            raise ValueError("mtp_window must be at least 1")
        if self.max_drift < 0:
            raise ValueError("max_drift must be non-negative")
        if self.tie not in TIE_RULES:
            raise ValueError(f"tie rule must be one of {', '.join(TIE_RULES)}")

    @staticmethod
    def with_difficulty(bits: int, **kw: Any) -> Rules:
        """Rules whose target asks for ``bits`` leading zero bits of the hash."""
        if not 0 <= bits <= 255:
            raise ValueError("difficulty must be 0..255 bits")
        return Rules(target=1 << (256 - bits), **kw)

    # -- the rules a node applies to one block (a variant overrides one) -------------------
    def links(self, parent: Block, b: Block) -> bool:
        """Whether ``b`` is linked to ``parent``: it names ``parent``'s hash as its parent."""
        return b.parent == parent.hash

    def check_timestamp(self, b: Block, parents: Sequence[Block], now: int | None) -> str | None:
        """Why ``b``'s timestamp is not acceptable on ``parents`` at local time ``now``: it must
        be after the median time past and at most ``max_drift`` ahead of ``now`` (``None``:
        the clock rule is skipped)."""
        mtp = median_time_past(parents, self.mtp_window)
        if b.timestamp <= mtp:
            return f"timestamp {b.timestamp} is not after the median time past {mtp}"
        if now is not None and b.timestamp > now + self.max_drift:
            return f"timestamp {b.timestamp} is beyond local time {now} + {self.max_drift}"
        return None

    def stamp(self, parents: Sequence[Block], now: int) -> int:
        """The timestamp an honest miner puts on a block on ``parents``: ``max(now, MTP + 1)``."""
        return max(now, median_time_past(parents, self.mtp_window) + 1)


def block_work(rules: Rules) -> int:
    """The expected number of hashes a block costs: ``2**256 // target``."""
    return (1 << 256) // rules.target


def chain_work(chain: Sequence[Block], rules: Rules) -> int:
    """Cumulative work up to the chain's tip, from its height (one target for all blocks)."""
    return (chain[-1].height + 1) * block_work(rules)


def median_time_past(chain: Sequence[Block], window: int) -> int:
    """The median of the last ``window`` timestamps of ``chain`` (the upper one of two)."""
    stamps = sorted(b.timestamp for b in chain[-window:])
    return stamps[len(stamps) // 2]


def check_block(b: Block, parents: Sequence[Block], now: int | None, rules: Rules) -> str | None:
    """Why ``b`` may not extend ``parents`` (genesis .. its parent) at local time ``now``.

    ``None`` when every rule holds. The hash link and timestamp rules are ``rules``' methods
    (``Rules.links``, ``Rules.check_timestamp``); ``now=None`` skips the clock rule (re-checking
    a stored chain).
    """
    parent = parents[-1]
    if b.height != parent.height + 1:
        return f"height {b.height} does not follow the parent's {parent.height}"
    if not rules.links(parent, b):
        return "the parent hash does not match the parent block"
    if b.value >= rules.target:
        return "the hash does not meet the proof-of-work target"
    return rules.check_timestamp(b, parents, now)


def verify_chain(chain: Sequence[Block], rules: Rules) -> bool:
    """Whether a stored chain passes this node's own rules (``check_block``, clock rule
    skipped), from the genesis block on: what a restarting node re-checks."""
    if not chain or chain[0] != rules.genesis:
        return False
    return all(check_block(chain[i], chain[:i], None, rules) is None
               for i in range(1, len(chain)))


def chain_problems(chain: Sequence[Block], rules: Rules, now: int | None) -> list[str]:
    """Every way ``chain`` breaks the rules, genesis first; ``now=None`` skips the clock rule.

    This is the rule book applied to a whole chain, written out here rather than through the
    overridable ``Rules`` methods, so it is independent of any variant: properties use it (with
    the network's own ``Rules``) to judge what nodes adopted.
    """
    out = []
    if not chain or chain[0] != rules.genesis:
        out.append("the chain does not start at the genesis block")
    for i in range(1, len(chain)):
        b, parent = chain[i], chain[i - 1]
        if b.height != parent.height + 1 or b.parent != parent.hash:
            out.append(f"block {b.short} at position {i} is not linked to {parent.short}")
        if b.value >= rules.target:
            out.append(f"block {b.short} misses the proof-of-work target")
        mtp = median_time_past(chain[:i], rules.mtp_window)
        if b.timestamp <= mtp:
            out.append(f"block {b.short} has timestamp {b.timestamp} <= median time past {mtp}")
        if now is not None and b.timestamp > now + rules.max_drift:
            out.append(f"block {b.short} has timestamp {b.timestamp} > local time {now} + "
                       f"{rules.max_drift}")
    return out


def mine_block(parents: Sequence[Block], miner: str, now: int, payload: tuple[str, ...],
               rules: Rules, start_nonce: int = 0, tries: int | None = None) -> Block | None:
    """Search nonces ``start_nonce, start_nonce + 1, ...`` for a block on ``parents``.

    Deterministic: the same arguments give the same block. The timestamp is
    ``rules.stamp(parents, now)`` (``max(now, MTP + 1)``). Returns ``None`` when ``tries``
    nonces were tried without success.
    """
    parent = parents[-1]
    stamp = rules.stamp(parents, now)
    nonce = start_nonce
    end = None if tries is None else start_nonce + tries
    while end is None or nonce < end:
        b = Block(parent.height + 1, parent.hash, stamp, payload, miner, nonce)
        if b.value < rules.target:
            return b
        nonce += 1
    return None
