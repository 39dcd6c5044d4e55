"""The behaviour catalogue: declarative entries, checked when declared."""

from __future__ import annotations

import dataclasses

import pytest

from teiten.simulate import CATALOGUE, COUNTRY_MIX, Behaviour
from teiten.simulate.behaviours import tcp_options


def test_default_shares_sum_to_one_and_kinds_are_the_stores():
    assert sum(b.weight for b in CATALOGUE.values()) == pytest.approx(1.0)
    assert {b.kind for b in CATALOGUE.values()} == {"probe", "backscatter"}
    assert max(COUNTRY_MIX, key=COUNTRY_MIX.get) == "CN"


def test_tcp_options_encode_like_a_stack():
    assert tcp_options(("mss", 1460), "nop", ("ws", 8), "nop", "nop", "sack").hex() == (
        "020405b4" "01030308" "0101" "0402"
    )  # fmt: skip
    with pytest.raises(ValueError, match="whole 32-bit words"):
        tcp_options(("mss", 1460), "nop")
    with pytest.raises(ValueError, match="unknown TCP option"):
        tcp_options("md5")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"sport": "dst"}, "sport rule"),
        ({"window": "source"}, "window rule"),
        ({"proto": "udp", "ip_id": "masscan", "options": b""}, "masscan"),
        ({"dport_per": "source", "dports": ()}, "needs a dports table"),
        ({"ttl": (300,)}, "TTLs"),
        ({"diurnal": 1.5}, "diurnal"),
        ({"proto": "icmp"}, "TCP options on a icmp"),
        ({"source_share": 0}, "source_share"),
    ],
)
def test_impossible_behaviours_are_refused(change, message):
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(CATALOGUE["smb-worm"], **change)


def test_a_new_behaviour_is_one_entry():
    telnet = Behaviour("telnet-brute", "probe", "tcp", weight=0.1, source_share=0.1,
                       dports=((23, 1.0),), window=(5840,), ttl=(64,))  # fmt: skip
    assert telnet.ip_proto == 6 and not telnet.quotes
