"""Spark answers as DuckDB does: every analysis command's --json, byte for byte.

One Spark session (local mode, a real JVM: `make test` installs Debian's headless JRE and
the ``spark`` extra) serves the module. Stores: a small simulation of the 2019q2
scenario (rollups complete) and one ingested from real captures, read both from its
rollups and, as a store of an earlier release is, from its packets.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from analyze.phenomena._stores import simulated_store
from store._stores import Q2, TWO_DAYS, ingest
from teiten.cli import main
from teiten.store import DuckDBEngine, Store, open_engine

pytest.importorskip("pyspark", reason="the spark extra is not installed (make test installs it)")
if shutil.which("java") is None:
    pytest.fail("java is not installed; `make test` installs it (openjdk-17-jre-headless)")

VOLATILE = ("seconds", "reused", "stored")  # how an event report was obtained, not its answer


@pytest.fixture(scope="module")
def spark():
    from teiten.store.spark import spark_session

    return spark_session()


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    store, _ = simulated_store(
        tmp_path_factory.mktemp("sim"),
        "2019q2",
        40_000,
        start=datetime(2019, 4, 1, tzinfo=UTC),
        end=datetime(2019, 6, 1, tzinfo=UTC),
    )
    return store.root


@pytest.fixture(scope="module")
def captured(tmp_path_factory):
    root = tmp_path_factory.mktemp("cap") / "store"
    ingest(root, *Q2, TWO_DAYS)
    return root


def _answer(root: Path, args: list[str], engine: str) -> str:
    shutil.rmtree(root / "events", ignore_errors=True)  # computed anew by this engine
    result = CliRunner().invoke(main, [*args, "--store", str(root), "--engine", engine])
    assert result.exit_code == 0, (engine, args, result.output)
    data = json.loads(result.output)
    for key in VOLATILE:
        data.pop(key, None)
    return json.dumps(data, ensure_ascii=False, indent=1)


def _same(root: Path, *args: str) -> str:
    want = _answer(root, list(args), "duckdb")
    assert _answer(root, list(args), "spark") == want, args
    return want


TOP = [
    ["top", "ports", "--period", "2019-05", "--json", "--metric", "sources"],
    ["top", "ports", "--period", "2019-05", "--json", "--metric", "per-sensor", "--proto", "tcp",
     "--exclude-tag", "research", "--traffic", "all", "--explain"],
    ["top", "asns", "--period", "2019-05", "--json", "--prefix", "128.0.0.0/1",
     "--prefix", "2000::/3"],
    ["top", "countries", "--period", "2019-05", "--json", "--prefix", "0.0.0.0/2"],
]  # fmt: skip


@pytest.mark.parametrize("args", TOP, ids=lambda a: " ".join(a[1:6:2]))
def test_rankings_are_the_same(spark, simulated, args):
    assert json.loads(_same(simulated, *args))["rows"]


def test_sources_and_one_source_are_the_same(spark, simulated):
    found = json.loads(_same(simulated, "sources", "--period", "2019-05", "--json"))
    _same(simulated, "sources", "--period", "2019-05", "--json", "--tag", "mirai", "--port", "23")
    _same(simulated, "sources", "--period", "2019-05", "--json", "--prefix", "64.0.0.0/2")
    _same(simulated, "sources", "--period", "2019-05", "--json", "--asn", "64500", "--asn", "1")
    _same(simulated, "source", found["rows"][0]["source"], "--json")


def test_series_are_the_same(spark, simulated):
    days = ["series", "--period", "2019-05", "--json", "--traffic", "all", "--port", "23"]
    assert any(json.loads(_same(simulated, *days, "--metric", "sources"))["values"])
    hours = ["series", "--period", "2019-05-01..2019-05-02", "--by", "hour", "--json"]
    assert any(json.loads(_same(simulated, *hours, "--tag", "mirai"))["values"])


def test_series_and_week_rankings_from_digests_are_spark_s(spark, simulated, tmp_path):
    """DuckDB reads the months' daily digests and the weeks' digests; Spark the rollups."""
    root = tmp_path / "store"
    shutil.copytree(simulated, root)
    assert (
        CliRunner().invoke(main, ["store", "rollup", "--periods", "--store", str(root)]).exit_code
        == 0
    )
    assert (root / "period_rollups" / "2019-05" / "daily-ports.parquet").exists()
    week = ["--period", "2019-W18", "--json"]  # 2019-04-29 … 2019-05-05: two months
    for args in (
        ["--port", "23/tcp", "--metric", "sources", "--traffic", "all"],
        ["--country", "JP"],
    ):
        assert any(json.loads(_same(root, "series", *week, *args))["values"])
    assert json.loads(_same(root, "top", "ports", *week, "--traffic", "all"))["rows"]
    _same_report(root, "2019Q2", tmp_path)  # its trends of the top rows: daily digests


def test_events_are_the_same(spark, simulated, captured):
    scans = json.loads(_same(simulated, "events", "scans", "--period", "2019-05", "--json"))
    assert scans["total"]["events"] > 0
    args = ["events", "scans", "--period", "2019-05", "--json", "--prefix", "128.0.0.0/1"]
    some = json.loads(_same(simulated, *args, "--prefix", "2000::/3", "--limit", "100000"))
    assert 0 < some["total"]["events"] < scans["total"]["events"]
    dos = json.loads(_same(captured, "events", "dos", "--period", "2021Q2", "--json"))
    assert dos["total"]["events"] > 0


def test_infected_hosts_are_the_same(spark, simulated):
    found = json.loads(_same(simulated, "infected", "--period", "2019-05", "--json"))
    assert found["total"]["sources"] > 0 and any(found["trend"]["values"])


def test_notification_findings_are_the_same(spark, simulated):
    """What `teiten notify build --engine spark` puts in the feeds: the same findings."""
    from teiten.analyze.periods import parse_period
    from teiten.notify.findings import KINDS, find

    found = {}
    for engine_name in ("duckdb", "spark"):
        with open_engine(Store(simulated, create=False), engine_name) as engine:
            found[engine_name] = find(engine, parse_period("2019-05"), sorted(KINDS))
    assert found["duckdb"].rows and {r.kind for r in found["duckdb"].rows} >= {"mirai"}
    assert found["spark"] == found["duckdb"]


def test_phenomena_are_the_same(spark, simulated):
    found = json.loads(_same(simulated, "phenomena", "--period", "2019-05", "--json"))
    assert found["findings"]


def test_captured_store_answers_the_same(spark, captured):
    for args in (
        ["top", "ports", "--period", "2021Q2", "--json", "--traffic", "all", "--limit", "3"],
        ["top", "countries", "--period", "2010", "--json", "--traffic", "all", "--tag", "mirai"],
        ["sources", "--period", "2021Q2", "--json", "--traffic", "backscatter"],
    ):
        _same(captured, *args)


def _same_report(root: Path, period: str, tmp_path: Path) -> None:
    """The report's Markdown and its charts (their drawn values) are the same."""
    made = {}
    for engine in ("duckdb", "spark"):
        shutil.rmtree(root / "events", ignore_errors=True)
        out = tmp_path / engine / "report.md"
        args = ["report", "--store", root, "--period", period, "--format", "md"]
        result = CliRunner().invoke(main, [*map(str, args), "--out", str(out), "--engine", engine])
        assert result.exit_code == 0, result.output
        charts = sorted((tmp_path / engine / "report_charts").glob("*.svg"))
        assert charts
        made[engine] = [out.read_text(), *(c.read_text() for c in charts)]
    assert made["spark"] == made["duckdb"]


def test_report_is_the_same(spark, captured, tmp_path):
    _same_report(captured, "2021Q2", tmp_path)


def test_packets_read_without_rollups_give_the_same_rows(spark, captured):
    """A store of an earlier release: the rollup views aggregate the packets on the fly."""
    sql = (
        "SELECT day, proto, port, sum(packets) AS n, count(DISTINCT src) AS sources "
        "FROM keys GROUP BY ALL ORDER BY day, proto, port NULLS LAST"
    )
    store = Store(captured, create=False)
    with DuckDBEngine(store) as duck, open_engine(store, "spark", rollups=False) as spark_engine:
        assert spark_engine.rolled_up is False
        want = duck.rows(sql)
        assert spark_engine.rows(sql) == want
        assert isinstance(want[0]["day"], date)


def test_days_held_as_rollups_only_join_the_packets_aggregation(spark, captured, tmp_path):
    """Raw retention dropped the old days' packets: views that aggregate the packets (a
    rollup being rebuilt) read those days' rollup files too, on either engine."""
    root = tmp_path / "dropped"
    shutil.copytree(captured, root)
    for args in (["retention", "--days", "30"], ["retain"]):
        result = CliRunner().invoke(main, ["store", *args, "--store", str(root)])
        assert result.exit_code == 0, result.output
    sql = (
        "SELECT k.day, k.proto, k.port, k.n, k.sources, d.dsts FROM (SELECT day, proto, "
        "port, sum(packets) AS n, count(DISTINCT src) AS sources FROM keys GROUP BY ALL) k "
        "JOIN (SELECT day, count(*) AS dsts FROM dsts GROUP BY day) d ON k.day = d.day "
        "ORDER BY k.day, k.proto, k.port NULLS LAST"
    )
    store = Store(root, create=False)
    with (
        DuckDBEngine(store) as rolled,
        DuckDBEngine(store, rollups=False) as duck,
        open_engine(store, "spark", rollups=False) as spark_engine,
    ):
        want = rolled.rows(sql)
        assert date(2021, 4, 1) in {r["day"] for r in want}
        assert duck.rows(sql) == want
        assert spark_engine.rows(sql) == want


def test_rows_carry_the_python_types_duckdb_gives(spark, captured):
    sql = (
        "SELECT day, src, sensor, count(*) AS n, min(t_ns) AS first_ns, "
        "min(ts) AS first_ts FROM packets GROUP BY day, src, sensor ORDER BY n DESC, src LIMIT 5"
    )
    store = Store(captured, create=False)
    with DuckDBEngine(store) as duck, open_engine(store, "spark") as spark_engine:
        assert spark_engine.dialect == "spark"
        got, want = spark_engine.rows(sql), duck.rows(sql)
    assert [{k: type(v) for k, v in r.items()} for r in got] == [
        {k: type(v) for k, v in r.items()} for r in want
    ]
    assert [{k: v for k, v in r.items()} for r in got] == want


def test_an_empty_store_has_empty_views(spark, tmp_path):
    store = Store(tmp_path / "empty")
    with open_engine(store, "spark") as engine:
        for view in ("packets", "keys", "sources", "dsts"):
            assert engine.rows(f"SELECT count(*) AS n FROM {view}") == [{"n": 0}]


def test_engine_from_the_environment(spark, captured, monkeypatch):
    monkeypatch.setenv("TEITEN_ENGINE", "spark")
    with open_engine(Store(captured, create=False)) as engine:
        assert engine.dialect == "spark"
    monkeypatch.setenv("TEITEN_ENGINE", "sqlite")
    result = CliRunner().invoke(
        main, ["top", "ports", "--store", str(captured), "--period", "2021"]
    )
    assert result.exit_code == 2
    assert "unknown engine 'sqlite' ($TEITEN_ENGINE): use one of duckdb, spark" in result.output


def test_without_pyspark_the_error_says_how_to_install_it(captured, monkeypatch):
    import sys

    import teiten.store.spark as spark_module

    monkeypatch.setattr(spark_module, "_SESSION", None)
    monkeypatch.setitem(sys.modules, "pyspark", None)  # import fails as if not installed
    args = ["top", "ports", "--store", str(captured), "--period", "2021Q2", "--engine", "spark"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    assert result.output == ("Error: --engine spark needs PySpark: pip install 'teiten[spark]'\n")


def test_store_rollup_with_spark_writes_what_duckdb_writes(spark, captured, tmp_path):
    import pyarrow.parquet as pq

    def rolled(root: Path, engine: str) -> dict[str, list]:
        result = CliRunner().invoke(
            main, ["store", "rollup", "--store", str(root), "--engine", engine, "--json"]
        )
        assert result.exit_code == 0, result.output
        found = {}
        for name in ("keys", "sources", "dsts"):
            for path in sorted(root.glob(f"rollups/*/*.{name}.parquet")):
                table = pq.read_table(path)
                rows = sorted(map(repr, table.to_pylist()))
                found[f"{path.parent.name}/{name}"] = [str(table.schema), rows]
        answer = json.loads(result.output)
        return found, [
            {k: d[k] for k in ("day", "packets", "rows", "sources")} for d in answer["days"]
        ]

    copy = tmp_path / "copy"
    shutil.copytree(captured, copy)
    assert rolled(copy, "spark") == rolled(captured, "duckdb")
    assert Store(copy, create=False).manifest.get("rollups") == "complete v1"
