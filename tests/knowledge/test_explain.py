"""`teiten explain` and `teiten knowledge import` from the command line."""

from __future__ import annotations

import json
import re
import unicodedata

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
    assert "knowledge base edition 2026-12-05" in out
    for text in ("Huawei HG532 home gateway", "Satori (Okiru)", "Mirai derivative"):
        assert text in out
    # Huawei's notice came months before NVD's record: both dates, and the advisory.
    assert "CVE-2017-17215  2017-11-30 (vendor), NVD 2018-03-20  Huawei HG532" in out
    assert (
        "advisory: https://www.huawei.com/en/psirt/security-notices/huawei-sn-20171130-01-hg532-en"
        in out
    )
    assert "https://nvd.nist.gov/vuln/detail/CVE-2017-17215" in out
    assert "References:" in out
    assert not any("\u3040" <= ch <= "\u9fff" for ch in out)  # English only


def test_explain_in_japanese(store):
    result = run("explain", "3389", "--lang", "ja")
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.startswith("3389/tcp  ms-wbt-server\n知識ベース 2026-12-05 版\n")
    assert "リモートデスクトッププロトコル" in out  # summary_ja
    assert "脆弱性（CVE）:" in out and "製品:" in out and "参考情報:" in out
    cve = out[out.index("CVE-2019-0708") :]
    assert cve.startswith("CVE-2019-0708  2019-05-14（ベンダー公表）、NVD 2019-05-16  ")
    unwrapped = re.sub(r"\n +", "", out)  # Japanese lines break between characters
    assert "Remote Desktop Services の認証前リモートコード実行の脆弱性（BlueKeep）" in unwrapped
    columns = [
        sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)
        for line in out.splitlines()
        if "://" not in line
    ]
    assert max(columns) <= 96 and max(columns) > 80  # wrapped, by display width
    assert "pre-authentication" not in out
    assert "アドバイザリ: https://portal.msrc.microsoft.com/" in out
    malware = run("explain", "445", "--lang", "ja").output
    assert "WannaCry (WCry, Wanna Decryptor): 2017年5月に拡散したワーム型ランサムウェア" in malware
    unknown = run("explain", "3690", "--lang", "ja").output
    assert unknown.startswith("3690/tcp: IANA のポート登録簿（2024-04-30 版）での名前は svn")


def test_a_cve_with_only_an_nvd_date(store):
    out = run("explain", "22").output
    assert "CVE-2024-6387  NVD 2024-07-01  OpenSSH sshd race" in out
    assert "advisory: https://www.openssh.com/txt/release-9.8" in out


def test_a_bare_port_is_tcp_and_udp_is_spelled_out(store):
    telnet = run("explain", "23")
    assert telnet.exit_code == 0 and telnet.output.startswith("23/tcp  telnet")
    assert "Mirai" in telnet.output
    dns = run("explain", "53/UDP")
    assert dns.exit_code == 0 and dns.output.startswith("53/udp  domain")


def test_unknown_ports_give_ianas_name_and_nothing_more(store):
    result = run("explain", "3690/tcp")
    assert result.exit_code == 0
    assert result.output.startswith("3690/tcp: svn in IANA's port registry (edition 2024-04-30).")
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
    assert data["knowledge_base"]["edition"] == "2026-12-05"
    assert {c["id"] for c in data["cves"]} >= {"CVE-2017-0144", "CVE-2020-0796"}
    assert data["items"][0] == {
        "kind": "cve",
        "id": "CVE-2020-0796",
        "title": data["cves"][0]["title"],
        "title_ja": data["cves"][0]["title_ja"],
        "published": "2020-03-12",
        "disclosed": "2020-03-10",
    }
    smbghost = data["cves"][0]
    assert smbghost["first_public"] == "2020-03-10" and "SMBGhost" in smbghost["title_ja"]
    assert "https://jvn.jp/vu/JVNVU91394194/" in smbghost["advisories"]
    assert data["summary_ja"].startswith("TCP 上で直接動作する SMB")
    assert all(m["notes_ja"] for m in data["malware"])
    assert "WannaCry" in {m["name"] for m in data["malware"]} and data["references"]
    unknown = json.loads(run("explain", "3690", "--json").output)
    assert unknown["known"] is False and unknown["items"] == []
    assert unknown["service"] == unknown["registered"] == "svn"
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
    assert "cisa-kev feed 2026.11.20" in result.output and "9 CVE links to 9 ports" in result.output
    data = json.loads(run("knowledge", "import", str(feed), "--json").output)
    assert data["replaced"] is True and data["entries"] == 7
    assert data["ports"] == [
        "2000/tcp",
        "3389/tcp",
        "7001/tcp",
        "7002/tcp",
        "8001/tcp",
        "8291/tcp",
        "8728/tcp",
        "37215/tcp",
        "52869/tcp",
    ]
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
