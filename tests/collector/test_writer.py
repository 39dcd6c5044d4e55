"""The store writer in process: groups, duplicates, a failed write, the research list."""

from __future__ import annotations

import errno
import ipaddress
import json
import threading
import time

import numpy as np
import pyarrow.dataset as ds
import pytest

from conftest import fill_disk, small_disk
from teiten.collector import StoreWriteError, StoreWriter, UploadedBatch
from teiten.collector import writer as writer_module
from teiten.enrich import open_geo
from teiten.fingerprint import tag_mask
from teiten.store import Store
from teiten.store.research import SIDECAR_FILE, import_research_networks

from ._batches import capture_packets, into_prefixes, shifted, wire


@pytest.fixture(scope="module")
def packets():
    return into_prefixes(capture_packets("stopddos_pkt.TCP.DOMINATE.syn.ecn.cwr.pcapng"))


def _job(decoded, sensor, seq):
    body, digest = wire(decoded)
    return UploadedBatch(digest, sensor, seq, len(body), decoded)


def _writer(root, **kwargs):
    return StoreWriter(root, open_geo(), **kwargs)


def test_queued_batches_of_a_sensor_commit_together_and_repeats_are_duplicates(tmp_path, packets):
    parts = [packets.select(np.arange(i, len(packets), 4)) for i in range(4)]
    jobs = [_job(p, "tokyo-1", i) for i, p in enumerate(parts[:3])]
    jobs.append(_job(parts[0], "tokyo-1", 9))  # the same batch again, in the same group
    jobs.append(_job(parts[3], "osaka-2", 0))
    writer = _writer(tmp_path / "s")
    futures = [writer.submit(j) for j in jobs]  # queued before the thread runs: one group each
    writer.start()
    outcomes = [f.result(timeout=60) for f in futures]
    assert [o.status for o in outcomes] == ["stored"] * 3 + ["duplicate", "stored"]
    assert sum(o.packets for o in outcomes) == len(packets)
    again = writer.submit(_job(parts[1], "tokyo-1", 10)).result(timeout=60)
    assert again.status == "duplicate"
    writer.stop()
    store = Store(tmp_path / "s", create=False)
    batches = store.manifest.batches()
    assert sorted((b.sensor, b.packets) for b in batches) == sorted(
        [("tokyo-1", sum(len(p) for p in parts[:3])), ("osaka-2", len(parts[3]))]
    )
    assert {i.name for i in store.manifest.inputs()} == {
        "tokyo-1/batch-0", "tokyo-1/batch-1", "tokyo-1/batch-2", "osaka-2/batch-0",
    }  # fmt: skip
    assert ds.dataset(str(store.root / "packets")).count_rows() == len(packets)


def test_a_failed_write_stores_nothing_of_its_group_and_a_retry_stores_it(
    tmp_path, packets, monkeypatch
):
    first, second = packets.select(np.arange(0, 100)), packets.select(np.arange(100, 300))
    rows = writer_module.packet_rows
    calls = []

    def full_on_second(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return rows(*args, **kwargs)

    monkeypatch.setattr(writer_module, "packet_rows", full_on_second)
    writer = _writer(tmp_path / "s")
    futures = [writer.submit(_job(first, "tokyo-1", 1)), writer.submit(_job(second, "tokyo-1", 2))]
    writer.start()
    for future in futures:
        with pytest.raises(StoreWriteError, match="disk is full") as caught:
            future.result(timeout=60)
        assert caught.value.disk_full
    assert writer.last_error == "disk full"
    retried = [writer.submit(_job(first, "tokyo-1", 1)), writer.submit(_job(second, "tokyo-1", 2))]
    assert [f.result(timeout=60).status for f in retried] == ["stored", "stored"]
    assert writer.last_error is None
    writer.stop()
    store = Store(tmp_path / "s", create=False)
    assert ds.dataset(str(store.root / "packets")).count_rows() == 300
    assert not any((store.root / "staging").iterdir())


def test_the_research_list_tags_as_ingest_does_and_its_use_is_recorded(tmp_path, packets):
    store = Store(tmp_path / "s")
    scanner = ipaddress.IPv6Address(bytes(packets.src[0])).ipv4_mapped
    listing = tmp_path / "research.txt"
    listing.write_text(f"{scanner}/32 Example research scanner\n")
    import_research_networks(store, listing)
    writer = _writer(store.root)
    writer.start()
    decoded = shifted(packets, 0)
    assert writer.submit(_job(decoded, "tokyo-1", 1)).result(timeout=60).status == "stored"
    writer.stop()
    tags = ds.dataset(str(store.root / "packets")).to_table(columns=["tags"]).column("tags")
    research = (tags.to_numpy() & tag_mask(["research"])) != 0
    src = packets.src
    assert research.sum() == int((src == src[0]).all(axis=1).sum()) > 0
    tagged = json.loads((store.root / SIDECAR_FILE).read_text())["tagged"]
    assert tagged[-1]["files"] == ["collector:tokyo-1 (1 batches)"]
    assert tagged[-1]["packets"] == len(packets)


def _five_groups(root, packets):
    """A writer (compacting hourly) that committed five of six parts as separate groups;
    the sixth part, the store and its part files."""
    parts = [packets.select(np.arange(i, len(packets), 6)) for i in range(6)]
    writer = _writer(root, compact_interval=3600, compact_min_files=4)
    # A group's answer is given before the writer thread looks whether to compact: the
    # caller waits for that look too, or an interval changed meanwhile would apply to it.
    looked = threading.Semaphore(0)
    look = writer._maybe_compact

    def looked_at() -> None:
        look()
        looked.release()

    writer._maybe_compact = looked_at  # type: ignore[method-assign]
    writer.start()
    for seq, part in enumerate(parts[:5]):
        assert writer.submit(_job(part, "tokyo-1", seq)).result(timeout=60).status == "stored"
        assert looked.acquire(timeout=60)
    store = Store(root, create=False)
    return writer, parts[5], store, sorted((store.root / "packets").glob("*/*.parquet"))


def test_the_writer_compacts_days_of_many_small_files(tmp_path, packets):
    writer, last, store, files = _five_groups(tmp_path / "s", packets)
    days = {f.parent for f in files}
    assert len(files) == 5 * len(days)  # one file per group and day: the hour has not passed
    writer.compact_interval = 1e-6  # now it has
    assert writer.submit(_job(last, "tokyo-1", 5)).result(timeout=60).status == "stored"
    repeat = writer.submit(_job(last, "tokyo-1", 6)).result(timeout=60)
    assert repeat.status == "duplicate"  # wrote nothing: no day to compact after it
    writer.stop()
    after = sorted((store.root / "packets").glob("*/*.parquet"))
    assert len(after) == len(days)  # each day's six small files merged into one
    assert ds.dataset(str(store.root / "packets")).count_rows() == len(packets)
    assert len(store.manifest.inputs()) == 6
    samples = writer.metrics.registry.get_sample_value
    assert samples("teiten_collector_compactions_total", {"result": "done"}) == 1
    assert samples("teiten_collector_compacted_files_total") == 5 * len(days)


def test_a_compaction_on_a_full_disk_changes_nothing_and_is_tried_again(tmp_path, packets):
    with small_disk(tmp_path / "disk", "24m") as disk:
        writer, last, store, files = _five_groups(disk / "s", packets)
        fill_disk(disk)
        writer.compact_interval = 1e-6
        with pytest.raises(StoreWriteError):  # the group cannot be written either
            writer.submit(_job(last, "tokyo-1", 5)).result(timeout=60)
        samples = writer.metrics.registry.get_sample_value
        for _ in range(100):  # the compaction after the failed group runs on the writer thread
            if samples("teiten_collector_compactions_total", {"result": "failed"}):
                break
            time.sleep(0.05)
        assert samples("teiten_collector_compactions_total", {"result": "failed"}) == 1
        assert sorted((store.root / "packets").glob("*/*.parquet")) == files
        assert not any((store.root / "staging").glob("*/*"))
        (disk / "filler").unlink()
        assert writer.submit(_job(last, "tokyo-1", 5)).result(timeout=60).status == "stored"
        writer.stop()
        assert samples("teiten_collector_compactions_total", {"result": "done"}) == 1
        assert len(list((store.root / "packets").glob("*/*.parquet"))) < len(files)
        assert ds.dataset(str(store.root / "packets")).count_rows() == len(packets)
        store.close()


def test_the_store_keeps_the_raw_retention_the_config_sets(tmp_path, packets):
    """raw_retention_days is set in the store at start; a batch days later drops the older
    raw packets (their rollups stay), and a batch of a dropped day is refused, counted."""
    from teiten.store.retention import SKIP_REASON, raw_since

    day = 86_400 * 10**9
    first = str(np.datetime64(int(packets.ts_ns.min()) // day, "D"))
    writer = _writer(tmp_path / "s", raw_retention_days=1)
    writer.start()
    assert writer.submit(_job(packets, "tokyo-1", 0)).result(timeout=60).packets == len(packets)
    later = shifted(packets, 3 * day)
    assert writer.submit(_job(later, "tokyo-1", 1)).result(timeout=60).packets == len(packets)
    late = shifted(packets, 1000)  # the first day again, another batch: after the drop
    refused = writer.submit(_job(late, "tokyo-1", 2)).result(timeout=60)
    writer.stop()
    assert refused.status == "stored" and refused.packets == 0
    store = Store(tmp_path / "s", create=False)
    assert store.manifest.get("raw_retention_days") == "1"
    since = str(raw_since(store))
    assert since > first
    days = sorted(p.name.removeprefix("day=") for p in (store.root / "packets").glob("day=*"))
    assert days and all(d >= since for d in days)
    assert (store.root / "rollups" / f"day={first}").is_dir()
    (record,) = [i for i in store.manifest.inputs() if i.name == "tokyo-1/batch-2"]
    assert record.packets == 0 and record.skip_reasons == {SKIP_REASON: len(packets)}


def test_an_as_table_imported_while_the_writer_runs_tags_the_next_batches(tmp_path, packets):
    """The collector reads the store's AS edition again when an import changes it (no
    restart): batches before the import carry no AS number, those after carry the new
    table's."""
    import functools
    import gzip

    from teiten.store.asn import import_asn_file, open_store_geo

    store = Store(tmp_path / "s")
    writer = StoreWriter(
        store.root,
        open_store_geo(store.root),
        reopen_geo=functools.partial(open_store_geo, store.root, None),
    )
    writer.start()
    assert writer.submit(_job(shifted(packets, 0), "tokyo-1", 1)).result(timeout=60).status == (
        "stored"
    )
    table = tmp_path / "ip2asn-v4.tsv.gz"
    with gzip.open(table, "wt") as f:  # every IPv4 address in AS 64512
        f.write("0.0.0.0\t255.255.255.255\t64512\tZZ\tEXAMPLE-NET\n")
    import_asn_file(store, table)
    assert writer.submit(_job(shifted(packets, 1), "tokyo-1", 2)).result(timeout=60).status == (
        "stored"
    )
    writer.stop()
    asns = ds.dataset(str(store.root / "packets")).to_table(columns=["asn"]).column("asn")
    assert asns.to_pylist().count(None) == asns.to_pylist().count(64512) == len(packets)
