"""The compact visited set (``paxchain.checker.visited``) is a set of 64-bit fingerprints."""

from __future__ import annotations

import random

import pytest

from paxchain.checker.visited import HAVE_NUMPY, FingerprintSet

KINDS = [False, True] if HAVE_NUMPY else [False]
MASK = (1 << 64) - 1


@pytest.mark.parametrize("use_numpy", KINDS)
def test_batches_agree_with_a_python_set(use_numpy):
    rnd = random.Random(12)
    table, ref = FingerprintSet(capacity=8, use_numpy=use_numpy), set()
    awkward = [0, 1, -1, MASK, 1 << 63, -(1 << 63), 8, 16]  # zero, both signs, colliding slots
    for _ in range(300):
        batch = [rnd.getrandbits(64) - (1 << 63) if rnd.random() < 0.6 else rnd.choice(awkward)
                 for _ in range(rnd.randrange(0, 40))]
        want = []
        for fp in batch:
            want.append(fp & MASK not in ref)
            ref.add(fp & MASK)
        assert table.add_many(batch) == want
    assert len(table) == len(ref) and sorted(table.values()) == sorted(ref)
    assert all(x in table for x in ref) and (12345 in table) == (12345 in ref)


@pytest.mark.parametrize("use_numpy", KINDS)
def test_distinct_batches_and_single_adds(use_numpy):
    table = FingerprintSet(use_numpy=use_numpy)
    assert table.add_many(range(1, 1001), distinct=True) == [True] * 1000
    assert table.add_many(range(500, 1501), distinct=True) == [False] * 501 + [True] * 500
    assert table.add(0) and not table.add(0) and len(table) == 1501
    assert table.contains_many([0, 1500, 1501]) == [True, True, False]


def test_it_grows_and_stays_between_10_and_16_bytes_a_state():
    table = FingerprintSet()
    rnd = random.Random(3)
    for _ in range(20):
        table.add_many([rnd.getrandbits(64) for _ in range(5000)])
    assert len(table) == 100_000
    assert 8 / table.max_load <= table.bytes_per_state() <= 8 * table.grow / table.max_load


def test_bad_tuning_is_refused():
    with pytest.raises(ValueError):
        FingerprintSet(max_load=1.0)


@pytest.mark.skipif(not HAVE_NUMPY, reason="numpy arrays need numpy")
def test_array_batches_agree_with_a_python_set():
    import numpy as np

    rnd = random.Random(7)
    table, ref = FingerprintSet(capacity=8), set()
    awkward = [0, 1, -1, 1 << 62, -(1 << 63), 8, 16]
    for _ in range(200):
        batch = [rnd.getrandbits(64) - (1 << 63) if rnd.random() < 0.6 else rnd.choice(awkward)
                 for _ in range(rnd.randrange(0, 40))]
        arr = np.array(batch, dtype=np.int64)
        assert table.contains_array(arr).tolist() == [fp & MASK in ref for fp in batch]
        want = []
        for fp in batch:
            want.append(fp & MASK not in ref)
            ref.add(fp & MASK)
        assert table.add_array(arr).tolist() == want
    assert len(table) == len(ref)


def test_fingerprints_beyond_64_bits_are_kept_modulo_2_to_the_64():
    from paxchain.checker.visited import as_int64, signed64

    assert signed64(5) == 5 and signed64(-(1 << 63)) == -(1 << 63)
    assert signed64(1 << 63) == -(1 << 63) and signed64((1 << 64) + 3) == 3
    assert signed64(-(1 << 63) - 1) == (1 << 63) - 1
    if HAVE_NUMPY:
        assert as_int64([1 << 64 | 7, -1]).tolist() == [7, -1]
