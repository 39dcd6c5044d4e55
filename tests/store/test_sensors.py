"""Sensor declarations (counts only, never prefixes) and the stored-events files."""

from __future__ import annotations

from datetime import date

import pyarrow as pa
import pytest

from teiten.errors import OptionError
from teiten.store import Store
from teiten.store.events import EventStore
from teiten.store.sensors import declaration, declare_sensor, declared_sensors


def test_declaration_counts_addresses_and_merges_overlaps():
    assert declaration("a", addresses=256).ipv4_addresses == 256
    d = declaration("b", prefixes=["192.0.2.0/24", "192.0.2.128/25", "198.51.100.0/23"])
    assert (d.ipv4_addresses, d.ipv6_prefixes) == (256 + 512, 0)
    d = declaration("c", addresses=1024, prefixes=["2001:db8::/48", "2001:db8:1::/48"])
    assert (d.ipv4_addresses, d.ipv6_prefixes) == (1024, 2)
    assert declaration("d", prefixes=["192.0.2.7"]).ipv4_addresses == 1


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"addresses": 0},
        {"addresses": 2**32 + 1},
        {"addresses": 256, "prefixes": ["192.0.2.0/24"]},
        {"prefixes": ["not-a-prefix"]},
    ],
)
def test_bad_declarations_are_option_errors(kw):
    with pytest.raises(OptionError):
        declaration("x", **kw)
    with pytest.raises(OptionError):
        declaration(" ", addresses=1)


def test_declarations_persist_and_never_store_the_prefix(tmp_path):
    store = Store(tmp_path / "s")
    declare_sensor(store, "tokyo-1", prefixes=["192.0.2.0/24"])
    declare_sensor(store, "osaka", addresses=16)
    declare_sensor(store, "osaka", addresses=32)  # replaces
    store.close()
    reopened = Store(tmp_path / "s")
    got = {n: r.ipv4_addresses for n, r in declared_sensors(reopened).items()}
    assert got == {"osaka": 32, "tokyo-1": 256}
    reopened.close()
    raw = b"".join(p.read_bytes() for p in (tmp_path / "s").glob("manifest.sqlite*"))
    assert b"192.0.2" not in raw and b"tokyo-1" in raw


def test_event_files_are_written_atomically_and_checked_for_staleness(tmp_path):
    store = Store(tmp_path / "s")
    events = EventStore(store)
    key = events.key({"a": 1})
    assert key == events.key({"a": 1}) != events.key({"a": 2})
    table = pa.table({"x": [1, 2]})
    state = events.state(date(2024, 1, 1), date(2024, 1, 2))
    path = events.save("scans", "2024Q1", key, table, {"state": state, "n": 2})
    assert path.exists() and not list(path.parent.glob(".*.tmp"))
    found = events.load("scans", "2024Q1", key, state)
    assert found is not None and found.table.equals(table) and found.meta["n"] == 2
    assert events.load("scans", "2024Q1", key, "another state") is None
    assert events.load("dos", "2024Q1", key, state) is None
    path.write_bytes(b"cut short")
    assert events.load("scans", "2024Q1", key, state) is None
    with pytest.raises(ValueError):
        events.path("other", "2024Q1", key)
    assert events.path("scans", "2024-01-01..2024-01-31", key).parent.name == (
        "2024-01-01..2024-01-31"
    )
