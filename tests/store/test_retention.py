"""Raw retention: old days' raw packets go once rolled up, and every answer stays."""

from __future__ import annotations

import json
import shutil
import socket
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

import dpkt
import pytest
from _stores import Q2, TWO_DAYS, cli, ingest, kill_at_step, rankings, read_only_view

from conftest import fill_disk, small_disk
from teiten.analyze.periods import parse_period
from teiten.errors import OptionError, RawPacketsDroppedError
from teiten.report import build_report
from teiten.store import Store
from teiten.store.retention import horizon, raw_since, require_raw, retain
from teiten.store.summary import last_day, summarize

APRIL = Q2[3]  # its packets are all of 2021-04-01
DAYS = ["2010-06-29", "2015-01-03", "2021-04-01", "2021-05-15", "2021-06-14", "2021-06-20"]
DROPPED = DAYS[:4]  # --days 30: before 2021-05-21 (2021-06-20 less 30 days)
HORIZON = "2021-05-21"
PERIODS = ["2021Q2", "2021-04", "2021-06", "2010-06-29..2015-01-03"]  # straddling, in, kept


def _answers(root: Path) -> dict[str, object]:
    """Rankings of every period, phenomena and the report of two (as their JSON)."""
    found: dict[str, object] = {p: rankings(root, p) for p in PERIODS}
    found["phenomena"] = json.loads(
        cli("phenomena", "--store", root, "--period", "2021Q2", "--json").output
    )
    store = Store(root, create=False)
    for period in ("2021Q2", "2021-04"):
        found[f"report {period}"] = build_report(store, parse_period(period)).as_json()
    store.close()
    return found


def _days(root: Path, table: str) -> list[str]:
    return sorted(p.name.removeprefix("day=") for p in (root / table).glob("day=*"))


def _json(*args: object) -> dict:
    return json.loads(cli(*args, "--json").output)


def _clean(root: Path) -> dict:
    report = json.loads(cli("store", "check", "--store", root, "--json", ok=False).output)
    assert report["ok"], report["problems"]
    return report


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> tuple[Path, dict[str, object]]:
    """Q2's four attacks and the two-day capture; every answer, computed (and the events
    stored) before anything is dropped."""
    root = tmp_path_factory.mktemp("retention") / "store"
    ingest(root, *Q2, TWO_DAYS)
    assert _days(root, "packets") == DAYS
    return root, _answers(root)


@pytest.fixture
def store(base, tmp_path) -> Path:
    root = tmp_path / "store"
    shutil.copytree(base[0], root)
    return root


@pytest.fixture
def dropped(store) -> Path:
    cli("store", "retention", "--store", store, "--days", "30")
    assert _json("store", "retain", "--store", store)["dropped_days"] == DROPPED
    return store


def _frames(days: dict[str, int], src: str = "203.0.113.7") -> list[tuple[float, bytes]]:
    """SYN probes from ``src``: ``days`` maps a day to how many (one a second from noon)."""
    frames = []
    for day, count in days.items():
        noon = datetime.fromisoformat(f"{day}T12:00:00").replace(tzinfo=UTC).timestamp()
        for i in range(count):
            tcp = dpkt.tcp.TCP(sport=40_000, dport=23, seq=i, flags=dpkt.tcp.TH_SYN)
            ip = dpkt.ip.IP(
                src=socket.inet_aton(src),
                dst=socket.inet_aton(f"198.51.100.{i % 250 + 1}"),
                p=dpkt.ip.IP_PROTO_TCP,
                ttl=250,
                data=tcp,
            )
            ip.len = 20 + len(bytes(tcp))
            eth = dpkt.ethernet.Ethernet(type=dpkt.ethernet.ETH_TYPE_IP, data=ip)
            frames.append((noon + i, bytes(eth)))
    return frames


def _capture(path: Path, days: dict[str, int], src: str = "203.0.113.7") -> Path:
    with path.open("wb") as f:
        writer = dpkt.pcap.Writer(f)
        for ts, frame in _frames(days, src):
            writer.writepkt(frame, ts=ts)
    return path


# --- which days go -----------------------------------------------------------------------


def test_the_last_day_from_the_folders_is_the_summary_s(base, dropped, tmp_path):
    """The dashboard's cheap last day (folder names) equals the summary's (the rows), with
    and without raw packets of old days; an emptied folder does not count, nor a store
    without packets."""
    for root in (base[0], dropped):
        stated = summarize(Store(root, create=False))["last_day"]
        assert last_day(root) == date.fromisoformat(stated) == date(2021, 6, 20)
    (dropped / "packets" / "day=2030-01-01").mkdir()
    assert last_day(dropped) == date(2021, 6, 20)
    Store(tmp_path / "empty").close()
    assert last_day(tmp_path / "empty") is None


def test_days_before_the_horizon_go_and_their_rollups_stay(store):
    shown = _json("store", "retention", "--store", store, "--days", "30")
    assert shown["raw_retention_days"] == 30 and shown["raw_since"] is None
    assert shown["horizon"] == HORIZON and shown["to_drop"]["days"] == DROPPED
    assert _days(store, "packets") == DAYS  # setting it drops nothing by itself
    done = _json("store", "retain", "--store", store)
    assert done["dropped_days"] == DROPPED and done["raw_since"] == HORIZON
    assert done["packets"] == shown["to_drop"]["packets"] > 0 and done["kept_days"] == []
    assert _days(store, "packets") == DAYS[4:]
    assert _days(store, "rollups") == DAYS
    info = _json("store", "info", "--store", store)["retention"]
    assert info == {
        "raw_retention_days": 30,
        "raw_since": HORIZON,
        "rolled_up_only": {"days": 4, "first_day": DAYS[0], "packets": done["packets"]},
    }
    again = _json("store", "retain", "--store", store)
    assert again["dropped_days"] == [] and again["raw_since"] == HORIZON


@pytest.mark.parametrize(("days", "kept"), [(6, DAYS[4:]), (5, DAYS[5:])])
def test_the_horizon_is_counted_back_from_the_newest_day(store, days, kept):
    """2021-06-20 less 6 days is 2021-06-14: kept; less 5 days, it goes."""
    cli("store", "retention", "--store", store, "--days", str(days))
    cli("store", "retain", "--store", store)
    assert _days(store, "packets") == kept


def test_the_horizon_never_passes_today(store):
    """A store's newest day is capped at today: on 2021-06-01, 30 days keep 2021-05-15."""
    cli("store", "retention", "--store", store, "--days", "30")
    s = Store(store)
    assert horizon(s, today=date(2021, 6, 1)) == date(2021, 5, 2)
    assert retain(s, today=date(2021, 6, 1)).days == DROPPED[:3]
    assert raw_since(s) == date(2021, 5, 2)
    assert retain(s).days == ["2021-05-15"]  # today is later than the newest day: it counts
    assert raw_since(s) == date(2021, 5, 21)


def test_keep_all_drops_nothing_more_and_the_horizon_stays(dropped):
    cli("store", "retention", "--store", dropped, "--keep-all")
    assert _json("store", "retain", "--store", dropped)["dropped_days"] == []
    assert _json("store", "info", "--store", dropped)["retention"]["raw_since"] == HORIZON


def test_days_without_current_rollups_are_never_dropped(store):
    cli("store", "retention", "--store", store, "--days", "30")
    with sqlite3.connect(store / "manifest.sqlite") as db:
        db.execute("DELETE FROM meta WHERE key = 'rollups'")  # an incomplete rollup
    done = _json("store", "retain", "--store", store)
    assert done["dropped_days"] == [] and done["kept_days"] == DROPPED
    assert "rollups are not complete" in done["warnings"][0]
    cli("store", "rollup", "--store", store)
    shutil.rmtree(store / "rollups" / "day=2015-01-03")  # one day without its rollups
    done = _json("store", "retain", "--store", store)
    assert done["kept_days"] == ["2015-01-03"] and "no rollups" in done["warnings"][0]
    assert done["dropped_days"] == [d for d in DROPPED if d != "2015-01-03"]
    assert _days(store, "packets") == ["2015-01-03", *DAYS[4:]]
    cli("store", "rollup", "--store", store, "--day", "2015-01-03")
    assert _json("store", "retain", "--store", store)["dropped_days"] == ["2015-01-03"]
    _clean(store)


# --- everything still answers ------------------------------------------------------------


def test_every_answer_is_the_same_after_the_drop(base, dropped):
    """Rankings for periods before, across and after the horizon, phenomena and the
    report (its events stored before the drop) answer byte for byte as before."""
    assert _answers(dropped) == base[1]


def test_answers_are_whole_while_the_rollup_is_incomplete(base, dropped):
    """During a rebuild (or after one cut short) the packets are rolled up on the fly,
    and the days held as rollups only are read from their files."""
    with sqlite3.connect(dropped / "manifest.sqlite") as db:
        db.execute("DELETE FROM meta WHERE key = 'rollups'")
    for period in PERIODS:
        assert rankings(dropped, period) == base[1][period]
    cli("store", "rollup", "--store", dropped)  # a whole rebuild keeps the dropped days
    assert _days(dropped, "rollups") == DAYS
    for period in PERIODS:
        assert rankings(dropped, period) == base[1][period]
    _clean(dropped)


def test_a_source_answers_from_the_rollups_and_says_where_raw_packets_begin(base, dropped):
    before = _json("source", "89.21.89.6", "--store", base[0])  # seen on 2021-05-15 only
    after = _json("source", "89.21.89.6", "--store", dropped)
    assert before["raw_since"] is None and after["raw_since"] == HORIZON
    assert after["days"] == before["days"] and after["packets"] == before["packets"] == 35
    assert after["first_seen"] == before["first_seen"] and after["tags"] == before["tags"]
    assert after["scans"] == after["dos_attacks"] == [] and after["darknet"] is None
    text = cli("source", "89.21.89.6", "--store", dropped).output
    assert f"raw packets are kept from {HORIZON} on" in text
    both = "136.243.174.154"  # backscatter on 2021-05-15, probes on 2021-06-20
    before, after = (_json("source", both, "--store", r) for r in (base[0], dropped))
    assert after["days"] == before["days"] and len(after["days"]) == 2
    assert {k: v for k, v in after.items() if k != "raw_since"} == {
        k: v for k, v in before.items() if k != "raw_since"
    }


EVENT_QUERIES = (
    ["events", "scans", "--period", "2021-05"],
    ["events", "dos", "--period", "2021-04-01..2021-06-30"],
    ["events", "dos", "--period", "2021-05-15"],
)


def test_events_of_dropped_days_come_from_the_fragments_kept_before_the_drop(store, tmp_path):
    """The drop computes the days' session fragments first: events never computed
    before it are answered after it, the same as from the raw packets."""
    ingest(store, _capture(tmp_path / "scan.pcap", {"2021-05-15": 60}))  # a scan there
    for cache in ("sessions", "events"):  # no fragment or event computed yet
        shutil.rmtree(store / cache, ignore_errors=True)
    before = tmp_path / "before"
    shutil.copytree(store, before)
    cli("store", "retention", "--store", store, "--days", "30")
    assert _json("store", "retain", "--store", store)["dropped_days"] == DROPPED
    for family in ("scans", "dos"):
        kept = {p.stem for p in (store / "sessions" / family).glob("*.parquet")}
        assert kept >= set(DROPPED), family  # (and the other days of their months, joined)
    for args in EVENT_QUERIES:
        after = _json(*args, "--store", store)
        assert after == _json(*args, "--store", before), args
    (scan,) = _json(*EVENT_QUERIES[0], "--store", store)["rows"]
    assert scan["source"] == "203.0.113.7" and scan["start"].startswith("2021-05-15")
    texts = []
    for root in (store, before):
        out = root.parent / f"{root.name}-report" / "r.md"
        cli("report", "--period", "2021-05", "--store", root, "--out", out)
        texts.append(out.read_text())
    assert texts[0] == texts[1] and "203.0.113.7" not in texts[0]


def test_events_and_sources_that_need_dropped_packets_fail_with_one_line(dropped):
    for lost in [
        *(dropped / "sessions").glob("*/2021-05-15.parquet"),
        *(dropped / "sessions").glob("*/periods/*.parquet"),  # Q2's, holding that day's
    ]:
        lost.unlink()  # fragments lost: events of that day need its raw packets
    for args in (
        *EVENT_QUERIES[:2],
        ["events", "scans", "--period", "2021-05", "--timeout", "600"],  # not the fragments'
        ["sources", "--period", "2021-05-15"],
        ["report", "--period", "2021-05", "--out", dropped.parent / "r.md"],
    ):
        result = cli(*args, "--store", dropped, ok=False)
        assert result.exit_code == 1, result.output
        line = result.output.strip()
        assert "\n" not in line and line.startswith("Error: ")
        assert f"raw packets from {HORIZON} on" in line and "2021-05-15" in line
    # Stored before the drop: still current, so still answered.
    assert _json("events", "dos", "--store", dropped, "--period", "2021Q2")["rows"]
    assert _json("events", "scans", "--store", dropped, "--period", "2021-06")
    assert _json("sources", "--store", dropped, "--period", f"{HORIZON}..2021-06-30")["rows"]


def test_require_raw_names_the_days_it_lacks(dropped):
    s = Store(dropped, create=False)
    require_raw(s, date(2021, 5, 21), date(2021, 6, 30))  # kept days only
    require_raw(s, date(2021, 5, 16), date(2021, 5, 20))  # no data there, nothing lacking
    with pytest.raises(RawPacketsDroppedError) as caught:
        require_raw(s, date(2015, 1, 1), date(2021, 6, 30), "this")
    assert caught.value.days == (date(2015, 1, 3), date(2021, 5, 15))
    assert caught.value.raw_since == date(2021, 5, 21)


def test_store_check_is_clean_and_misses_a_lost_rollup_of_a_dropped_day(dropped):
    report = _clean(dropped)
    assert report["rollups"] == "complete" and report["files"] == 2  # 2021-06-14 and -20
    for path in (dropped / "rollups" / "day=2021-04-01").glob("*.dsts.parquet"):
        path.unlink()
    report = json.loads(cli("store", "check", "--store", dropped, "--json", ok=False).output)
    (problem,) = report["problems"]
    assert problem["kind"] == "rollup" and problem["file"] == "rollups/day=2021-04-01"
    assert "dsts rollup is missing" in problem["detail"]


def test_compaction_leaves_the_rollups_of_dropped_days_alone(store):
    ingest(store, APRIL, sensor="second", force=True)  # two rollup sets on 2021-04-01
    cli("store", "retention", "--store", store, "--days", "30")
    cli("store", "retain", "--store", store)
    files = sorted((store / "rollups" / "day=2021-04-01").iterdir())
    assert len(files) == 6
    cli("store", "compact", "--store", store, "--min-files", "2")
    assert sorted((store / "rollups" / "day=2021-04-01").iterdir()) == files


def test_rows_of_dropped_days_cannot_be_removed(dropped):
    for args in (
        ["--input", TWO_DAYS],
        ["--sensor", "default"],
        ["--days", "2021-05-01..2021-06-14"],
    ):
        result = cli("store", "remove", "--store", dropped, *args, "--yes", ok=False)
        assert result.exit_code == 2 and "dropped by raw retention" in result.output
    removed = _json("store", "remove", "--store", dropped, "--days", "2021-06-14", "--yes")
    assert removed["days"] == ["2021-06-14"]
    assert _days(dropped, "rollups") == [*DROPPED, "2021-06-20"]
    _clean(dropped)


def test_a_rollup_of_a_dropped_day_cannot_be_rebuilt(dropped):
    result = cli("store", "rollup", "--store", dropped, "--day", "2021-04-01", ok=False)
    assert result.exit_code == 2 and "its raw packets were dropped" in result.output


# --- writers -----------------------------------------------------------------------------


def test_ingest_refuses_packets_before_the_horizon_and_counts_nothing_twice(dropped, tmp_path):
    before, may = rankings(dropped, "2021Q2"), rankings(dropped, "2021-05")
    capture = _capture(tmp_path / "late.pcap", {"2021-05-15": 7, "2021-06-18": 5})
    answer = ingest(dropped, capture)
    (result,) = answer["inputs"]
    assert result["status"] == "ingested" and result["packets"] == 5
    assert result["skipped_reasons"] == {"older than the store's raw horizon": 7}
    assert "7 packets of 2021-05-15 were not stored" in result["warnings"][0]
    assert f"raw packets are kept from {HORIZON} on" in result["warnings"][0]
    after = rankings(dropped, "2021Q2")
    assert after["ports/all"]["total"]["packets"] == before["ports/all"]["total"]["packets"] + 5
    assert rankings(dropped, "2021-05") == may  # nothing added before the horizon
    assert _days(dropped, "rollups") == [*DAYS[:5], "2021-06-18", DAYS[5]]
    again = ingest(dropped, capture)
    assert again["inputs"][0]["status"] == "duplicate" and again["packets"] == 0
    old = ingest(dropped, APRIL, TWO_DAYS)  # inputs of dropped days: still duplicates
    assert [r["status"] for r in old["inputs"]] == ["duplicate", "duplicate"]
    assert rankings(dropped, "2021Q2") == after
    _clean(dropped)


def test_ingest_drops_what_a_newer_capture_pushes_past_the_horizon(dropped, tmp_path):
    answer = ingest(dropped, _capture(tmp_path / "july.pcap", {"2021-07-20": 3}))
    assert answer["raw_dropped"]["days"] == ["2021-06-14"]
    assert answer["raw_dropped"]["raw_since"] == "2021-06-20"
    assert _days(dropped, "packets") == ["2021-06-20", "2021-07-20"]
    _clean(dropped)


def test_simulate_into_a_store_keeps_its_retention(tmp_path):
    root = tmp_path / "sim"
    cli("store", "retention", "--store", root, "--days", "1", ok=False)  # not a store yet
    Store(root).close()
    cli("store", "retention", "--store", root, "--days", "1")
    cli(
        "simulate", "--store", root, "--start", "2019-05-01", "--end", "2019-05-05",
        "--packets", "4000", "--seed", "3",
    )  # fmt: skip
    assert _days(root, "packets") == ["2019-05-03", "2019-05-04"]
    assert _days(root, "rollups") == ["2019-05-01", "2019-05-02", "2019-05-03", "2019-05-04"]
    _clean(root)


# --- crashes and bad input ---------------------------------------------------------------


@pytest.fixture(scope="module")
def q2(tmp_path_factory) -> Path:
    """Q2's attacks only, set to keep 30 days: 2021-04-01 and 2021-05-15 go."""
    root = tmp_path_factory.mktemp("retention-q2") / "store"
    ingest(root, *Q2)
    cli("store", "retention", "--store", root, "--days", "30")
    return root


def _snapshot(root: Path) -> tuple[list[str], str | None, list[tuple[str, int]]]:
    store = Store(root, create=False)  # opening it finishes a recorded drop
    batches = sorted((b.batch_id, b.packets) for b in store.manifest.batches())
    since = raw_since(store)
    store.close()
    return _days(root, "packets"), since and since.isoformat(), batches


@pytest.mark.parametrize("steps", [1, 2, 3, 4, 5])
def test_a_drop_killed_at_any_step_is_all_or_nothing(q2, tmp_path, steps):
    """kill -9 after each step (two days prepared, recorded, two days swapped): the
    next opening shows the store wholly before or wholly after, and it checks clean."""
    before, after, root = tmp_path / "before", tmp_path / "after", tmp_path / "store"
    for copy in (before, after, root):
        shutil.copytree(q2, copy)
    cli("store", "retain", "--store", after)
    kill_at_step(["store", "retain", "--store", str(root)], steps, 0.5, "drop")
    expected = _snapshot(before) if steps <= 2 else _snapshot(after)
    assert _snapshot(root) == expected
    assert _days(root, "rollups") == _days(q2, "rollups")
    _clean(root)
    Store(root).lock().close()  # the next writer clears staging debris
    assert not any((root / "staging").iterdir())
    assert rankings(root, "2021Q2") == rankings(q2, "2021Q2")


@pytest.mark.parametrize("value", ["0", "-3", "100000"])
def test_a_bad_number_of_days_is_a_usage_error(q2, value):
    result = cli("store", "retention", "--store", q2, "--days", value, ok=False)
    assert result.exit_code == 2
    assert "--days must be a whole number of days from 1 to 36,500" in result.output


def test_days_and_keep_all_are_exclusive_and_days_a_number(q2):
    result = cli("store", "retention", "--store", q2, "--days", "3", "--keep-all", ok=False)
    assert result.exit_code == 2 and "not both" in result.output
    result = cli("store", "retention", "--store", q2, "--days", "a week", ok=False)
    assert result.exit_code == 2 and "is not a valid integer" in result.output


def test_the_api_checks_the_number_too(q2):
    from teiten.store.retention import set_retention

    with pytest.raises(OptionError, match="from 1 to"):
        set_retention(Store(q2, create=False), True)  # type: ignore[arg-type]


def test_a_read_only_store_says_so(q2, tmp_path):
    with read_only_view(q2, tmp_path / "ro") as ro:
        for args in (["retention", "--days", "3"], ["retain"]):
            result = cli("store", *args, "--store", ro, ok=False)
            assert result.exit_code == 1
            assert "read-only file system" in result.output and "\n" not in result.output.strip()
        shown = _json("store", "retention", "--store", ro)  # reading works
        assert shown["to_drop"]["days"] == ["2021-04-01", "2021-05-15"]


def test_a_full_disk_changes_nothing(q2, tmp_path):
    with small_disk(tmp_path / "disk", "8m") as disk:
        root = disk / "store"
        shutil.copytree(q2, root)
        before = _snapshot(root)
        fill_disk(disk)
        result = cli("store", "retain", "--store", root, ok=False)
        assert result.exit_code == 1 and "\n" not in result.output.strip()
        assert "full" in result.output or "space" in result.output, result.output
        (disk / "filler").unlink()
        assert _snapshot(root) == before
        _clean(root)
        assert _json("store", "retain", "--store", root)["dropped_days"] == [
            "2021-04-01",
            "2021-05-15",
        ]
