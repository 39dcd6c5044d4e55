"""sensor.toml, and the sensor commands end to end: capture files → spool → collector."""

import json
import os

import pytest
from click.testing import CliRunner

from collector._server import CollectorServer
from conftest import capture_path
from teiten.cli import main
from teiten.errors import SensorConfigError
from teiten.sensor.config import load_sensor_config

CAPTURE = "ppa3e_synscan.pcapng"


def _config(tmp_path, url="http://127.0.0.1:9", token="t0ken", extra=""):
    token_file = tmp_path / "token"
    token_file.write_text(token + "\n")
    os.chmod(token_file, 0o600)
    path = tmp_path / "sensor.toml"
    path.write_text(
        f'[sensor]\nname = "tokyo-1"\n[collector]\nurl = "{url}"\ntoken_file = "token"\n'
        f'[spool]\npath = "spool"\n{extra}'
    )
    return path


def test_a_good_file_loads_with_defaults(tmp_path):
    config = load_sensor_config(_config(tmp_path))
    assert config.name == "tokyo-1" and config.spool == tmp_path / "spool"
    assert config.token() == "t0ken" and config.spool_policy == "drop-oldest"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("policy = 'drop-random'\n", "spool.policy must be one of drop-newest, drop-oldest"),
        ("max_bytes = 5\n", "spool.max_bytes must be at least 1048576"),
        ("colour = 1\n", "[spool] has no key 'colour'"),
        ("[camera]\nx = 1\n", "unknown section 'camera'"),
        ('[capture]\nprefixes = ["192.0.2.0/33"]\n', "capture.prefixes must be a non-empty list"),
    ],
)
def test_bad_keys_are_named(tmp_path, extra, message):
    with pytest.raises(SensorConfigError, match=message.replace("[", r"\[")):
        load_sensor_config(_config(tmp_path, extra=extra))


def test_a_token_file_others_can_read_is_refused(tmp_path):
    path = _config(tmp_path)
    os.chmod(tmp_path / "token", 0o644)
    with pytest.raises(SensorConfigError, match="chmod 600"):
        load_sensor_config(path)


def test_a_missing_key_and_a_bad_url_are_named(tmp_path):
    path = tmp_path / "sensor.toml"
    path.write_text('[sensor]\nname = "x"\n')
    with pytest.raises(SensorConfigError, match=r"collector\.url is required"):
        load_sensor_config(path)
    with pytest.raises(SensorConfigError, match=r"collector\.url must be an http"):
        load_sensor_config(_config(tmp_path, url="ftp://x"))


def test_push_upload_status_end_to_end(tmp_path):
    """The capture's packets reach the collector's store exactly once, through the spool."""
    from teiten.enrich import open_geo
    from teiten.ingest import ingest
    from teiten.store import DuckDBEngine, Store

    (tmp_path / "collector").mkdir()
    server = CollectorServer(tmp_path / "collector")
    token = server.register("tokyo-1", ["0.0.0.0/0", "::/0"])
    server.start()
    try:
        config = _config(
            tmp_path, url=server.url, token=token, extra="[batch]\nmax_packets = 500\n"
        )
        runner = CliRunner()
        pushed = runner.invoke(
            main, ["sensor", "push", "--config", str(config), "--json", str(capture_path(CAPTURE))]
        )
        assert pushed.exit_code == 0, pushed.output
        data = json.loads(pushed.output)
        assert data["batches"] >= 4 and data["errors"] == []
        status = json.loads(
            runner.invoke(main, ["sensor", "status", "--config", str(config), "--json"]).output
        )
        assert status["waiting_batches"] == data["batches"]
        uploaded = runner.invoke(main, ["sensor", "upload", "--config", str(config)])
        assert uploaded.exit_code == 0, uploaded.output
        assert f"sent {data['batches']}" in uploaded.output
        assert token not in uploaded.output
    finally:
        server.stop()
    reference = Store(tmp_path / "reference")
    ingest([capture_path(CAPTURE)], reference, open_geo())
    query = "SELECT ts, src, dst, sport, dport, tcp_flags, tcp_seq FROM packets ORDER BY ALL"
    with DuckDBEngine(Store(server.store)) as got, DuckDBEngine(reference) as want:
        expected = want.rows(query)
        assert got.rows(query) == expected
    assert data["packets"] == len(expected)


def test_sensor_killed_mid_upload_resumes_from_its_spool(tmp_path):
    """`teiten sensor upload` is kill -9'd at random moments and restarted; every batch is
    stored exactly once and the spool ends empty."""
    import random
    import signal
    import subprocess
    import sys

    import pyarrow.dataset as ds

    from collector._batches import PREFIXES, capture_packets, into_prefixes, shifted
    from teiten.sensor import Spool
    from teiten.transport import encode_body

    (tmp_path / "collector").mkdir()
    server = CollectorServer(tmp_path / "collector")
    token = server.register("tokyo-1", PREFIXES)
    server.start()
    config = _config(tmp_path, url=server.url, token=token)
    packets = into_prefixes(capture_packets(CAPTURE))
    spool = Spool(tmp_path / "spool", max_bytes=1 << 30)
    sent = []
    for i in range(400):
        part = shifted(packets.select(slice(i % 900, i % 900 + 20)), (i + 1) * 10**12)
        spool.put(encode_body(part), len(part))
        sent += [int(t) for t in part.ts_ns]
    command = [sys.executable, "-m", "teiten.cli", "sensor", "upload", "--config", str(config)]
    rng = random.Random(3)
    kills = 0
    try:
        for _ in range(30):
            process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            try:
                process.wait(timeout=rng.uniform(1.0, 2.5))
                if process.returncode == 0:
                    break
            except subprocess.TimeoutExpired:
                process.send_signal(signal.SIGKILL)
                process.wait()
                kills += 1
        else:
            pytest.fail("the uploads never finished")
    finally:
        server.stop()
    assert kills >= 1
    assert Spool(tmp_path / "spool", max_bytes=1 << 30).entries() == []
    files = sorted(server.store.glob("packets/*/*.parquet"))
    table = ds.dataset(files).to_table(columns=["ts", "ts_ns"])
    micros, rest = table.column("ts").cast("int64").to_numpy(), table.column("ts_ns").to_numpy()
    assert sorted((micros * 1000 + rest).tolist()) == sorted(sent)
