"""The compiled IPv4 answer table: same answers as a dict, across growth and resets."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from teiten.enrich.hashcache import IPv4AnswerCache


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=3000, unique=True), st.data())
def test_probe_returns_what_was_added(keys, data):
    keys = np.array(keys, np.uint32)
    country = np.array(
        data.draw(st.lists(st.integers(-1, 300), min_size=len(keys), max_size=len(keys))), np.int16
    )
    asn = (keys * np.uint32(7)).astype(np.uint32)
    has_asn = keys % 3 == 0
    cache = IPv4AnswerCache(limit=10_000, initial_slots=16)
    half = len(keys) // 2
    cache.add(keys[:half], country[:half], asn[:half], has_asn[:half])
    cache.add(keys[half:], country[half:], asn[half:], has_asn[half:])
    assert len(cache) == len(keys)
    probe = np.concatenate([keys, keys[::-1]])
    c, a, h, miss = cache.probe(probe)
    assert not miss.any()
    both = np.concatenate([np.arange(len(keys)), np.arange(len(keys))[::-1]])
    assert (c == country[both]).all() and (h == has_asn[both]).all()
    assert (a == asn[both]).all()


def test_unknown_keys_miss_and_limit_resets():
    cache = IPv4AnswerCache(limit=4, initial_slots=8)
    keys = np.array([1, 2, 3], np.uint32)
    cache.add(keys, np.zeros(3, np.int16), np.zeros(3, np.uint32), np.zeros(3, bool))
    *_, miss = cache.probe(np.array([1, 0, 4, 3, 0xFFFFFFFF], np.uint32))
    assert miss.tolist() == [False, True, True, False, True]
    cache.add(
        np.array([7, 8], np.uint32), np.ones(2, np.int16), np.zeros(2, np.uint32), np.zeros(2, bool)
    )
    assert len(cache) == 2  # over the limit: started over
    *_, miss = cache.probe(np.array([1, 7], np.uint32))
    assert miss.tolist() == [True, False]
