"""The collector over real HTTP: stored once, every refusal answered and storing nothing."""

from __future__ import annotations

import ipaddress
import threading
import time
from dataclasses import replace

import blake3
import httpx
import pytest

from teiten.store import DuckDBEngine, Store

from ._batches import V4_PREFIX, capture_packets, headers, into_prefixes, shifted, wire
from ._server import store_state

URL = "/v1/batches"


@pytest.fixture(scope="module")
def packets():
    """Real spoofed-flood packets (9,878, IPv4) and real IPv6 packets, moved into the prefixes."""
    return (
        into_prefixes(capture_packets("stopddos_pkt.TCP.DOMINATE.syn.ecn.cwr.pcapng")),
        into_prefixes(capture_packets("sv_community-id-ipv6.pcap")),
    )


def _post(server, body, hdrs):
    return httpx.post(server.url + URL, content=body, headers=hdrs, timeout=30)


def test_a_batch_is_stored_once_and_a_retry_is_a_duplicate(server, packets):
    v4, v6 = packets
    for seq, decoded in enumerate(packets, 1):
        body, digest = wire(decoded)
        first = _post(server, body, headers("tokyo-1", server.token, digest, seq, drops=7))
        assert first.status_code == 201, first.text
        assert first.json() == {"status": "stored", "batch": digest, "packets": len(decoded)}
        again = _post(server, body, headers("tokyo-1", server.token, digest, seq))
        assert again.status_code == 200
        assert again.json() == {"status": "duplicate", "batch": digest}
    _, count = store_state(server.store)
    assert count == len(v4) + len(v6)

    # What is stored is what was sent, tagged: country and the fingerprint bits are filled in.
    with DuckDBEngine(Store(server.store, create=False)) as engine:
        (row,) = engine.rows(
            "SELECT count(*) AS n, count(DISTINCT sensor) AS sensors, any_value(sensor) AS sensor, "
            "count(country) AS with_country FROM packets"
        )
    assert (row["n"], row["sensors"], row["sensor"]) == (count, 1, "tokyo-1")
    assert row["with_country"] > 0  # tagged at the collector

    metrics = httpx.get(server.url + "/metrics").text
    assert 'teiten_collector_batches_total{result="stored",sensor="tokyo-1"} 2.0' in metrics
    assert 'teiten_collector_batches_total{result="duplicate",sensor="tokyo-1"} 2.0' in metrics
    assert f'teiten_collector_packets_stored_total{{sensor="tokyo-1"}} {float(count)}' in metrics
    assert 'teiten_collector_sensor_reported_drops{sensor="tokyo-1"} 7.0' in metrics
    assert 'teiten_collector_sensor_last_seen_timestamp_seconds{sensor="tokyo-1"}' in metrics
    health = httpx.get(server.url + "/health")
    assert health.status_code == 200 and health.json()["status"] == "ok"


def _refusals(server, decoded):
    """(name, body, headers, expected status, reason) for every kind of bad upload."""
    body, digest = wire(decoded)
    good = headers("tokyo-1", server.token, digest)
    outside = decoded.dst.copy()
    outside[3, 12] ^= 0x80  # one destination leaves 192.0.2.0/24
    out_body, out_digest = wire(replace(decoded, dst=outside))
    big = bytes(2 << 20)
    return [
        ("wrong token", body, {**good, "Authorization": "Bearer not-the-token"}, 401),
        ("unknown sensor", body, {**good, "X-Teiten-Sensor": "osaka-9"}, 401),
        ("no token", body, {k: v for k, v in good.items() if k != "Authorization"}, 401),
        ("digest mismatch", body + b"\0", good, 400),
        (
            "not arrow",
            b"PK\x03\x04 not arrow",
            headers(
                "tokyo-1",
                server.token,
                "blake3:" + blake3.blake3(b"PK\x03\x04 not arrow").hexdigest(),
            ),
            400,
        ),
        ("bad digest header", body, {**good, "X-Teiten-Batch-Digest": "md5:abc"}, 400),
        ("no seq", body, {k: v for k, v in good.items() if k != "X-Teiten-Batch-Seq"}, 400),
        (
            "oversize",
            big,
            headers("tokyo-1", server.token, "blake3:" + blake3.blake3(big).hexdigest()),
            413,
        ),
        ("out of prefix", out_body, headers("tokyo-1", server.token, out_digest), 422),
    ]


def test_every_refusal_has_its_status_and_stores_nothing(server, packets):
    v4 = packets[0]
    body, digest = wire(v4)
    assert _post(server, body, headers("tokyo-1", server.token, digest)).status_code == 201
    before = store_state(server.store)
    manifest = (server.store / "manifest.sqlite").stat().st_size
    for name, bad_body, hdrs, status in _refusals(server, shifted(v4, 10**9)):
        answer = _post(server, bad_body, hdrs)
        assert answer.status_code == status, (name, answer.text)
        assert answer.json()["status"] in ("rejected", "unauthorized"), name
        assert store_state(server.store) == before, name
    assert (server.store / "manifest.sqlite").stat().st_size == manifest
    out = _post(server, *_refusals(server, shifted(v4, 10**9))[-1][1:3])
    assert out.json()["outside"] == 1 and V4_PREFIX not in out.text and "192.0.2" not in out.text
    metrics = httpx.get(server.url + "/metrics").text
    for reason in ("unauthorized", "digest_mismatch", "malformed", "too_large", "outside_prefixes"):
        assert f'reason="{reason}"' in metrics
    assert (
        'teiten_collector_batches_rejected_total{reason="unauthorized",sensor="-"} 3.0' in metrics
    )


def test_uploads_beyond_the_concurrency_bound_are_answered_503(server, packets):
    body, digest = wire(shifted(packets[0], 2 * 10**9))
    release = threading.Event()
    answers = []

    def slow_body():
        yield body[:1000]
        release.wait(30)
        yield body[1000:]

    def upload():
        answers.append(_post(server, slow_body(), headers("tokyo-1", server.token, digest)))

    # The bound is 2: two slow uploads hold both places, the third is turned away.
    threads = [threading.Thread(target=upload) for _ in range(2)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 10
    while "teiten_collector_requests_in_flight 2.0" not in httpx.get(server.url + "/metrics").text:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    busy = _post(server, body, headers("tokyo-1", server.token, digest))
    assert busy.status_code == 503 and busy.headers["Retry-After"].isdigit()
    assert httpx.get(server.url + "/health").status_code == 200  # health is never bounded
    release.set()
    for t in threads:
        t.join()
    assert sorted(a.status_code for a in answers) == [200, 201]  # one stored, one duplicate
    assert store_state(server.store)[1] == len(packets[0])


def test_logs_hold_no_token_prefix_or_address(server, packets):
    v4, v6 = packets
    for decoded in (v4, v6):
        body, digest = wire(decoded)
        _post(server, body, headers("tokyo-1", server.token, digest))
    for _, bad_body, hdrs, _ in _refusals(server, shifted(v4, 3 * 10**9)):
        _post(server, bad_body, hdrs)
    server.stop()
    log = server.log_text()
    assert "refused batch" in log and "packets stored" in log
    secrets = [server.token, "192.0.2", "2001:db8", "127.0.0.1:"]
    for addr in {bytes(a) for a in v4.dst[:50]} | {bytes(a) for a in v4.src[:50]}:
        secrets.append(str(ipaddress.IPv6Address(addr).ipv4_mapped))
    for secret in secrets:
        assert secret not in log.replace("http://127.0.0.1:", "http://collector:"), secret
