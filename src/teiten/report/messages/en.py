"""English headings, labels and sentences, in the register of CSIRT and telescope reports."""

from __future__ import annotations

from datetime import date

LANG = "en"
LIST_SEPARATOR = ", "
RANGE = " – "

_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip

TEXT: dict[str, str] = {
    "title": "Internet Fixed-Point Observation Report",
    "title_span": " ({span})",
    "observation_period": "Observation period",
    "generated": "Made with teiten {version}",
    "generated_on": "{date}; made with teiten {version}",
    "zone": "{abbr} (UTC{offset})",
    "country_code": "{name} ({code})",
    "contents": "Contents",
    "overview": "Overview",
    "ports": "Top {n} destination ports by {measure}",
    "countries": "Top {n} source regions by {measure}",
    "phenomena": "Notable phenomena",
    "focus": "Packets from {country}",
    "events": "DoS backscatter and scanning",
    "scans": "Scanning",
    "dos": "DoS backscatter",
    "method": "Method and data sources",
    "measure.packets": "packets",
    "measure.per-sensor": "packets per sensor",
    "measure.sources": "distinct sources",
    "metric.packets": "Packets",
    "metric.per-sensor": "Packets per sensor",
    "metric.sources": "Distinct sources",
    "unit.share": "Share",
    "unit.count": "Count",
    "col.rank": "Rank",
    "col.port": "Port",
    "col.service": "Service",
    "col.region": "Source region",
    "col.share": "Share",
    "col.previous_rank": "Rank in {previous}",
    "col.events": "Events",
    "col.actors_scans": "Sources",
    "col.packets": "Packets",
    "col.victim_region": "Victim region",
    "col.asn": "AS",
    "col.holder": "Holder",
    "col.new": "New",
    "col.gone": "Gone",
    "unknown_asn": "no AS data",
    "col.proto": "Protocol",
    "col.victim_ports": "Victim ports",
    "col.start": "Start ({zone})",
    "col.packets_per_sensor": "Packets per sensor",
    "col.duration": "Duration",
    "col.rate": "Estimated attack rate (pps)",
    "col.rate_darknet": "Rate observed at the darknet (pps)",
    "outside_top10": "outside top 10",
    "no_previous_rank": "–",
    "unknown_region": "Unknown",
    "no_service": "–",
    "figure": "Figure {n}",
    # charts (teiten.report.charts): what the y axis plots, the legend's own entries
    "figure.see": "{caption}: see {figure}.",
    "chart.period": "report period",
    "chart.daily": "thin lines: daily values",
    "chart.clipped": "above the axis top: value (date)",
    "chart.view": "{quantity} ({view})",
    "chart.median": "7-day moving median",
    "chart.by_day": "daily",
    "axis.packets": "Packets per day",
    "axis.per-sensor": "Packets per sensor per day",
    "axis.sources": "Distinct sources per day",
    "axis.share": "Share of packets (%)",
    "axis.share.mirai": "Share of Mirai-type packets (%)",
    "axis.count": "Events per day",
    "legend.tagged": "{name}, {tool}-type",
    "table": "Table {n}",
    "previous.quarter": "previous quarter",
    "previous.month": "previous month",
    "previous.week": "previous week",
    "previous.day": "previous day",
    "previous.year": "previous year",
    "previous.range": "previous period",
    "overview.intro": (
        "This report describes the packets arriving at sensors placed on unused Internet "
        "addresses (a darknet). Nothing legitimate is sent to an unused address, so what arrives "
        "is mostly worms and bots looking for hosts to infect, research scanners, and the "
        "replies of hosts whose address was spoofed in denial-of-service attacks (backscatter)."
    ),
    "overview.intro_org": (
        "{organisation} observes the packets arriving at sensors placed on unused Internet "
        "addresses (a darknet). Nothing legitimate is sent to an unused address, so what "
        "arrives is mostly worms and bots looking for hosts to infect, research scanners, and the "
        "replies of hosts whose address was spoofed in denial-of-service attacks (backscatter)."
    ),
    "overview.totals": (
        "During the observation period the {sensors} sensors received {packets} packets, "
        "{per_sensor} packets per sensor, from {sources} distinct source addresses."
    ),
    "overview.totals_hidden": (
        "During the observation period each sensor received {per_sensor} packets on average, "
        "from {sources} distinct source addresses in all."
    ),
    "overview.kinds_hidden": (
        "Of these, {probe_share} were probes and {backscatter_share} were backscatter."
    ),
    "overview.kinds": (
        "Of these, {probe} packets ({probe_share}) were probes and {backscatter} packets "
        "({backscatter_share}) were backscatter."
    ),
    "overview.change": (
        "Packets per sensor {direction} by {change} from the {previous} ({previous_value})."
    ),
    "overview.same": (
        "Packets per sensor were about the same as in the {previous} ({previous_value})."
    ),
    "overview.no_previous": "There is no data for the {previous}.",
    "overview.figure": "Packets per sensor, daily",
    "up": "rose",
    "down": "fell",
    "series.all": "all sources",
    "ranking.intro": (
        "Table {table} lists the top {n} {dimension} of the probes the sensors received, "
        "ranked by {measure}; Figure {figure} shows them day by day ({metric})."
    ),
    "dimension.ports": "destination ports",
    "dimension.countries": "source regions",
    "ranking.top_port": (
        "The most probed destination was {label} ({service}), with {share} of the total."
    ),
    "ranking.top_port_noservice": (
        "The most probed destination was {label}, with {share} of the total."
    ),
    "ranking.top_country": "The largest source region was {name}, with {share} of the total.",
    "ranking.entered": "{items} entered the top {n} from outside the {previous}'s top 10.",
    "ranking.no_previous": "No data for the {previous}: no comparison.",
    "ranking.empty": "No matching packets were observed in the period.",
    "ranking.busiest": "One host in {country} ({tools}) sent {share} of the packets of {label}.",
    "ranking.busiest_plain": "One host in {country} sent {share} of the packets of {label}.",
    "ranking.busiest_within": "One host ({tools}) sent {share} of the packets from {label}.",
    "ranking.busiest_within_plain": "One host sent {share} of the packets from {label}.",
    "ranking.one_host": (
        "† Mostly one host: the row's top source sent {share} or more of its packets."
    ),
    "ranking.few_hosts": (
        "‡ Mostly a few hosts: the row's top 3 sources sent {share} or more of its packets."
    ),
    "ranking.figure": "{heading}, daily ({metric})",
    "phenomena.intro": (
        "Of the changes observed, the {n} most significant that meet the thresholds of volume, "
        "breadth and persistence are described here; the other detections are listed in "
        "Table {table} in the appendix."
    ),
    "phenomena.intro_none_notable": (
        "No phenomenon met the thresholds; the changes detected are listed in Table {table} in "
        "the appendix."
    ),
    "phenomena.advisories": "References",
    "phenomena.appendix": "Appendix: other detections",
    "phenomena.appendix_intro": (
        "Detected, but not described above: below the thresholds (volume: {volume} of the "
        "day's probes; persistence: half of the packets over {days} days or more; no single "
        "source sending {share} or more), or less significant than the {n} above."
    ),
    "phenomena.appendix_table": "Other detections",
    "col.finding": "Detection",
    "col.subject": "Subject",
    "col.first_day": "From",
    "col.sources": "Sources",
    "col.top_share": "Busiest source",
    "col.attribution": "Made by",
    "col.why": "Why not above",
    "attribution.one-host": "one host",
    "attribution.few-hosts": "a few hosts",
    "attribution.broad": "many hosts",
    "why.volume": "small",
    "why.burst": "a burst",
    "why.one-host": "one host",
    "why.few-hosts": "a few hosts",
    "why.overtaken-few-hosts": "the port overtaken was a few hosts' traffic",
    "why.not-sustained": "not sustained",
    "why.rank": "below the top {n}",
    "kind.surge": "surge",
    "kind.drop": "drop",
    "kind.new_entrant": "new in the top",
    "kind.crossover": "crossover",
    "kind.mirai_share": "Mirai-type share",
    # conclusion
    "conclusion": "Conclusion",
    "conclusion.intro": "From this period's observations, we recommend:",
    "conclusion.none": (
        "Nothing notable was observed this period. Keep reviewing the configuration and "
        "updates of devices and services exposed to the Internet."
    ),
    "action.patch": "If you run {products}, make sure the fixes for {cves} are applied.",
    "action.credentials": (
        "Change the factory-default passwords of IoT devices (routers, cameras, recorders) "
        "reachable on {ports}, and turn off remote login they do not need."
    ),
    "action.expose": "Do not expose {ports} to the Internet directly; restrict access to it.",
    "action.notify": (
        "Notify the owners of infected hosts in {country}, through their network operators "
        "or ISPs, so that they clean and secure their devices."
    ),
    "phenomena.none": "No notable phenomena were detected in this period.",
    "phenomena.no_previous": (
        "No data for the {previous}: no comparison (new entrants to the top are not judged)."
    ),
    "focus.totals_hidden": (
        "Addresses allocated to {country} sent {per_sensor} probe packets per sensor ({share} of "
        "the total) from {sources} distinct addresses; {country} ranked {rank} among source "
        "regions."
    ),
    "focus.totals": (
        "Addresses allocated to {country} sent {packets} probe packets ({share} of the total) "
        "from {sources} distinct addresses; {country} ranked {rank} among source regions."
    ),
    "focus.unranked": "unranked",
    "focus.none": "No probes from {country} were observed in the period.",
    "focus.ports": "Top {n} destination ports of packets from {country} by {measure}",
    "focus.mirai": (
        "The share of packets with the mark of Mirai and its variants (a TCP SYN whose "
        "sequence number equals the destination address) was {share} of the packets from "
        "{country} and {share_all} of all packets; Figure {figure} shows it day by day."
    ),
    "focus.mirai_figure": "Share of Mirai-type packets, daily",
    "focus.asns": "Top {n} ASes of infected (Mirai-type) sources in {country}, by sources",
    "focus.asns_lead": (
        "Infected sources in {country} — those whose packets carry the mark of Mirai and "
        "its variants — numbered {sources} (the {previous}: {previous_sources}); {new} of "
        "them were not seen infected in the {previous}, and {gone} seen then were not seen "
        "now. Table {table} lists the networks (ASes) holding most of them: their operators "
        "can reach the owners of those devices."
    ),
    "focus.asns_lead_first": (
        "Infected sources in {country} — those whose packets carry the mark of Mirai and "
        "its variants — numbered {sources}. Table {table} lists the networks (ASes) holding "
        "most of them: their operators can reach the owners of those devices."
    ),
    "scans.threshold": "{n} or more",
    "scans.threshold_hidden": "enough",
    "scans.hidden_note": (
        "The threshold is not published here: with the scaling rule it would tell the "
        "darknet's size."
    ),
    "scans.text": (
        "Counting as a scan one source probing one port at {threshold} darknet "
        "addresses {rate} ({basis}), there were {events} scans from {actors} sources."
    ),
    "scans.text_any_rate": (
        "Counting as a scan one source probing one port at {threshold} darknet "
        "addresses ({basis}), there were {events} scans from {actors} sources."
    ),
    "scans.rate_internet-wide": (
        "at an estimated Internet-wide rate of at least {min_rate} packets/s"
    ),
    "scans.rate_darknet": (
        "at a rate at the darknet that stands for at least {min_rate} packets/s Internet-wide "
        "if the scanner picks its targets uniformly"
    ),
    "scans.rate_implied": (
        "The second condition, an estimated Internet-wide rate of at least {min_rate} "
        "packets/s, is met by every such scan at a darknet of this size (a silence of more than "
        "{timeout} ends a scan), so it removes none."
    ),
    "scans.basis_scaled": (
        "the definition of Durumeric et al., 2014, with their threshold of 100 addresses of a "
        "/8 scaled to this darknet's size, and at least {floor}"
    ),
    "scans.basis_set": (
        "a destination threshold set for this report in place of Durumeric et al.'s, 2014"
    ),
    "scans.tags": "Scans bearing the fingerprint of a scanning tool: {items}.",
    "scans.tag_item": "{tag} {n}",
    "scans.table": "Ports scanned most",
    "dos.text": (
        "A host flooded with packets from spoofed sources answers the spoofed addresses. From "
        "these answers reaching the sensors (backscatter), with Moore et al.'s method and the "
        "thresholds of CAIDA's corsaro ({min_packets} packets or more, lasting {min_duration} "
        "or more, {min_ppm} packets in some 60 s), {events} DoS attacks on {actors} victims "
        "were inferred."
    ),
    "dos.rate_hidden": (
        "The highest attack rate, estimated Internet-wide, was {rate} packets/s (95 % interval "
        "of the packet count: {low}–{high}): the rate observed at the darknet scaled up to the "
        "whole IPv4 address space, assuming the attacker spoofed source addresses uniformly "
        "over it; spoofing from a narrower range makes it an overestimate."
    ),
    "dos.rate": (
        "The highest attack rate, estimated Internet-wide, was {rate} packets/s (95 % interval "
        "of the packet count: {low}–{high}): the {observed} packets/s observed at the darknet "
        "times {scale} (2^32 / the darknet's size), assuming the attacker spoofed source "
        "addresses uniformly over the IPv4 space; spoofing from a narrower range makes it an "
        "overestimate."
    ),
    "dos.rate_observed": (
        "The highest attack rate observed at the darknet was {observed} packets/s."
    ),
    "dos.rate_small": (
        "No Internet-wide rate is estimated: scaling the observed rate up by 2^32 / the "
        "darknet's size is done only for a darknet of at least {min} addresses (a /16), and "
        "this one is smaller."
    ),
    "dos.rate_undeclared": (
        "No Internet-wide rate is estimated: the darknet's size is not declared for every "
        "sensor, and scaling by 2^32 / an observed size would only give an upper bound."
    ),
    "dos.countries": "Ranked by attacks (then victims, then packets), the victims were in {items}.",
    "dos.region": "{regions} ({n} attacks)",
    "dos.region_one": "{regions} (1 attack)",
    "dos.region_tie": "{regions} ({n} each)",
    "dos.region_more": "{regions} and {more} more ({n} each)",
    "dos.region_sep": "; ",
    "dos.focus": "Victims in {country}: {victims} (attacks: {attacks}).",
    "dos.focus_none": "No victims in {country} were seen.",
    "dos.table": "Largest DoS attacks (victim addresses are not published)",
    "events.withheld": "{n} events whose source is a sensor address are left out.",
    "events.figure": "Scans and DoS attacks per day",
    "series.scans": "Scans",
    "series.dos": "DoS attacks",
    "events.none_scans": "No scans met the definition in this period.",
    "events.none_dos": "No DoS attacks met the definition in this period.",
    "method.observation": "Observation method",
    "method.sensors_hidden": (
        "This report counts the packets received by sensors on unused Internet addresses (a "
        "darknet). Neither the number of sensors nor the darknet's size nor its addresses are "
        "published; packets are given per sensor and as shares. Every packet reaching an "
        "unused address is unsolicited, so what arrives reflects threats to the Internet at "
        "large."
    ),
    "method.days": (
        "The observation period and the daily counts are divided into days at midnight UTC."
    ),
    "method.days_local": (
        "The observation period and the daily counts are divided into days at midnight UTC "
        "({time} {zone})."
    ),
    "method.times": "Times are given in {zone}.",
    "method.daily_rounded": (
        "Daily values in the figures are rounded to {digits} significant digits."
    ),
    "method.reproduce": "Reproducing this report",
    "method.version": "Software: teiten {version}",
    "method.digest": "Digest of the period's data: {digest}",
    "method.settings": "Settings: metric “{metric}”, top {top}, focus country {country}",
    "method.config": "Report settings file: {name} ({digest})",
    "method.config_none": "Report settings file: none (the defaults)",
    "method.command": (
        "Command that makes this report again (--store naming a store whose data has the "
        "digest above): {command}"
    ),
    "colophon.publisher": "Published by {organisation}",
    "colophon.contact": "Contact: {contact}",
    "colophon.disclaimer": "Disclaimer: {text}",
    "disclaimer.default": (
        "This report is based on observations of a darknet and is provided as is, without "
        "any warranty of accuracy or completeness. {publisher} accepts no liability for any "
        "damage arising from the use of its information."
    ),
    "disclaimer.publisher": "The publisher",
    "method.sensors": (
        "This report counts the packets received by {sensors} sensors on unused Internet "
        "addresses (a darknet of {size} addresses{size_note}). The sensors' addresses are not "
        "published. Every packet reaching an unused address is unsolicited, so what arrives "
        "reflects threats to the Internet at large."
    ),
    "method.size.declared": "",
    "method.size.observed": "; counted from the destinations observed, a lower bound",
    "method.size.mixed": "; partly counted from the destinations observed, a lower bound",
    "method.size.none": "",
    "method.data": "Data sources",
    "method.geo": "Source regions: {database}, edition {edition}",
    "method.geo_none": "Source regions: no data in the period",
    "method.knowledge": "Port knowledge: teiten knowledge base, edition {edition}",
    "method.import": "Vulnerability feed: {source} ({version}, {date})",
    "method.services": (
        "Service names: teiten knowledge base, then IANA's port registry (edition {edition})"
    ),
    "method.definitions": "Definitions",
    "def.packets": "Packets: packets the sensors received in the period.",
    "def.per-sensor": (
        "Packets per sensor: packets divided by the number of sensors that received any "
        "packet in the period (in daily charts, by the sensors that received any that day)."
    ),
    "def.sources": "Distinct sources: distinct source addresses.",
    "def.share": "Share: of all probes in the period (of all sources for the sources metric).",
    "def.previous": (
        "Rank in {previous}: the rank among all rows of the {previous}; below 10th, or not "
        "seen at all, it reads “outside top 10”; when there is no data for the {previous} at "
        "all, “–”."
    ),
    "def.probe": (
        "Probe: a packet trying to start a conversation: TCP SYN without ACK, UDP, ICMP "
        "requests (such as echo requests). The rankings count probes."
    ),
    "def.backscatter": (
        "Backscatter: replies to packets whose source was forged as a darknet address: TCP "
        "SYN-ACK and RST, ICMP replies and errors. DoS attacks are inferred from it."
    ),
    "def.other": "Other: anything else.",
    "def.region": (
        "Source region: the country or region a source address is allocated to, looked up "
        "at ingest in the database above."
    ),
}


def format_date(day: date) -> str:
    return f"{_MONTHS[day.month - 1]} {day.day}, {day.year}"


def span(kind: str, first: date, last: date) -> str | None:
    """A quarter, month or year as a title says it: April–June 2019, April 2019, 2019."""
    if kind == "quarter":
        return f"{_MONTHS[first.month - 1]}–{_MONTHS[last.month - 1]} {first.year}"
    if kind == "month":
        return f"{_MONTHS[first.month - 1]} {first.year}"
    if kind == "year":
        return str(first.year)
    return None  # weeks, days and ranges: the dates themselves


def axis_date(day: date, with_year: bool) -> str:
    text = f"{_MONTHS[day.month - 1][:3]} {day.day}"
    return f"{text}, {day.year}" if with_year else text


def duration(seconds: float) -> str:
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


def large(value: float) -> str:
    """A large rate in words: 1.9 million."""
    for scale, unit in ((1e12, " trillion"), (1e9, " billion"), (1e6, " million")):
        if value >= scale:
            return f"{value / scale:,.1f}{unit}"
    return f"{value:,.1f}"
