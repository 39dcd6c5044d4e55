"""A period's findings kept in the store: read back while current, found anew when the
settings, the knowledge base or a day they read changed, or when the file is damaged."""

from __future__ import annotations

import dataclasses
import json
import shutil
from datetime import UTC, date, datetime, timedelta

import pytest

from analyze.phenomena._stores import simulated_store
from conftest import rows_table
from teiten.analyze.periods import Period, parse_period
from teiten.analyze.phenomena import PhenomenaSettings, find_phenomena, stored
from teiten.analyze.phenomena.model import Finding
from teiten.knowledge import KnowledgeBase, load_knowledge
from teiten.store import DuckDBEngine, InputRecord, Store

PERIOD = parse_period("2019-05")


@pytest.fixture
def store(tmp_path_factory: pytest.TempPathFactory, tmp_path) -> Store:
    """April and May 2019 of the 2019q2 scenario (a copy per test: they change it)."""
    base = tmp_path_factory.getbasetemp() / "stored-findings"
    if not base.exists():
        simulated_store(
            base, "2019q2", 40_000,
            start=datetime(2019, 4, 1, tzinfo=UTC), end=datetime(2019, 6, 1, tzinfo=UTC),
        )  # fmt: skip
    shutil.copytree(base / "store", tmp_path / "store")
    return Store(tmp_path / "store", create=False)


def _find(store: Store, **settings: object) -> list[dict]:
    with DuckDBEngine(store) as engine:
        kb = load_knowledge(store=store.root)
        found = find_phenomena(engine, PERIOD, kb=kb, **settings)  # type: ignore[arg-type]
        return [f.as_json() for f in found]


def _files(store: Store) -> list[str]:
    return sorted(p.name for p in (store.root / "events" / "findings").rglob("*.parquet"))


def _at(engine: DuckDBEngine, period: Period, kb: KnowledgeBase) -> stored.Place:
    """Where the findings of ``period`` at the default settings are kept."""
    return stored.place(engine, period, PhenomenaSettings(), kb)


def _plant(store: Store, text: str) -> None:
    """Overwrite the stored findings of PERIOD (default settings) with one whose title is
    ``text``: a query that returns it read the stored file."""
    kb = load_knowledge(store=store.root)
    with DuckDBEngine(store) as engine:
        kept = stored.load(engine, PERIOD, _at(engine, PERIOD, kb))
        assert kept
        planted = dataclasses.replace(kept[0], title={"en": text, "ja": text})
        stored.save(engine, PERIOD, _at(engine, PERIOD, kb), PhenomenaSettings(), [planted])


def _add(store: Store, day: date) -> None:
    """A late batch of probes on ``day``."""
    noon = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    rows = [
        {"ts": (noon + timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%S"),
         "src": "203.0.113.9", "dst": f"198.51.100.{i}", "dport": 23}
        for i in range(5)
    ]  # fmt: skip
    writer = store.writer("s1", "test", "test")
    writer.write(rows_table(rows))
    writer.commit([InputRecord(f"test:{day}", str(day), 1, 5, 0)])


def test_findings_are_kept_and_read_back_unchanged(store):
    first = _find(store)
    assert first and len(_files(store)) == 1
    assert _find(store) == first  # read back: the same JSON
    _plant(store, "planted")
    assert _find(store)[0]["title"]["en"] == "planted"  # the stored file answers
    # other settings are another result, found now
    other = _find(store, settings=PhenomenaSettings(top_n=3))
    assert other and other[0]["title"]["en"] != "planted" and len(_files(store)) == 2


def test_a_finding_reads_back_as_the_same_object(store):
    first = _find(store)
    again = [Finding.from_json(json.loads(json.dumps(f, ensure_ascii=False))) for f in first]
    assert [f.as_json() for f in again] == first


def test_late_packets_on_a_day_read_find_them_anew(store):
    clean = _find(store)
    _plant(store, "planted")
    _add(store, date(2019, 6, 20))  # after the period: not a day it reads
    assert _find(store)[0]["title"]["en"] == "planted"
    _add(store, date(2019, 4, 20))  # the previous month: read (entrants, baselines)
    with DuckDBEngine(store) as engine:
        kb = load_knowledge(store=store.root)
        assert not stored.stored(engine, PERIOD, _at(engine, PERIOD, kb))
    found = _find(store)
    assert found[0]["title"]["en"] != "planted"
    shutil.rmtree(store.root / "events")
    assert _find(store) == found  # what a fresh computation gives
    assert [f["kind"] for f in found] == [f["kind"] for f in clean]


def test_another_knowledge_base_finds_them_anew(store):
    _find(store)
    _plant(store, "planted")
    kb = load_knowledge(store=store.root)
    newer = dataclasses.replace(kb, edition=kb.edition + timedelta(days=1))
    with DuckDBEngine(store) as engine:
        assert stored.stored(engine, PERIOD, _at(engine, PERIOD, kb))
        assert not stored.stored(engine, PERIOD, _at(engine, PERIOD, newer))
        found = find_phenomena(engine, PERIOD, kb=newer)
    assert found[0].title["en"] != "planted"


def test_a_damaged_file_is_found_anew(store):
    first = _find(store)
    (path,) = (store.root / "events" / "findings").rglob("*.parquet")
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    assert _find(store) == first
    path.write_bytes(b"not parquet")
    assert _find(store) == first


def test_store_rollup_finds_those_of_ended_months_and_quarters(store):
    from click.testing import CliRunner

    from teiten.cli import main

    def rollup() -> dict:
        result = CliRunner().invoke(main, ["store", "rollup", "--store", str(store.root), "--json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.output)

    shutil.rmtree(store.root / "events", ignore_errors=True)
    assert rollup()["sessions"]["findings"] == ["2019-04", "2019-05", "2019Q2"]
    assert rollup()["sessions"]["findings"] == []  # current: none again
    with DuckDBEngine(store) as engine:
        kb = load_knowledge(store=store.root)
        for label in ("2019-04", "2019-05", "2019Q2"):
            assert stored.stored(engine, parse_period(label), _at(engine, parse_period(label), kb))
