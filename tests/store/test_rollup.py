"""Rollups: every answer read from them equals the answer computed from the packets."""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from _stores import cli

from teiten.analyze.darknet import darknet_size
from teiten.analyze.periods import parse_period
from teiten.analyze.phenomena import find_phenomena
from teiten.analyze.rankings import Filters, rank
from teiten.analyze.series import series
from teiten.knowledge import load_knowledge
from teiten.report.series import daily_overview, mirai_share, trend
from teiten.simulate import SimulationConfig, load_scenario, simulate_to_store
from teiten.store import DuckDBEngine, Store
from teiten.store import rollup as rollup_module
from teiten.store.rollup import complete, rebuild

PERIODS = ["2019Q2", "2019-05", "2019-W20", "2019-05-15", "2019-04-10..2019-05-03"]
FILTERS = [
    Filters(),
    Filters(country="JP"),
    Filters(sensor="beta"),
    Filters(proto="udp"),
    Filters(tags=("mirai",)),
    Filters(exclude_tags=("research", "zmap")),
    Filters(country="CN", proto="tcp", exclude_tags=("masscan",)),
]

# A time series' filters: those its daily digests hold (none, a port with its protocol, a
# country), and some they do not (TCP or UDP, a tag, a port and a country).
SERIES_FILTERS = [
    Filters(),
    Filters(port="23/tcp"),
    Filters(port="445", proto="tcp"),
    Filters(country="JP"),
    Filters(port="53"),
    Filters(tags=("mirai",)),
    Filters(port="23/tcp", country="CN"),
]

COMBOS = [
    (dimension, metric, traffic)
    for dimension in ("ports", "countries", "asns")
    for metric in ("packets", "sources", "per-sensor")
    for traffic in ("probe", "backscatter", "all")
]


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """2019H1 of the 2019q2 scenario, written by ``simulate --store`` (rolled up as written)."""
    root = tmp_path_factory.mktemp("rollup") / "store"
    config = SimulationConfig(
        start=datetime(2019, 1, 1, tzinfo=UTC),
        end=datetime(2019, 7, 1, tzinfo=UTC),
        packets=300_000,
        seed=7,
        scenario=load_scenario("2019q2"),
    )
    store = Store(root)
    simulate_to_store(config, store)
    return Store(root, create=False)


def _answers(store: Store, *, rollups: bool, periods: list[str] = PERIODS) -> dict[str, object]:
    """Rankings over the grid, the report's series, darknet sizes and the phenomena."""
    out: dict[str, object] = {}
    with DuckDBEngine(store, rollups=rollups) as engine:
        assert engine.rolled_up is rollups
        for p, label in enumerate(periods):
            period = parse_period(label)
            for f, filters in enumerate(FILTERS):
                # Every combination on the first period unfiltered; one each elsewhere.
                combos = COMBOS if p == f == 0 else [COMBOS[(5 * p + f) % len(COMBOS)]]
                for dimension, metric, traffic in combos:
                    ranking = rank(
                        engine, dimension, period, metric=metric, traffic=traffic,
                        filters=filters, limit=8,
                    )  # fmt: skip
                    key = f"{label} {f} {dimension} {metric} {traffic}"
                    out[key] = ranking.as_json()
                    if metric != "per-sensor" and dimension != "asns":  # report trends
                        out[key + " trend"] = trend(engine, ranking, ranking.rows[:3]).as_json()
            for f, filters in enumerate(SERIES_FILTERS):
                for metric, traffic in (("packets", "probe"), ("sources", "all")):
                    drawn = series(engine, period, metric=metric, traffic=traffic, filters=filters)
                    out[f"{label} series {f} {metric} {traffic}"] = drawn.as_json()
            totals, overview = daily_overview(engine, period)
            out[f"{label} overview"] = [totals, overview.as_json()]
            out[f"{label} mirai"] = mirai_share(engine, period, "JP").as_json()
            out[f"{label} darknet"] = darknet_size(engine, period.start, period.end).as_json()
    return json.loads(json.dumps(out, default=str))


def test_every_answer_from_the_rollup_equals_the_answer_from_the_packets(simulated):
    assert complete(simulated)
    from_rollup = _answers(simulated, rollups=True)
    from_packets = _answers(simulated, rollups=False)
    assert from_rollup.keys() == from_packets.keys()
    for key, value in from_rollup.items():
        assert value == from_packets[key], key
    # The grid is not empty: rankings have rows, sources and tags.
    q2 = from_rollup["2019Q2 0 ports sources probe"]
    assert q2["rows"] and q2["total"]["sources"] > 1000  # type: ignore[index]


def test_the_phenomena_from_the_rollup_equal_those_from_the_packets(simulated):
    period = parse_period("2019Q2")
    kb = load_knowledge()
    with DuckDBEngine(simulated) as engine:
        rolled = [f.as_json() for f in find_phenomena(engine, period, kb=kb)]
    shutil.rmtree(simulated.root / "events")  # the stored findings: found anew
    with DuckDBEngine(simulated, rollups=False) as engine:
        raw = [f.as_json() for f in find_phenomena(engine, period, kb=kb)]
    assert rolled and rolled == raw


def test_the_rollup_written_with_the_data_equals_one_rebuilt_from_the_packets(simulated, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(simulated.root, copy)
    before = _tables(Store(copy, create=False))
    done = rebuild(Store(copy, create=False))
    assert sum(d.packets for d in done) == 300_000
    assert _tables(Store(copy, create=False)) == before
    files = list((copy / "rollups").glob("*/*.keys.parquet"))
    assert len(files) == len(done)  # one file a day after a rebuild


def _tables(store: Store) -> tuple[list[dict], list[dict]]:
    with DuckDBEngine(store) as engine:
        assert engine.rolled_up
        keys = engine.rows(
            "SELECT day, sensor, kind, proto, port, icmp_type, country, asn, tags, src, "
            "sum(packets) AS packets, min(first_ns) AS first_ns, max(last_ns) AS last_ns "
            "FROM keys GROUP BY ALL ORDER BY ALL"
        )
        dsts = engine.rows("SELECT DISTINCT day, sensor, dst FROM dsts ORDER BY ALL")
    return keys, dsts


def _store_of_an_earlier_release(simulated: Store, root: Path) -> Store:
    """A copy of ``simulated`` as an earlier teiten left it: packets, no rollups."""
    shutil.copytree(simulated.root, root)
    shutil.rmtree(root / "rollups")
    store = Store(root)
    store.manifest.set(rollup_module.META_KEY, None)
    return Store(root, create=False)


def test_a_store_without_rollups_answers_from_its_packets_until_rolled_up(simulated, tmp_path):
    old = _store_of_an_earlier_release(simulated, tmp_path / "old")
    args = ["top", "ports", "--period", "2019Q2", "--metric", "sources", "--json"]
    expected = cli(*args, "--store", simulated.root).output
    assert not complete(old)
    assert cli(*args, "--store", old.root).output == expected
    result = cli("store", "rollup", "--store", old.root, "--json")
    data = json.loads(result.output)
    assert data["packets"] == 300_000 and len(data["days"]) == 181
    assert data["rows"] < 300_000 and data["bytes"] > 0
    assert complete(Store(old.root, create=False))
    assert cli(*args, "--store", old.root).output == expected


def test_a_rebuild_cut_short_leaves_answers_right(simulated, tmp_path, monkeypatch):
    root = tmp_path / "store"
    shutil.copytree(simulated.root, root)
    calls = []

    def dies_on_the_third_day(*args: object) -> object:
        calls.append(args)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args)

    real = rollup_module._rebuild_day
    monkeypatch.setattr(rollup_module, "_rebuild_day", dies_on_the_third_day)
    with pytest.raises(KeyboardInterrupt):
        rebuild(Store(root, create=False))
    monkeypatch.undo()
    store = Store(root, create=False)
    assert not complete(store)  # queries read the packets meanwhile
    with DuckDBEngine(store) as engine:
        assert not engine.rolled_up
        (row,) = engine.rows("SELECT sum(packets) AS n FROM keys")
    assert row["n"] == 300_000
    rebuild(store)
    assert complete(Store(root, create=False))
    assert not list((root / "staging").glob("rollup-*"))


def test_ingest_writes_the_rollup_of_each_batch_with_it(tmp_path):
    from _stores import ingest

    root = tmp_path / "store"
    ingest(root, "stopddos_amp.UDP.isakmp.pcap")
    ingest(root, "pcpp_example2.pcap", sensor="other")
    store = Store(root, create=False)
    assert complete(store)
    batches = store.manifest.batches(state="committed")
    for batch in batches:
        finals = [final for _, final in batch.parts]
        days = {f.split("/")[1] for f in finals if f.startswith("packets/")}
        for day in days:
            for table in ("keys", "sources", "dsts"):
                assert f"rollups/{day}/{batch.batch_id}-0.{table}.parquet" in finals
    with DuckDBEngine(store) as engine:
        (n,) = engine.rows("SELECT count(*) AS n FROM packets")
        (k,) = engine.rows("SELECT sum(packets) AS n FROM keys")
    assert n["n"] == k["n"] > 0


def test_store_check_finds_a_rollup_that_does_not_count_its_day(simulated, tmp_path):
    root = tmp_path / "store"
    shutil.copytree(simulated.root, root)
    report = json.loads(cli("store", "check", "--store", root, "--json").output)
    assert report["ok"] and report["rollups"] == "complete"
    day = root / "rollups" / "day=2019-05-15"
    (next(day.glob("*.keys.parquet"))).unlink()  # one batch's keys rollup lost
    result = cli("store", "check", "--store", root, "--json", ok=False)
    assert result.exit_code == 1
    (problem,) = json.loads(result.output)["problems"]
    assert problem["kind"] == "rollup" and problem["file"] == "rollups/day=2019-05-15"
    assert "--day 2019-05-15" in problem["fix"]
    cli("store", "rollup", "--store", root, "--day", "2019-05-15")
    assert json.loads(cli("store", "check", "--store", root, "--json").output)["ok"]


def test_a_killed_query_s_spill_folder_is_removed_by_the_next_engine(
    simulated, tmp_path, monkeypatch
):
    import subprocess
    import sys

    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # re-read TMPDIR
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], text=True,
                          capture_output=True, check=True).stdout.strip()  # fmt: skip
    orphan = tmp_path / f"teiten-duckdb-{gone}"
    (orphan / "duckdb_temp_storage.tmp").parent.mkdir()
    (orphan / "duckdb_temp_storage.tmp").write_bytes(b"x" * 1000)
    live = tmp_path / f"teiten-duckdb-{os.getppid()}"  # a live process's: kept
    live.mkdir()
    with DuckDBEngine(simulated) as engine:
        assert engine.rows("SELECT 1 AS one") == [{"one": 1}]
    assert not orphan.exists() and live.exists()


# Quarters, months and weeks read from their period rollups (Q2 and its previous, Q1;
# May and April; W20 and W19) and digests, series from the months' daily digests, a
# range with a whole month and a whole week inside (April and W13 from their files, the
# rest from days).
PERIOD_GRID = ["2019Q2", "2019-05", "2019-W20", "2019-03-20..2019-05-10"]


@pytest.fixture(scope="module")
def summed(simulated: Store, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A copy of ``simulated`` with its periods summed (``store rollup --periods``), and
    what that command answered; tests that change it copy it first."""
    root = tmp_path_factory.mktemp("summed") / "store"
    shutil.copytree(simulated.root, root)
    data = json.loads(cli("store", "rollup", "--periods", "--store", root, "--json").output)
    return root, data


def test_month_and_quarter_rollups_give_the_answers_of_the_packets(simulated, summed):
    root, data = summed
    months = [f"2019-{m:02d}" for m in range(1, 7)]
    weeks = [f"2019-W{w:02d}" for w in range(1, 27)]  # W01 starts on 2018-12-31
    assert data["days"] == [] and data["periods"]["summed"] == [*months, "2019Q1", "2019Q2", *weeks]
    store = Store(root, create=False)
    with DuckDBEngine(store) as engine:
        q2 = parse_period("2019Q2")
        assert "2019Q2/keys.parquet" in engine.relation("keys", (q2.start, q2.end))
        mixed = engine.relation(
            "sources", (q2.start - timedelta(days=12), q2.start + timedelta(days=40))
        )
        # The other days' rollup files by name, those of the span's days only.
        assert "2019-04/sources.parquet" in mixed and "period_rollups/2019-05" not in mixed
        assert "day=2019-03-20/" in mixed and "day=2019-05-10/" in mixed
        assert "day=2019-03-19/" not in mixed and "day=2019-05-11/" not in mixed
        # A whole ISO week outside the month (W13: March 25 … 31) from its file too.
        assert "2019-W13/sources.parquet" in mixed and "day=2019-03-25/" not in mixed
        week = parse_period("2019-W20")
        read = engine.relation("keys", (week.start, week.end))
        assert "2019-W20/keys.parquet" in read and ".keys.parquet'" not in read
        # Unfiltered rankings of Q2, May and a week read their digests, whose rows carry
        # their previous ranks; a range has none.
        for p in (q2, parse_period("2019-05"), week):
            found = engine.ranked("ports", (p.start, p.end))
            assert found and f"{p.label}/digest-ports" in found, p
        may_10 = parse_period("2019-03-20..2019-05-10")
        assert engine.digests("totals", (may_10.start, may_10.end)) is None
        assert engine.ranked("ports", (may_10.start, may_10.end)) is None
        # Series read the daily digests of the months a period overlaps.
        w18 = parse_period("2019-W18")  # 2019-04-29 … 2019-05-05
        found = engine.daily("ports", w18.start, w18.end)
        assert found and "2019-04/daily-ports" in found and "2019-05/daily-ports" in found
        # January's previous month holds no day: its rows have no previous rank.
        jan = parse_period("2019-01")
        found = engine.ranked("countries", (jan.start, jan.end))
        assert found and "2019-01/digest-countries" in found
        ranks = engine.rows(f"SELECT DISTINCT previous_rank_packets AS r FROM {found}")
        assert ranks == [{"r": None}]
    expected = _answers(simulated, rollups=False, periods=PERIOD_GRID)
    assert _answers(store, rollups=True, periods=PERIOD_GRID) == expected
    # Summed again: nothing to do, all current.
    data = json.loads(cli("store", "rollup", "--periods", "--store", root, "--json").output)
    assert data["periods"]["summed"] == []


@pytest.mark.parametrize("label", ["2019-05", "2019Q2"])  # (a week has fewer rows)
def test_a_digest_s_front_rows_lead_in_a_row_group_of_their_own(summed, label):
    """A dimension's digest starts with the rows ranked up to FRONT_RANKS (by packets or
    by sources), in one row group; the others' statistics say they rank below: a
    ranking of up to that many rows reads the first group only."""
    from teiten.store.queries.rankings import FRONT_RANKS

    path = summed[0] / "period_rollups" / label / "digest-ports.parquet"
    meta = pq.ParquetFile(path).metadata
    names = [meta.schema.column(i).name for i in range(meta.num_columns)]
    rows = pq.read_table(path, columns=["traffic", "rank_packets", "rank_sources"]).to_pylist()
    front = [min(r["rank_packets"], r["rank_sources"]) <= FRONT_RANKS for r in rows]
    assert meta.num_row_groups >= 2 and not all(front), "the store needs rows past the front"
    assert meta.row_group(0).num_rows == sum(front) and all(front[: sum(front)])
    for group in range(1, meta.num_row_groups):
        for column in ("rank_packets", "rank_sources"):
            stats = meta.row_group(group).column(names.index(column)).statistics
            assert stats.has_min_max and stats.min > FRONT_RANKS, (group, column)
    # Each traffic kind's rows lie by rank within each part.
    lead = [(not f, r["traffic"], r["rank_packets"]) for f, r in zip(front, rows, strict=True)]
    assert lead == sorted(lead)


def test_kept_rows_are_read_once_for_the_engines_sharing_a_database(summed):
    store = Store(summed[0], create=False)
    may = parse_period("2019-05")
    with DuckDBEngine(store) as engine:
        totals = engine.digests("totals", (may.start, may.end))
        sql = f"SELECT * FROM {totals}"
        with engine.sharing(Store(summed[0], create=False)) as one:
            first = one.kept_rows(sql)
            first[0]["packets"] = -1  # a caller's copy
        with engine.sharing(Store(summed[0], create=False)) as other:
            assert other.kept_rows(sql) == engine.rows(sql) != first
            kept = [key for key in other._relations or {} if key[0] == "rows"]
            assert len(kept) == 1  # read once, by the first engine


def test_a_months_daily_rows_are_read_once_for_its_quarter_month_and_weeks(
    simulated, summed, monkeypatch
):
    store = Store(summed[0], create=False)
    asked = [parse_period(p) for p in ("2019Q2", "2019-05", "2019-W20", "2019-04-29..2019-05-05")]
    filters = [Filters(), Filters(port="23/tcp"), Filters(country="JP")]
    with DuckDBEngine(simulated, rollups=False) as packets:
        expected = [series(packets, p, filters=f).as_json() for p in asked for f in filters]
    queries: list[str] = []
    rows = DuckDBEngine.rows

    def counted(self, sql, params=None):
        queries.append(sql)
        return rows(self, sql, params)

    monkeypatch.setattr(DuckDBEngine, "rows", counted)
    with DuckDBEngine(store) as engine:
        found = []
        for period in asked:
            with engine.sharing(Store(summed[0], create=False)) as twin:
                found += [series(twin, period, filters=f).as_json() for f in filters]
            if period.label == "2019Q2":
                assert len(queries) == 9  # three months' rows of three series
                queries.clear()
    assert found == expected
    assert queries == []  # May, its week and a range within it: the rows kept


@pytest.mark.parametrize("label", ["2019-05", "2019Q2"])
@pytest.mark.parametrize("table", ["keys", "sources"])
def test_a_period_s_rows_lie_by_kind_and_country_for_a_country_to_skip_the_rest(
    summed, label, table
):
    """A period rollup is ordered by traffic kind and country, and each row group says
    which kinds and countries it holds: a question about one country skips the others."""
    path = summed[0] / "period_rollups" / label / f"{table}.parquet"
    meta = pq.ParquetFile(path).metadata
    names = [meta.schema.column(i).name for i in range(meta.num_columns)]
    for group in range(meta.num_row_groups):
        for column in ("kind", "country"):
            stats = meta.row_group(group).column(names.index(column)).statistics
            assert stats is not None and stats.has_min_max, (group, column)
    rows = pq.read_table(path, columns=["kind", "country"]).to_pylist()
    keys = [(r["kind"], r["country"] is None, r["country"] or "") for r in rows]
    assert len(rows) > 1000 and keys == sorted(keys)


def test_a_changed_day_makes_its_month_and_quarter_stale_until_summed_again(summed, tmp_path):
    root = tmp_path / "store"
    shutil.copytree(summed[0], root)
    cli("store", "remove", "--days", "2019-05-15", "--store", root, "--yes")
    store = Store(root, create=False)
    q2 = parse_period("2019Q2")
    with DuckDBEngine(store) as engine:
        used = engine.relation("keys", (q2.start, q2.end))
    assert "2019Q2/" not in used and "2019-05/" not in used and "2019-04/keys" in used
    expected = _answers(store, rollups=False, periods=PERIOD_GRID[:2])
    assert _answers(store, rollups=True, periods=PERIOD_GRID[:2]) == expected
    # June's and week 21's rows took their previous ranks from May and week 20 before.
    june, w21 = parse_period("2019-06"), parse_period("2019-W21")
    with DuckDBEngine(store) as engine:
        assert engine.ranked("ports", (june.start, june.end)) is None
        assert engine.ranked("countries", (w21.start, w21.end)) is None
        assert engine.ranked("ports", (q2.start, q2.end)) is None
    periods = [*PERIOD_GRID[:2], "2019-06", "2019-W21"]
    expected = _answers(store, rollups=False, periods=periods)
    assert _answers(store, rollups=True, periods=periods) == expected
    data = json.loads(cli("store", "rollup", "--periods", "--store", root, "--json").output)
    # Summed anew; June and week 21 their previous ranks taken anew.
    assert data["periods"]["summed"] == ["2019-05", "2019Q2", "2019-W20", "2019-06", "2019-W21"]
    with DuckDBEngine(Store(root, create=False)) as engine:
        assert "2019Q2/keys.parquet" in engine.relation("keys", (q2.start, q2.end))
        for p in (june, w21, q2):
            assert engine.ranked("ports", (p.start, p.end)), p
    assert _answers(Store(root, create=False), rollups=True, periods=periods) == expected
    data = json.loads(cli("store", "rollup", "--periods", "--store", root, "--json").output)
    assert data["periods"]["summed"] == []


def test_a_digest_whose_previous_ranks_are_stale_is_not_read_until_ranked_anew(
    simulated, summed, tmp_path
):
    """As a rerank killed between two files leaves it: one dimension's digest records
    another previous state than the previous period's (its other files current)."""
    root = tmp_path / "store"
    shutil.copytree(summed[0], root)
    path = root / "period_rollups" / "2019-06" / "digest-countries.parquet"
    table = pq.read_table(path)
    meta = table.schema.metadata or {}
    record = json.loads(meta[b"teiten.period_rollup"]) | {"previous": "an older state"}
    meta = {**meta, b"teiten.period_rollup": json.dumps(record).encode()}
    pq.write_table(table.replace_schema_metadata(meta), path)
    june = parse_period("2019-06")
    with DuckDBEngine(Store(root, create=False)) as engine:
        assert engine.ranked("countries", (june.start, june.end)) is None
        assert engine.ranked("ports", (june.start, june.end))
    periods = ["2019-06"]
    expected = _answers(simulated, rollups=False, periods=periods)
    assert _answers(Store(root, create=False), rollups=True, periods=periods) == expected
    data = json.loads(cli("store", "rollup", "--periods", "--store", root, "--json").output)
    assert data["periods"]["summed"] == ["2019-06"]
    with DuckDBEngine(Store(root, create=False)) as engine:
        assert engine.ranked("countries", (june.start, june.end))
    assert _answers(Store(root, create=False), rollups=True, periods=periods) == expected


def test_ingest_leaves_the_month_and_quarter_sums_to_store_rollup_periods(tmp_path):
    """Summing an ended month and its quarter again at every capture cost more than the
    ingest; `store rollup --periods` (or compaction) sums them once."""
    from _stores import ingest

    root = tmp_path / "store"
    ingest(root, "stopddos_amp.UDP.isakmp.pcap")
    assert not (root / "period_rollups").exists()
    answer = json.loads(cli("store", "rollup", "--store", root, "--periods", "--json").output)
    assert answer["periods"]["summed"]
    assert {p.name for p in (root / "period_rollups").iterdir()} == set(answer["periods"]["summed"])


def test_a_damaged_period_rollup_is_not_read(simulated, summed, tmp_path):
    root = tmp_path / "store"
    shutil.copytree(summed[0], root)
    (root / "period_rollups" / "2019Q2" / "keys.parquet").write_bytes(b"not parquet")
    (root / "period_rollups" / "2019-05" / "digest-ports.parquet").write_bytes(b"not parquet")
    (root / "period_rollups" / "2019-W20" / "digest-ports.parquet").write_bytes(b"")
    (root / "period_rollups" / "2019-03" / "daily-ports.parquet").write_bytes(b"not parquet")
    q2, may, w20 = parse_period("2019Q2"), parse_period("2019-05"), parse_period("2019-W20")
    with DuckDBEngine(Store(root, create=False)) as engine:
        assert "2019Q2" not in engine.relation("keys", (q2.start, q2.end))
        assert engine.ranked("ports", (may.start, may.end)) is None
        # Each file is checked on its own: Q2's totals digest is intact and current.
        assert "2019Q2/digest-totals" in (engine.digests("totals", (q2.start, q2.end)) or "")
        assert engine.ranked("ports", (w20.start, w20.end)) is None
        assert engine.daily("ports", date(2019, 3, 25), date(2019, 4, 8)) is None
    for period in ("2019Q2", "2019-05", "2019-W20"):
        args = ("top", "ports", "--period", period, "--json", "--store")
        assert cli(*args, root).output == cli(*args, simulated.root).output
    args = ("series", "--period", "2019-03-25..2019-04-07", "--port", "23/tcp", "--json")
    assert cli(*args, "--store", root).output == cli(*args, "--store", simulated.root).output


def test_the_engine_reads_what_period_files_record_as_pyarrow_does(summed, tmp_path):
    from teiten.store.period_rollups import read_record

    root = tmp_path / "store"
    shutil.copytree(summed[0], root)
    damaged = root / "period_rollups" / "2019-05" / "keys.parquet"
    damaged.write_bytes(b"not parquet")
    files = sorted((root / "period_rollups").glob("2019-0[45]/*.parquet"))
    with DuckDBEngine(Store(root, create=False)) as engine:
        for path in files:
            assert engine._record(path) == read_record(path), path
        assert engine._record(damaged) is None and engine._record(root / "none.parquet") is None
    assert sum(read_record(p) is not None for p in files) == len(files) - 1


def test_store_check_finds_a_period_rollup_that_does_not_count_its_days(summed, tmp_path):
    root = tmp_path / "store"
    shutil.copytree(summed[0], root)
    assert json.loads(cli("store", "check", "--store", root, "--json").output)["problems"] == []
    # A file that reads but counts what its days do not (state kept: queries would use it).
    path = root / "period_rollups" / "2019-05" / "keys.parquet"
    table = pq.read_table(path)
    pq.write_table(table.slice(1).replace_schema_metadata(table.schema.metadata), path)
    result = cli("store", "check", "--store", root, "--json", ok=False)
    (problem,) = json.loads(result.output)["problems"]
    assert problem["kind"] == "period-rollup" and problem["file"] == "period_rollups/2019-05"
    assert "teiten store rollup --periods" in problem["fix"]


def test_calendar_periods_of_any_month_are_summed(tmp_path):
    from teiten.store.period_rollups import periods_of

    days = [date(2018, m, 3) for m in (1, 6, 11, 12)]
    labels = [p.label for p in periods_of(days)]
    assert labels == ["2018-01", "2018-06", "2018-11", "2018-12", "2018Q1", "2018Q2", "2018Q4"]
    # ISO weeks too, for period rollups (their digests): 2018-12-31 is in 2019-W01.
    weeks = [p for p in periods_of([date(2018, 12, 31)], weeks=True) if "W" in p.label]
    assert [(w.label, w.start, w.end) for w in weeks] == [
        ("2019-W01", date(2018, 12, 31), date(2019, 1, 7))
    ]
    december = periods_of([date(2018, 12, 31)])[0]
    assert (december.start, december.end) == (date(2018, 12, 1), date(2019, 1, 1))


def _doubled(table: pa.Table) -> pa.Table:
    doubled = pa.compute.multiply(table.column("packets"), 2)
    return table.set_column(table.schema.get_field_index("packets"), "packets", doubled)


def _one_lost(table: pa.Table) -> pa.Table:
    first = table.column("traffic").to_pylist().index("all")  # a row of all traffic lost
    return pa.concat_tables([table.slice(0, first), table.slice(first + 1)])


@pytest.mark.parametrize(
    ("label", "name", "change"),
    [
        ("2019Q1", "digest-countries", _doubled),
        ("2019-W10", "digest-ports", _doubled),
        ("2019-03", "daily-ports", _one_lost),
    ],
)
def test_store_check_finds_a_digest_that_does_not_count_its_period(
    summed, tmp_path, label, name, change
):
    root = tmp_path / "store"
    shutil.copytree(summed[0], root)
    path = root / "period_rollups" / label / f"{name}.parquet"
    table = pq.read_table(path)
    pq.write_table(change(table).replace_schema_metadata(table.schema.metadata), path)
    result = cli("store", "check", "--store", root, "--json", ok=False)
    (problem,) = json.loads(result.output)["problems"]
    assert problem["kind"] == "period-rollup" and problem["file"] == f"period_rollups/{label}"
    assert f"{name} counts" in problem["detail"]


def test_a_share_of_the_memory_limit_is_in_bytes(monkeypatch):
    from teiten.store.engine import ENV_MEMORY, memory_limit

    monkeypatch.delenv(ENV_MEMORY, raising=False)
    assert memory_limit() == "1GB" and memory_limit(0.5) == "500000000B"
    monkeypatch.setenv(ENV_MEMORY, "3 GiB")
    assert memory_limit(0.5) == f"{3 * 2**29}B"
    monkeypatch.setenv(ENV_MEMORY, "80%")  # not in bytes: kept whole
    assert memory_limit(0.5) == "80%"


def test_the_store_totals_from_the_rollup_equal_those_of_the_packets(simulated):
    """`store info` (and /api/v1/store) count from the rollup: the same days, packets and
    sensors' first and last instants as the packets give, for any raw horizon."""
    from teiten.store import queries

    for since in (None, date(2019, 5, 10)):
        answers = []
        for view in ("packets", "sources"):
            with DuckDBEngine(simulated) as engine:
                answers.append(
                    [
                        engine.rows(*queries.holdings.store_totals(view, since)),
                        engine.rows(*queries.holdings.sensor_totals(view, since)),
                    ]
                )
        assert answers[0] == answers[1] and answers[0][0][0]["packets"] > 0
