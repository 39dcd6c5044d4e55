"""Configurations are checked when built, with messages that say what to fix."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from teiten.simulate import CATALOGUE, DEFAULT_SENSORS, SensorSpec, SimulationConfig

T0 = datetime(2024, 1, 1, tzinfo=UTC)
T1 = datetime(2024, 1, 2, tzinfo=UTC)


def test_defaults_are_four_unrouted_slash24s():
    config = SimulationConfig()
    assert config.sensors == DEFAULT_SENSORS and len(DEFAULT_SENSORS) == 4
    assert all(s.network.prefixlen == 24 and not s.network.is_global for s in DEFAULT_SENSORS)
    assert set(config.weights()) == set(CATALOGUE)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"start": datetime(2024, 1, 1)}, "no time zone"),
        ({"end": T0}, "is not after start"),
        ({"sensors": ()}, "at least one sensor"),
        (
            {"sensors": (SensorSpec("a", "192.0.2.0/24"), SensorSpec("b", "192.0.2.128/25"))},
            "overlap",
        ),
        (
            {"sensors": (SensorSpec("a", "192.0.2.0/24"), SensorSpec("a", "198.18.0.0/24"))},
            "repeat",
        ),
        ({"packets": -1}, "packets"),
        ({"behaviours": {"telnet-bot": 1.0}}, "unknown behaviours"),
        ({"behaviours": {"mirai": -1.0}}, "must be ≥ 0"),
        ({"behaviours": dict.fromkeys(CATALOGUE, 0.0)}, "switched off"),
        ({"chunk_packets": 10}, "chunk_packets"),
    ],
)
def test_bad_configurations_are_refused(kwargs, message):
    base = {"start": T0, "end": T1}
    with pytest.raises(ValueError, match=message):
        SimulationConfig(**{**base, **kwargs})


@pytest.mark.parametrize("prefix", ["192.0.2.1/24", "10.0.0.0/7", "2001:db8::/32", "nonsense"])
def test_bad_sensor_prefixes_are_refused(prefix):
    with pytest.raises(ValueError, match="prefix"):
        SensorSpec("s", prefix)


def test_times_are_normalised_to_utc():
    from datetime import timedelta, timezone

    jst = timezone(timedelta(hours=9))
    config = SimulationConfig(start=datetime(2024, 1, 1, 9, tzinfo=jst), end=T1)
    assert config.start == T0 and config.start.tzinfo == UTC
