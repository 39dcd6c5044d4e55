"""The sensor registry: tokens shown once and stored hashed, prefixes kept secret."""

from __future__ import annotations

import stat

import pytest
from click.testing import CliRunner

from teiten.cli import main
from teiten.collector import Registry
from teiten.errors import OptionError
from teiten.store import Store
from teiten.store.sensors import declared_sensors


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path / "store")


def test_a_token_authenticates_its_sensor_only(store):
    registry = Registry(store.root)
    token = registry.add(store, "tokyo-1", ["192.0.2.0/24", "2001:db8::/32"])
    other = registry.add(store, "osaka-2", ["198.51.100.0/24"])
    found = registry.authenticate("tokyo-1", token)
    assert found is not None and found.prefixes == ("192.0.2.0/24", "2001:db8::/32")
    assert registry.authenticate("tokyo-1", other) is None
    assert registry.authenticate("nagoya-3", token) is None
    assert registry.authenticate("tokyo-1", token + "x") is None
    assert len(token) >= 40


def test_the_file_is_private_and_holds_no_token(store):
    registry = Registry(store.root)
    token = registry.add(store, "tokyo-1", ["192.0.2.0/24"])
    assert stat.S_IMODE(registry.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(registry.path.parent.stat().st_mode) == 0o700
    assert token.encode() not in registry.path.read_bytes()


def test_adding_declares_the_size_and_replacing_issues_a_new_token(store):
    registry = Registry(store.root)
    old = registry.add(store, "tokyo-1", ["192.0.2.0/24", "192.0.2.128/25"])
    assert declared_sensors(store)["tokyo-1"].ipv4_addresses == 256
    with pytest.raises(OptionError, match="registered already; use --replace"):
        registry.add(store, "tokyo-1", ["192.0.2.0/24"])
    new = registry.add(store, "tokyo-1", ["198.51.100.0/23"], replace=True)
    assert registry.authenticate("tokyo-1", old) is None
    assert registry.authenticate("tokyo-1", new).prefixes == ("198.51.100.0/23",)
    assert declared_sensors(store)["tokyo-1"].ipv4_addresses == 512
    assert registry.revoke("tokyo-1") and not registry.revoke("tokyo-1")
    assert registry.authenticate("tokyo-1", new) is None


@pytest.mark.parametrize(
    ("name", "prefixes", "message"),
    [
        ("tokyo 1", ["192.0.2.0/24"], "sensor label"),
        ("", ["192.0.2.0/24"], "sensor label"),
        ("tokyo-1", [], "at least one --prefix"),
        ("tokyo-1", ["192.0.2.0/33"], "not a CIDR prefix"),
    ],
)
def test_bad_labels_and_prefixes_are_refused(store, name, prefixes, message):
    with pytest.raises(OptionError, match=message):
        Registry(store.root).add(store, name, prefixes)
    assert Registry(store.root).sensors() == []


def test_cli_add_registered_revoke(tmp_path):
    runner = CliRunner()
    where = ["--store", str(tmp_path / "s")]
    added = runner.invoke(main, ["sensors", "add", "tokyo-1", "--prefix", "192.0.2.0/24", *where])
    assert added.exit_code == 0, added.output
    token = added.output.strip().splitlines()[-1]
    assert Registry(tmp_path / "s").authenticate("tokyo-1", token) is not None
    listed = runner.invoke(main, ["sensors", "registered", *where])
    assert "tokyo-1: 1 IPv4 and 0 IPv6 prefixes" in listed.output
    assert "192.0.2" not in listed.output and token not in listed.output
    shown = runner.invoke(main, ["sensors", "registered", "--show-prefixes", "--json", *where])
    assert '"192.0.2.0/24"' in shown.output
    again = runner.invoke(main, ["sensors", "add", "tokyo-1", "--prefix", "192.0.2.0/24", *where])
    assert again.exit_code == 2 and "--replace" in again.output
    assert runner.invoke(main, ["sensors", "revoke", "tokyo-1", *where]).exit_code == 0
    gone = runner.invoke(main, ["sensors", "revoke", "tokyo-1", *where])
    assert gone.exit_code == 2 and "not registered" in gone.output
    assert "tokyo-1: 256 IPv4 addresses" in runner.invoke(main, ["sensors", "list", *where]).output


def test_cli_collector_check(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text('[store]\npath = "s"\n[listen]\nport = 9999\n')
    checked = CliRunner().invoke(main, ["collector", "check", "--config", str(config), "--json"])
    assert checked.exit_code == 0 and '"port": 9999' in checked.output
    config.write_text('[store]\npath = "s"\n[listen]\nprt = 9999\n')
    bad = CliRunner().invoke(main, ["collector", "check", "--config", str(config)])
    assert bad.exit_code == 1 and "has no key 'prt'" in bad.output
