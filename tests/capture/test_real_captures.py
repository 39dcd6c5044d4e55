"""Every capture in tests/data/captures, cross-checked against capinfos, tshark and tcpdump."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import capture_index, capture_path, require_tool
from teiten.capture import open_capture
from teiten.errors import (
    CaptureError,
    CorruptCaptureError,
    NotACaptureError,
    UnsupportedFormatError,
    UnsupportedLinkTypeError,
)

from ._captures import read_all

INDEX = capture_index()


@dataclass(frozen=True)
class Refused:
    """open_capture raises ``error`` naming ``text``."""

    error: type[CaptureError]
    text: str


@dataclass(frozen=True)
class Read:
    """``packets`` are yielded, then ``error`` (if any) is raised or ``truncated`` is set."""

    packets: int
    error: type[CaptureError] | None = None
    offset: int | None = None  # of the corrupt record
    truncated: bool = False


# The damaged files, as the INDEX and the tools describe them. Any other file
# must read completely, with the INDEX's packet count.
DAMAGED: dict[str, Refused | Read] = {
    # tshark: "major version 1 unsupported"; tcpdump: "archaic pcap savefile format".
    "malformed_libpcap_pcap-invalid-version-1.pcap": Refused(UnsupportedFormatError, "1.4"),
    # tshark/tcpdump: "unsupported pcapng savefile version 0.1".
    "malformed_libpcap_pcapng-invalid-vers-1.pcapng": Refused(UnsupportedFormatError, "0.1"),
    # pcap 2.0: caplen/origlen are stored swapped (libpcap, Wireshark): one
    # 197-byte packet, then 2 bytes of a record header. tshark, capinfos and
    # tcpdump all read that packet and report the file cut short.
    "malformed_ndpi_fuzz-2021-10-13.pcap": Read(1, truncated=True),
    # Link type 0x2020 (8224) has no decoder.
    "malformed_pcpp_clusterfuzz-5631583764873216.pcap": Refused(UnsupportedLinkTypeError, "8224"),
    # capinfos: "damaged or corrupt" after 2 packets (16844826-byte packet).
    "malformed_pcpp_clusterfuzz-5755755617189888.pcap": Read(2, CorruptCaptureError, offset=65631),
    # pcap 2.3 with caplen > origlen: swapped as libpcap does, one 4-byte
    # packet ending exactly at EOF (tcpdump reads it; Wireshark guesses the
    # "RedHat 6.1" pcap variant instead and reads none).
    "malformed_pcpp_clusterfuzz-5766899836387328.pcap": Read(1),
    # The SHB block type is zeroed: not recognisable as pcapng.
    "malformed_pcpp_crash-null-deref-pcapng-shb.pcapng": Refused(NotACaptureError, "pcapng"),
    # tshark: "total block length 32 of an EPB is too small for 65536 bytes".
    "malformed_pcpp_crash-pcapng-epb-unbounded-length.pcapng": Read(
        0, CorruptCaptureError, offset=48
    ),
}

# Files where capinfos does not give the count we expect, and the tool that does.
OTHER_WITNESS = {"malformed_pcpp_clusterfuzz-5766899836387328.pcap": "tcpdump"}


def _expected(name: str) -> Refused | Read:
    if name in DAMAGED:
        return DAMAGED[name]
    packets = INDEX[name]["packets"]
    assert packets.isdigit(), f"{name}: add the expected outcome of this damaged file to DAMAGED"
    return Read(int(packets))


def _capinfos_count(path: Path) -> int | None:
    """Packets capinfos reads (before an error), or None when it refuses the file."""
    done = subprocess.run(
        [require_tool("capinfos"), "-c", "-M", str(path)], capture_output=True, text=True
    )
    found = re.search(r"Number of packets:\s+(\d+)", done.stdout) or re.search(
        r"after reading (\d+) packets", done.stderr
    )
    return int(found.group(1)) if found else None


def _tcpdump_count(path: Path) -> int:
    done = subprocess.run(
        [require_tool("tcpdump"), "-n", "-r", str(path)], capture_output=True, text=True
    )
    return len(done.stdout.splitlines())


@pytest.mark.parametrize("name", sorted(INDEX))
def test_capture_outcome_and_count(name: str) -> None:
    path = capture_path(name)
    expected = _expected(name)
    if isinstance(expected, Refused):
        with pytest.raises(expected.error, match=re.escape(expected.text)) as info:
            open_capture(path)
        assert info.value.path == str(path)
        assert _capinfos_count(path) is None  # capinfos refuses it too
        return
    reader, packets, error = read_all(path)
    assert len(packets) == expected.packets
    if expected.error is None:
        assert error is None
    else:
        assert isinstance(error, expected.error)
        assert error.offset == expected.offset
        assert error.packet_number == expected.packets + 1
    assert (reader.truncated is not None) == expected.truncated
    assert reader.linktypes and reader.compression is None
    witness = OTHER_WITNESS.get(name, "capinfos")
    count = _tcpdump_count(path) if witness == "tcpdump" else _capinfos_count(path)
    assert count == expected.packets, f"{witness} reads {count} packets"


def test_format_is_sniffed_not_taken_from_the_name() -> None:
    for name in (
        "stopddos_pkt.TCP.DOMINATE.syn.ecn.cwr.pcapng",
        "stopddos_amp.UDP.snmp.src161.pcapng",
        "stopddos_amp.TCP.syn.optionallyACK.optionallysamePort.pcapng",
    ):
        with open_capture(capture_path(name)) as reader:
            assert reader.format == "pcap"
    with open_capture(capture_path("ppa3e_synscan.pcapng")) as reader:
        assert reader.format == "pcapng"


def _tshark(path: Path) -> list[tuple[int, int, int]]:
    """``(ts_ns, caplen, wirelen)`` of every packet, as tshark reads them."""
    out = subprocess.run(
        [
            require_tool("tshark"),
            "-r",
            str(path),
            "-T",
            "fields",
            "-e",
            "frame.time_epoch",
            "-e",
            "frame.cap_len",
            "-e",
            "frame.len",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = []
    for line in out.splitlines():
        epoch, cap, wire = line.split("\t")
        sec, _, frac = epoch.partition(".")
        rows.append((int(sec) * 10**9 + int(frac.ljust(9, "0")), int(cap), int(wire)))
    return rows


@pytest.mark.parametrize(
    "name",
    [
        "libtrace_100_packets.pcap",
        "libtrace_100_packetsns.pcap",
        "pcpp_nanosecs_big_endian.pcap",
        "malformed_ndpi_fuzz-2006-06-26-2594.pcap",  # big-endian µs
        "rusticata_wireshark_samples-test.pcapng",  # if_tsresol=9
        "pcpp_many_interfaces-1.pcapng",
        "zeek_ldap_gap-data-missing.pcapng",
        "tcpdump_tcp-handshake-nano.pcap",
    ],
)
def test_every_packet_matches_tshark(name: str) -> None:
    path = capture_path(name)
    _, packets, error = read_all(path)
    assert error is None
    ours = [(p.ts_ns, p.caplen, p.wirelen) for p in packets]
    assert ours == _tshark(path)


def test_ns_and_us_files_of_the_same_packets_agree() -> None:
    _, us, _ = read_all(capture_path("libtrace_100_packets.pcap"))
    _, ns, _ = read_all(capture_path("libtrace_100_packetsns.pcap"))
    assert [p.ts_ns for p in us] == [p.ts_ns for p in ns]
    assert [p.data for p in us] == [p.data for p in ns]
    assert us[0].ts_ns % 1000 == 0 and us[0].ts_ns // 10**9 == 1095292801  # 2004-09-16


def test_multi_interface_pcapng_link_types() -> None:
    reader, packets, _ = read_all(capture_path("pcpp_many_interfaces-1.pcapng"))
    assert reader.linktypes == {0, 1, 12}
    assert sorted(p.linktype for p in packets) == [0] * 2 + [1] * 62
    assert not reader.skipped


def test_126_interfaces_all_packets_on_one() -> None:
    reader, packets, _ = read_all(capture_path("zeek_ldap_gap-data-missing.pcapng"))
    assert reader.linktypes == {1, 113, 274}
    assert len(packets) == 18 and {p.linktype for p in packets} == {1}


def test_pcapng_nanosecond_resolution() -> None:
    _, packets, _ = read_all(capture_path("rusticata_wireshark_samples-test.pcapng"))
    assert any(p.ts_ns % 1000 for p in packets)  # real ns digits, not µs * 1000


def test_damaged_timestamps_are_kept_and_carried() -> None:
    path = capture_path("malformed_tcpdump_timestamp_invalid_nano.pcap")
    reader, packets, _ = read_all(path)
    assert reader.warnings == [
        "2 packets had a timestamp fraction >= 1e9 ns (normalised into seconds)"
    ]
    tshark = _tshark(path)
    # A fraction of exactly 1e9 carries into the next second, as tshark shows it.
    assert [p.ts_ns for p in packets[:2]] == [row[0] for row in tshark[:2]]
    # 2**31 ns: tshark reads it as a negative int32; carried, it is 2.147483648 s.
    assert packets[2].ts_ns == 1418145370 * 10**9 + 2_147_483_648


def test_snaplen_smaller_than_caplen_is_kept() -> None:
    _, packets, _ = read_all(capture_path("malformed_zeek_trunc-hdr.pcap"))
    assert [(p.caplen, p.wirelen) for p in packets] == [(8, 78)]


def test_reserved_link_type_bits_are_masked_and_noted() -> None:
    reader, packets, _ = read_all(capture_path("malformed_ndpi_fuzz-2021-10-13.pcap"))
    assert reader.linktypes == {0}
    assert [(p.caplen, p.wirelen) for p in packets] == [(197, 524501)]
    assert any("0x40000000" in w for w in reader.warnings)
    assert "byte offset 237" in reader.truncated and "packet 2" in reader.truncated


def test_corrupt_record_error_names_place() -> None:
    path = capture_path("malformed_pcpp_clusterfuzz-5755755617189888.pcap")
    _, packets, error = read_all(path)
    assert len(packets) == 2
    message = str(error)
    assert "65631" in message and "packet 3" in message and "16844826" in message
