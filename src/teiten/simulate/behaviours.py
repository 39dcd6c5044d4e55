"""What a darknet hears, as a catalogue of small declarative behaviours.

A darknet receives only unsolicited traffic: probes from scanners and bots, and
backscatter from victims of spoofed-source attacks answering addresses nobody
uses. Each :class:`Behaviour` says how one family of senders builds its
packets (ports, header rules, TTL, options, payload), where its senders sit
(country mix) and how they behave over time (share, volume tail, lifetime,
diurnal swing). Adding a behaviour is adding an entry to :data:`CATALOGUE`;
the generator has no per-behaviour code.

Header rules name how a field is filled, per packet or per source:

* ``"random"``  uniform per packet
* ``"source"``  fixed for a source (drawn once when it appears)
* ``"counter"`` per-source counter, +1 per packet (Windows IP ID, ephemeral ports)
* ``"dst"``     the destination IPv4 address (Mirai's TCP sequence number)
* ``"masscan"`` ``(dst ^ dport ^ seq) & 0xffff`` (masscan's IP ID)
* an ``int``    a constant (ZMap's IP ID 54321)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from teiten.simulate import payloads

__all__ = [
    "ANY_PORT",
    "CATALOGUE",
    "COUNTRY_MIX",
    "Behaviour",
    "Rule",
    "tcp_options",
]

ANY_PORT = -1  # in a port table: any port 1–65535, uniformly
EPHEMERAL = (1024, 65536)  # random ports answered by backscatter and used as source ports

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10

Rule = Literal["random", "source", "counter", "dst", "masscan"] | int
Ports = tuple[tuple[int, float], ...]

# Source countries of unsolicited traffic, shaped after published darknet reports
# (NICTER annual reports, CAIDA UCSD telescope, GreyNoise, ORION): China and the
# US lead, then large bot populations (BR, IN, RU, TW, VN, KR) and hosting (NL, DE).
COUNTRY_MIX: Mapping[str, float] = MappingProxyType(
    {
        "CN": 0.18, "US": 0.15, "BR": 0.07, "IN": 0.06, "RU": 0.06, "TW": 0.05,
        "VN": 0.05, "KR": 0.04, "NL": 0.03, "DE": 0.03, "JP": 0.02, "GB": 0.02,
        "ID": 0.03, "IR": 0.02, "TH": 0.02, "EG": 0.02, "TR": 0.02, "MX": 0.02,
        "FR": 0.02, "AR": 0.01, "UA": 0.01, "HK": 0.01, "SG": 0.01, "IT": 0.01,
        "PL": 0.01, "RO": 0.01, "BG": 0.01, "*": 0.04,
    }
)  # fmt: skip
_BOTS = MappingProxyType(
    {
        "BR": 0.12, "CN": 0.12, "VN": 0.10, "IN": 0.10, "TW": 0.08, "KR": 0.07,
        "RU": 0.06, "IR": 0.05, "EG": 0.04, "TH": 0.04, "ID": 0.04, "MX": 0.03,
        "AR": 0.03, "TR": 0.03, "US": 0.04, "*": 0.07,
    }
)  # fmt: skip
_RESEARCH = MappingProxyType(
    {"US": 0.55, "NL": 0.10, "GB": 0.10, "DE": 0.08, "CA": 0.04, "SG": 0.03, "FR": 0.03,
     "JP": 0.02, "*": 0.05}
)  # fmt: skip
_HOSTING = MappingProxyType(
    {"US": 0.35, "CN": 0.15, "DE": 0.08, "NL": 0.06, "FR": 0.06, "RU": 0.05, "GB": 0.05,
     "HK": 0.03, "SG": 0.03, "JP": 0.03, "BR": 0.03, "*": 0.08}
)  # fmt: skip

# Ports research scanners sweep, one per scan (ZMap) or all at once (masscan).
_RESEARCH_PORTS: Ports = (
    (80, 0.14), (443, 0.14), (22, 0.08), (23, 0.06), (21, 0.04), (25, 0.04), (3389, 0.05),
    (8080, 0.06), (445, 0.04), (3306, 0.03), (5432, 0.02), (6379, 0.02), (9200, 0.02),
    (27017, 0.02), (5900, 0.03), (1433, 0.03), (8443, 0.04), (7547, 0.03), (ANY_PORT, 0.12),
)  # fmt: skip


def tcp_options(*opts: tuple[str, int] | str) -> bytes:
    """TCP option bytes from ``("mss", 1460)``, ``"nop"``, ``("ws", 8)``, ``"sack"``, ``"ts"``.

    ``"ts"`` leaves TSval/TSecr zero; the generator fills TSval per packet.
    """
    out = bytearray()
    for opt in opts:
        name, value = (opt, 0) if isinstance(opt, str) else opt
        if name == "nop":
            out += b"\x01"
        elif name == "mss":
            out += bytes((2, 4)) + value.to_bytes(2, "big")
        elif name == "ws":
            out += bytes((3, 3, value))
        elif name == "sack":
            out += bytes((4, 2))
        elif name == "ts":
            out += bytes((8, 10)) + bytes(8)
        else:
            raise ValueError(f"unknown TCP option {name!r}")
    if len(out) % 4:
        raise ValueError(f"TCP options must fill whole 32-bit words, got {len(out)} bytes")
    return bytes(out)


# Stack fingerprints of SYNs sent through an operating system (not raw sockets).
WINDOWS_SYN = tcp_options(("mss", 1460), "nop", ("ws", 8), "nop", "nop", "sack")
LINUX_SYN = tcp_options(("mss", 1460), "sack", "ts", "nop", ("ws", 7))
SYNACK_MSS = tcp_options(("mss", 1460))


# Which named rules each header field accepts (any field also takes a constant).
_RULES = {
    "sport": {"random", "source", "counter"},
    "seq": {"random", "source", "dst"},
    "ack": {"random"},
    "ip_id": {"random", "counter", "masscan"},
    "window": {"random"},
}


def _ints(value: object) -> bool:
    return isinstance(value, tuple) and bool(value) and all(isinstance(v, int) for v in value)


@dataclass(frozen=True, slots=True)
class Behaviour:
    """One family of senders and the packets it sends to a darknet."""

    name: str
    kind: Literal["probe", "backscatter"]  # store's traffic kind of every packet it sends
    proto: Literal["tcp", "udp", "icmp"]
    weight: float  # default share of packets
    source_share: float  # share of the source population
    dports: Ports = ()  # destination ports and weights; () means ephemeral (backscatter)
    # "packet": each packet draws its port; "source": each source picks one (ZMap);
    # "all": each source probes every port once first, then draws by weight
    dport_per: Literal["packet", "source", "all"] = "packet"
    sports: Ports = ()  # source ports and weights (a victim's service); () means ``sport``
    sport: Rule = "random"
    tcp_flags: int = SYN
    seq: Rule = "random"
    ack: Rule = 0
    ip_id: Rule = "random"
    window: Rule | tuple[int, ...] = "random"  # a tuple: one value per source
    ttl: tuple[int, ...] = (64,)  # initial TTLs; each source picks one
    df: bool = False
    options: bytes = b""  # TCP options (a "ts" option gets a per-packet TSval)
    payload: bytes = b""
    port_payloads: Mapping[int, bytes] = field(default_factory=dict)  # UDP payload per port
    icmp_type: int = 8
    icmp_code: int = 0
    countries: Mapping[str, float] = field(default_factory=lambda: COUNTRY_MIX)  # "*": others
    volume_alpha: float = 1.3  # Pareto tail of per-source packet rates (smaller: heavier)
    lifetime_s: float = 86_400.0  # median time a source stays active (log-normal, σ = 1)
    diurnal: float = 0.0  # amplitude of the daily swing, peaking at 20:00 local time
    walk: bool = False  # destinations walk the darknet in a permutation (a scan), not at random

    def __post_init__(self) -> None:
        def bad(what: str) -> ValueError:
            return ValueError(f"behaviour {self.name}: {what}")

        if self.kind not in ("probe", "backscatter") or self.proto not in ("tcp", "udp", "icmp"):
            raise bad(f"bad kind/proto {self.kind}/{self.proto}")
        for name, allowed in _RULES.items():
            rule = getattr(self, name)
            per_source = name == "window" and _ints(rule)
            if not (isinstance(rule, int) or rule in allowed or per_source):
                raise bad(f"{name} rule {rule!r} is none of {sorted(allowed)} or a number")
        if self.ip_id == "masscan" and self.proto != "tcp":
            raise bad("the masscan IP ID needs TCP sequence numbers")
        if self.dport_per not in ("packet", "source", "all"):
            raise bad(f"dport_per {self.dport_per!r} is none of packet, source, all")
        if self.dport_per != "packet" and not self.dports:
            raise bad(f"dport_per='{self.dport_per}' needs a dports table")
        if self.dport_per == "all" and any(p == ANY_PORT for p, _ in self.dports):
            raise bad("every port of a source (ports_per_source = 'all') needs listed ports")
        if not (self.weight >= 0 and self.source_share > 0 and self.volume_alpha > 0):
            raise bad("weight must be ≥ 0, source_share and volume_alpha > 0")
        if self.lifetime_s <= 0 or not self.ttl or not all(0 < t <= 255 for t in self.ttl):
            raise bad("lifetime_s must be > 0 and initial TTLs in 1–255")
        if not 0 <= self.diurnal < 1:
            raise bad("diurnal amplitude must be in [0, 1)")
        if self.proto == "udp" and self.port_payloads:
            missing = {p for p, _ in self.dports} - set(self.port_payloads)
            if missing:
                raise bad(f"no payload for ports {missing}")
        if self.proto != "tcp" and self.options:
            raise bad(f"TCP options on a {self.proto} behaviour")

    @property
    def ip_proto(self) -> int:
        return {"tcp": 6, "udp": 17, "icmp": 1}[self.proto]

    @property
    def quotes(self) -> bool:
        """ICMP errors quote the packet that caused them (here: a spoofed UDP datagram)."""
        return self.proto == "icmp" and self.icmp_type in (3, 11)


def _catalogue(*items: Behaviour) -> Mapping[str, Behaviour]:
    return MappingProxyType({b.name: b for b in items})


CATALOGUE: Mapping[str, Behaviour] = _catalogue(
    # Mirai and its descendants (scanner.c): raw SYN, seq = target address, no options,
    # random window and IP ID, one source port per bot, telnet first.
    Behaviour(
        "mirai", "probe", "tcp", weight=0.30, source_share=0.45,
        dports=((23, 0.70), (2323, 0.08), (37215, 0.07), (52869, 0.05), (5555, 0.05),
                (80, 0.03), (8080, 0.02)),
        sport="source", seq="dst", window="random", ip_id="random", ttl=(64,),
        countries=_BOTS, volume_alpha=1.6, lifetime_s=3 * 86_400, diurnal=0.35,
    ),
    # Residual SMB worms (WannaCry, Conficker) on unpatched Windows hosts.
    Behaviour(
        "smb-worm", "probe", "tcp", weight=0.08, source_share=0.10, dports=((445, 1.0),),
        sport="counter", ip_id="counter", window=(8192, 64240), ttl=(128,), df=True,
        options=WINDOWS_SYN, lifetime_s=86_400, diurnal=0.25,
    ),
    Behaviour(
        "rdp-scan", "probe", "tcp", weight=0.05, source_share=0.03,
        dports=((3389, 0.9), (3390, 0.05), (33389, 0.05)),
        sport="counter", ip_id="counter", window=(8192, 64240), ttl=(128,), df=True,
        options=WINDOWS_SYN, lifetime_s=6 * 3600,
    ),
    Behaviour(
        "ssh-scan", "probe", "tcp", weight=0.08, source_share=0.07,
        dports=((22, 0.9), (2222, 0.1)), sport="random", window=(29200, 64240), ttl=(64,),
        df=True, options=LINUX_SYN, lifetime_s=12 * 3600, diurnal=0.15,
    ),
    Behaviour(
        "web-scan", "probe", "tcp", weight=0.06, source_share=0.05,
        dports=((80, 0.5), (8080, 0.25), (8443, 0.1), (443, 0.1), (8000, 0.05)),
        sport="random", window=(29200, 64240), ttl=(64,), df=True, options=LINUX_SYN,
        lifetime_s=6 * 3600,
    ),
    Behaviour(
        "redis-scan", "probe", "tcp", weight=0.02, source_share=0.01, dports=((6379, 1.0),),
        sport="random", window=(29200, 64240), ttl=(64,), df=True, options=LINUX_SYN,
        countries=_HOSTING, lifetime_s=6 * 3600,
    ),
    # ZMap (src/probe_modules/module_tcp_synscan.c): IP ID 54321, window 65535,
    # TTL 255, no options; one port per scan, random source port from its range.
    Behaviour(
        "zmap", "probe", "tcp", weight=0.12, source_share=0.01, dports=_RESEARCH_PORTS,
        dport_per="source", sport="random", ip_id=54321, window=65535, ttl=(255,),
        countries=_RESEARCH, volume_alpha=1.1, lifetime_s=2 * 3600,
    ),
    # masscan (src/templ-pkt.c): IP ID = dst ^ dport ^ seq, window 1024, TTL 255,
    # one source port per scan, many ports at once.
    Behaviour(
        "masscan", "probe", "tcp", weight=0.10, source_share=0.02, dports=_RESEARCH_PORTS,
        sport="source", ip_id="masscan", window=1024, ttl=(255,), volume_alpha=1.1,
        lifetime_s=3 * 3600,
    ),
    # Backscatter: victims of spoofed floods answer our unused addresses.
    Behaviour(
        "backscatter-synack", "backscatter", "tcp", weight=0.06, source_share=0.03,
        sports=((80, 0.6), (443, 0.4)), tcp_flags=SYN | ACK, ack="random",
        window=(14600, 29200, 65535), ttl=(64, 128), df=True, options=SYNACK_MSS,
        countries=_HOSTING, volume_alpha=1.1, lifetime_s=1800,
    ),
    Behaviour(
        "backscatter-rst", "backscatter", "tcp", weight=0.03, source_share=0.02,
        sports=((80, 0.6), (443, 0.4)), tcp_flags=RST | ACK, ack="random", window=0,
        ttl=(64, 128), df=True, countries=_HOSTING, volume_alpha=1.1, lifetime_s=1800,
    ),
    Behaviour(
        "backscatter-echo-reply", "backscatter", "icmp", weight=0.02, source_share=0.01,
        icmp_type=0, payload=payloads.PING_LINUX, ttl=(64, 128, 255), countries=_HOSTING,
        volume_alpha=1.1, lifetime_s=1800,
    ),
    Behaviour(
        "backscatter-unreachable", "backscatter", "icmp", weight=0.02, source_share=0.01,
        icmp_type=3, icmp_code=3, ttl=(64, 255), countries=_HOSTING, volume_alpha=1.1,
        lifetime_s=3600,
    ),
    # UDP service discovery and amplifier hunting.
    Behaviour(
        "udp-probe", "probe", "udp", weight=0.04, source_share=0.03,
        dports=((53, 0.25), (123, 0.2), (1900, 0.15), (5060, 0.15), (161, 0.1),
                (11211, 0.05), (137, 0.1)),
        port_payloads=payloads.UDP_PROBES, sport="random", ttl=(64, 128, 255),
        lifetime_s=6 * 3600,
    ),
    Behaviour(
        "icmp-echo", "probe", "icmp", weight=0.02, source_share=0.03, icmp_type=8,
        ip_id="random", ttl=(64, 128, 255), lifetime_s=6 * 3600, diurnal=0.1,
    ),
)  # fmt: skip
