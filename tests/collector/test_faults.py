"""A full disk answers 507 and keeps serving; HTTPS with a self-signed certificate."""

from __future__ import annotations

import ssl

import httpx
import pytest

from conftest import fill_disk, small_disk

from ._batches import PREFIXES, capture_packets, headers, into_prefixes, shifted, wire
from ._server import CollectorServer, store_state


@pytest.fixture
def tmpfs(tmp_path):
    """A 24 MiB disk to fill."""
    with small_disk(tmp_path / "small-disk", "24m") as mount:
        yield mount


def test_a_full_disk_answers_507_and_the_batch_is_stored_once_after(tmp_path, tmpfs):
    packets = into_prefixes(capture_packets("stopddos_pkt.TCP.DOMINATE.syn.ecn.cwr.pcapng"))
    server = CollectorServer(tmp_path, tmpfs / "store")
    token = server.register("tokyo-1", PREFIXES)
    server.start()
    try:
        body, digest = wire(packets)
        post = lambda b, d: httpx.post(  # noqa: E731
            server.url + "/v1/batches", content=b, headers=headers("tokyo-1", token, d), timeout=30
        )
        assert post(body, digest).status_code == 201
        before = store_state(server.store)

        fill_disk(tmpfs)
        body2, digest2 = wire(shifted(packets, 10**9))
        full = post(body2, digest2)
        assert full.status_code == 507, full.text
        assert "disk is full" in full.json()["error"] and "Retry-After" in full.headers
        assert store_state(server.store) == before
        assert not any((server.store / "staging").glob("*/*"))  # the aborted batch left nothing
        health = httpx.get(server.url + "/health")
        assert health.status_code == 503 and health.json()["last_error"] == "disk full"
        assert post(body, digest).json()["status"] == "duplicate"  # still serving

        (tmpfs / "filler").unlink()
        stored = post(body2, digest2)
        assert stored.status_code == 201, stored.text
        assert post(body2, digest2).status_code == 200
        assert store_state(server.store)[1] == 2 * len(packets)
        assert httpx.get(server.url + "/health").json()["status"] == "ok"
        metrics = httpx.get(server.url + "/metrics").text
        assert 'reason="disk_full",sensor="tokyo-1"} 1.0' in metrics
    finally:
        server.stop()


def test_https_round_trip_with_a_self_signed_certificate(tmp_path, certificate):
    cert, _ = certificate
    server = CollectorServer(tmp_path, tls=certificate)
    token = server.register("tokyo-1", PREFIXES)
    server.start()
    try:
        assert server.url.startswith("https://")
        body, digest = wire(into_prefixes(capture_packets("sv_community-id-ipv6.pcap")))
        trusted = ssl.create_default_context(cafile=str(cert))
        answer = httpx.post(
            server.url + "/v1/batches",
            content=body,
            headers=headers("tokyo-1", token, digest),
            verify=trusted,
        )
        assert answer.status_code == 201 and answer.json()["batch"] == digest
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            httpx.get(server.url + "/health", verify=ssl.create_default_context())
        with pytest.raises(httpx.RemoteProtocolError):
            httpx.get(server.url.replace("https", "http") + "/health")
    finally:
        server.stop()
