"""Event digests: stored with the events, read from the file's footer alone, and the
same as the sums of the events themselves (so a report says the same either way)."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

import pyarrow.parquet as pq
import pytest

from analyze.phenomena._stores import simulated_store
from teiten.analyze.dos import dos_attacks
from teiten.analyze.event_digest import digest_of
from teiten.analyze.periods import parse_period
from teiten.analyze.scans import scan_events
from teiten.report.events import summarize_events
from teiten.store import DuckDBEngine, Store

PERIOD = parse_period("2019-05")
FAMILIES = {"scans": scan_events, "dos": dos_attacks}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    root = tmp_path_factory.mktemp("digest")
    start, end = datetime(2019, 5, 1, tzinfo=UTC), datetime(2019, 5, 8, tzinfo=UTC)
    return simulated_store(root, "2019q2", 120_000, seed=5, start=start, end=end)[0]


@pytest.mark.parametrize("family", FAMILIES)
def test_the_stored_digest_is_the_sum_of_the_events(store, family):
    events = FAMILIES[family]
    with DuckDBEngine(store) as engine:
        computed = events(engine, PERIOD, limit=0, refresh=True)
        assert computed.table is not None and computed.total > 0
        read = events(engine, PERIOD, limit=0, digest_only=True)
    assert read.reused and read.table is None  # the footer only
    assert read.total == computed.total and read.withheld == computed.withheld
    summed = digest_of(computed.table, family)
    assert read.summed().as_json() == json.loads(json.dumps(summed.as_json()))
    assert read.summed().by_key and read.summed().by_country and read.summed().largest
    assert sum(g["events"] for g in read.summed().by_key) == computed.total
    # the report's summary, from the digest and from the table, is the same
    from_table = dataclasses.replace(computed, digest=None)
    assert dataclasses.asdict(summarize_events(read, 5)) == dataclasses.asdict(
        summarize_events(from_table, 5)
    )


def test_events_stored_without_a_digest_are_summed_from_their_table(store, tmp_path):
    with DuckDBEngine(store) as engine:
        computed = scan_events(engine, PERIOD, limit=0, refresh=True)
        path = computed.stored
        assert path is not None
        table = pq.read_table(path)  # as an earlier teiten wrote it: no digest
        meta = json.loads(table.schema.metadata[b"teiten.events"])
        del meta["digest"]
        pq.write_table(table.replace_schema_metadata({b"teiten.events": json.dumps(meta)}), path)
        read = scan_events(engine, PERIOD, limit=0, digest_only=True)
    assert read.reused and read.table is not None and read.digest is None
    assert read.summed().as_json() == json.loads(json.dumps(computed.summed().as_json()))
