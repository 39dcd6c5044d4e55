"""Stored session fragments: atomic files, stale or damaged ones refused, a cache folder
when the store cannot be written, and `teiten store rollup` computing them (and the events
of ended months and quarters)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pyarrow as pa
import pytest
from _stores import cli

from conftest import rows_table
from teiten.analyze.dos import dos_attacks
from teiten.analyze.periods import parse_period
from teiten.analyze.scans import scan_events
from teiten.store import DuckDBEngine, InputRecord, Store
from teiten.store.events import cache_folder
from teiten.store.sessions import SessionStore

DAY = date(2024, 5, 1)


def _add(store: Store, day: date, n: int = 3) -> None:
    """A batch of ``n`` probes at noon of ``day``."""
    noon = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    rows = [
        {"ts": (noon + timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%S"), "src": "203.0.113.9",
         "dst": f"198.51.100.{i}", "dport": 23}
        for i in range(n)
    ]  # fmt: skip
    writer = store.writer("s1", "test", "test")
    writer.write(rows_table(rows))
    name = f"{day}-{len(store.manifest.inputs())}"
    writer.commit([InputRecord(f"test:{name}", name, 1, n, 0)])


def test_fragments_are_written_atomically_and_refused_when_stale_or_damaged(tmp_path):
    store = Store(tmp_path / "s")
    _add(store, DAY)
    sessions = SessionStore(store)
    (state,) = sessions.states(DAY, DAY).values()
    assert sessions.states(DAY + timedelta(days=1), DAY + timedelta(days=9)) == {}
    table = pa.table({"k": pa.array([1, 2], pa.uint64())})
    path = sessions.save("scans", DAY, table, {"state": state, "version": 1})
    assert path == tmp_path / "s" / "sessions" / "scans" / "2024-05-01.parquet"
    assert not list(path.parent.glob(".*.tmp"))
    assert sessions.load("scans", DAY, {"state": state, "version": 1}).equals(table)
    assert sessions.load("scans", DAY, {"state": state, "version": 2}) is None  # parameters
    assert sessions.load("dos", DAY, {"state": state}) is None
    _add(store, DAY)  # another batch that day: stale
    (changed,) = sessions.states(DAY, DAY).values()
    assert changed != state and sessions.load("scans", DAY, {"state": changed}) is None
    path.write_bytes(b"cut short")  # damaged: as if missing
    assert sessions.load("scans", DAY, {"state": state}) is None
    with pytest.raises(ValueError):
        sessions.path("other", DAY)


def test_a_store_that_cannot_be_written_keeps_them_in_the_cache_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    store = Store(tmp_path / "s")
    _add(store, DAY)
    sessions = SessionStore(store)
    (tmp_path / "s" / "sessions").write_text("not a folder")  # the store's place is taken
    table = pa.table({"k": pa.array([7], pa.uint64())})
    path = sessions.save("dos", DAY, table, {"state": "x"})
    assert path == cache_folder(store, "sessions") / "dos" / "2024-05-01.parquet"
    assert sessions.load("dos", DAY, {"state": "x"}).equals(table)
    (tmp_path / "not-a-folder").write_text("")  # neither can be written: memory only
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "not-a-folder"))
    assert SessionStore(store).save("scans", DAY, table, {"state": "x"}) is None


def test_store_rollup_computes_every_day_s_fragments_once(tmp_path):
    store = Store(tmp_path / "s")
    for day in (DAY, DAY + timedelta(days=1), DAY + timedelta(days=5)):
        _add(store, day, n=12)
    first = json.loads(cli("store", "rollup", "--store", store.root, "--json").output)
    days = ["2024-05-01", "2024-05-02", "2024-05-06"]
    assert first["sessions"]["computed"] == {"scans": days, "dos": days}
    for family in ("scans", "dos"):
        assert sorted(p.stem for p in (store.root / "sessions" / family).glob("*.parquet")) == days
    # and the events of the ended month and quarter, which their queries then read
    ended = ["scans 2024-05", "dos 2024-05", "scans 2024Q2", "dos 2024Q2"]
    assert first["sessions"]["events"] == ended
    for label in ("2024-05", "2024Q2"):
        assert len(list((store.root / "events" / "scans" / label).glob("*.parquet"))) == 1
    with DuckDBEngine(store) as engine:
        assert scan_events(engine, parse_period("2024Q2"), limit=0).reused
        assert dos_attacks(engine, parse_period("2024-05"), limit=0).reused
        assert not scan_events(engine, parse_period("2024-W18"), limit=0).reused  # a week
        for label in ("2024Q2", "2024-W19"):  # read back, and computed now: only the columns
            some = scan_events(engine, parse_period(label), limit=0, columns=["port", "source"])
            assert some.table.column_names == ["port", "source"] and some.total >= 0
    again = json.loads(cli("store", "rollup", "--store", store.root, "--json").output)
    assert again["sessions"]["computed"] == {"scans": [], "dos": []}
    assert again["sessions"]["events"] == []
    assert (
        first["sessions"]["findings"] == ["2024-05", "2024Q2"] and not again["sessions"]["findings"]
    )
    _add(store, DAY + timedelta(days=9), n=12)  # late packets: that month's events again
    text = cli("store", "rollup", "--store", store.root, "--day", "2024-05-10").output
    assert "session fragments computed for 1 day(s), 4 event list(s) and the phenomena of 2" in text
    text = cli("store", "rollup", "--store", store.root, "--day", "2024-05-02").output
    assert "session fragments computed for 0 day(s), 0 event list(s) and the phenomena of 0" in text
