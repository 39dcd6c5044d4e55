"""The analyses' SQL (teiten.store.queries): named markers only, each with its value.

Every statement is built over a grid of its structural choices, its ``$name`` markers
compared with its values, and run by DuckDB over an empty store (which binds every
marker and checks the SQL; the statements over session fragments read empty fragment
tables). Their answers are tested by the analyses' tests; the Spark spelling by
tests/test_cli_spark.py.
"""

from __future__ import annotations

import inspect
import re
from datetime import date, timedelta

import pyarrow as pa
import pytest

from teiten.analyze import dos as dos_module
from teiten.analyze import scans as scans_module
from teiten.analyze.events import Window
from teiten.analyze.sessions import DAY_NS, Fragments, chain, sessionize
from teiten.store import DuckDBEngine, Store, queries
from teiten.store.dialect import named_params
from teiten.store.queries.attribution import Probes

FIRST, SPLIT, END = date(2019, 4, 1), date(2019, 5, 1), date(2019, 6, 1)
FILTERED = queries.filters.where(tags=1, exclude_tags=6, country="JP", sensor="a", proto=6)
# The conditions a statement may get per table it reads (``sources`` has no protocol).
WHERES = {
    "keys": [
        queries.NO_CONDITION,
        queries.filters.where(kind="probe"),
        FILTERED,
        queries.filters.where(port=23),  # TCP or UDP
        queries.filters.where(proto=1, port=8, kind="probe"),  # ICMP: the type
    ],
    "sources": [
        queries.NO_CONDITION,
        queries.filters.where(tags=1, exclude_tags=6, country="JP", sensor="a", kind="probe"),
    ],
}


def _statements(dialect: str) -> list[queries.Statement]:
    r, s = queries.rankings, queries.series
    out = [
        queries.darknet.observed_sensors(FIRST, END),
        queries.holdings.has_rows("packets", FIRST, END),
        queries.holdings.has_rows("sources", FIRST, END),
        queries.holdings.held_days("packets"),
        queries.holdings.held_days("sources"),
        queries.holdings.sensor_labels(),
        queries.holdings.rolled_up_only(SPLIT),
        queries.holdings.kind_per_day("probe", FIRST, SPLIT),
        *(
            totals(view, since)
            for totals in (queries.holdings.store_totals, queries.holdings.sensor_totals)
            for view in ("packets", "sources")
            for since in (None, SPLIT)
        ),
        s.period_totals(FIRST, END),
        s.kinds(FIRST, END),
        s.daily_packets(FIRST, END),
        s.probes_per_day("JP", FIRST, END),
        queries.attribution.contributors(
            dialect,
            [
                Probes(FIRST, END, country="JP", mirai=True),
                Probes(SPLIT, END, country="CN"),
                Probes(FIRST, SPLIT, proto=6, port=23),
                Probes(FIRST, END, country="US", proto=17, port=53),
            ],
            max_sources=10,
        ),
    ]
    for table, keys, shown, dimension in (
        ("keys", ("proto", "port", "icmp_type"), [(6, 23, None), (1, None, 8)], "ports"),
        ("sources", ("country",), [("JP",), (None,)], "countries"),
    ):
        for where in WHERES[table]:
            for by_sources in (False, True):
                for limit in (None, 10):
                    ranked = r.ranked(
                        table,
                        keys,
                        previous=FIRST,
                        first=SPLIT,
                        end=END,
                        by_sources=by_sources,
                        tags=["mirai", "zmap"],
                        limit=limit,
                        where=where,
                    )
                    out.append(ranked)
                days = s.rows_per_day(
                    table,
                    dimension,
                    shown,
                    by_sources=by_sources,
                    first=FIRST,
                    end=END,
                    where=where,
                )
                out.append(days)
                for by in ("day", "hour"):
                    counts = s.counts(
                        dialect,
                        by,
                        table,
                        FIRST,
                        END,
                        by_sources=by_sources,
                        tags=["mirai", "research"],
                        backscatter=by_sources,
                        where=where,
                    )
                    out.append(counts)
            sources = r.row_sources(
                table, keys, shown, ["mirai"], first=FIRST, end=END, where=where, top=3
            )
            out.append(sources)
            out += [r.totals(table, FIRST, END, where), r.tag_histogram(table, FIRST, END, where)]
            out.append(r.sensors(table, FIRST, END, where))
        # A period's digests (period_rollups), over the view rows; read as digests.
        for where in (queries.NO_CONDITION, queries.filters.where(kind="probe")):
            out += [
                r.digest_rows(table, keys, ["mirai", "research"], where=where, top=3),
                r.digest_totals("sources", where),
                r.digest_tags("sources", where),
            ]
        rows = r.digest_rows(table, keys, ["mirai"], where=queries.NO_CONDITION, top=3).sql
        digest = f"(SELECT 'probe' AS traffic, * FROM ({rows}))"
        for previous in (digest, None):
            out.append(r.with_previous_ranks(digest, previous, keys))
        ranked = (
            f"(SELECT *, rank_packets AS previous_rank_packets, "
            f"rank_sources AS previous_rank_sources FROM {digest})"
        )
        for by_sources in (False, True):
            for limit in (None, 10):
                out.append(
                    r.ranked_digest(
                        ranked,
                        keys,
                        traffic="all",
                        by_sources=by_sources,
                        limit=limit,
                        tags=["mirai"],
                        top_tags=["mirai"],
                    )
                )
        out.append(r.digest_of(f"(SELECT 'all' AS traffic, 1 AS n FROM {table})"))
    # A month's daily digests (period_rollups), over the view rows; read as digests.
    for name, (table, keys) in s.DAILY_DIGESTS.items():
        for where in (queries.NO_CONDITION, queries.filters.where(kind="probe")):
            out.append(s.daily_digest(table, keys, where))
        daily = s.daily_digest(table, keys, queries.NO_CONDITION).sql
        digest = f"(SELECT 'probe' AS traffic, * FROM ({daily}))"
        row = {"proto": 6, "port": 23} if name == "ports" else {"country": "JP"}
        for by_sources in (False, True):
            out.append(
                s.from_daily(
                    digest,
                    row if keys else {},
                    "probe",
                    FIRST,
                    END,
                    by_sources=by_sources,
                    tags=["mirai", "research"],
                    backscatter=by_sources,
                )
            )
            if keys:  # a report's trend of ranking rows, from the daily digests
                shown = [(6, 23, None), (17, 53, None)] if name == "ports" else [("JP",), (None,)]
                traffic = queries.Condition(" AND traffic = $traffic", {"traffic": "probe"})
                out.append(
                    s.rows_per_day(
                        digest,
                        name,
                        shown,
                        by_sources=by_sources,
                        first=FIRST,
                        end=END,
                        where=traffic,
                        daily=True,
                    )
                )
    for where in (queries.NO_CONDITION, queries.filters.where(sensor="a")):
        out.append(s.sensors_per_day(FIRST, END, where))
    for dimension in ("ports", "countries"):
        for country in (None, "JP"):
            out.append(
                s.top_keys_per_day(dialect, dimension, FIRST, SPLIT, END, limit=5, country=country)
            )
    return out + _event_statements(dialect) + _source_statements(dialect)


ADDRESS = bytes(10) + b"\xff\xff" + bytes([192, 0, 2, 1])  # ::ffff:192.0.2.1
BOUNDS = Window(FIRST, END, 480.0).bounds()
DOS = queries.dos.Thresholds(
    min_packets=25, min_duration_ns=60 * 10**9, min_ppm=30, step_s=10, ns=10**9
)


def _event_statements(dialect: str) -> list[queries.Statement]:
    """Scan events and DoS attacks from the packets (of every source, and of one)."""
    out = []
    for source in (None, ADDRESS):
        out.append(
            queries.scans.events(
                dialect, BOUNDS, min_destinations=10, min_rate=10.0, darknet=256.0, source=source
            )
        )
        out.append(
            queries.dos.attacks(
                dialect, BOUNDS, DOS, window_s=60, top_ports=5, darknet=256.0, source=source
            )
        )
    return out


def _source_statements(dialect: str) -> list[queries.Statement]:
    """A period's sources under every filter, one source's history and sensor checks."""
    out = [
        queries.sources.history(dialect, ADDRESS, top=10),
        queries.sources.seen_as_destination(ADDRESS),
        queries.sources.dropped_destination(ADDRESS, SPLIT),
    ]
    given = {"tag_mask": 6, "port": 23, "proto": 6}
    wheres = [
        queries.filters.where(kind="probe", country="JP"),
        queries.filters.where(asns=[64500, 64501], networks=[(ADDRESS, ADDRESS)]),
        queries.NO_CONDITION,
    ]
    for left_out, where in zip(
        [(), ("proto",), ("port", "proto"), tuple(given)], [*wheres, wheres[2]], strict=True
    ):
        filters = {k: None if k in left_out else v for k, v in given.items()}
        out.append(
            queries.sources.period_sources(
                dialect, FIRST, END, where=where, **filters, top=10, limit=20
            )
        )
    masks = {"mirai": 1, "tools": 6, "research": 1 << 24}
    for kinds in (["mirai"], ["mirai", "scanner", "smb-worm"]):
        out.append(
            queries.notify.findings(
                dialect,
                "keys",
                FIRST,
                END,
                kinds,
                masks=masks,
                smb_min_packets=10,
                smb_min_share=0.9,
                top=5,
            )
        )
    for where in wheres:
        out.append(
            queries.rankings.turnover(
                "sources", "asn", previous=FIRST, first=SPLIT, end=END, where=where
            )
        )
    return out


def _fragment_statements() -> list[tuple[Fragments, queries.Statement]]:
    """The statements over session fragments (DuckDB only), with the family whose
    fragments they read: a day's packets and fragments as the families' specs give them,
    and the merge per period."""
    scans, dos = scans_module.FRAGMENTS, dos_module.FRAGMENTS
    timeout = {"timeout_ns": 480 * 10**9, "day_len": DAY_NS}
    return [
        (scans, queries.scans.day_probes(FIRST, SPLIT)),
        (scans, queries.scans.day_fragments(**timeout, **scans.floor, **scans.params)),
        (scans, queries.scans.merged(BOUNDS, min_destinations=10, min_rate=10.0, darknet=256.0)),
        (dos, queries.dos.day_backscatter(FIRST, SPLIT)),
        (dos, queries.dos.day_fragments(**timeout, **dos.floor, **dos.params)),
        (dos, queries.dos.merged(BOUNDS, DOS, window_s=60, top_ports=5, darknet=256.0)),
    ]


def test_the_fragment_specs_run_these_statements():
    scans, dos = scans_module.FRAGMENTS, dos_module.FRAGMENTS
    assert (scans.read, scans.aggregate) == (queries.scans.day_probes, queries.scans.day_fragments)
    assert (dos.read, dos.aggregate) == (queries.dos.day_backscatter, queries.dos.day_fragments)


@pytest.mark.parametrize("dialect", ["duckdb", "spark"])
def test_every_marker_has_its_value_and_every_value_its_marker(dialect):
    for statement in _statements(dialect) + [s for _, s in _fragment_statements()]:
        assert "?" not in statement.sql, statement.sql
        markers = set(re.findall(r"\$([A-Za-z_]\w*)", statement.sql))
        assert markers == set(statement.params), statement.sql
        if dialect == "spark":
            assert "$" not in named_params(dialect, statement.sql)


def test_every_statement_runs_on_duckdb(tmp_path):
    with DuckDBEngine(Store(tmp_path / "empty")) as engine:
        for statement in _statements(engine.dialect):
            engine.rows(*statement)


def test_the_statements_over_fragments_run_on_duckdb(tmp_path):
    with DuckDBEngine(Store(tmp_path / "empty")) as engine:
        for spec, statement in _fragment_statements():
            rows = engine.table(*spec.read(FIRST, SPLIT))
            sessions = sessionize(rows, spec.key_of(rows), 480 * 10**9)
            frags = spec.schema.append(pa.field("day", pa.date32())).empty_table()
            chained = chain(frags, FIRST, END, 480.0)
            tables = {"sessions": sessions, "frags": frags, "chained": chained}
            engine.table(*statement, tables=tables)


def _table_statements(dialect: str) -> list[tuple[queries.Statement, dict[str, pa.Table]]]:
    """Statements over Arrow tables the caller passes (an event list to select from)."""
    events = pa.table(
        {
            "i": pa.array([0, 1], pa.int64()),
            "address": ["192.0.2.1", "198.51.100.7"],
            "asn": pa.array([64500, None], pa.int64()),
        }
    )
    wheres = [
        queries.NO_CONDITION,
        queries.filters.where(asns=[64500]),
        queries.filters.where(networks=[(ADDRESS, ADDRESS)]),
    ]
    return [(queries.events.selected(dialect, w), {"events": events}) for w in wheres]


def test_the_statements_over_tables_run_on_duckdb(tmp_path):
    with DuckDBEngine(Store(tmp_path / "empty")) as engine:
        found = [
            engine.table(*statement, tables=tables).column("i").to_pylist()
            for statement, tables in _table_statements(engine.dialect)
        ]
    assert found == [[0, 1], [0], [0]]


def test_every_statement_function_is_exercised(monkeypatch):
    """Every public function of a queries module that returns a Statement is among the
    statements above (so its markers are checked)."""
    called, wanted = set(), set()
    for name in queries.__all__:
        module = getattr(queries, name)
        for fn_name in getattr(module, "__all__", []):
            fn = getattr(module, fn_name)
            if inspect.isfunction(fn) and inspect.signature(fn).return_annotation == "Statement":
                wanted.add(f"{name}.{fn_name}")

                def spy(*args, _fn=fn, _key=f"{name}.{fn_name}", **kwargs):
                    called.add(_key)
                    return _fn(*args, **kwargs)

                monkeypatch.setattr(module, fn_name, spy)
    assert {"scans.events", "dos.merged", "sources.history", "holdings.kind_per_day"} <= wanted
    _statements("duckdb")
    _fragment_statements()
    _table_statements("duckdb")
    assert wanted - called == set()


def test_event_bounds_are_days_and_nanoseconds():
    assert BOUNDS.params() == {
        "first": FIRST,
        "end": END,
        "lo": FIRST - timedelta(days=1),
        "hi": END + timedelta(days=1),
        "first_ns": 1554076800 * 10**9,
        "end_ns": 1559347200 * 10**9,
        "timeout_ns": 480 * 10**9,
    }
    assert BOUNDS.period() == {"first": FIRST, "end": END, "timeout_ns": 480 * 10**9}


def test_filters_name_only_what_is_given():
    assert queries.filters.where() == queries.NO_CONDITION
    assert queries.filters.where(sensor="a", kind="probe") == (
        " AND sensor = $sensor AND kind = $kind",
        {"sensor": "a", "kind": "probe"},
    )
    assert set(FILTERED.params) == {"tags", "exclude_tags", "country", "sensor", "proto"}


def test_a_parameter_given_twice_is_refused():
    with pytest.raises(ValueError, match="given twice: country"):
        queries.statement.merged({"country": "JP", "first": FIRST}, {"country": "CN"})
