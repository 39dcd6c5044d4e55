"""Scenarios: timed changes to selected traffic, read from a small validated TOML vocabulary.

A scenario says how the traffic mix moves over time: which behaviours it
tunes (``[behaviours.NAME]``), which campaigns it adds (``[[campaigns]]``, new
populations built like a catalogue behaviour), and which changes it applies
to which senders (``[[changes]]``)::

    [[changes]]
    id = "jp-mirai-decline"
    kind = "ramp"                          # ramp | step | enter | leave
    select = { behaviour = "mirai", country = "JP" }
    from = 2019-01-15                      # ramp: from … to, factor = [a, b]
    to = 2019-06-30
    factor = [1.0, 0.35]

A change scales its selection's activity by a factor of time (1 = as the
catalogue says): ``ramp`` goes linearly from ``factor[0]`` to ``factor[1]``
between ``from`` and ``to``; ``step`` jumps to ``factor`` at ``at`` (back to 1
after ``until``, or decaying back with ``half_life_days``); ``enter`` starts the
selection at ``at`` (none before); ``leave`` ends it at ``at``. ``[[crossovers]]``
name two daily series whose crossing the ground truth reports. How the
generator applies the factors is in :mod:`teiten.simulate.envelope`.

``[[hosts]]`` plant single loud senders: one address of a country, sending an
exact number of packets to its ports between ``at`` and ``until``, with the
fingerprint of the behaviour it is ``like`` (:mod:`teiten.simulate.hosts`).

Every error names the file, the entry and the field (:class:`ScenarioError`).
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, NoReturn

import numpy as np

from teiten.errors import ScenarioError
from teiten.simulate.behaviours import ANY_PORT, CATALOGUE, Behaviour
from teiten.simulate.regions import ISO_COUNTRIES

__all__ = [
    "BUILTIN_SCENARIOS",
    "Campaign",
    "Change",
    "Crossover",
    "Host",
    "Scenario",
    "Selector",
    "load_scenario",
    "parse_scenario",
    "port_match",
]

BUILTIN_SCENARIOS: tuple[str, ...] = ("2019q2", "calm", "campaign", "loud-host")
ChangeKind = Literal["ramp", "step", "enter", "leave"]
_KINDS = ("ramp", "step", "enter", "leave")
_PROTOS = ("tcp", "udp")
_OVERRIDABLE = (
    "weight", "source_share", "ports", "countries", "volume_alpha", "ports_per_source"
)  # fmt: skip
# ports_per_source: a scenario's word for Behaviour.dport_per
_PORTS_PER_SOURCE = {"one": "source", "all": "all", "per-packet": "packet"}
_MAX_HOSTS = 50


@dataclass(frozen=True)
class Selector:
    """Which senders a change applies to: all given criteria must hold (empty = any).

    A port selects senders whose every packet goes to that port: a behaviour with
    one destination port, or one that picks a port per source (a ZMap scan). It
    cannot pick part of a sender that spreads packets over several ports (Mirai):
    select that behaviour, or define a campaign for the port.
    """

    behaviours: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    ports: tuple[tuple[int, str], ...] = ()  # (port, "tcp"|"udp")

    def as_json(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        if self.behaviours:
            out["behaviour"] = list(self.behaviours)
        if self.countries:
            out["country"] = list(self.countries)
        if self.ports:
            out["port"] = [f"{p}/{proto}" for p, proto in self.ports]
        return out


def port_match(b: Behaviour, port: int, proto: str) -> Literal["all", "source", "no"]:
    """Whether a selector's port selects all of ``b``'s senders, some of them, or none."""
    if b.proto != proto or not b.dports:
        return "no"
    ports = {p for p, _ in b.dports}
    if b.dport_per == "source" and (port in ports or ANY_PORT in ports):
        return "source"
    return "all" if ports == {port} else "no"


@dataclass(frozen=True)
class Change:
    """One timed change of a selection's activity (see the module docstring)."""

    id: str
    kind: ChangeKind
    select: Selector
    start: datetime  # ramp: from; step, enter, leave: at
    end: datetime | None = None  # ramp: to; step: until (optional)
    factor: tuple[float, float] = (1.0, 1.0)  # ramp: (a, b); step: (f, f)
    half_life_days: float | None = None  # step only

    def level(self, t: np.ndarray) -> np.ndarray:
        """The factor at Unix times ``t`` (seconds)."""
        at = self.start.timestamp()
        if self.kind == "enter":
            return (t >= at).astype(np.float64)
        if self.kind == "leave":
            return (t < at).astype(np.float64)
        a, b = self.factor
        if self.kind == "ramp":
            assert self.end is not None
            frac = np.clip((t - at) / (self.end.timestamp() - at), 0.0, 1.0)
            return a + (b - a) * frac
        out = np.ones_like(t, dtype=np.float64)
        after = t >= at
        if self.end is not None:
            after &= t < self.end.timestamp()
        boost = np.full(t.shape, a - 1.0)
        if self.half_life_days:
            boost = boost * np.exp2(-(t - at) / (self.half_life_days * 86_400.0))
        out[after] += boost[after]
        return out

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind,
            "selector": self.select.as_json(),
            "start": self.start.isoformat(),
            "end": self.end.isoformat() if self.end else None,
        }
        if self.kind in ("ramp", "step"):
            out["factor"] = list(self.factor) if self.kind == "ramp" else self.factor[0]
        if self.half_life_days:
            out["half_life_days"] = self.half_life_days
        return out


@dataclass(frozen=True)
class Campaign:
    """A population the catalogue does not have, built like one of its behaviours."""

    id: str
    like: str
    overrides: Mapping[str, Any] = field(default_factory=dict)

    def behaviour(self) -> Behaviour:
        return replace(CATALOGUE[self.like], name=self.id, **self.overrides)


@dataclass(frozen=True)
class Host:
    """One loud sender: a single address of ``country`` sending ``packets`` in [start, end).

    It carries the fingerprint of the catalogue behaviour it is ``like``; its
    ``ports`` (none for a ``like`` without destination ports, e.g. backscatter)
    are each probed, then the rest drawn by weight.
    """

    id: str
    like: str
    country: str
    ports: tuple[tuple[int, float], ...]
    packets: int
    start: datetime
    end: datetime

    def behaviour(self) -> Behaviour:
        base = CATALOGUE[self.like]
        return replace(
            base,
            name=self.id,
            weight=0.0,
            countries=MappingProxyType({self.country: 1.0}),
            dports=self.ports or base.dports,
            dport_per="all" if self.ports else base.dport_per,
            walk=base.kind == "probe",
        )

    def packets_within(self, start: datetime, end: datetime) -> int:
        """Packets it sends inside a simulation of [start, end): all, or the share by time."""
        overlap = (min(end, self.end) - max(start, self.start)).total_seconds()
        if overlap <= 0:
            return 0
        return round(self.packets * overlap / (self.end - self.start).total_seconds())

    def labels(self) -> list[str]:
        """Its destination ports as ``"22/tcp"`` (none without ports)."""
        proto = CATALOGUE[self.like].proto
        return [f"{p}/{proto}" for p, _ in self.ports]

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "like": self.like,
            "country": self.country,
            "ports": {label: w for label, (_, w) in zip(self.labels(), self.ports, strict=True)},
            "packets": self.packets,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
        }


@dataclass(frozen=True)
class Crossover:
    """Two daily probe series (country and/or port) whose first crossing the truth reports."""

    id: str
    rising: Selector
    falling: Selector

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": "crossover",
            "rising": self.rising.as_json(),
            "falling": self.falling.as_json(),
        }


@dataclass(frozen=True)
class Scenario:
    """A parsed, validated scenario."""

    name: str
    description: str = ""
    source: str = "<inline>"  # "builtin:NAME" or the file it was read from
    behaviours: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    campaigns: tuple[Campaign, ...] = ()
    changes: tuple[Change, ...] = ()
    crossovers: tuple[Crossover, ...] = ()
    hosts: tuple[Host, ...] = ()

    def catalogue(self) -> Mapping[str, Behaviour]:
        """The catalogue with this scenario's tuning, plus its campaigns."""
        out = {name: replace(b, **self.behaviours.get(name, {})) for name, b in CATALOGUE.items()}
        out.update((c.id, c.behaviour()) for c in self.campaigns)
        return MappingProxyType(out)

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            "source": self.source,
            "campaigns": [c.id for c in self.campaigns],
        }
        if self.hosts:  # only then: scenarios without hosts keep their digest
            out["hosts"] = [h.as_json() for h in self.hosts]
        return out


def load_scenario(path_or_name: str | Path) -> Scenario:
    """A built-in scenario by name (:data:`BUILTIN_SCENARIOS`), or a scenario file."""
    if isinstance(path_or_name, str) and path_or_name in BUILTIN_SCENARIOS:
        builtin = resources.files("teiten.simulate") / "scenarios" / f"{path_or_name}.toml"
        return parse_scenario(builtin.read_text(encoding="utf-8"), f"builtin:{path_or_name}")
    path = Path(path_or_name)
    if not path.is_file():
        raise ScenarioError(
            str(path),
            f"no such scenario file, and no built-in scenario of that name "
            f"(built-ins: {', '.join(BUILTIN_SCENARIOS)})",
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(str(path), f"cannot read it: {exc}") from exc
    return parse_scenario(text, str(path))


def parse_scenario(text: str, source: str = "<inline>") -> Scenario:
    """Parse and validate a scenario's TOML text (``source`` names it in errors)."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(source, f"not valid TOML: {exc}") from exc
    return _Parser(source).scenario(doc)


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, message: str, entry: str | None = None, field: str | None = None) -> NoReturn:
        raise ScenarioError(self.source, message, entry=entry, field=field)

    def keys(self, table: Mapping[str, Any], allowed: tuple[str, ...], entry: str | None) -> None:
        for key in table:
            if key not in allowed:
                self.fail(f"unknown key; expected one of {', '.join(allowed)}", entry, key)

    def scenario(self, doc: dict[str, Any]) -> Scenario:
        self.keys(doc, ("name", "description", "behaviours", "campaigns", "hosts", "changes",
                        "crossovers"), None)  # fmt: skip
        name = doc.get("name")
        if not isinstance(name, str) or not name:
            self.fail("a scenario needs a non-empty string 'name'", None, "name")
        description = doc.get("description", "")
        if not isinstance(description, str):
            self.fail("must be a string", None, "description")
        behaviours = self.tunings(self.table(doc.get("behaviours", {}), "behaviours", None))
        campaigns = tuple(
            self.campaign(item, f"campaigns[{i}]")
            for i, item in enumerate(self.array(doc, "campaigns"))
        )
        ids = [c.id for c in campaigns]
        taken = [i for i in ids if i in CATALOGUE] or [i for i in ids if ids.count(i) > 1]
        if taken:
            self.fail(f"campaign id {taken[0]!r} repeats or names a catalogue behaviour",
                      f"campaigns ({taken[0]})", "id")  # fmt: skip
        hosts = tuple(
            self.host(item, f"hosts[{i}]") for i, item in enumerate(self.array(doc, "hosts"))
        )
        if len(hosts) > _MAX_HOSTS:
            self.fail(f"at most {_MAX_HOSTS} hosts per scenario", None, "hosts")
        senders = ids + [h.id for h in hosts]
        clash = [h.id for h in hosts if h.id in CATALOGUE or senders.count(h.id) > 1]
        if clash:
            self.fail(f"host id {clash[0]!r} repeats or names a behaviour or campaign",
                      f"hosts ({clash[0]})", "id")  # fmt: skip
        scenario = Scenario(name, description, self.source, behaviours, campaigns, hosts=hosts)
        catalogue = scenario.catalogue()
        changes = tuple(
            self.change(item, f"changes[{i}]", catalogue)
            for i, item in enumerate(self.array(doc, "changes"))
        )
        crossovers = tuple(
            self.crossover(item, f"crossovers[{i}]")
            for i, item in enumerate(self.array(doc, "crossovers"))
        )
        if len(changes) > 60:
            self.fail("at most 60 changes per scenario", None, "changes")
        every = [c.id for c in changes] + [c.id for c in crossovers]
        twice = sorted({i for i in every if every.count(i) > 1})
        if twice:
            self.fail(f"ids must be unique, {twice[0]!r} repeats", None, "id")
        return replace(scenario, changes=changes, crossovers=crossovers)

    # --- shapes -------------------------------------------------------------------------

    def table(self, value: object, field: str, entry: str | None) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail("must be a table", entry, field)
        return value

    def array(self, doc: dict[str, Any], key: str) -> list[dict[str, Any]]:
        value = doc.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.fail(f"must be an array of tables ([[{key}]])", None, key)
        return value

    def number(self, value: object, field: str, entry: str, *, positive: bool = False) -> float:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            self.fail(f"must be a number, not {value!r}", entry, field)
        if value < 0 or (positive and value == 0):
            self.fail(f"must be {'> 0' if positive else '≥ 0'}, not {value}", entry, field)
        return float(value)

    def when(self, value: object, field: str, entry: str) -> datetime:
        if isinstance(value, datetime):
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        if isinstance(value, date):
            return datetime(value.year, value.month, value.day, tzinfo=UTC)
        self.fail(f"must be a TOML date such as 2019-05-14 (no quotes), not {value!r}",
                  entry, field)  # fmt: skip

    def strings(self, value: object, field: str, entry: str) -> tuple[str, ...]:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not items or not all(isinstance(v, str) for v in items):
            self.fail("must be a string or a non-empty list of strings", entry, field)
        return tuple(items)

    def ident(self, item: dict[str, Any], entry: str) -> str:
        ident = item.get("id")
        if not isinstance(ident, str) or not ident or any(c.isspace() for c in ident):
            self.fail("every entry needs an 'id': a non-empty string without spaces", entry, "id")
        return ident

    # --- behaviours and campaigns -------------------------------------------------------

    def ports(self, value: object, field: str, entry: str) -> tuple[tuple[int, float], ...]:
        table = self.table(value, field, entry)
        if not table:
            self.fail("needs at least one port", entry, field)
        out = []
        for key, weight in table.items():
            if not key.isdigit() or not 1 <= int(key) <= 65535:
                self.fail(f"port {key!r} is not a number in 1–65535", entry, field)
            out.append((int(key), self.number(weight, f"{field}.{key}", entry, positive=True)))
        return tuple(out)

    def countries(self, value: object, field: str, entry: str) -> Mapping[str, float]:
        table = self.table(value, field, entry)
        for code, share in table.items():
            if code != "*" and not (len(code) == 2 and code.isalpha() and code.isupper()):
                self.fail(f"{code!r} is not a two-letter country code (or '*')", entry, field)
            self.number(share, f"{field}.{code}", entry)
        if not any(table.values()):
            self.fail("needs a country with a share > 0", entry, field)
        return MappingProxyType({c: float(s) for c, s in table.items()})

    def tuning(self, item: dict[str, Any], entry: str, allowed: tuple[str, ...]) -> dict[str, Any]:
        self.keys(item, allowed, entry)
        out: dict[str, Any] = {}
        for key in ("weight", "source_share", "volume_alpha"):
            if key in item:
                out[key] = self.number(item[key], key, entry, positive=key != "weight")
        if "ports" in item:
            out["dports"] = self.ports(item["ports"], "ports", entry)
        if "countries" in item:
            out["countries"] = self.countries(item["countries"], "countries", entry)
        if "ports_per_source" in item:
            how = item["ports_per_source"]
            if how not in _PORTS_PER_SOURCE:
                self.fail(f"must be one of {', '.join(map(repr, _PORTS_PER_SOURCE))}, not {how!r}",
                          entry, "ports_per_source")  # fmt: skip
            out["dport_per"] = _PORTS_PER_SOURCE[how]
        return out

    def check(self, make: Any, entry: str) -> None:
        try:
            make()
        except ValueError as exc:
            self.fail(str(exc), entry)

    def tunings(self, table: dict[str, Any]) -> Mapping[str, Mapping[str, Any]]:
        out = {}
        for name, item in table.items():
            entry = f"behaviours.{name}"
            if name not in CATALOGUE:
                self.fail(f"no such behaviour; known: {', '.join(CATALOGUE)}", entry)
            tuning = self.tuning(self.table(item, name, "behaviours"), entry, _OVERRIDABLE)
            self.check(lambda n=name, t=tuning: replace(CATALOGUE[n], **t), entry)
            out[name] = MappingProxyType(tuning)
        return MappingProxyType(out)

    def campaign(self, item: dict[str, Any], entry: str) -> Campaign:
        ident = self.ident(item, entry)
        entry = f"{entry} ({ident})"
        like = item.get("like")
        if not isinstance(like, str) or like not in CATALOGUE:
            self.fail(f"must name a catalogue behaviour: {', '.join(CATALOGUE)}", entry, "like")
        for required in ("weight", "source_share"):
            if required not in item:
                self.fail("a campaign needs its own share", entry, required)
        tuning = self.tuning(
            {k: v for k, v in item.items() if k not in ("id", "like")}, entry, _OVERRIDABLE
        )
        campaign = Campaign(ident, like, MappingProxyType(tuning))
        self.check(campaign.behaviour, entry)
        return campaign

    # --- single hosts -------------------------------------------------------------------

    def host(self, item: dict[str, Any], entry: str) -> Host:
        ident = self.ident(item, entry)
        entry = f"{entry} ({ident})"
        self.keys(item, ("id", "like", "country", "ports", "packets", "at", "until"), entry)
        for required in ("like", "country", "packets", "at", "until"):
            if required not in item:
                self.fail(f"a host needs '{required}'", entry, required)
        like = item["like"]
        if not isinstance(like, str) or like not in CATALOGUE:
            self.fail(f"must name a catalogue behaviour: {', '.join(CATALOGUE)}", entry, "like")
        country = item["country"]
        if not isinstance(country, str) or country not in ISO_COUNTRIES:
            self.fail(f"{country!r} is not an ISO 3166 country code (e.g. KR, NL; GB, not UK)",
                      entry, "country")  # fmt: skip
        packets = item["packets"]
        if isinstance(packets, bool) or not isinstance(packets, int) or packets <= 0:
            self.fail(f"must be a whole number of packets > 0, not {packets!r}", entry, "packets")
        start, end = self.when(item["at"], "at", entry), self.when(item["until"], "until", entry)
        if end <= start:
            self.fail(f"must be after 'at' ({start.isoformat()})", entry, "until")
        host = Host(ident, like, country, self.host_ports(item, like, entry), packets, start, end)
        self.check(host.behaviour, entry)
        return host

    def host_ports(
        self, item: dict[str, Any], like: str, entry: str
    ) -> tuple[tuple[int, float], ...]:
        b = CATALOGUE[like]
        if not b.dports:
            if "ports" in item:
                self.fail(f"{like} sends to no chosen port; leave 'ports' out", entry, "ports")
            return ()
        if "ports" not in item:
            self.fail("a host needs its destination 'ports'", entry, "ports")
        value = item["ports"]
        if isinstance(value, dict):
            return self.ports(value, "ports", entry)
        out = []
        for text in self.strings(value, "ports", entry):
            number, _, proto = text.partition("/")
            if not number.isdigit() or not 1 <= int(number) <= 65535 or proto != b.proto:
                self.fail(f"{text!r} is not PORT/{b.proto} (a {like} host sends {b.proto})",
                          entry, "ports")  # fmt: skip
            out.append((int(number), 1.0))
        return tuple(out)

    # --- selections and changes ---------------------------------------------------------

    def selector(
        self, value: object, field: str, entry: str, catalogue: Mapping[str, Behaviour]
    ) -> Selector:
        table = self.table(value, field, entry)
        self.keys(table, ("behaviour", "country", "port"), entry)
        if not table:
            self.fail("selects everything; name a behaviour, country or port", entry, field)
        names = self.strings(table["behaviour"], f"{field}.behaviour", entry) if (
            "behaviour" in table) else ()  # fmt: skip
        for name in names:
            if name not in catalogue:
                self.fail(f"no behaviour or campaign {name!r}; known: {', '.join(catalogue)}",
                          entry, f"{field}.behaviour")  # fmt: skip
        countries: tuple[str, ...] = ()
        if "country" in table:
            countries = self.strings(table["country"], f"{field}.country", entry)
            self.countries(dict.fromkeys(countries, 1.0), f"{field}.country", entry)
        ports = []
        for text in self.strings(table["port"], f"{field}.port", entry) if "port" in table else ():
            number, _, proto = text.partition("/")
            if not number.isdigit() or not 1 <= int(number) <= 65535 or proto not in _PROTOS:
                self.fail(f"{text!r} is not PORT/tcp or PORT/udp", entry, f"{field}.port")
            ports.append((int(number), proto))
        pool = [catalogue[n] for n in names] if names else list(catalogue.values())
        for port, proto in ports:
            matches = [b.name for b in pool if port_match(b, port, proto) != "no"]
            if not matches:
                spread = [b.name for b in pool if any(p == port for p, _ in b.dports)]
                hint = (
                    f"; {', '.join(spread)} spread packets over several ports: select "
                    "the behaviour without a port, or define a campaign for this port"
                    if spread
                    else ""
                )
                self.fail(f"no selected sender sends all its packets to {port}/{proto}{hint}",
                          entry, f"{field}.port")  # fmt: skip
        return Selector(names, countries, tuple(ports))

    def change(
        self, item: dict[str, Any], entry: str, catalogue: Mapping[str, Behaviour]
    ) -> Change:
        ident = self.ident(item, entry)
        entry = f"{entry} ({ident})"
        kind = item.get("kind")
        if kind not in _KINDS:
            self.fail(f"must be one of {', '.join(_KINDS)}, not {kind!r}", entry, "kind")
        allowed = {
            "ramp": ("from", "to", "factor"),
            "step": ("at", "factor", "until", "half_life_days"),
            "enter": ("at",),
            "leave": ("at",),
        }[kind]
        self.keys(item, ("id", "kind", "select", *allowed), entry)
        for key in allowed:
            if key not in item and key not in ("until", "half_life_days"):
                self.fail(f"a {kind} change needs '{key}'", entry, key)
        if "select" not in item:
            self.fail("a change needs a selection", entry, "select")
        select = self.selector(item["select"], "select", entry, catalogue)
        if kind == "ramp":
            start, end = self.when(item["from"], "from", entry), self.when(item["to"], "to", entry)
            if end <= start:
                self.fail(f"must be after 'from' ({start.date()})", entry, "to")
            factor = item["factor"]
            if not isinstance(factor, list) or len(factor) != 2:
                self.fail("a ramp's factor is [from, to], e.g. [1.0, 0.4]", entry, "factor")
            a, b = (self.number(f, "factor", entry) for f in factor)
            return Change(ident, kind, select, start, end, (a, b))
        start = self.when(item["at"], "at", entry)
        if kind != "step":
            return Change(ident, kind, select, start)
        f = self.number(item["factor"], "factor", entry, positive=True)
        until = self.when(item["until"], "until", entry) if "until" in item else None
        if until is not None and until <= start:
            self.fail(f"must be after 'at' ({start.date()})", entry, "until")
        half = item.get("half_life_days")
        if half is not None:
            half = self.number(half, "half_life_days", entry, positive=True)
        return Change(ident, kind, select, start, until, (f, f), half)

    def crossover(self, item: dict[str, Any], entry: str) -> Crossover:
        ident = self.ident(item, entry)
        entry = f"{entry} ({ident})"
        self.keys(item, ("id", "rising", "falling"), entry)
        sides = []
        for side in ("rising", "falling"):
            if side not in item:
                self.fail("a crossover needs both series", entry, side)
            table = self.table(item[side], side, entry)
            self.keys(table, ("country", "port"), entry)
            port, country = table.get("port"), table.get("country")
            if not isinstance(port, str) or not (country is None or isinstance(country, str)):
                self.fail("a series is one port (\"445/tcp\") and optionally one country",
                          entry, side)  # fmt: skip
            number, _, proto = port.partition("/")
            if not number.isdigit() or not 1 <= int(number) <= 65535 or proto not in _PROTOS:
                self.fail(f"{port!r} is not PORT/tcp or PORT/udp", entry, f"{side}.port")
            countries = () if country is None else (country,)
            self.countries(dict.fromkeys(countries or ("*",), 1.0), f"{side}.country", entry)
            sides.append(Selector((), countries, ((int(number), proto),)))
        return Crossover(ident, sides[0], sides[1])


def day_floor(when: datetime) -> datetime:
    """Midnight UTC of ``when``'s day."""
    return when.replace(hour=0, minute=0, second=0, microsecond=0)


def days_between(first: datetime, end: datetime) -> list[date]:
    """Every UTC day from ``first``'s to the one holding the last instant before ``end``."""
    day, out = day_floor(first), []
    while day < end:
        out.append(day.date())
        day += timedelta(days=1)
    return out
