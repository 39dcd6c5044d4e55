"""Recommended actions from headline findings and the knowledge base."""

from __future__ import annotations

from datetime import date

from teiten.analyze.phenomena.actions import recommend
from teiten.analyze.phenomena.model import Finding
from teiten.knowledge import load_knowledge

END = date(2019, 6, 30)


def _finding(kind, subject, *, headline=True, attribution="broad", knowledge=()):
    return Finding(
        kind=kind,
        subject=subject,
        title={"ja": "", "en": ""},
        text={"ja": "", "en": ""},
        knowledge=list(knowledge),
        headline=headline,
        notable=headline,
        attribution=attribution,
    )


def test_headlines_call_for_patches_credentials_and_notification():
    bluekeep = {"kind": "cve", "id": "CVE-2019-0708", "near_change": True}
    findings = [
        _finding("surge", {"proto": "tcp", "port": 3389}, knowledge=[bluekeep]),
        _finding("mirai_share", {"country": "JP", "tag": "mirai"}),
        _finding("crossover", {"country": "JP", "rising": "445/tcp", "falling": "23/tcp"}),
        _finding("surge", {"proto": "tcp", "port": 37215}),
    ]
    found = recommend(findings, load_knowledge(), END, "JP")
    assert [a["kind"] for a in found] == ["patch", "patch", "patch", "credentials", "notify"]
    patches = {a["ports"][0]: a for a in found if a["kind"] == "patch"}
    assert list(patches) == ["3389/tcp", "445/tcp", "37215/tcp"]  # one per port, in order
    assert patches["3389/tcp"]["cves"][0] == "CVE-2019-0708"  # near the change first
    assert "CVE-2017-0144" in patches["445/tcp"]["cves"]
    assert patches["37215/tcp"]["cves"] == ["CVE-2017-17215"]
    for patch in patches.values():
        assert len(patch["products"]) == len(patch["products_ja"])
    actions = {a["kind"]: a for a in found}
    assert {"23/tcp", "37215/tcp"} <= set(actions["credentials"]["ports"])  # Mirai, Satori
    assert actions["notify"]["country"] == "JP"


def test_nothing_from_the_future_one_host_or_the_appendix():
    findings = [
        _finding("surge", {"proto": "tcp", "port": 445}),
        _finding("surge", {"proto": "tcp", "port": 7001}, attribution="one-host"),
        _finding("surge", {"proto": "tcp", "port": 6379}, headline=False),
    ]
    (patch,) = recommend(findings, load_knowledge(), END, "JP")
    assert patch["ports"] == ["445/tcp"]
    assert "CVE-2020-0796" not in patch["cves"]  # SMBGhost: 2020, after the period


def test_a_port_without_known_cves_is_kept_off_the_internet():
    (action,) = recommend(
        [_finding("surge", {"proto": "tcp", "port": 5985})],
        load_knowledge(),
        date(2015, 1, 1),
        "JP",
    )
    assert action["kind"] == "expose" and action["ports"] == ["5985/tcp"]
