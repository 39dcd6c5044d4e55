"""`teiten explain` and `teiten knowledge import` from the command line."""

from __future__ import annotations

import json

from click.testing import CliRunner

from teiten.cli import main

from .feeds import NEW_RDP_CVE, good_kev


def run(*args):
    return CliRunner().invoke(main, list(args))


def test_explain_for_people(store):
    result = run("explain", "37215/tcp")
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.startswith("37215/tcp  upnp-tr064")
    assert "knowledge base edition 2026-11-28" in out
    for text in ("Huawei HG532 home gateway", "Satori (Okiru)", "CVE-2017-17215  2018-03-20"):
        assert text in out
    assert "https://nvd.nist.gov/vuln/detail/CVE-2017-17215" in out
    assert "References:" in out


def test_a_bare_port_is_tcp_and_udp_is_spelled_out(store):
    telnet = run("explain", "23")
    assert telnet.exit_code == 0 and telnet.output.startswith("23/tcp  telnet")
    assert "Mirai" in telnet.output
    dns = run("explain", "53/UDP")
    assert dns.exit_code == 0 and dns.output.startswith("53/udp  domain")


def test_unknown_ports_give_ianas_name_and_nothing_more(store):
    result = run("explain", "5432/tcp")
    assert result.exit_code == 0
    assert result.output.startswith(
        "5432/tcp: postgresql in IANA's port registry (edition 2024-04-30)."
    )
    assert "Nothing more is known" in result.output
    unnamed = run("explain", "4/udp")
    assert unnamed.output.startswith("4/udp: no name in IANA's port registry")


def test_known_ports_show_ianas_name_when_it_differs(store):
    result = run("explain", "2323")
    assert result.exit_code == 0
    assert result.output.startswith("2323/tcp  telnet-alt  (IANA: 3d-nfsd)\n")
    assert "system" not in result.output.splitlines()[0]


def test_explain_json(store):
    data = json.loads(run("explain", "445", "--json").output)
    assert data["known"] is True and (data["proto"], data["port"]) == ("tcp", 445)
    assert data["service"] == data["registered"] == "microsoft-ds"
    assert data["knowledge_base"]["edition"] == "2026-11-28"
    assert {c["id"] for c in data["cves"]} >= {"CVE-2017-0144", "CVE-2020-0796"}
    assert data["items"][0] == {
        "kind": "cve",
        "id": "CVE-2020-0796",
        "title": data["cves"][0]["title"],
        "published": "2020-03-12",
    }
    assert "WannaCry" in {m["name"] for m in data["malware"]} and data["references"]
    unknown = json.loads(run("explain", "5432", "--json").output)
    assert unknown["known"] is False and unknown["items"] == []
    assert unknown["service"] == unknown["registered"] == "postgresql"
    assert "system_service" not in unknown
    assert unknown["port_registry"]["edition"] == "2024-04-30"


def test_bad_port_specs_are_usage_errors(store):
    for spec in ("70000", "23/sctp", "http", "23/"):
        result = run("explain", spec)
        assert result.exit_code == 2, (spec, result.output)
        assert "is not a port" in result.output


def test_import_then_explain(tmp_path, store):
    feed = tmp_path / "kev.json"
    feed.write_text(json.dumps(good_kev()))
    result = run("knowledge", "import", str(feed), "--store", str(store))
    assert result.exit_code == 0, result.output
    assert "cisa-kev feed 2026.11.20" in result.output and "5 CVE links to 5 ports" in result.output
    data = json.loads(run("knowledge", "import", str(feed), "--json").output)
    assert data["replaced"] is True and data["entries"] == 7
    assert data["ports"] == ["3389/tcp", "7001/tcp", "8291/tcp", "37215/tcp", "52869/tcp"]
    explained = run("explain", "3389", "--store", str(store))
    assert f"{NEW_RDP_CVE}  (no NVD date)" in explained.output
    assert "[from cisa-kev]" in explained.output
    assert "includes CVEs linked from cisa-kev kev.json, version 2026.11.20" in explained.output


def test_import_of_a_broken_feed_fails_cleanly(tmp_path, store):
    feed = tmp_path / "broken.json"
    feed.write_text('{"catalogVersion": "1", "dateReleased": "2026-01-01T00:00:00Z",')
    result = run("knowledge", "import", str(feed), "--store", str(store))
    assert result.exit_code == 1
    assert str(feed) in result.output and "not JSON" in result.output
    assert not (store / "knowledge").exists()
