"""Scenarios inside the generator: each change kind shows in the generated packets, on its dates.

The oracle is the packets themselves (per-packet behaviour labels and times)
and the ground truth's daily series; totals stay exact and output deterministic.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from teiten.simulate import parse_scenario
from teiten.simulate.envelope import Envelope, grid
from teiten.simulate.population import diurnal_mass

from ._sim import assert_same_bytes, chunks, small_config, with_truth

SCENARIO = parse_scenario(
    """
name = "kinds"
[behaviours.mirai]
ports = { 23 = 0.9, 2323 = 0.1 }
[behaviours.rdp-scan]
volume_alpha = 3.0
[behaviours.smb-worm]
volume_alpha = 3.0

[[campaigns]]
id = "hg532"
like = "mirai"
ports = { 37215 = 1.0 }
weight = 0.06
source_share = 0.05

[[changes]]
id = "enters"
kind = "enter"
select = { behaviour = "hg532" }
at = 2024-03-04

[[changes]]
id = "leaves"
kind = "leave"
select = { port = "6379/tcp" }
at = 2024-03-08T06:00:00

[[changes]]
id = "surge"
kind = "step"
select = { behaviour = "rdp-scan" }
at = 2024-03-06
factor = 4.0

[[changes]]
id = "decline"
kind = "ramp"
select = { behaviour = "smb-worm" }
from = 2024-03-02
to = 2024-03-12
factor = [1.0, 0.2]
""",
    "kinds.toml",
)
START, END = datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 3, 13, tzinfo=UTC)


def _config(**kw: object):
    kw.setdefault("scenario", SCENARIO)
    return small_config(200_000, seed=21, start=START, end=END, **kw)


@pytest.fixture(scope="module")
def generated():
    return with_truth(_config())


def _packets_of(cs, name: str) -> np.ndarray:
    """Times (s since the start) of every packet of behaviour ``name``."""
    out = []
    for c in cs:
        names = np.array([b.name for b in c.population.behaviours])
        out.append(c.batch.ts_ns[names[c.behaviour] == name])
    return (np.concatenate(out) - int(START.timestamp()) * 10**9) / 1e9


def _event(truth, ident: str) -> dict:
    return next(e for e in truth["events"] if e["id"] == ident)


def test_totals_stay_exact(generated):
    config, cs, truth = generated
    assert sum(len(c) for c in cs) == truth["packets"] == config.packets
    assert sum(truth["daily"]["probes"]) == truth["by_kind"]["probe"]


def test_enter_starts_the_selection_at_its_date(generated):
    _, cs, truth = generated
    t = _packets_of(cs, "hg532")
    assert len(t) > 1000 and 3 * 86_400 <= t.min() < 3.5 * 86_400
    observed = _event(truth, "enters")["observed"]
    assert observed["first_day"] == "2024-03-04" and observed["daily_mean_before"] == 0
    daily = truth["daily"]["by_port"]["37215/tcp"]
    assert sum(daily[:3]) == 0 and min(daily[3:]) > 0


def test_leave_stops_the_selection_at_its_time(generated):
    _, cs, truth = generated
    t = _packets_of(cs, "redis-scan")
    cut = 7 * 86_400 + 6 * 3600
    assert len(t) > 1000 and t.max() < cut and t.max() > cut - 3600
    observed = _event(truth, "leaves")["observed"]
    assert observed["last_day"] == "2024-03-08" and observed["daily_mean_after"] < 200
    assert _event(truth, "leaves")["selector"] == {"port": ["6379/tcp"]}


def test_step_multiplies_the_daily_rate_from_its_date(generated):
    _, _, truth = generated
    observed = _event(truth, "surge")["observed"]
    assert 2.5 < observed["ratio"] < 6
    daily = np.array(truth["daily"]["by_port"]["3389/tcp"])
    assert daily[5:].min() > daily[:5].max()  # every day after is above every day before


def test_ramp_declines_over_its_span(generated):
    _, cs, truth = generated
    observed = _event(truth, "decline")["observed"]
    assert observed["ratio"] < 0.5
    per_day = np.bincount((_packets_of(cs, "smb-worm") // 86_400).astype(int), minlength=12)
    assert per_day[1:4].mean() > 2 * per_day[9:12].mean()


def test_changes_scale_senders_not_only_packets(generated):
    _, cs, _ = generated
    pop = cs[0].population
    names = [b.name for b in pop.behaviours]
    sources = np.bincount(pop.behaviour, minlength=len(names))
    plain = chunks(small_config(200_000, seed=21, start=START, end=END))[0].population
    before = dict(
        zip([b.name for b in plain.behaviours], np.bincount(plain.behaviour), strict=True)
    )
    # 4× for half the span: about 2.5× the RDP scanners; a ramp to 0.2: fewer SMB worms.
    assert 2.0 < sources[names.index("rdp-scan")] / before["rdp-scan"] < 3.0
    assert sources[names.index("smb-worm")] < 0.8 * before["smb-worm"]


def test_same_seed_same_bytes_with_a_scenario(generated):
    _, first, _ = generated
    assert_same_bytes(first, chunks(_config()))


def test_an_envelope_of_ones_is_the_diurnal_mass():
    rng = np.random.default_rng(1)
    span = 3 * 86_400.0 + 1234.5
    edges = grid(span)
    env = Envelope(edges, np.ones((2, len(edges) - 1)), ((), (0,)))
    n = 1000
    amp, phase = rng.uniform(0, 0.9, n), rng.uniform(0, 86_400, n)
    t = rng.uniform(0, span, n)
    omega = 2 * np.pi / 86_400
    got = env.mass_to(rng.integers(0, 2, n), amp, np.cos(omega * phase), np.sin(omega * phase), t)
    assert got == pytest.approx(diurnal_mass(amp, phase, 0.0, t), rel=1e-9, abs=1e-6)


def test_an_envelope_is_flat_where_its_level_is_zero():
    edges = grid(10 * 3600.0)
    level = np.ones((1, 10))
    level[0, 3:6] = 0.0
    env = Envelope(edges, level, ((),))
    one = np.zeros(1, dtype=np.int64)
    at = (3 * 3600.0, 4.5 * 3600.0, 6 * 3600.0)
    mass = [env.mass_to(one, np.zeros(1), np.ones(1), np.zeros(1), t)[0] for t in at]
    assert mass == pytest.approx([3 * 3600.0] * 3)
    arrivals = env.arrivals(np.random.default_rng(0), np.zeros(5000, np.int64), np.ones(5000))
    assert not ((arrivals >= 3 * 3600) & (arrivals < 6 * 3600)).any()
