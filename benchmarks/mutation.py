"""Mutation benchmark: how many small bugs in the Paxos roles and the chain node does the CI gate
(``paxchain.toml``) catch?

Usage::

    python3 benchmarks/mutation.py [--target paxos|chain|all] [--jobs N] [--limit K]
                                   [--time-limit S] [--only ID ...] [--list] [--show ID]

What it does
------------
1. Reads the *current* source of the target files (``impl/paxos.py``; ``impl/chain_block.py``
   and ``impl/chain_node.py``) at run time — never a stored copy — and parses it with ``ast``.
2. Generates mutants in the target functions (the ``Proposer``, ``Acceptor`` and ``Learner``
   classes; the ``ChainNode`` class and the validation rules of ``chain_block``) with the
   operators below, one change per mutant. Code that tests a seeded-bug flag (anything mentioning
   ``bugs``, or ``rules.has("<bug>")``) is never mutated, nor the body of an ``if`` that only
   runs under such a flag, nor a function whose docstring starts with "Seeded bug": those are
   variants, not production code. Two mutants that compile to the same function are one.
3. Runs the unmutated snapshot first (the *baseline*: every selected check must pass, or the
   run stops), then each mutant in a fresh Python process (``--jobs`` at a time): the process
   compiles the snapshot, installs the mutated module(s) as ``sys.modules['paxchain.impl.paxos']`` etc.
   before any model imports them, and runs the gate's checks for that protocol through the gate's
   own code path (``paxchain.checker.checks_file.load`` + ``paxchain.checker.suite.run_one`` with the search and
   options ``paxchain check`` uses): every ``[[check]]`` of the checks file whose model is
   ``paxos-system`` (resp. ``chain``), with no variant and ``expect = "holds"``. Checks run
   cheapest first (baseline times) and the first failing one ends the mutant.
4. A mutant is **killed** when a check does not pass (a violation, a handler that raises, any
   error the gate would stop on), **survived** when all pass, **timeout** when the per-mutant
   limit (``--time-limit``) or the memory limit was hit first (neither killed nor survived).
5. Survivors are classified by hand in ``CLASSIFICATION`` below (keyed by the stable mutant id:
   operator, function and a hash of the mutated line, so a re-run applies it): ``equivalent``
   (no run of the model can tell it apart, with the reason) or ``missing`` (a property or bound
   the gate lacks). Score = killed / (killed + survived - equivalent).

Output: rich tables per operator and per class, every survivor with its one-line diff and
classification, and ``benchmarks/results/mutation.json`` (atomically replaced; one section per
target, with the command, git commit, the target files' hashes and the load average). Runs with
``--limit``/``--only`` are smoke runs: they write JSON only where ``--out`` says.

Operators (``OPERATORS``)
-------------------------
- ``cmp_flip``: ``<`` <-> ``<=``, ``>`` <-> ``>=``, ``==`` <-> ``!=``.
- ``off_by_one``: an integer constant ``c`` -> ``c + 1`` / ``c - 1``; ``+`` <-> ``-`` in
  arithmetic with a constant; a round / height read (``s.round``, ``round_``, ``r``,
  ``b.height``) -> ``x + 1`` / ``x - 1``.
- ``drop_guard``: an ``if`` condition -> ``True`` / ``False`` (an early-return guard
  ``if c: return ...`` without ``else`` is removed instead of made ``False``); the test of a
  conditional expression -> ``True`` / ``False``; a predicate's ``return <test>`` ->
  ``return True`` / ``return False``.
- ``drop_effect``: one effect (``Send``, ``Persist``, ``Output``, ``SetTimer``, ``CancelTimer``)
  removed from an effects list; a comprehension of effects, an ``effects += ...`` or
  ``effects.append(...)`` removed; ``self._persist(t) + sends`` -> ``sends``.
- ``reorder_effects``: a ``Persist`` moved after the ``Send``/``Output`` effects of the same list
  (``persist + sends`` -> ``sends + persist``; in a list literal; or ``effects = [Persist(..)]``
  followed by ``effects += [Send ...]`` -> the Persist appended after them).
- ``and_or``: ``and`` <-> ``or``.
- ``max_min``: ``max`` <-> ``min``.

Why not mutmut or cosmic-ray
----------------------------
Both were considered. mutmut 3 rewrites the sources into a ``mutants/`` copy with a trampoline
per function and drives only pytest (it collects tests and their coverage); its operator set is
fixed, so "drop one Send", "move a Persist after the Sends" or "off-by-one on a round" cannot be
added. cosmic-ray runs any ``test-command`` and accepts operator plug-ins (an installed package
with entry points), but applies each mutation to the file on disk and runs the command in a
shell: in a checkout where other engineers edit ``impl/paxos.py`` at the same time, writing
mutants into the working tree is not acceptable, and a fresh shell command per mutant re-parses
the checks file and re-imports everything anyway. A small ``ast`` operator set that hands each
process a compiled mutant (``marshal``) keeps the tree untouched, mutates exactly the source
present when the run starts, and runs the gate's checks in-process.
"""

from __future__ import annotations

import argparse
import ast
import copy
import functools
import hashlib
import json
import marshal
import os
import pickle
import re
import resource
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import types
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable, Iterator
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if "paxchain" not in sys.modules:
    # this checkout's packages, whatever copy is installed: the namespace paxchain is this
    # folder (its impl/, models/, specs/, checker/ are paxchain.impl, ...), so a benchmark run
    # from a second worktree measures that worktree's code
    _pkg = types.ModuleType("paxchain")
    _pkg.__path__ = [str(ROOT)]
    sys.modules["paxchain"] = _pkg
    # and nothing else: an editable install's finder would serve a module this checkout lacks
    sys.meta_path[:] = [f for f in sys.meta_path
                        if not str(getattr(f, "__module__", "")).startswith("__editable__")]
OUT = ROOT / "benchmarks" / "results" / "mutation.json"
CHECKS_FILE = ROOT / "paxchain.toml"

OPERATORS = ("cmp_flip", "off_by_one", "drop_guard", "drop_effect", "reorder_effects", "and_or",
             "max_min")
PAXOS_CLASSES = ("acceptor", "proposer", "learner")
GOAL = 0.95  # issue 10: >= 95 % of the non-equivalent Paxos role mutants killed
KILLED, SURVIVED, TIMEOUT = "killed", "survived", "timeout"
EQUIVALENT, MISSING = "equivalent", "missing"


# -- targets ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Scope:
    """What to mutate in one module: classes and module-level functions, each mapped to the
    class label it is reported under."""

    module: str
    path: str                                  # relative to ROOT
    classes: dict[str, str] = field(default_factory=dict)
    functions: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Target:
    name: str
    model: str                                 # the checks' model in the checks file
    scopes: tuple[Scope, ...]                  # in import order (a module before its users)
    shift_attrs: frozenset[str] = frozenset()  # `x.<attr>` reads that off_by_one shifts
    shift_names: frozenset[str] = frozenset()  # names that off_by_one shifts
    excluded: dict[str, str] = field(default_factory=dict)  # function -> why it is not mutated


_CONFIG = ("constructor: stores and validates configuration; the models build valid actors only, "
           "so its argument checks are not protocol steps")
_TIMER = ("computes a timer's duration: the models fire timers at any moment (time is "
          "abstracted), so no run can tell a mutant apart; so are durations passed to SetTimer")

TARGETS = {
    "chain": Target(
        "chain", "chain",
        (Scope("paxchain.impl.chain_block", "impl/chain_block.py", classes={"Rules": "chain"},
               functions={f: "chain" for f in ("block_work", "chain_work", "median_time_past",
                                                "check_block", "verify_chain", "mine_block")}),
         Scope("paxchain.impl.chain_node", "impl/chain_node.py", classes={"ChainNode": "chain"},
               functions={"common_length": "chain"})),
        shift_attrs=frozenset({"height"}),
        excluded={"ChainNode.__init__": _CONFIG, "Rules.__post_init__": _CONFIG,
                  "Rules.with_difficulty": _CONFIG}),
    "paxos": Target(
        "paxos", "paxos-system",
        (Scope("paxchain.impl.paxos", "impl/paxos.py",
               classes={"Proposer": "proposer", "Acceptor": "acceptor", "Learner": "learner"}),),
        shift_attrs=frozenset({"round"}), shift_names=frozenset({"round_", "r"}),
        excluded={"Proposer.__init__": _CONFIG, "Acceptor.__init__": _CONFIG,
                  "Learner.__init__": _CONFIG, "Proposer.delay": _TIMER,
                  "Proposer.nack_delay": _TIMER}),
}


# -- the hand classification of survivors -------------------------------------------------------
# mutant id -> (equivalent | missing, one-line reason). Filled in after reading each survivor;
# a survivor without an entry is listed as "unclassified".
# Reasons shared by several chain survivors (models/chain_system.py says what the model runs).
_CH_ORDER = ("chain work is only compared, never read as a number; the mutant is still strictly "
             "increasing in height (every block has one work), so no comparison changes")
_CH_OUTPUT = ("changes only an Output, which no chain property reads; a crash point right after "
              "an Output equals the one before it (Outputs change no state)")
_CH_COUNTER = "changes only the `rejected` counter, which no property reads"
_CH_NO_SYNC = ("unreachable: the model runs nodes with sync_on_restart=False, so no GetTip is ever "
               "sent (README: covered by unit tests and the real run instead)")
_CH_NO_SUBMIT = "unreachable: the model sends no Submit, so `pending` stays empty"
_CH_TIMERS = ("unreachable: the model runs nodes with mine_delay, announce_every and stop_height "
              "unset and fires only the mine timer (Mine, whenever mining is allowed, set or not)")
_CH_MINE_TRIES = ("unreachable: the model mines with mine_tries=None (a search runs until found), "
                  "so `state.mining` stays None and no search comes back empty")
_CH_HASH_EQ = ("differs only for a block hash exactly equal to the target (2**255), which no "
               "block can have in practice")
_CH_NONCE = ("skipping odd nonces still finds a block meeting the target: only which valid block "
             "is mined changes")
_CH_LINKED = ("redundant: _parents looks the parent up by b.parent, so the parent chain it returns "
              "always ends at the block b names and this check cannot fail")
_CH_KNOWN = ("re-handling a known block is idempotent (it is not better than the chain it is on "
             "and only re-enters `side`); orphans and known blocks are disjoint, so the `and` "
             "form never holds")
_CH_FOREIGN = ("the model sends only well-formed BlockMsg and GetBlock messages and no height-0 "
               "block (another network's genesis): the guard separates inputs that never occur")
_CH_ONE_BASE = ("the loop starts at accepted[-1], which is accepted[0] (one entry), then meets "
                "accepted[0] again with its orphans already taken: the same result")
_CH_ORPHAN_CAP = "unreachable: at most `budget` (2) blocks exist, far below max_orphans (16)"
_CH_WORK_NE = ("the changed comparison runs only where it cannot differ (wc != wb already holds; a "
               "new candidate's tip is never the current tip)")
_CH_REPERSIST = ("re-persists the value already on disk (a node persists every change): its crash "
                 "point equals the one before it")
_CH_REANNOUNCE = ("with the chain unchanged, _switch re-persists it and re-sends the tip, which "
                  "every receiver ignores as known")
_CH_EXTRA_COPIES = ("only adds copies of a block for peers (or the node itself) that already hold "
                    "it; they ignore it as known")
_CH_MTP_ORACLE = ("specs/chain.py judges timestamps with impl.chain_block.median_time_past itself, "
                  "so a wrong median passes both; the spec needs its own median, and a holds check "
                  "with clock offsets to reach the rule")
_CH_GROWTH = ("no property requires chains to grow: the mutant stops every chain at height 1 (or "
              "lets Mine publish nothing) and all safety properties hold; add a transition "
              "property 'a Mine step without a crash point extends the miner's chain by one "
              "block' (or a goal 'some chain holds all budget blocks')")
_CH_FAULTY_MINER = ("only honest miners exist (clock offsets 0), so no invalid block is ever "
                    "offered; add a faulty producer (an Inject action within a budget, sending a "
                    "block that breaks one rule: height, link, proof of work, timestamp) — "
                    "chain_valid then catches it")
_CH_DISK = ("the model's disk returns exactly what was persisted, so re-verification at restart "
            "never fails; add a corrupt-storage fault at restart (as paxos-system's "
            "corrupt_storage)")
_CH_OFFSETS = ("at clock offsets 0 a miner's own clock never invalidates its block; a holds check "
               "with offsets beyond max_drift (e.g. offsets = \"0,-20\", as "
               "chain-bug-no_timestamp_check uses) reaches it")
_CH_PARTIAL_MESH = ("in a full mesh without loss every node gets each block from its miner, so "
                    "relays and parent requests (GetBlock) are never needed, and convergence "
                    "skips lossy runs; a partial-mesh topology (a node that hears a miner only "
                    "through a peer) would need them")
_CH_BUDGET3 = ("bound: at budget 2 no block extends a side branch and no orphan outlives the next "
               "arrival; the README's chain CI bound (budget 3, ~6 s) reaches this code: add a "
               "holds check at budget 3")
_CH_SIDE_KEPT = ("a losing sibling is not kept in `side`; no property says a node keeps every valid "
                 "block delivered to it (known_blocks_kept only forbids forgetting), and at budget "
                 "2 no child needs it")

# Reasons shared by several Paxos survivors.
_PX_BALLOT_SHIFT = ("correct Paxos: every ballot's round moves by one, so ballots stay unique per "
                    "proposer, ordered and well-formed (round 0 is valid; the model derives its "
                    "ballot list from ballot()); after a Nack the catch-up may cost one more "
                    "round, a matter of progress within max_rounds, not of safety")
_PX_ROUND_SKIP = ("correct Paxos: a restarted proposer resumes one round further on, so its "
                  "ballots stay unique and increasing; it only skips one")
_PX_WELL_FORMED = ("input validation: the model delivers only well-formed messages of the right type "
                   "from the right roles (acceptors' Accepted to learners, replies to proposers), so "
                   "the guard never sees the input it rejects")
_PX_OWN_DISK = ("validates the proposer's own persisted (round, incarnation): the model's disk "
                "returns exactly what it wrote, two non-negative ints, so the weakened test "
                "accepts the same values")
_PX_ACC_DISK = ("validates the acceptor's own persisted (promised, vote): the model's disk returns "
                "exactly what it wrote, so the changed test accepts the same values")
_PX_VALUE_CHOICE = ("correct Paxos: only which client value a (restarted) proposer offers "
                    "changes (values[incarnation % len]); any value may be proposed, and ballots "
                    "are untouched")
_PX_SPENT_PROMISE = ("the extra Promise answers a Prepare of a ballot the acceptor already voted "
                     "in, so that ballot already has an Accept: its proposer has left phase 1 of "
                     "it for good and ignores the reply, and no Lamport action reads such a spent "
                     "report (README: refinement up to spent reports)")
_PX_LEARNER_DISK = ("a learner persists only a decided (valid, non-None) value and starts from None "
                    "the first time: both arms of the guard give the same state for every value "
                    "its disk can hold")


_PX_GAVE_UP = ("a proposer that gave up cancels its timer and never starts a ballot again, so "
               "its volatile round is never read (a restart resumes from the persisted one)")
_PX_NACK_SILENT = ("without this Nack the acceptor stays silent: the proposer's retry timer makes "
                   "the same retry, later; safety reads no Nack, and time is abstract in the "
                   "model")
_PX_NACK_AT_BALLOT = ("a Prepare for the promised ballot the acceptor voted in now gets "
                      "Nack(b, promised=b), which the proposer ignores (a Nack counts only when "
                      "its promise is above the ballot)")
_PX_NACK_IGNORED = ("the proposer now ignores Nacks: a Nack only hastens the pre-empted "
                    "proposer's retry, which its timer makes anyway; safety reads no Nack, and "
                    "time is abstract in the model")
_PX_MALFORMED = ("fault model: the models deliver only the protocol's own well-formed messages, "
                 "so the proposer's input validation is never exercised; a fault that injects "
                 "ill-typed messages (as a real network can) would be needed")

_PX_CATCH_UP = ("how far a Nacked proposer jumps ahead changes, not the order: its next ballot "
                "is still above every ballot it used, so ballots stay unique and increasing; "
                "only how soon it catches up differs (progress within max_rounds)")
_PX_TIMER_KEPT = ("the retry timer set earlier is still pending (a SetTimer only replaces it), "
                  "so the proposer retries anyway; time is abstract in the model")

_PX_AFTER_DECIDED = ("after a quorum accepted the proposer is decided for good: on_timer returns "
                     "its state unchanged and no message moves it again, so its volatile round "
                     "and incarnation are never read and a retry timer left set fires as a "
                     "no-op")

CLASSIFICATION: dict[str, tuple[str, str]] = {
    # -- paxos ---------------------------------------------------------------------------------
    "off_by_one:Proposer.ballot:94ff74e4": (EQUIVALENT, _PX_BALLOT_SHIFT),
    "off_by_one:Proposer.ballot:8a50a11a": (EQUIVALENT, _PX_BALLOT_SHIFT),
    "off_by_one:Proposer._durable:61eda8be": (EQUIVALENT, _PX_ROUND_SKIP),
    "drop_guard:Learner.on_start:e794bb44": (EQUIVALENT, _PX_LEARNER_DISK),
    "and_or:Learner.on_start:97a9611f": (EQUIVALENT, _PX_LEARNER_DISK),
    "drop_guard:Learner.on_message:58296e14": (EQUIVALENT, _PX_WELL_FORMED),
    "and_or:Learner.on_message:e05b9303": (EQUIVALENT, _PX_WELL_FORMED),
    "and_or:Proposer._resume:131ecb13": (EQUIVALENT, _PX_OWN_DISK),
    "off_by_one:Proposer._resume:5fb13e0e": (EQUIVALENT, _PX_OWN_DISK),
    "and_or:Acceptor.on_start:534c93be": (EQUIVALENT, _PX_ACC_DISK),
    "off_by_one:Proposer._resume:049b2c68": (EQUIVALENT, _PX_VALUE_CHOICE),
    "off_by_one:Proposer._resume:e7fe77de": (EQUIVALENT, _PX_VALUE_CHOICE),
    "off_by_one:Proposer._resume:dd4f6f62": (EQUIVALENT, _PX_VALUE_CHOICE),
    "off_by_one:Proposer._resume:e3afebff": (EQUIVALENT, _PX_VALUE_CHOICE),
    "off_by_one:Acceptor.on_start:38a1ee1b": (EQUIVALENT, _PX_ACC_DISK),
    "drop_guard:Acceptor.on_start:4f200a0f": (EQUIVALENT, _PX_ACC_DISK),
    "and_or:Acceptor.on_start:70e281db": (EQUIVALENT, _PX_ACC_DISK),
    "drop_guard:Acceptor.on_message:d596cb31": (EQUIVALENT, _PX_WELL_FORMED),
    "and_or:Acceptor.on_message:68b6b24a": (EQUIVALENT, _PX_WELL_FORMED),
    "cmp_flip:Acceptor.on_message:4f3c895a": (EQUIVALENT, _PX_SPENT_PROMISE),
    "cmp_flip:Acceptor.on_message:a2273192": (EQUIVALENT, _PX_SPENT_PROMISE),
    "drop_guard:Acceptor.on_message:f82b2622": (EQUIVALENT, "drops only the re-sent Promise for a "
                                                "duplicated Prepare of the promised ballot: it "
                                                "matters only after a lost Promise, and then a "
                                                "quorum of the others answers or the proposer "
                                                "retries with a higher ballot (progress, not "
                                                "safety, and never needed at these bounds)"),
    "drop_guard:Acceptor.on_message:62308765": (EQUIVALENT, _PX_NACK_SILENT),
    "drop_guard:Acceptor.on_message:7a246ca6": (EQUIVALENT, _PX_NACK_AT_BALLOT),
    "off_by_one:Proposer._new_ballot:a1b85f46": (EQUIVALENT, _PX_GAVE_UP),
    "drop_effect:Proposer._new_ballot:acd9831f": (EQUIVALENT, "the retry timer left set after "
                                                  "giving up fires into _new_ballot, which gives "
                                                  "up again: same state, no effect"),
    "cmp_flip:Acceptor.on_message:4e0223a0": (EQUIVALENT, _PX_NACK_AT_BALLOT),
    "drop_effect:Acceptor.on_message:def77068~2": (EQUIVALENT, _PX_NACK_SILENT),
    "cmp_flip:Proposer.on_message:b3ad5dd2": (MISSING, "liveness: the proposer learns only "
                                               "from more Accepted than a quorum (all three of "
                                               "three acceptors); with every acceptor up and "
                                               "delivery fair it still learns: needs "
                                               "eventually_proposers_learn at a bound where one "
                                               "acceptor stays silent (two acceptors, or a "
                                               "crash)"),
    "off_by_one:Proposer.on_message:9cd9aaef": (EQUIVALENT, _PX_AFTER_DECIDED),
    "off_by_one:Proposer.on_message:95a62ed4": (EQUIVALENT, _PX_AFTER_DECIDED),
    "drop_effect:Proposer.on_message:0ea26393": (EQUIVALENT, _PX_AFTER_DECIDED),
    "drop_effect:Acceptor.on_message:def77068": (EQUIVALENT, _PX_NACK_SILENT),
    "reorder_effects:Proposer._new_ballot:806739da": (EQUIVALENT, "the round is still persisted "
                                                      "before any Accept of that ballot leaves "
                                                      "(phase 2 comes in later steps); a crash "
                                                      "between the Prepares and the write only "
                                                      "makes the next incarnation repeat phase 1 "
                                                      "of a ballot that never reached phase 2"),
    "drop_guard:Acceptor.on_message:2947b073": (EQUIVALENT, "a duplicate Accept of the vote already "
                                                "held now rebuilds the same state and persists "
                                                "the same value again: no observable change"),
    "drop_guard:Acceptor.on_message:f92a64a8": (EQUIVALENT, "an Accept reaches this line only when "
                                                "_accepts passed, i.e. b >= promised, so b is "
                                                "the new promise either way"),
    "drop_guard:Proposer.on_timer:d002c143": (EQUIVALENT, "the proposer's only timer is RETRY, so "
                                              "the removed test never fired"),
    "drop_guard:Proposer.on_timer:3f4ddbab": (EQUIVALENT, "a proposer cancels its retry timer when "
                                              "it reaches DECIDED, so no timer fires there"),
    "cmp_flip:Acceptor.on_message:10a82cbe": (EQUIVALENT, "when b equals the promise, the new "
                                              "promise is b either way"),
    "drop_guard:Proposer.on_message:3b5301d1": (MISSING, _PX_MALFORMED),
    "and_or:Proposer.on_message:f0c21813": (MISSING, _PX_MALFORMED),
    "drop_guard:Proposer.on_message:7393b7dd": (EQUIVALENT, _PX_NACK_IGNORED),
    "drop_guard:Proposer.on_message:659b2f33": (EQUIVALENT, _PX_NACK_IGNORED),
    "drop_guard:Proposer.on_message:a9a2ba54": (EQUIVALENT, "an acceptor sends a Nack only for a "
                                                "ballot below its promise, so the removed test "
                                                "never fired"),
    "cmp_flip:Proposer.on_message:3a2b25e0": (EQUIVALENT, "an acceptor never sends a Nack whose "
                                              "promise equals the ballot, so the changed test "
                                              "decides nothing"),
    "max_min:Proposer.on_message:72976532": (EQUIVALENT, _PX_CATCH_UP),
    "off_by_one:Proposer.on_message:d0ce0bd9": (EQUIVALENT, _PX_CATCH_UP),
    "off_by_one:Proposer.on_message:be12fb89": (EQUIVALENT, _PX_CATCH_UP),
    "off_by_one:Proposer.on_message:75dd394c": (EQUIVALENT, _PX_CATCH_UP),
    "off_by_one:Proposer.on_message:7fc0f199": (EQUIVALENT, _PX_CATCH_UP),
    "drop_effect:Proposer.on_message:fc91c54d": (EQUIVALENT, _PX_TIMER_KEPT),
    "drop_effect:Proposer.on_message:f1d7239e": (EQUIVALENT, _PX_TIMER_KEPT),
    "cmp_flip:Proposer.on_message:96876892": (EQUIVALENT, "two promises that report the same voted "
                                              "ballot report the same value (one value per "
                                              "ballot), so a tie picks the same value"),
    "drop_effect:Acceptor.on_message:563e173a": (EQUIVALENT, "the dropped reply re-sends a Promise "
                                                 "for the ballot already promised (a duplicated "
                                                 "Prepare: proposers never re-send a ballot, a "
                                                 "restart moves to the next round); the first "
                                                 "Promise was sent, and a lost one costs only a "
                                                 "retry at a higher ballot — progress, which no "
                                                 "property checks yet (liveness: issue 14)"),
    "off_by_one:Proposer._new_ballot:26cb1db9": (EQUIVALENT, _PX_GAVE_UP),
    "drop_guard:Learner.on_message:ffe291f4": (EQUIVALENT, "re-handling a vote already recorded "
                                               "is idempotent: the vote set and the count are "
                                               "unchanged, and a quorum would have decided at "
                                               "the first copy"),
    # -- chain ---------------------------------------------------------------------------------
    "drop_guard:Rules.links:6b95e404": (MISSING, _CH_BUDGET3 + " (the seeded "
                                        "no_hash_link_check, caught at budget 3, is this bug)"),
    "drop_guard:Rules.check_timestamp:f2e19e26": (MISSING, _CH_FAULTY_MINER),
    "cmp_flip:Rules.check_timestamp:3a2bacf7": (MISSING, _CH_FAULTY_MINER),
    "drop_guard:Rules.check_timestamp:9e3ba844": (MISSING, _CH_OFFSETS),
    "cmp_flip:Rules.check_timestamp:ca07f690": (MISSING, _CH_OFFSETS),
    "max_min:Rules.stamp:03f37904": (MISSING, "miners stamp MTP + 1 instead of their clock: blocks "
                                     "stay valid and no property relates a block's timestamp to "
                                     "its miner's clock; add 'a mined block is stamped "
                                     "max(clock, MTP + 1)' (a transition property on Mine)"),
    "off_by_one:Rules.stamp:14af9516": (MISSING, _CH_OFFSETS),
    "off_by_one:Rules.stamp:b3e14763": (MISSING, _CH_OFFSETS),
    "off_by_one:Rules.stamp:48ad942a": (MISSING, _CH_OFFSETS),
    "drop_guard:ChainNode.on_start:ce5222be": (EQUIVALENT, "asks every peer for its tip after a "
                                               "restart, as nodes with sync_on_restart do; each "
                                               "answer is a block handled like any other"),
    "off_by_one:block_work:45a0f011": (EQUIVALENT, _CH_ORDER),
    "off_by_one:block_work:7e7c7d74": (EQUIVALENT, _CH_ORDER),
    "off_by_one:block_work:4d7b8b63": (EQUIVALENT, _CH_ORDER),
    "off_by_one:chain_work:11eaa69a": (EQUIVALENT, _CH_ORDER),
    "off_by_one:chain_work:233ab3ee": (EQUIVALENT, _CH_ORDER),
    "off_by_one:chain_work:9d5ebd8e": (EQUIVALENT, _CH_ORDER),
    "off_by_one:median_time_past:4f9046dc": (MISSING, _CH_MTP_ORACLE),
    "off_by_one:check_block:86cb90e3": (MISSING, _CH_GROWTH),
    "drop_guard:check_block:c034a979": (MISSING, _CH_FAULTY_MINER),
    "drop_guard:check_block:ef481679": (EQUIVALENT, _CH_LINKED),
    "drop_guard:check_block:ea666c21": (MISSING, _CH_FAULTY_MINER),
    "cmp_flip:check_block:c7843027": (EQUIVALENT, _CH_HASH_EQ),
    "drop_guard:verify_chain:79452228": (MISSING, _CH_DISK),
    "and_or:verify_chain:d02ba694": (MISSING, _CH_DISK),
    "off_by_one:verify_chain:abaa9edd": (MISSING, _CH_DISK),
    "off_by_one:mine_block:86cb90e3": (MISSING, _CH_GROWTH),
    "drop_guard:mine_block:f5c01797": (EQUIVALENT, _CH_MINE_TRIES),
    "cmp_flip:mine_block:4af085aa": (EQUIVALENT, _CH_MINE_TRIES),
    "drop_guard:mine_block:be2c1e3d": (MISSING, _CH_GROWTH),
    "cmp_flip:mine_block:a106fad5": (EQUIVALENT, _CH_HASH_EQ),
    "off_by_one:mine_block:797707cf": (EQUIVALENT, _CH_NONCE),
    "drop_guard:ChainNode.on_start:ae211520": (EQUIVALENT, _CH_COUNTER),
    "drop_guard:ChainNode.on_start:5184a387": (MISSING, _CH_DISK),
    "and_or:ChainNode.on_start:e4e33dd3": (MISSING, _CH_DISK),
    "off_by_one:ChainNode.on_start:19cc569a": (EQUIVALENT, _CH_COUNTER),
    "off_by_one:ChainNode.on_start:c9024e66": (EQUIVALENT, _CH_COUNTER),
    "drop_guard:ChainNode.on_start:0f165512": (EQUIVALENT, _CH_NO_SYNC),
    "drop_effect:ChainNode.on_start:dbc72dd5": (EQUIVALENT, _CH_NO_SYNC),
    "cmp_flip:ChainNode.on_start:647f447f": (EQUIVALENT, _CH_NO_SYNC),
    "drop_guard:ChainNode.on_start:cb2a38ad": (EQUIVALENT, _CH_TIMERS),
    "drop_guard:ChainNode.on_start:2e51648b": (EQUIVALENT, _CH_TIMERS),
    "drop_effect:ChainNode.on_start:4b327dc4": (EQUIVALENT, _CH_TIMERS),
    "drop_guard:ChainNode.on_start:b9ecfe02": (EQUIVALENT, _CH_TIMERS),
    "drop_effect:ChainNode.on_start:b9bd32d4": (EQUIVALENT, _CH_TIMERS),
    "drop_effect:ChainNode.on_start:06183cb2": (EQUIVALENT, _CH_OUTPUT),
    "off_by_one:ChainNode.on_start:f1afedfb": (EQUIVALENT, _CH_OUTPUT),
    "off_by_one:ChainNode.on_start:954fd9e4": (EQUIVALENT, _CH_OUTPUT),
    "drop_guard:ChainNode.on_message:c6186c31": (EQUIVALENT, _CH_FOREIGN),
    "drop_guard:ChainNode.on_message:5e662a3e": (EQUIVALENT, _CH_FOREIGN),
    "drop_guard:ChainNode.on_message:ab6f500f": (MISSING, _CH_PARTIAL_MESH),
    "and_or:ChainNode.on_message:40669821": (EQUIVALENT, _CH_FOREIGN),
    "drop_guard:ChainNode.on_message:4b754a39": (EQUIVALENT, _CH_FOREIGN),
    "drop_guard:ChainNode.on_message:a5ca6b3d": (MISSING, _CH_PARTIAL_MESH),
    "drop_effect:ChainNode.on_message:bdac5c11": (MISSING, _CH_PARTIAL_MESH),
    "drop_guard:ChainNode.on_message:83ce2a36": (EQUIVALENT, _CH_NO_SYNC),
    "drop_guard:ChainNode.on_message:63305069": (EQUIVALENT, _CH_NO_SYNC),
    "drop_guard:ChainNode.on_message:376403c6": (EQUIVALENT, _CH_NO_SYNC),
    "drop_guard:ChainNode.on_message:8f92c262": (EQUIVALENT, _CH_NO_SYNC),
    "cmp_flip:ChainNode.on_message:e472a08b": (EQUIVALENT, _CH_NO_SYNC),
    "off_by_one:ChainNode.on_message:8ab3e94e": (EQUIVALENT, _CH_NO_SYNC),
    "off_by_one:ChainNode.on_message:872fa9ac": (EQUIVALENT, _CH_NO_SYNC),
    "off_by_one:ChainNode.on_message:c7b8a930": (EQUIVALENT, _CH_NO_SYNC),
    "off_by_one:ChainNode.on_message:0ee52f0f": (EQUIVALENT, _CH_NO_SYNC),
    "drop_effect:ChainNode.on_message:780df70b": (EQUIVALENT, _CH_NO_SYNC),
    "drop_guard:ChainNode.on_message:813ee772": (EQUIVALENT, _CH_NO_SUBMIT),
    "drop_guard:ChainNode.on_message:b4081f42": (EQUIVALENT, _CH_NO_SUBMIT),
    "and_or:ChainNode.on_message:f1ebf287": (EQUIVALENT, _CH_NO_SUBMIT),
    "cmp_flip:ChainNode.on_message:4d292b9c": (EQUIVALENT, _CH_NO_SUBMIT),
    "cmp_flip:ChainNode.on_message:9c316e98": (EQUIVALENT, _CH_NO_SUBMIT),
    "off_by_one:ChainNode.on_message:21d9768f": (EQUIVALENT, _CH_NO_SUBMIT),
    "off_by_one:ChainNode.on_message:7ce10932": (EQUIVALENT, _CH_NO_SUBMIT),
    "off_by_one:ChainNode.on_message:1e03e86c": (EQUIVALENT, _CH_NO_SUBMIT),
    "off_by_one:ChainNode.on_message:be963b1e": (EQUIVALENT, _CH_NO_SUBMIT),
    "cmp_flip:ChainNode.on_message:986b12ea": (EQUIVALENT, _CH_NO_SUBMIT),
    "drop_guard:ChainNode.on_message:05a48bb7": (EQUIVALENT, _CH_NO_SUBMIT),
    "drop_guard:ChainNode.on_message:f6719263": (EQUIVALENT, _CH_NO_SUBMIT),
    "off_by_one:ChainNode.on_message:c2c01f0f": (EQUIVALENT, _CH_COUNTER),
    "off_by_one:ChainNode.on_message:813093f9": (EQUIVALENT, _CH_COUNTER),
    "off_by_one:ChainNode.on_message:6a4990f7": (EQUIVALENT, _CH_COUNTER),
    "drop_guard:ChainNode.on_timer:ce4f50ad": (EQUIVALENT, _CH_TIMERS),
    "and_or:ChainNode.on_timer:371f329e": (EQUIVALENT, _CH_TIMERS),
    "cmp_flip:ChainNode.on_timer:1e2dec07": (EQUIVALENT, _CH_TIMERS),
    "drop_guard:ChainNode.on_timer:db75cfcf": (EQUIVALENT, _CH_TIMERS),
    "drop_guard:ChainNode.on_timer:2cd6e69c": (EQUIVALENT, _CH_TIMERS),
    "cmp_flip:ChainNode.on_timer:e7ee9e7c": (EQUIVALENT, _CH_TIMERS),
    "off_by_one:ChainNode.on_timer:ebe66633": (EQUIVALENT, _CH_TIMERS),
    "off_by_one:ChainNode.on_timer:c7ea9887": (EQUIVALENT, _CH_TIMERS),
    "off_by_one:ChainNode.on_timer:7da9cdbc": (EQUIVALENT, _CH_TIMERS),
    "off_by_one:ChainNode.on_timer:231a9b01": (EQUIVALENT, _CH_TIMERS),
    "drop_effect:ChainNode.on_timer:3824a770": (EQUIVALENT, _CH_TIMERS),
    "cmp_flip:ChainNode.on_timer:cb1186bb": (EQUIVALENT, _CH_TIMERS),
    "drop_effect:ChainNode.on_timer:463cd2c5": (EQUIVALENT, _CH_TIMERS),
    "drop_guard:ChainNode.on_timer:2056a131": (EQUIVALENT, _CH_TIMERS),
    "drop_guard:ChainNode.on_timer:724ffccb": (EQUIVALENT, _CH_TIMERS),
    "drop_guard:ChainNode.on_timer:5ce07d9b": (EQUIVALENT, _CH_TIMERS),
    "drop_effect:ChainNode.on_timer:9074b226": (EQUIVALENT, _CH_TIMERS),
    "drop_guard:ChainNode.on_timer:14e0689f": (EQUIVALENT, _CH_TIMERS),
    "cmp_flip:ChainNode.on_timer:08137199": (EQUIVALENT, _CH_TIMERS),
    "off_by_one:ChainNode.on_timer:c1a20eed": (EQUIVALENT, _CH_TIMERS),
    "off_by_one:ChainNode.on_timer:4a08823b": (EQUIVALENT, _CH_TIMERS),
    "drop_guard:ChainNode.on_timer:b997a5ce": (EQUIVALENT, _CH_MINE_TRIES),
    "cmp_flip:ChainNode.on_timer:0048d8b8": (EQUIVALENT, _CH_MINE_TRIES),
    "off_by_one:ChainNode.on_timer:ed873941": (EQUIVALENT, _CH_MINE_TRIES),
    "off_by_one:ChainNode.on_timer:f8ea0efb": (EQUIVALENT, _CH_MINE_TRIES),
    "off_by_one:ChainNode.on_timer:86a85525": (EQUIVALENT, _CH_NO_SUBMIT),
    "off_by_one:ChainNode.on_timer:4dabc467": (EQUIVALENT, _CH_NO_SUBMIT),
    "drop_guard:ChainNode.on_timer:8f543e2e": (EQUIVALENT, _CH_MINE_TRIES),
    "and_or:ChainNode.on_timer:62ee8c7f": (EQUIVALENT, _CH_MINE_TRIES),
    "off_by_one:ChainNode.on_timer:6a028195": (EQUIVALENT, _CH_MINE_TRIES),
    "off_by_one:ChainNode.on_timer:915fdb66": (EQUIVALENT, _CH_MINE_TRIES),
    "drop_guard:ChainNode.on_timer:3a923cc0": (MISSING, _CH_OFFSETS),
    "drop_effect:ChainNode.on_timer:4c9b9d0b": (EQUIVALENT, _CH_OUTPUT),
    "off_by_one:ChainNode.on_timer:500466ba": (EQUIVALENT, _CH_OUTPUT),
    "off_by_one:ChainNode.on_timer:19512105": (EQUIVALENT, _CH_OUTPUT),
    "drop_effect:ChainNode.on_timer:4e5686cb": (EQUIVALENT, _CH_OUTPUT),
    "off_by_one:ChainNode.on_timer:c94c603d": (EQUIVALENT, _CH_OUTPUT),
    "off_by_one:ChainNode.on_timer:f81c5bf9": (EQUIVALENT, _CH_OUTPUT),
    "drop_guard:ChainNode._on_block:ffede078": (EQUIVALENT, _CH_KNOWN),
    "and_or:ChainNode._on_block:388e3650": (EQUIVALENT, _CH_KNOWN),
    "drop_guard:ChainNode._on_block:1edc3190": (MISSING, _CH_FAULTY_MINER),
    "off_by_one:ChainNode._on_block:c2c01f0f": (EQUIVALENT, _CH_COUNTER),
    "off_by_one:ChainNode._on_block:813093f9": (EQUIVALENT, _CH_COUNTER),
    "off_by_one:ChainNode._on_block:6a4990f7": (EQUIVALENT, _CH_COUNTER),
    "off_by_one:ChainNode._on_block:e4298592": (EQUIVALENT, _CH_ONE_BASE),
    "and_or:ChainNode._on_block:3ccf67ca": (MISSING, _CH_BUDGET3),
    "cmp_flip:ChainNode._on_block:a5151235": (MISSING, _CH_BUDGET3),
    "drop_guard:ChainNode._on_block:eb46458a": (MISSING, _CH_FAULTY_MINER),
    "off_by_one:ChainNode._on_block:f5836a40": (EQUIVALENT, _CH_COUNTER),
    "off_by_one:ChainNode._on_block:5d56e89a": (EQUIVALENT, _CH_COUNTER),
    "off_by_one:ChainNode._on_block:dd4ca823": (MISSING, _CH_BUDGET3),
    "off_by_one:ChainNode._on_block:2871b31d": (MISSING, _CH_BUDGET3),
    "cmp_flip:ChainNode._on_block:9d6ff1c4": (MISSING, _CH_BUDGET3),
    "drop_guard:ChainNode._unknown_parent:60e36637": (EQUIVALENT, _CH_FOREIGN),
    "off_by_one:ChainNode._unknown_parent:0b376863": (EQUIVALENT, _CH_FOREIGN),
    "off_by_one:ChainNode._unknown_parent:747e75e0": (EQUIVALENT, _CH_FOREIGN),
    "off_by_one:ChainNode._unknown_parent:e0c9759a": (EQUIVALENT, _CH_FOREIGN),
    "off_by_one:ChainNode._unknown_parent:e0721fa6": (EQUIVALENT, _CH_FOREIGN),
    "off_by_one:ChainNode._unknown_parent:c2c01f0f": (EQUIVALENT, _CH_COUNTER),
    "off_by_one:ChainNode._unknown_parent:813093f9": (EQUIVALENT, _CH_COUNTER),
    "off_by_one:ChainNode._unknown_parent:6a4990f7": (EQUIVALENT, _CH_COUNTER),
    "drop_guard:ChainNode._unknown_parent:92a7b8bd": (EQUIVALENT, _CH_ORPHAN_CAP),
    "cmp_flip:ChainNode._unknown_parent:15424ae3": (EQUIVALENT, _CH_ORPHAN_CAP),
    "drop_effect:ChainNode._unknown_parent:cdddd345": (MISSING, _CH_PARTIAL_MESH),
    "drop_effect:ChainNode._unknown_parent:c827fb3c": (EQUIVALENT, _CH_OUTPUT),
    "off_by_one:ChainNode._unknown_parent:7eab14f4": (EQUIVALENT, _CH_OUTPUT),
    "off_by_one:ChainNode._unknown_parent:664c7e7c": (EQUIVALENT, _CH_OUTPUT),
    "drop_guard:ChainNode._parents:9ea40634": (EQUIVALENT, _CH_FOREIGN),
    "off_by_one:ChainNode._parents:d1a4848a": (EQUIVALENT, _CH_FOREIGN),
    "off_by_one:ChainNode._parents:95950209": (EQUIVALENT, _CH_FOREIGN),
    "drop_guard:ChainNode._parents:4414e98a": (MISSING, _CH_BUDGET3),
    "drop_guard:ChainNode._parents:fc200625": (MISSING, _CH_BUDGET3),
    "drop_guard:ChainNode._parents:b62d96ee": (MISSING, _CH_BUDGET3),
    "and_or:ChainNode._parents:b49b7261": (MISSING, _CH_BUDGET3),
    "cmp_flip:ChainNode._parents:e37ef9b0": (MISSING, _CH_BUDGET3),
    "cmp_flip:ChainNode._parents:b35894e2": (MISSING, _CH_BUDGET3),
    "off_by_one:ChainNode._parents:7845b2bd": (MISSING, _CH_BUDGET3),
    "off_by_one:ChainNode._parents:90c3ff71": (MISSING, _CH_BUDGET3),
    "off_by_one:ChainNode._parents:cc1f32fb": (MISSING, _CH_BUDGET3),
    "off_by_one:ChainNode._parents:b4781bb4": (MISSING, _CH_BUDGET3),
    "cmp_flip:ChainNode._parents:2457085d": (MISSING, _CH_BUDGET3),
    "off_by_one:ChainNode._parents:f3b31fba": (MISSING, _CH_BUDGET3),
    "off_by_one:ChainNode._parents:d08d15ed": (MISSING, _CH_BUDGET3),
    "off_by_one:ChainNode._parents:4a9fa4a6": (MISSING, _CH_BUDGET3),
    "off_by_one:ChainNode._parents:169fefe9": (MISSING, _CH_BUDGET3),
    "off_by_one:ChainNode._parents:53f35e10": (MISSING, _CH_BUDGET3),
    "drop_guard:ChainNode._better:15837742": (MISSING, _CH_BUDGET3),
    "cmp_flip:ChainNode._better:aab79a05": (EQUIVALENT, _CH_WORK_NE),
    "cmp_flip:ChainNode._better:788eeb47": (EQUIVALENT, _CH_WORK_NE),
    "off_by_one:ChainNode._choose:9fd176fc": (MISSING, _CH_SIDE_KEPT),
    "off_by_one:ChainNode._choose:7f62bfd8": (MISSING, _CH_SIDE_KEPT),
    "drop_guard:ChainNode._choose:0030f9cc": (EQUIVALENT, _CH_REANNOUNCE),
    "drop_guard:ChainNode._choose:ea606045": (EQUIVALENT, _CH_REPERSIST),
    "drop_guard:ChainNode._choose:ff1e511c": (MISSING, _CH_BUDGET3),
    "drop_effect:ChainNode._choose:8b29ec5e": (MISSING, _CH_BUDGET3),
    "off_by_one:ChainNode._switch:88aedcb9": (MISSING, _CH_PARTIAL_MESH),
    "off_by_one:ChainNode._switch:886765e5": (MISSING, _CH_PARTIAL_MESH),
    "drop_guard:ChainNode._switch:5403dd73": (EQUIVALENT, _CH_EXTRA_COPIES),
    "drop_guard:ChainNode._switch:0c40f0ab": (MISSING, _CH_PARTIAL_MESH),
    "and_or:ChainNode._switch:102d7202": (MISSING, _CH_PARTIAL_MESH),
    "cmp_flip:ChainNode._switch:5f8bc803": (MISSING, _CH_PARTIAL_MESH),
    "cmp_flip:ChainNode._switch:e729ced1": (MISSING, _CH_PARTIAL_MESH),
    "drop_effect:ChainNode._switch:f36e93da": (MISSING, _CH_PARTIAL_MESH),
    "and_or:ChainNode._switch:6f12ed09": (EQUIVALENT, _CH_EXTRA_COPIES),
    "cmp_flip:ChainNode._switch:8e071361": (MISSING, _CH_PARTIAL_MESH),
    "and_or:ChainNode._switch:a5651add": (MISSING, _CH_PARTIAL_MESH),
    "cmp_flip:ChainNode._switch:8c5bc324": (MISSING, _CH_PARTIAL_MESH),
    "cmp_flip:ChainNode._switch:9bbf13a8": (MISSING, _CH_PARTIAL_MESH),
    "drop_guard:ChainNode._switch:75335df9": (EQUIVALENT, _CH_OUTPUT),
    "drop_guard:ChainNode._switch:d388ea4f": (EQUIVALENT, _CH_OUTPUT),
    "drop_effect:ChainNode._switch:170f5790": (EQUIVALENT, _CH_OUTPUT),
    "off_by_one:ChainNode._switch:6dd583dc": (EQUIVALENT, _CH_OUTPUT),
    "off_by_one:ChainNode._switch:b11ea93b": (EQUIVALENT, _CH_OUTPUT),
    "drop_effect:ChainNode._switch:b009b557": (EQUIVALENT, _CH_OUTPUT),
    "off_by_one:ChainNode._switch:0c5fe348": (EQUIVALENT, _CH_OUTPUT),
    "off_by_one:ChainNode._switch:9ff8f376": (EQUIVALENT, _CH_OUTPUT),
}


# -- mutants ----------------------------------------------------------------------------------

@dataclass
class Mutant:
    id: str
    target: str
    module: str
    cls: str                 # acceptor | proposer | learner | chain
    function: str            # qualified: Acceptor.on_message
    operator: str
    line: int
    before: str
    after: str
    edit: tuple = ()         # how to apply it (see _apply); not serialised

    @property
    def diff(self) -> str:
        return f"L{self.line}: {self.before}  ->  {self.after}"

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "class": self.cls, "function": self.function,
                "operator": self.operator, "module": self.module, "line": self.line,
                "diff": self.diff}


EFFECTS = frozenset({"Send", "Persist", "Output", "SetTimer", "CancelTimer"})
OUTWARD = frozenset({"Send", "Output"})  # what a Persist must precede (write-ahead)
_CMP_FLIP = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt,
             ast.Eq: ast.NotEq, ast.NotEq: ast.Eq}
_BUG_TEXT = re.compile(r"\bbugs\b|\.has\(\s*['\"]")


def _call_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Call):
        f = node.func
        if isinstance(f, ast.Name):
            return f.id
        if isinstance(f, ast.Attribute):
            return f.attr
    return None


def _is_effect(node: ast.AST, names: frozenset[str] = EFFECTS) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in names


def _is_persist_call(node: ast.AST) -> bool:
    """``Persist(...)`` or a helper that returns the persist effects (``self._persist(t)``)."""
    name = _call_name(node)
    return name is not None and (name == "Persist" or "persist" in name.lower())


def _is_flag(node: ast.AST) -> bool:
    """A seeded-bug test: ``rules.has("bug")`` or ``"bug" in self.bugs``."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
            and node.func.attr == "has" and node.args \
            and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
        return True
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], ast.In):
        return "bugs" in ast.unparse(node.comparators[0])
    return False


def _flag_positive(test: ast.AST) -> bool:
    """Whether the branch guarded by ``test`` runs only under a seeded-bug flag."""
    if _is_flag(test):
        return True
    return (isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And)
            and any(_flag_positive(v) for v in test.values))


def _mentions_bug(node: ast.AST) -> bool:
    return bool(_BUG_TEXT.search(ast.unparse(node)))


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _header(stmt: ast.AST) -> str:
    """One line for a statement: compound statements by their header (and a guard's body)."""
    if isinstance(stmt, ast.If):
        body = _one_line(ast.unparse(stmt.body[0])) if len(stmt.body) == 1 else "..."
        return f"if {ast.unparse(stmt.test)}: {body}"
    if isinstance(stmt, ast.While):
        return f"while {ast.unparse(stmt.test)}:"
    if isinstance(stmt, ast.For):
        return f"for {ast.unparse(stmt.target)} in {ast.unparse(stmt.iter)}:"
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return f"def {stmt.name}(...):"
    return _one_line(ast.unparse(stmt))


def _locate(tree: ast.AST, path: tuple) -> Any:
    node = tree
    for fld, idx in path:
        node = getattr(node, fld)
        if idx is not None:
            node = node[idx]
    return node


def _place(new: ast.AST, old: ast.AST) -> ast.AST:
    """``new`` with every node located at ``old``'s position (for line numbers)."""
    for n in ast.walk(new):
        for attr in ("lineno", "col_offset", "end_lineno", "end_col_offset"):
            if attr in n._attributes:
                setattr(n, attr, getattr(old, attr, 1) or 1)
    return new


def _apply(tree: ast.Module, edit: tuple) -> None:
    """Apply one edit to ``tree`` in place. Edits: ``("replace", path, node)``,
    ``("delete", path)`` (a statement), ``("move_after", block_path, i, j, name, elt)`` (drop
    ``elt`` from the list assigned by statement ``i`` of the block and append it to ``name``
    after statement ``j``)."""
    kind = edit[0]
    if kind == "replace":
        _, path, new = edit
        old = _locate(tree, path)
        parent, (fld, idx) = _locate(tree, path[:-1]), path[-1]
        new = _place(copy.deepcopy(new), old)
        if idx is None:
            setattr(parent, fld, new)
        else:
            getattr(parent, fld)[idx] = new
    elif kind == "delete":
        _, path = edit
        parent, (fld, idx) = _locate(tree, path[:-1]), path[-1]
        body = getattr(parent, fld)
        old = body.pop(idx)
        if not body:
            body.append(_place(ast.Pass(), old))
    elif kind == "move_after":
        _, block_path, i, j, name, k = edit
        block = _locate(tree, block_path)
        assign = block[i]
        elt = assign.value.elts.pop(k)
        add = ast.AugAssign(target=ast.Name(name, ast.Store()), op=ast.Add(),
                            value=ast.List([elt], ast.Load()))
        block.insert(j + 1, _place(add, block[j]))
    else:
        raise ValueError(edit)


def _relative(edit: tuple, depth: int) -> tuple:
    """``edit`` with its paths made relative to the node ``depth`` steps below the module."""
    return (edit[0], edit[1][depth:]) + edit[2:]


class _Sites:
    """The mutation sites of one function: yields ``(operator, line, before, after, edit)``."""

    def __init__(self, target: Target, func: ast.FunctionDef, fpath: tuple) -> None:
        self.target, self.func, self.fpath = target, func, fpath
        self.out: list[tuple[str, int, str, str, tuple]] = []
        self.no_shift: set[int] = set()

    def run(self) -> list[tuple[str, int, str, str, tuple]]:
        body = self.func.body
        start = 1 if (body and isinstance(body[0], ast.Expr)
                      and isinstance(body[0].value, ast.Constant)
                      and isinstance(body[0].value.value, str)) else 0
        self._block(body, self.fpath, "body", start)
        return self.out

    # -- traversal
    def _block(self, stmts: list, parent: tuple, fld: str, start: int = 0) -> None:
        for i in range(start, len(stmts)):
            self._stmt(stmts[i], parent + ((fld, i),))
        self._reorder_stmts(stmts, parent + ((fld, None),))

    def _stmt(self, s: ast.stmt, spath: tuple) -> None:
        if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return
        if isinstance(s, ast.If):
            if _flag_positive(s.test):
                self._block(s.orelse, spath, "orelse")  # the production branch only
                return
            self._guard(s, spath)
            self._expr(s.test, spath + (("test", None),), s, spath)
            self._block(s.body, spath, "body")
            self._block(s.orelse, spath, "orelse")
            return
        if isinstance(s, (ast.For, ast.While)):
            self._expr(s.iter if isinstance(s, ast.For) else s.test,
                       spath + (("iter" if isinstance(s, ast.For) else "test", None),), s, spath)
            self._block(s.body, spath, "body")
            self._block(s.orelse, spath, "orelse")
            return
        if _mentions_bug(s):
            pass  # a statement about seeded bugs: only its bug-free parts (below)
        elif isinstance(s, ast.Expr) and isinstance(s.value, ast.Call):
            call = s.value
            effect = (call.args[0] if _call_name(call) == "append" and call.args
                      and isinstance(call.func, ast.Attribute) else call)
            if _is_effect(effect):
                self._add("drop_effect", s, _header(s), "(removed)", ("delete", spath))
        elif isinstance(s, ast.AugAssign) and isinstance(s.op, ast.Add) \
                and self._effectful(s.value):
            self._add("drop_effect", s, _header(s), "(removed)", ("delete", spath))
            self._expr(s.value, spath + (("value", None),), s, spath, skip_listcomp=True)
            return
        elif isinstance(s, ast.Return) and (
                isinstance(s.value, (ast.Compare, ast.BoolOp))
                or (isinstance(s.value, ast.UnaryOp) and isinstance(s.value.op, ast.Not))):
            for const in (True, False):  # a predicate: the guard it computes dropped
                new = ast.Return(ast.Constant(const))
                self._add("drop_guard", s, _header(s), _header(new), ("replace", spath, new))
        for fld, value in ast.iter_fields(s):
            if isinstance(value, ast.expr):
                self._expr(value, spath + ((fld, None),), s, spath)
            elif isinstance(value, list):
                for k, v in enumerate(value):
                    if isinstance(v, ast.expr):
                        self._expr(v, spath + ((fld, k),), s, spath)

    def _effectful(self, e: ast.AST) -> bool:
        if isinstance(e, ast.List):
            return any(_is_effect(x) for x in e.elts)
        if isinstance(e, ast.ListComp):
            return _is_effect(e.elt)
        return False

    def _guard(self, s: ast.If, spath: tuple) -> None:
        if isinstance(s.test, ast.Constant) or _mentions_bug(s.test):
            return
        before = _header(s)
        new_true = copy.copy(s)
        new_true.test = ast.Constant(True)
        self._add("drop_guard", s, before, _header(new_true),
                  ("replace", spath + (("test", None),), ast.Constant(True)))
        if isinstance(s.body[-1], ast.Return) and not s.orelse:
            self._add("drop_guard", s, before, "(guard removed)", ("delete", spath))
        else:
            new_false = copy.copy(s)
            new_false.test = ast.Constant(False)
            self._add("drop_guard", s, before, _header(new_false),
                      ("replace", spath + (("test", None),), ast.Constant(False)))

    def _expr(self, e: ast.AST, epath: tuple, stmt: ast.stmt, spath: tuple,
              skip_listcomp: bool = False) -> None:
        """Every mutation inside expression ``e`` (at ``epath``) of statement ``stmt``."""
        if _flag_positive(e):
            return
        flagged = _mentions_bug(e)
        if not flagged:
            self._expr_here(e, epath, stmt, spath, skip_listcomp)
        if isinstance(e, ast.IfExp) and _flag_positive(e.test):
            self._expr(e.orelse, epath + (("orelse", None),), stmt, spath)
            return
        if isinstance(e, ast.JoinedStr):
            return  # message text
        if _is_effect(e, frozenset({"SetTimer"})):
            e = ast.Call(e.func, e.args[:1], [])  # its duration: see _TIMER
        if isinstance(e, ast.BinOp) and isinstance(e.op, (ast.Add, ast.Sub)) and any(
                isinstance(x, ast.Constant) and type(x.value) is int for x in (e.left, e.right)):
            self.no_shift.update(id(x) for x in (e.left, e.right))  # the constant is shifted
        for fld, value in ast.iter_fields(e):
            if isinstance(value, ast.expr):
                self._expr(value, epath + ((fld, None),), stmt, spath)
            elif isinstance(value, list):
                for k, v in enumerate(value):
                    if isinstance(v, ast.expr):
                        self._expr(v, epath + ((fld, k),), stmt, spath)
                    elif isinstance(v, ast.keyword):
                        self._expr(v.value, epath + ((fld, k), ("value", None)), stmt, spath)
                    elif isinstance(v, ast.comprehension):
                        cpath = epath + ((fld, k),)
                        self._expr(v.iter, cpath + (("iter", None),), stmt, spath)
                        for m, cond in enumerate(v.ifs):
                            self._expr(cond, cpath + (("ifs", m),), stmt, spath)

    def _replace(self, op: str, e: ast.AST, epath: tuple, new: ast.AST, stmt: ast.stmt,
                 spath: tuple) -> None:
        mutated = copy.deepcopy(stmt)
        rel = epath[len(spath):]
        holder, (fld, idx) = _locate(mutated, rel[:-1]), rel[-1]
        if idx is None:
            setattr(holder, fld, new)
        else:
            getattr(holder, fld)[idx] = new
        self._add(op, e, _header(stmt), _header(mutated), ("replace", epath, new))

    def _expr_here(self, e: ast.AST, epath: tuple, stmt: ast.stmt, spath: tuple,
                   skip_listcomp: bool) -> None:
        t = self.target
        if isinstance(e, ast.Compare):
            for k, op in enumerate(e.ops):
                flip = _CMP_FLIP.get(type(op))
                if flip:
                    new = copy.deepcopy(e)
                    new.ops[k] = flip()
                    self._replace("cmp_flip", e, epath, new, stmt, spath)
        elif isinstance(e, ast.Constant) and type(e.value) is int:
            for d in (1, -1):
                self._replace("off_by_one", e, epath, ast.Constant(e.value + d), stmt, spath)
        elif isinstance(e, ast.BinOp) and isinstance(e.op, (ast.Add, ast.Sub)) and any(
                isinstance(x, ast.Constant) and type(x.value) is int for x in (e.left, e.right)):
            new = copy.deepcopy(e)
            new.op = ast.Sub() if isinstance(e.op, ast.Add) else ast.Add()
            self._replace("off_by_one", e, epath, new, stmt, spath)
        elif id(e) not in self.no_shift and (
                (isinstance(e, ast.Attribute) and e.attr in t.shift_attrs
                 and isinstance(e.ctx, ast.Load))
                or (isinstance(e, ast.Name) and e.id in t.shift_names
                    and isinstance(e.ctx, ast.Load))):
            for op in (ast.Add(), ast.Sub()):
                new = ast.BinOp(copy.deepcopy(e), op, ast.Constant(1))
                self._replace("off_by_one", e, epath, new, stmt, spath)
        elif isinstance(e, ast.BoolOp):
            new = copy.deepcopy(e)
            new.op = ast.Or() if isinstance(e.op, ast.And) else ast.And()
            self._replace("and_or", e, epath, new, stmt, spath)
        elif isinstance(e, ast.IfExp):
            for const in (True, False):
                new = copy.deepcopy(e)
                new.test = ast.Constant(const)
                self._replace("drop_guard", e, epath, new, stmt, spath)
        elif isinstance(e, ast.Call) and isinstance(e.func, ast.Name) \
                and e.func.id in ("max", "min"):
            new = copy.deepcopy(e)
            new.func = ast.Name("min" if e.func.id == "max" else "max", ast.Load())
            self._replace("max_min", e, epath, new, stmt, spath)
        if isinstance(e, ast.List):
            for k, x in enumerate(e.elts):
                if _is_effect(x):
                    new = copy.deepcopy(e)
                    del new.elts[k]
                    self._replace("drop_effect", e, epath, new, stmt, spath)
            persists = [k for k, x in enumerate(e.elts) if _is_effect(x, frozenset({"Persist"}))]
            outs = [k for k, x in enumerate(e.elts) if _is_effect(x, OUTWARD)]
            for k in persists:
                later = [m for m in outs if m > k]
                if later:
                    new = copy.deepcopy(e)
                    elt = new.elts.pop(k)
                    new.elts.insert(later[-1], elt)
                    self._replace("reorder_effects", e, epath, new, stmt, spath)
        if isinstance(e, ast.ListComp) and _is_effect(e.elt) and not skip_listcomp:
            self._replace("drop_effect", e, epath, ast.List([], ast.Load()), stmt, spath)
        if isinstance(e, ast.BinOp) and isinstance(e.op, ast.Add):
            if _is_persist_call(e.left):
                self._replace("drop_effect", e, epath, copy.deepcopy(e.right), stmt, spath)
                new = ast.BinOp(copy.deepcopy(e.right), ast.Add(), copy.deepcopy(e.left))
                self._replace("reorder_effects", e, epath, new, stmt, spath)

    def _reorder_stmts(self, stmts: list, base: tuple) -> None:
        """``name = [Persist(..), ...]`` followed by statements adding Sends to ``name``: the
        Persist appended after the last of them."""
        for i, s in enumerate(stmts):
            value = getattr(s, "value", None)
            target = (s.targets[0] if isinstance(s, ast.Assign) and len(s.targets) == 1
                      else getattr(s, "target", None) if isinstance(s, ast.AnnAssign) else None)
            if not (isinstance(target, ast.Name) and isinstance(value, ast.List)):
                continue
            ks = [k for k, x in enumerate(value.elts) if _is_effect(x, frozenset({"Persist"}))]
            if not ks or _mentions_bug(s):
                continue
            last = None
            for j in range(i + 1, len(stmts)):
                if self._adds_outward(stmts[j], target.id):
                    last = j
            if last is None:
                continue
            before = f"{_header(s)} ... {_header(stmts[last])}"
            after = f"{ast.unparse(value.elts[ks[0]])} appended after: {_header(stmts[last])}"
            self._add("reorder_effects", s, before, after,
                      ("move_after", base, i, last, target.id, ks[0]))

    @staticmethod
    def _adds_outward(s: ast.stmt, name: str) -> bool:
        for n in ast.walk(s):
            if isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Name) \
                    and n.target.id == name:
                if any(_is_effect(x, OUTWARD) for x in ast.walk(n.value)):
                    return True
            if isinstance(n, ast.Call) and _call_name(n) == "append" \
                    and isinstance(n.func, ast.Attribute) \
                    and isinstance(n.func.value, ast.Name) and n.func.value.id == name \
                    and n.args and _is_effect(n.args[0], OUTWARD):
                return True
        return False

    def _add(self, op: str, node: ast.AST, before: str, after: str, edit: tuple) -> None:
        self.out.append((op, getattr(node, "lineno", self.func.lineno), before, after, edit))


def _functions(tree: ast.Module, scope: Scope) -> Iterator[tuple[str, str, ast.FunctionDef, tuple]]:
    """``(qualname, class label, def, path)`` of every target function of ``scope``."""
    for i, node in enumerate(tree.body):
        if isinstance(node, ast.ClassDef) and node.name in scope.classes:
            for k, item in enumerate(node.body):
                if isinstance(item, ast.FunctionDef):
                    yield (f"{node.name}.{item.name}", scope.classes[node.name], item,
                           (("body", i), ("body", k)))
        elif isinstance(node, ast.FunctionDef) and node.name in scope.functions:
            yield node.name, scope.functions[node.name], node, (("body", i),)


def _seeded_only(func: ast.FunctionDef) -> bool:
    doc = ast.get_docstring(func) or ""
    return doc.lower().startswith("seeded bug")


def _code_dump(tree: ast.Module) -> str:
    tree = copy.deepcopy(tree)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(body, list) and body and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str)):
            node.body = body[1:] or [ast.Pass()]
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("paxchain."):
            node.module = node.module[len("paxchain."):]
    return ast.dump(tree, include_attributes=False)


@dataclass
class Snapshot:
    """The target's source files as read when the run started, parsed."""

    target: Target
    sources: dict[str, str]        # module -> source text
    trees: dict[str, ast.Module]

    @classmethod
    def read(cls, target: Target) -> Snapshot:
        sources = {s.module: (ROOT / s.path).read_text(encoding="utf-8") for s in target.scopes}
        trees = {m: ast.parse(src, filename=str(ROOT / p.path))
                 for (m, src), p in zip(sources.items(), target.scopes)}
        return cls(target, sources, trees)

    @functools.cached_property
    def digests(self) -> dict[str, str]:
        """Per file, a digest of its *code*: the syntax tree without docstrings, line numbers
        or the ``paxchain.`` prefix of imports, so that a recorded run still stands after a
        change to comments, docstrings or the package layout, and only then. Computed once:
        every progress write of a run records it."""
        return {s.path: hashlib.sha256(_code_dump(self.trees[s.module]).encode()).hexdigest()
                for s in self.target.scopes}

    def sha256(self) -> dict[str, str]:
        return self.digests

    def mutants(self) -> list[Mutant]:
        out: list[Mutant] = []
        seen_ids: dict[str, int] = {}
        for scope in self.target.scopes:
            tree = self.trees[scope.module]
            for qual, label, func, fpath in _functions(tree, scope):
                if _seeded_only(func) or qual in self.target.excluded:
                    continue
                original = ast.dump(func)
                seen = {original}
                for op, line, before, after, edit in _Sites(self.target, func, fpath).run():
                    mutated = copy.deepcopy(func)  # the edit, relative to the function
                    try:
                        _apply(mutated, _relative(edit, len(fpath)))
                    except (IndexError, AttributeError, TypeError):
                        continue
                    dump = ast.dump(mutated)
                    if dump in seen:
                        continue  # the same code as the original or an earlier mutant
                    seen.add(dump)
                    digest = hashlib.sha1(f"{before}\n{after}".encode()).hexdigest()[:8]
                    mid = f"{op}:{qual}:{digest}"
                    n = seen_ids.get(mid, 0) + 1
                    seen_ids[mid] = n
                    if n > 1:
                        mid += f"~{n}"
                    out.append(Mutant(mid, self.target.name, scope.module, label, qual, op,
                                      line, before, after, edit))
        return out

    def compiled(self, mutant: Mutant | None) -> list[tuple[str, str, bytes]]:
        """``(module, file, marshalled code)`` for every module of the target, in import
        order, with ``mutant`` applied to its module."""
        out = []
        for scope in self.target.scopes:
            tree = self.trees[scope.module]
            if mutant is not None and mutant.module == scope.module:
                tree = copy.deepcopy(tree)
                _apply(tree, mutant.edit)
                ast.fix_missing_locations(tree)
            path = str(ROOT / scope.path)
            code = compile(tree, path, "exec", dont_inherit=True)
            out.append((scope.module, path, marshal.dumps(code)))
        return out

    def mutated_source(self, mutant: Mutant) -> str:
        tree = copy.deepcopy(self.trees[mutant.module])
        _apply(tree, mutant.edit)
        return ast.unparse(tree)


# -- one mutant, in its own process -------------------------------------------------------------

def _install(modules: list[tuple[str, str, bytes]]) -> None:
    """Install the compiled modules as ``sys.modules[name]`` (and as attributes of their
    package) before anything imports them."""
    import importlib
    import importlib.util
    import types

    for name, path, blob in modules:
        mod = types.ModuleType(name)
        mod.__file__ = path
        mod.__package__ = name.rpartition(".")[0]
        mod.__spec__ = importlib.util.spec_from_loader(name, loader=None, origin=path)
        sys.modules[name] = mod
        pkg, _, attr = name.rpartition(".")
        setattr(importlib.import_module(pkg), attr, mod)
        exec(marshal.loads(blob), mod.__dict__)


def _gate_search() -> tuple[Any, Callable, str]:
    """The base options and search function ``paxchain check`` (no MODEL) passes to
    ``run_suite``, from its own module when it offers them."""
    from paxchain.checker.result import Options

    try:
        from paxchain.checker.commands import check as cmd

        try:
            base = cmd._options("bfs", None, None, None, False, False, False, (), False, True)
        except TypeError:  # its signature moved on: the defaults are the CLI's defaults
            base = Options()
        return base, (lambda m, o: cmd._search(m, o, True)), "paxchain.checker.commands.check._search"
    except (ImportError, AttributeError):
        from paxchain.checker.explicit import check

        return Options(), check, "paxchain.checker.explicit.check"


_RESOURCE_STOPS = ("time_limit", "interrupted", "memory_limit", "out_of_memory")


def run_worker(job: dict) -> dict:
    """Install the job's modules, run its checks in order, stop at the first that fails."""
    if job.get("memory_mb"):
        limit = int(job["memory_mb"]) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    if job.get("cpu_seconds"):  # CPU time, not wall time: a loaded machine cuts no survivor short
        cpu = int(job["cpu_seconds"]) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 10))
    _install(job["modules"])
    from paxchain.checker.checks_file import load
    from paxchain.checker.suite import run_one

    base, search, how = _gate_search()
    try:  # loading builds every check's model: a constructor that raises stops the gate here
        specs = {s.name: s for s in load(job["checks_file"]).checks}
    except Exception as exc:
        return {"status": KILLED, "reason": f"checks file: {type(exc).__name__}: {exc}"[:300],
                "checks": [], "search": how}
    rows, status, reason = [], SURVIVED, ""
    for name in job["checks"]:
        spec = specs[name]
        start = time.monotonic()
        try:
            o = run_one(spec, base, search)
        except MemoryError:
            rows.append({"check": name, "verdict": "error", "why": "MemoryError",
                         "seconds": round(time.monotonic() - start, 2)})
            status, reason = TIMEOUT, f"{name}: out of memory"
            break
        except Exception as exc:  # the gate stops on it: a handler that raises, any error
            tb = traceback.extract_tb(exc.__traceback__)
            where = f" at {Path(tb[-1].filename).name}:{tb[-1].lineno}" if tb else ""
            why = f"{type(exc).__name__}: {exc}"[:300] + where
            rows.append({"check": name, "verdict": "error", "why": why,
                         "seconds": round(time.monotonic() - start, 2)})
            status, reason = KILLED, f"{name}: error {why}"
            break
        row = {"check": name, "verdict": o.verdict, "passed": o.passed, "why": o.why,
               "states": o.result.stats.distinct, "seconds": round(o.seconds, 2)}
        rows.append(row)
        print(json.dumps({"progress": row}), flush=True)  # read back after a timeout
        if not o.passed:
            if o.verdict == "incomplete" and o.result.stopped_by in _RESOURCE_STOPS:
                status, reason = TIMEOUT, f"{name}: {o.result.stopped_by}"
            else:
                status, reason = KILLED, f"{name}: {o.why or o.verdict}"
            break
    return {"status": status, "reason": reason, "checks": rows, "search": how}


def _worker_main(job_file: str) -> None:
    with open(job_file, "rb") as f:
        job = pickle.load(f)
    print(json.dumps(run_worker(job)), flush=True)


# -- the driver ---------------------------------------------------------------------------------

def gate_checks(model: str, checks_file: Path) -> list[str]:
    """The names of the checks-file entries the gate runs on ``model`` that must hold."""
    from paxchain.checker.checks_file import load

    return [s.name for s in load(str(checks_file)).checks
            if s.model == model and s.expect == "holds" and s.variant is None]


def gate_fingerprint(model: str, checks_file: Path) -> str:
    """What a survivor's verdict depends on besides the mutant: the gate's checks of ``model``
    as configured (every field) and the source of each of that model's property functions
    (its check and its explanation; moving a module or rewriting its imports changes nothing).
    A recorded survivor is judged again when this changes (a new property or check may kill
    it); a recorded kill stays while the check that killed it is still in the gate."""
    import inspect

    from paxchain.checker.checks_file import load
    from paxchain.models.registry import build
    from paxchain.specs.model_properties import properties_of

    specs = [s for s in load(str(checks_file)).checks
             if s.model == model and s.expect == "holds" and s.variant is None]
    what = ("name", "params", "engine", "strategy", "max_depth", "max_states", "symmetry",
            "properties", "sometimes", "deadlock")  # how each check searches, nothing else
    h = hashlib.sha256(repr([[getattr(s, k, None) for k in what] for s in specs]).encode())
    for s in specs[:1]:
        for p in properties_of(build(model, dict(s.params))):
            h.update(p.name.encode())
            for fn in (p.check, p.explain):
                fn = getattr(fn, "func", fn)
                if fn is not None:
                    try:
                        h.update(inspect.getsource(fn).encode())
                    except (OSError, TypeError):
                        h.update(repr(fn).encode())
    return h.hexdigest()


@dataclass
class Outcome:
    mutant: Mutant | None
    status: str
    reason: str
    seconds: float
    checks: list = field(default_factory=list)


def run_job(snapshot: Snapshot, mutant: Mutant | None, checks: list[str], checks_file: Path,
            time_limit: float, memory_mb: int | None) -> Outcome:
    job = {"modules": snapshot.compiled(mutant), "checks": checks,
           "checks_file": str(checks_file), "memory_mb": memory_mb, "cpu_seconds": time_limit}
    with tempfile.NamedTemporaryFile("wb", suffix=".job", delete=False) as f:
        pickle.dump(job, f)
        path = f.name
    start = time.monotonic()
    try:
        proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker", path],
                              capture_output=True, text=True, cwd=ROOT)
    finally:
        os.unlink(path)
    seconds = time.monotonic() - start
    lines = proc.stdout.strip().splitlines()
    done = [json.loads(ln)["progress"] for ln in lines if ln.startswith('{"progress"')]
    if proc.returncode in (-signal.SIGXCPU, -signal.SIGKILL) and time_limit:
        running = checks[len(done)] if len(done) < len(checks) else "?"
        return Outcome(mutant, TIMEOUT, f"CPU time limit {time_limit:g} s, in {running}",
                       seconds, done)
    try:
        res = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        res = {}
    if "status" not in res:  # no verdict line: the worker died (or printed only progress)
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1][:300]
        # a signal (the OOM killer, someone's kill) or running out of memory is no verdict
        status = TIMEOUT if proc.returncode < 0 or "MemoryError" in proc.stderr else KILLED
        return Outcome(mutant, status, f"worker exited {proc.returncode}: {tail}", seconds)
    return Outcome(mutant, res["status"], res["reason"], seconds, res["checks"])


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], capture_output=True, text=True, cwd=ROOT,
                              timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def classify(o: Outcome) -> tuple[str, str]:
    """The hand classification of a survivor: (equivalent | missing | unclassified, reason)."""
    if o.status != SURVIVED:
        return "", ""
    return CLASSIFICATION.get(o.mutant.id, ("unclassified", ""))


def _row() -> dict[str, Any]:
    return {"mutants": 0, KILLED: 0, SURVIVED: 0, TIMEOUT: 0, EQUIVALENT: 0, MISSING: 0,
            "unclassified": 0, "score": None}


def tally(outcomes: list[Outcome], key: Callable[[Outcome], str]) -> dict[str, dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for o in outcomes:
        r = rows.setdefault(key(o), _row())
        r["mutants"] += 1
        r[o.status] += 1
        c, _ = classify(o)
        if c:
            r[c] += 1
    for r in rows.values():
        r["score"] = score(r)
    return rows


def score(r: dict[str, Any]) -> float | None:
    denom = r[KILLED] + r[SURVIVED] - r[EQUIVALENT]
    return round(r[KILLED] / denom, 4) if denom else None


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f} %"


def print_report(section: dict[str, Any], outcomes: list[Outcome]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=200)
    for title, key in (("operator", "by_operator"), ("class", "by_class")):
        t = Table(title=f"{section['target']}: mutants by {title}")
        cols = ("mutants", KILLED, SURVIVED, EQUIVALENT, MISSING, "unclassified", TIMEOUT)
        t.add_column(title)
        for c in cols:
            t.add_column(c, justify="right")
        t.add_column("score", justify="right")
        rows = section[key]
        for name in sorted(rows):
            r = rows[name]
            t.add_row(name, *(str(r[c]) for c in cols), _pct(r["score"]))
        tot = section["total"]
        t.add_row("[b]all", *(f"[b]{tot[c]}" for c in cols), f"[b]{_pct(tot['score'])}")
        console.print(t)
    survivors = [o for o in outcomes if o.status == SURVIVED]
    if survivors:
        t = Table(title=f"{section['target']}: survivors ({len(survivors)})")
        for c in ("id", "class", "diff", "classification"):
            t.add_column(c, overflow="fold")
        for o in sorted(survivors, key=lambda o: (o.mutant.cls, o.mutant.line)):
            c, why = classify(o)
            t.add_row(o.mutant.id, o.mutant.cls, o.mutant.diff, f"{c}: {why}" if why else c)
        console.print(t)
    timeouts = [o for o in outcomes if o.status == TIMEOUT]
    for o in timeouts:
        console.print(f"timeout: {o.mutant.id}  {o.mutant.diff}  ({o.reason})")
    stale = [o for o in outcomes if o.status != SURVIVED and o.mutant.id in CLASSIFICATION]
    for o in stale:
        console.print(f"note: {o.mutant.id} is classified but now {o.status} ({o.reason})")
    if "paxos_roles" in section:
        g = section["paxos_roles"]
        mark = "met" if g["score"] is not None and g["score"] >= GOAL else "NOT met"
        console.print(f"Paxos roles (acceptor, proposer, learner): {_pct(g['score'])} of the "
                      f"non-equivalent mutants killed; goal {GOAL:.0%} {mark}.")


def run_target(target: Target, args: argparse.Namespace, command: str) -> dict[str, Any]:
    snapshot = Snapshot.read(target)
    mutants = snapshot.mutants()
    if args.only:
        wanted = set(args.only)
        mutants = [m for m in mutants if m.id in wanted]
    mutants = interleaved(mutants)
    if args.limit is not None:
        mutants = mutants[:args.limit]
    checks_file = Path(args.checks).resolve()
    checks = gate_checks(target.model, checks_file)
    if not checks:
        sys.exit(f"{checks_file}: no check of model {target.model} with expect = holds")
    log = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731
    load_start = os.getloadavg()
    started = time.monotonic()
    log(f"[{target.name}] {len(mutants)} mutants; checks: {', '.join(checks)}")
    out_path = Path(args.out) if args.out else (None if partial_run(args) else OUT)
    recorded = (_previous_section(out_path, target, snapshot)
                if args.resume or args.no_run else None)
    base = previous_baseline(recorded, checks)
    if base is None and args.no_run:
        sys.exit(f"[{target.name}] --no-run: no recorded run of this source in {out_path}")
    if base is None:
        base = run_job(snapshot, None, checks, checks_file, args.baseline_time_limit, None)
    else:
        log(f"[{target.name}] resuming: the baseline recorded for this source is reused")
    if base.status != SURVIVED:
        sys.exit(f"[{target.name}] the unmutated code does not pass the gate's checks "
                 f"({base.status}: {base.reason}); nothing to measure")
    order = sorted(base.checks, key=lambda r: r["seconds"])
    checks = [r["check"] for r in order]
    log(f"[{target.name}] baseline passes in {base.seconds:.1f} s: " + ", ".join(
        f"{r['check']} {r['seconds']:.1f} s" for r in order))
    time_limit = args.time_limit or max(120.0, round(2.5 * base.seconds))
    if base.seconds * 1.5 > time_limit:
        log(f"[{target.name}] warning: the baseline takes {base.seconds:.0f} s; a --time-limit "
            f"of {time_limit:g} s may cut survivors short")
    gate = gate_fingerprint(target.model, checks_file)
    done = previous_outcomes(recorded, mutants, checks, gate,
                             keep_timeouts=args.no_run or not args.retry_timeouts,
                             keep_equivalent=args.keep_equivalent, report_only=args.no_run)
    if done:
        log(f"[{target.name}] resuming: {len(done)} mutants already judged on this source")
    outcomes: list[Outcome] = [done[m.id] for m in mutants if m.id in done]
    todo = [] if args.no_run else [m for m in mutants if m.id not in done]
    timed_out = {r["id"] for r in (recorded or {}).get("mutants", []) if r["status"] == TIMEOUT}
    # Those that ran out of time before go last; the survivors classified as missing a check
    # go first (a changed gate is most likely to change their outcome).
    todo.sort(key=lambda m: (m.id in timed_out, CLASSIFICATION.get(m.id, ("",))[0] != MISSING))
    rank = {id(m): i for i, m in enumerate(mutants)}
    lock = threading.Lock()

    def section_now(complete: bool) -> dict[str, Any]:
        ordered = sorted(outcomes, key=lambda o: rank[id(o.mutant)])
        sec = summarise(target, snapshot, ordered, checks, base, command, args)
        sec.update(time_limit=time_limit, complete=complete, gate=gate,
                   seconds=round(time.monotonic() - started, 1),
                   load_average={"start": [round(x, 2) for x in load_start],
                                 "end": [round(x, 2) for x in os.getloadavg()]})
        return sec

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(run_job, snapshot, m, checks, checks_file, time_limit,
                               args.memory_mb) for m in todo]
        for fut in as_completed(futures):
            o = fut.result()
            with lock:
                outcomes.append(o)
                log(f"[{len(outcomes)}/{len(mutants)}] {o.status:8s} {o.mutant.id}  "
                    f"{o.mutant.diff[:110]}  ({o.reason[:100]}; {o.seconds:.1f} s)")
                if out_path is not None:  # progress survives an interrupted run (--resume)
                    write_json(out_path, {target.name: section_now(False)})
    section = section_now(len(outcomes) == len(mutants))
    prev = recorded if args.no_run else None
    if prev is not None:  # a report of a recorded run: keep how that run was made
        for key in ("command", "seconds", "load_average", "jobs", "time_limit", "gate",
                    "git_commit", "checks", "baseline"):
            if key in prev:
                section[key] = prev[key]
        section["reported_by"] = command
    section["not_run"] = len(mutants) - len(outcomes)
    if section["not_run"]:
        log(f"[{target.name}] {section['not_run']} of {len(mutants)} mutants not judged yet "
            f"(run again with --resume to judge them)")
    outcomes.sort(key=lambda o: rank[id(o.mutant)])
    print_report(section, outcomes)
    return section


def interleaved(mutants: list[Mutant]) -> list[Mutant]:
    """Round-robin over the classes (source order within each), so that a run cut short, or
    ``--limit K``, still samples every class."""
    by_cls: dict[str, list[Mutant]] = {}
    for m in mutants:
        by_cls.setdefault(m.cls, []).append(m)
    out, queues = [], list(by_cls.values())
    while any(queues):
        for q in queues:
            if q:
                out.append(q.pop(0))
    return out


def _previous_section(path: Path | None, target: Target, snapshot: Snapshot) -> dict | None:
    if path is None or not path.exists():
        return None
    try:
        sec = json.loads(path.read_text())["targets"][target.name]
    except (OSError, KeyError, json.JSONDecodeError):
        return None
    same = {p: f["sha256"] for p, f in sec.get("files", {}).items()} == snapshot.sha256()
    return sec if same else None


def previous_baseline(sec: dict | None, checks: list[str]) -> Outcome | None:
    """The baseline the recorded run (``_previous_section``) has, if it passed every check."""
    if sec is None:
        return None
    rows = sec.get("baseline", {}).get("checks", [])
    if sorted(r["check"] for r in rows) != sorted(checks) or not all(r.get("passed") for r in rows):
        return None
    return Outcome(None, SURVIVED, "", sec["baseline"]["seconds"], rows)


def partial_run(args: argparse.Namespace) -> bool:
    return args.limit is not None or bool(args.only)


def previous_outcomes(sec: dict | None, mutants: list[Mutant], checks: list[str], gate: str,
                      keep_timeouts: bool = False, keep_equivalent: bool = False,
                      report_only: bool = False) -> dict[str, Outcome]:
    """The outcomes the recorded run (``_previous_section``) has that still stand: a kill whose
    killing check is still in the gate; a survivor or timeout only if the gate is unchanged
    (``gate_fingerprint``). Timeouts are run again unless ``keep_timeouts``. With
    ``keep_equivalent`` a survivor classified equivalent stands under a changed gate too: it is
    outside the score either way (a check that killed it would only show the classification
    wrong), so re-judging it costs minutes and changes no figure."""
    if sec is None:
        return {}
    same_gate = sec.get("gate") == gate
    by_id = {m.id: m for m in mutants}

    def kept_as_equivalent(r: dict) -> bool:
        return (r["status"] == SURVIVED and not same_gate and keep_equivalent
                and CLASSIFICATION.get(r["id"], ("",))[0] == EQUIVALENT)

    def stands(r: dict) -> bool:
        if r["status"] == KILLED:
            failed = [c["check"] for c in r.get("checks", []) if not c.get("passed", False)]
            return bool(failed) and failed[-1] in checks
        if r["status"] == TIMEOUT and not keep_timeouts:
            return False
        if report_only:
            return True  # a report of a recorded run (--no-run) shows what was recorded
        return same_gate or kept_as_equivalent(r)

    def reason(r: dict) -> str:
        if not r["reason"] and kept_as_equivalent(r):
            return "survived an earlier gate; classified equivalent, so not judged again"
        return r["reason"]

    return {r["id"]: Outcome(by_id[r["id"]], r["status"], reason(r), r["seconds"],
                             r.get("checks", []))
            for r in sec.get("mutants", []) if r["id"] in by_id and stands(r)}


def summarise(target: Target, snapshot: Snapshot, outcomes: list[Outcome], checks: list[str],
              base: Outcome, command: str, args: argparse.Namespace) -> dict[str, Any]:
    section: dict[str, Any] = {
        "target": target.name, "command": command, "model": target.model,
        "git_commit": _git("rev-parse", "HEAD"),
        "files": {s.path: {"sha256": snapshot.sha256()[s.path],
                           "dirty": bool(_git("status", "--porcelain", "--", s.path)),
                           "last_commit": _git("log", "-1", "--format=%h %s", "--", s.path)}
                  for s in target.scopes},
        "checks": checks, "baseline": {"seconds": round(base.seconds, 1), "checks": base.checks},
        "excluded": target.excluded,
        "jobs": args.jobs, "time_limit": args.time_limit, "memory_mb": args.memory_mb,
        "cpu_count": os.cpu_count(),
        "partial": bool(args.limit is not None or args.only),
        "operators": list(OPERATORS),
        "by_operator": tally(outcomes, lambda o: o.mutant.operator),
        "by_class": tally(outcomes, lambda o: o.mutant.cls),
        "total": tally(outcomes, lambda o: "all").get("all") or _row(),
    }
    roles = [o for o in outcomes if o.mutant.cls in PAXOS_CLASSES]
    if roles:
        section["paxos_roles"] = tally(roles, lambda o: "roles")["roles"]
        section["paxos_roles"]["goal"] = GOAL
    rows = []
    for o in outcomes:
        row = o.mutant.to_json()
        c, why = classify(o)
        row.update({"status": o.status, "reason": o.reason, "seconds": round(o.seconds, 1),
                    "checks": o.checks})
        if c:
            row["classification"] = c
            row["classification_reason"] = why
        rows.append(row)
    section["mutants"] = rows
    return section


def write_json(path: Path, sections: dict[str, dict[str, Any]]) -> None:
    """Merge ``sections`` (by target) into the JSON file at ``path``, atomically."""
    data: dict[str, Any] = {}
    if path.exists():
        try:
            data = json.loads(path.read_text())
        except (json.JSONDecodeError, OSError):
            data = {}
    data.setdefault("targets", {}).update(sections)
    data["format"] = "paxchain-mutation"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        f.write(json.dumps(data, indent=1) + "\n")
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--target", choices=("paxos", "chain", "all"), default="all")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                    help="mutants run in parallel (default: cores)")
    ap.add_argument("--limit", type=int, default=None, help="only the first K mutants")
    ap.add_argument("--only", nargs="+", default=None, metavar="ID", help="only these mutants")
    ap.add_argument("--time-limit", type=float, default=None,
                    help="CPU seconds per mutant (default: 2.5 x the baseline, at least 120)")
    ap.add_argument("--baseline-time-limit", type=float, default=900.0,
                    help=argparse.SUPPRESS)
    ap.add_argument("--memory-mb", type=int, default=None,
                    help="address-space limit per mutant process (default: memory / jobs)")
    ap.add_argument("--checks", default=str(CHECKS_FILE), help="the gate's checks file")
    ap.add_argument("--out", default=None,
                    help=f"JSON results (default {OUT.relative_to(ROOT)}; smoke runs with "
                         "--limit/--only write only here)")
    ap.add_argument("--resume", action="store_true",
                    help="keep the outcomes the JSON file already holds for the same source")
    ap.add_argument("--keep-equivalent", action="store_true",
                    help="with --resume: a survivor classified equivalent is not judged again "
                         "after the gate changed (it is outside the score either way)")
    ap.add_argument("--retry-timeouts", action="store_true",
                    help="with --resume: judge again the mutants that timed out")
    ap.add_argument("--no-run", action="store_true",
                    help="only report (and rewrite the JSON from) the outcomes already recorded "
                         "for this source")
    ap.add_argument("--list", action="store_true", help="list the mutants and exit")
    ap.add_argument("--show", metavar="ID", help="print one mutant's mutated function")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        _worker_main(args.worker)
        return 0
    if args.jobs < 1 or (args.time_limit is not None and args.time_limit <= 0):
        ap.error("--jobs must be >= 1 and --time-limit > 0")
    if args.memory_mb is None:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // (1024 * 1024)
        args.memory_mb = max(1024, int(total * 0.8 / args.jobs))
    names = ("chain", "paxos") if args.target == "all" else (args.target,)
    if args.list or args.show:
        for name in names:
            snap = Snapshot.read(TARGETS[name])
            for m in snap.mutants():
                if args.show and m.id == args.show:
                    node: Any = ast.parse(snap.mutated_source(m))
                    for part in m.function.split("."):
                        node = next(n for n in node.body if getattr(n, "name", None) == part)
                    print(m.diff + "\n\n" + ast.unparse(node))
                    return 0
                elif args.list:
                    print(f"{m.id}\t{m.cls}\t{m.diff}")
        return 0 if args.list else 2
    command = "python3 benchmarks/mutation.py " + " ".join(shlex.quote(a) for a in (
        argv if argv is not None else sys.argv[1:]))
    sections = {name: run_target(TARGETS[name], args, command) for name in names}
    if args.out or not partial_run(args):
        write_json(Path(args.out) if args.out else OUT, sections)
    return 0


if __name__ == "__main__":
    sys.exit(main())
