"""Port, IP protocol and ICMP type names."""

from __future__ import annotations

import pytest

from teiten.enrich import icmp_type_name, protocol_name, service_name


@pytest.mark.parametrize(
    ("proto", "port", "name"),
    [
        ("tcp", 23, "telnet"),
        ("tcp", 445, "microsoft-ds"),
        ("udp", 53, "domain"),
        ("TCP", 22, "ssh"),
        ("tcp", 3389, "ms-wbt-server"),
        ("udp", 123, "ntp"),
    ],
)
def test_registered_services(proto: str, port: int, name: str) -> None:
    assert service_name(proto, port) == name


@pytest.mark.parametrize(
    ("proto", "port"), [("tcp", None), ("tcp", 65536), ("tcp", -1), ("tcp", 4), ("gre", 80)]
)
def test_no_service(proto: str, port: int | None) -> None:
    assert service_name(proto, port) is None


@pytest.mark.parametrize(
    ("number", "name"),
    [
        (1, "icmp"),
        (6, "tcp"),
        (17, "udp"),
        (58, "icmpv6"),
        (47, "gre"),
        (50, "esp"),
        (132, "sctp"),
        (41, "ipv6"),
        (254, "ip-proto-254"),
        (255, "ip-proto-255"),
    ],
)
def test_protocol_names(number: int, name: str) -> None:
    assert protocol_name(number) == name


def test_protocol_number_out_of_range() -> None:
    with pytest.raises(ValueError, match="0-255"):
        protocol_name(256)


@pytest.mark.parametrize(
    ("version", "icmp_type", "name"),
    [
        (4, 8, "echo-request"),
        (4, 0, "echo-reply"),
        (4, 3, "destination-unreachable"),
        (4, 11, "time-exceeded"),
        (6, 128, "echo-request"),
        (6, 135, "neighbor-solicitation"),
        (6, 1, "destination-unreachable"),
        (4, 99, None),
        (5, 8, None),
    ],
)
def test_icmp_type_names(version: int, icmp_type: int, name: str | None) -> None:
    assert icmp_type_name(version, icmp_type) == name
