"""Link types (LINKTYPE_* numbers from tcpdump.org) that teiten reads."""

from __future__ import annotations

LINKTYPE_NULL = 0  # BSD loopback: 4-byte address family in the writer's byte order
LINKTYPE_ETHERNET = 1
LINKTYPE_RAW_DLT12 = 12  # DLT_RAW on most BSDs/Linux when written unmapped
LINKTYPE_RAW_DLT14 = 14  # DLT_RAW on OpenBSD
LINKTYPE_RAW = 101
LINKTYPE_LOOP = 108  # OpenBSD loopback: address family in network byte order
LINKTYPE_LINUX_SLL = 113
LINKTYPE_IPV4 = 228
LINKTYPE_IPV6 = 229
LINKTYPE_LINUX_SLL2 = 276

SUPPORTED: dict[int, str] = {
    LINKTYPE_NULL: "NULL (BSD loopback)",
    LINKTYPE_ETHERNET: "ETHERNET",
    LINKTYPE_RAW_DLT12: "RAW (DLT 12)",
    LINKTYPE_RAW_DLT14: "RAW (DLT 14)",
    LINKTYPE_RAW: "RAW",
    LINKTYPE_LOOP: "LOOP (OpenBSD loopback)",
    LINKTYPE_LINUX_SLL: "LINUX_SLL",
    LINKTYPE_IPV4: "IPV4",
    LINKTYPE_IPV6: "IPV6",
    LINKTYPE_LINUX_SLL2: "LINUX_SLL2",
}

# Names of some link types we do not decode, so that the error can name them.
_OTHER_NAMES: dict[int, str] = {
    6: "IEEE802_5 (Token Ring)",
    9: "PPP",
    10: "FDDI",
    50: "PPP_HDLC",
    51: "PPP_ETHER (PPPoE)",
    104: "C_HDLC (Cisco HDLC)",
    105: "IEEE802_11 (Wi-Fi)",
    119: "PRISM_HEADER",
    127: "IEEE802_11_RADIOTAP",
    147: "USER0",
    187: "BLUETOOTH_HCI_H4",
    189: "USB_LINUX",
    195: "IEEE802_15_4",
    201: "BLUETOOTH_HCI_H4_WITH_PHDR",
    220: "USB_LINUX_MMAPPED",
    249: "NETLINK",
    252: "WIRESHARK_UPPER_PDU",
}


def linktype_name(linktype: int) -> str:
    """Human name of a LINKTYPE_* number, or ``"unknown"``."""
    return SUPPORTED.get(linktype) or _OTHER_NAMES.get(linktype, "unknown")


def is_supported(linktype: int) -> bool:
    return linktype in SUPPORTED
