"""Portable states (``paxchain.checker.portable``): encodings and fingerprints that mean the same
in every process, checked here across a fresh interpreter and across model instances."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from paxchain.checker.explicit import reachable_states
from paxchain.checker.portable import (NotPortable, PlainCodec, VarsCodec, codec_for,
                                       decode_state, decode_value, digest64, encode_state,
                                       encode_value, is_plain, plain_states, state_fingerprint)
from paxchain.models import registry
from paxchain.models.values import Record

SYSTEM = {"acceptors": "2", "proposers": "1", "max_rounds": "1"}


def test_canonical_bytes_do_not_depend_on_build_order():
    a = {"x": {"b": 1, "a": 2}, "s": frozenset({"q", "p"}), "r": Record.of("m", n=1)}
    b = {"r": Record.of("m", n=1), "s": frozenset({"p", "q"}), "x": {"a": 2, "b": 1}}
    assert encode_value(a) == encode_value(b)
    assert decode_value(encode_value(a)) == a
    with pytest.raises(TypeError):
        encode_value(object())


def test_digest_is_the_same_in_another_interpreter():
    data = encode_value({"maxBal": {"a1": -1}, "msgs": frozenset()})
    code = ("from paxchain.checker.portable import digest64, encode_value;"
            "print(digest64(encode_value({'msgs': frozenset(), 'maxBal': {'a1': -1}})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert int(out) == digest64(data)


def test_interned_states_round_trip_between_model_instances():
    # Two instances of paxos-system intern their states in different orders: the same state
    # has other ids in each, but the same portable bytes and fingerprint.
    first = registry.build("paxos-system", SYSTEM, None)
    second = registry.build("paxos-system", SYSTEM, None)
    states = list(reachable_states(first))
    for s in reversed(states):  # interned in the opposite order in the second instance
        t = decode_state(second, encode_state(first, s))
        assert second.to_vars(t) == first.to_vars(s)
        assert state_fingerprint(second, t) == state_fingerprint(first, s)
    assert len({state_fingerprint(first, s) for s in states}) == len(states)


def test_codec_choice():
    paxos = registry.build("lamport-paxos", {}, None)
    system = registry.build("paxos-system", SYSTEM, None)
    assert plain_states(paxos) and not plain_states(system)
    assert isinstance(codec_for(paxos, symmetry=True), PlainCodec)
    assert isinstance(codec_for(system, symmetry=False), VarsCodec)
    assert isinstance(codec_for(system, symmetry=True), VarsCodec)  # portable_orbit_key

    class IdsWithoutOrbitKey(type(system)):  # type: ignore[misc]
        portable_orbit_key = None

    with pytest.raises(NotPortable, match="same in every process"):
        codec_for(IdsWithoutOrbitKey(**system.params), symmetry=True)
    assert is_plain((1, "a", frozenset({None}), Record.of("m", x=(True,))))
    assert not is_plain(([1],)) and not is_plain({"a": 1})


def test_vars_codec_key_is_the_portable_fingerprint():
    system = registry.build("paxos-system", SYSTEM, None)
    codec = codec_for(system, symmetry=False)
    for s in list(reachable_states(system))[:50]:
        assert codec.key(s) == state_fingerprint(system, s) == system.portable_key(s)
        assert codec.unpack(codec.pack(s)) == s


def test_orbit_key_is_one_key_per_orbit_in_every_instance():
    # The orbit key partitions the states as the representative does (one key per orbit),
    # and another instance, which interned everything in the opposite order, gives each
    # state the same key.
    first = registry.build("paxos-system", SYSTEM, None)
    second = registry.build("paxos-system", SYSTEM, None)
    states = list(reachable_states(first))
    by_key: dict[int, set] = {}
    for s in reversed(states):
        k = first.portable_orbit_key(s)
        by_key.setdefault(k, set()).add(first.representative(s))
        assert second.portable_orbit_key(second.decode_state(first.encode_state(s))) == k
    assert all(len(reps) == 1 for reps in by_key.values())
    assert len(by_key) == len({first.representative(s) for s in states}) < len(states)


def test_actor_system_encoding_round_trips_and_is_plain():
    # paxos-system supplies encode_state/decode_state (ActorSystem.portable): its portable
    # form is plain, and decoding it in another instance gives the same state there.
    first = registry.build("paxos-system", SYSTEM, None)
    second = registry.build("paxos-system", SYSTEM, None)
    states = list(reachable_states(first))
    for s in reversed(states):
        assert is_plain(first.portable(s))
        t = second.decode_state(first.encode_state(s))
        assert second.to_vars(t) == first.to_vars(s)
        assert second.encode_state(t) == first.encode_state(s)
        assert first.decode_state(first.encode_state(s)) == s
    assert len({first.encode_state(s) for s in states}) == len(states)
    with pytest.raises(ValueError, match="not a portable state"):
        first.decode_state(b"not marshal")


_ENCODE_ALL = (
    "import sys\n"
    "from paxchain.checker.explicit import reachable_states\n"
    "from paxchain.checker.portable import state_fingerprint\n"
    "from paxchain.models import registry\n"
    "m = registry.build('paxos-system', {'acceptors': '2', 'proposers': '1', "
    "'max_rounds': '1'}, None)\n"
    "for s in reachable_states(m):\n"
    "    print(state_fingerprint(m, s), m.encode_state(s).hex(), m.portable_orbit_key(s))\n")


def _encodings(seed: str) -> dict[int, tuple[str, int]]:
    """fingerprint -> (encoding, orbit key) of every reachable state, in a fresh process."""
    env = {**os.environ, "PYTHONHASHSEED": seed}
    out = subprocess.run([sys.executable, "-c", _ENCODE_ALL], capture_output=True, text=True,
                         check=True, env=env).stdout
    return {int(k): (v, int(o)) for k, v, o in (line.split() for line in out.splitlines())}


def test_actor_system_encoding_is_the_same_under_other_hash_seeds():
    # String hashes (and so the iteration order of sets of node ids) differ between these
    # processes; the encodings and fingerprints of the reachable states do not, and each
    # process decodes the other's bytes into the state with the same encoding.
    one, two = _encodings("1"), _encodings("2")
    assert one == two and len(one) > 100
    here = registry.build("paxos-system", SYSTEM, None)
    for fp, (data, orbit) in one.items():
        t = here.decode_state(bytes.fromhex(data))
        assert here.encode_state(t).hex() == data
        assert state_fingerprint(here, t) == fp
        assert here.portable_orbit_key(t) == orbit
