"""The rate limiter: a burst, then a steady rate per client, in bounded memory."""

from __future__ import annotations

import pytest

from teiten.web.ratelimit import MAX_CLIENTS, RateLimiter


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_is_allowed_then_refused_with_the_wait():
    clock = Clock()
    limiter = RateLimiter(per_minute=60, burst=3, clock=clock)
    assert [limiter.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("a") == pytest.approx(1.0)  # one a second
    assert limiter.take("a") == pytest.approx(1.0)  # a refusal takes nothing
    clock.now += 0.25
    assert limiter.take("a") == pytest.approx(0.75)


def test_the_bucket_refills_at_the_rate_up_to_the_burst():
    clock = Clock()
    limiter = RateLimiter(per_minute=120, burst=2, clock=clock)
    assert limiter.take("a") == limiter.take("a") == 0.0
    assert limiter.take("a") == pytest.approx(0.5)
    clock.now += 0.5
    assert limiter.take("a") == 0.0
    assert limiter.take("a") == pytest.approx(0.5)
    clock.now += 3600  # an idle hour refills the burst, no more
    assert [limiter.take("a") for _ in range(3)][:2] == [0.0, 0.0]
    assert limiter.take("a") > 0


def test_waiting_the_wait_is_always_enough():
    clock = Clock()
    limiter = RateLimiter(per_minute=7, burst=1, clock=clock)  # an awkward rate
    for _ in range(50):
        wait = limiter.take("a")
        if wait:
            clock.now += wait
            assert limiter.take("a") == 0.0


def test_clients_are_independent():
    clock = Clock()
    limiter = RateLimiter(per_minute=1, burst=1, clock=clock)
    assert limiter.take("192.0.2.1") == 0.0
    assert limiter.take("192.0.2.1") == pytest.approx(60.0)
    assert limiter.take("192.0.2.2") == 0.0
    assert limiter.take("alice") == 0.0


def test_full_buckets_are_forgotten_and_memory_stays_bounded():
    clock = Clock()
    limiter = RateLimiter(per_minute=60, burst=2, clock=clock, max_clients=100)
    for i in range(100):
        limiter.take(f"old-{i}")
    assert len(limiter) == 100
    clock.now += 2  # their buckets are full again: forgotten at the next pruning
    limiter.take("busy")
    limiter.take("busy")
    limiter.take("new")
    assert len(limiter) == 2
    for i in range(10_000):  # all busy at once: the longest unseen go
        limiter.take(f"c-{i}")
        assert len(limiter) <= 100
    assert limiter.take("c-9999") == 0.0 and limiter.take("c-9999") > 0  # the recent are kept


def test_the_default_bound():
    clock = Clock()
    limiter = RateLimiter(per_minute=1, burst=1, clock=clock)
    for i in range(MAX_CLIENTS + 500):
        limiter.take(str(i))
    assert len(limiter) <= MAX_CLIENTS


@pytest.mark.parametrize(("per_minute", "burst"), [(0, 1), (1, 0)])
def test_impossible_limits_are_refused(per_minute, burst):
    with pytest.raises(ValueError, match=">= 1"):
        RateLimiter(per_minute, burst)
