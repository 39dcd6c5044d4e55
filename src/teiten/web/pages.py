"""The dashboard: server-rendered pages over the API's own answers.

Each page asks :meth:`teiten.web.app._Server.answer` what the API would answer (the
same JSON, the same public view, the same cache) and renders it; the charts are drawn
in the browser by ``static/dashboard.js`` with uPlot, from the API (no inline script:
data travels in ``data-`` attributes). The period and the language are in the URL
(``?period=2019Q2&lang=ja``); without one, the last 7 days of data and the browser's
language (Japanese when it asks for it first). :func:`first_visit` builds a page as its
first visitor's load does (the warmer makes the standard views so, ahead).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import jinja2
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

import teiten
from teiten.errors import ParameterError, TeitenError
from teiten.web.api import ENDPOINTS
from teiten.web.messages import TEXT, language

if TYPE_CHECKING:
    from teiten.web.app import _Access, _Server

__all__ = ["add_pages", "first_visit", "last_day", "preset_periods"]

_ENDPOINTS = {e.path: e for e in ENDPOINTS}
NAVIGATION = ("overview", "series", "phenomena", "events", "infected", "source")
_ATTRIBUTION_MARK = {"one-host": "†", "few-hosts": "‡"}


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("teiten.web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )


_ENV = _environment()


def add_pages(app: FastAPI, server: _Server) -> None:
    """The dashboard's routes on ``app``."""

    for path, page, build, period in (
        ("/", "overview", _overview, True),
        ("/series", "series", _series, True),
        ("/phenomena", "phenomena", _phenomena, True),
        ("/events", "events", _events, True),
        ("/infected", "infected", _infected, True),
        ("/source", "source", _source, False),
        ("/signin", "source", _signin, False),
    ):
        app.add_api_route(
            path, _handler(server, page, build, period), methods=["GET"], include_in_schema=False
        )

    @app.post("/signin", include_in_schema=False)
    async def signed_in(request: Request) -> Response:
        from teiten.web.app import TOKEN_COOKIE

        form = await _form(request)
        lang = form.get("lang", "en")
        if server.tokens.verify(form.get("token", "").strip()) is None:
            return RedirectResponse(f"/signin?{urlencode({'lang': lang, 'failed': 1})}", 303)
        response = RedirectResponse(f"/?{urlencode({'lang': lang})}", 303)
        response.set_cookie(
            TOKEN_COOKIE,
            form["token"].strip(),
            httponly=True,
            samesite="strict",
            secure=server.config.tls,
            max_age=8 * 3600,
        )
        return response


def _handler(server: _Server, page: str, build: Any, period: bool) -> Any:
    async def handler(request: Request) -> Response:
        return await _page(server, request, page, build, period=period)

    return handler


async def _form(request: Request) -> dict[str, str]:
    """An urlencoded form body (the sign-in form), without python-multipart."""
    from urllib.parse import parse_qsl

    body = (await request.body())[:4096].decode(errors="replace")
    return dict(parse_qsl(body))


async def _page(
    server: _Server, request: Request, page: str, build: Any, *, period: bool = True
) -> Response:
    """Render ``page``: ``build(server, access, context)`` fills in what it shows."""
    from starlette.concurrency import run_in_threadpool

    access: _Access = request.state.access
    lang = language(request.query_params.get("lang"), request.headers.get("accept-language"))
    context: dict[str, Any] = {
        "page": page,
        "lang": lang,
        "t": TEXT[lang],
        "public": not access.operator,
        "operator": access.operator,
        "version": teiten.__version__,
        "period": None,
        "extra_params": [],
        "presets": [],
        "params": dict(request.query_params),
        "poll": _poll(request.query_params.get("poll")),
        "navigation": NAVIGATION,
    }
    last = await run_in_threadpool(last_day, server)
    if period:
        context["period"] = request.query_params.get("period") or _last_7_days(last)
        context["presets"] = _presets(last, lang, request)
    context["query"] = lambda **kw: _query(request, **kw)
    context["lang_link"] = "?" + _query(request, lang="en" if lang == "ja" else "ja")
    context["links"] = {
        name: f"/{'' if name == 'overview' else name}?"
        + urlencode({k: v for k, v in (("period", context["period"]), ("lang", lang)) if v})
        for name in NAVIGATION
    }
    try:
        await run_in_threadpool(build, server, access, context, request.query_params)
    except ParameterError as exc:
        context["error"] = str(exc)
        return HTMLResponse(_error_page(context, str(exc)), status_code=422)
    except TeitenError as exc:
        return HTMLResponse(_error_page(context, str(exc)), status_code=400)
    html = _ENV.get_template(f"{build.__name__.strip('_')}.html.j2").render(**context)
    return HTMLResponse(html)


def _poll(asked: str | None) -> int:
    """How often (ms) a page asks whether the store changed: ``?poll=`` within 1 s to
    10 min, else 10 s."""
    try:
        return min(max(int(asked or 10_000), 1_000), 600_000)
    except ValueError:
        return 10_000


def _error_page(context: dict[str, Any], message: str) -> str:
    context = {**context}
    template = _ENV.from_string(
        '{% extends "base.html.j2" %}{% block main %}<p class="error">{{ message }}</p>'
        "{% endblock %}"
    )
    return template.render(**context, message=message)


def _query(request: Request, **changes: Any) -> str:
    """This page's query with ``changes`` (None removes a parameter)."""
    params = dict(request.query_params)
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = str(value)
    return urlencode(params)


def last_day(server: _Server) -> date:
    """The store's last day with packets (today when it holds none): from its day
    folders' names, not from the answer of ``/api/v1/store``, which reads every day's
    rows."""
    from teiten.store.summary import last_day as newest

    return newest(server.store) or date.today()


def _last_7_days(last: date) -> str:
    return f"{last - timedelta(days=6)}..{last}"


def preset_periods(last: date) -> list[str]:
    """The period picker's presets around the store's last day: its last 7 days (the
    default period), its month, its quarter."""
    return [
        _last_7_days(last),
        f"{last.year}-{last.month:02d}",
        f"{last.year}Q{(last.month - 1) // 3 + 1}",
    ]


def _presets(last: date, lang: str, request: Request) -> list[tuple[str, str]]:
    """Links to the usual periods around the store's last day."""
    t = TEXT[lang]
    days, month, quarter = preset_periods(last)
    return [
        (t["last_7_days"], "?" + _query(request, period=days)),
        (f"{t['month']} {month}", "?" + _query(request, period=month)),
        (f"{t['quarter']} {quarter}", "?" + _query(request, period=quarter)),
    ]


def _ask(server: _Server, access: _Access, path: str, **params: Any) -> Any:
    given = [
        (k, str(v))
        for k, values in params.items()
        if values is not None
        for v in (values if isinstance(values, list | tuple) else [values])
    ]
    return server.answer(_ENDPOINTS[path], given, access)


def first_visit(server: _Server, access: _Access, page: str, period: str) -> list[str]:
    """Build ``page`` (overview, series, phenomena, events or infected) of ``period`` as its first
    visitor's load does, so that the answers it shows are made and kept; the API URLs
    its charts then ask for (the overview's: its sparklines and the store's version)."""
    context: dict[str, Any] = {"t": TEXT["en"], "lang": "en", "period": period}
    _BUILDERS[page](server, access, context, {})
    if page == "overview":
        rows = [r for table in context["tables"] for r in table["rows"]]
        return [*(r["series"] for r in rows), "/api/v1/store"]
    if page == "series":
        return [context["series_url"], context["phenomena_url"]]
    if page == "infected":
        return [context["infected_url"]]
    return []


def _count(value: float) -> str:
    return f"{value:,.0f}"


def _overview(
    server: _Server, access: _Access, context: dict[str, Any], params: Mapping[str, str]
) -> None:
    from teiten.analyze.periods import parse_period

    t, lang, period = context["t"], context["lang"], context["period"]
    ports = _ask(server, access, "top/ports", period=period, limit=10)
    countries = _ask(server, access, "top/countries", period=period, limit=10)
    asns = _ask(server, access, "top/asns", period=period, limit=10)
    previous = parse_period(period).previous().label
    before = _ask(server, access, "top/ports", period=previous, limit=1)["total"]
    total = ports["total"]
    tiles = []
    for key in ("packets", "sources"):
        change = _change(total[key], before[key])
        note = t["previous"].format(value=_count(before[key])) + (f" ({change})" if change else "")
        tiles.append(
            {
                "key": key,
                "label": t[key],
                "raw": total[key],
                "value": _count(total[key]),
                "note": note,
            }
        )
    if access.operator and total.get("sensors"):
        per = total["packets"] / total["sensors"]
        note = f"{t['sensors']}: {total['sensors']}"
        tiles.append(
            {
                "key": "per_sensor",
                "label": t["per_sensor"],
                "raw": per,
                "value": _count(per),
                "note": note,
            }
        )
    # The ETag of /api/v1/store now, which the live figures' script watches for a change
    # (the page's own: its first question needs no answer before the page is ready).
    context["store_etag"] = server.store_asked(access).etag
    context["tiles"] = tiles
    base = {"period": period, "lang": lang}
    context["tables"] = [
        {
            "id": "top-ports",
            "title": t["top_ports"],
            "heads": [t["port"], t["service"]],
            "rows": [
                _row(
                    r,
                    [
                        _port_label(r),
                        r.get("service") or "",
                    ],
                    {**base, "port": r["port"], "proto": r["proto"]},
                    lang,
                )
                for r in ports["rows"]
            ],
        },
        {
            "id": "top-countries",
            "title": t["top_countries"],
            "heads": [t["region"]],
            "rows": [
                _row(
                    r,
                    [_country_label(r["country"], lang)],
                    {**base, "country": r["country"]},
                    lang,
                )
                for r in countries["rows"]
            ],
        },
    ]
    if any(r["asn"] is not None for r in asns["rows"]):  # the store has AS data
        context["tables"].append(
            {
                "id": "top-asns",
                "title": t["top_asns"],
                "heads": [t["asn"], t["holder"]],
                "rows": [
                    _row(
                        r,
                        ["—" if r["asn"] is None else f"AS{r['asn']}", r["name"] or ""],
                        {**base, "asn": r["asn"]},
                        lang,
                    )
                    for r in asns["rows"]
                ],
            }
        )


def _port_label(r: dict[str, Any]) -> str:
    value = r["port"] if r["port"] is not None else r.get("icmp_type", "")
    return f"{value}/{r['proto']}"


def _country_label(code: str | None, lang: str) -> str:
    from teiten.enrich import country_name

    return f"{country_name(code, lang) or code or '—'} ({code or '—'})"


def _row(r: dict[str, Any], cells: list[str], params: dict[str, Any], lang: str) -> dict[str, Any]:
    """A ranking row as the overview shows it, with the series its sparkline draws."""
    shown = {k: v for k, v in params.items() if v is not None}
    series = {k: v for k, v in shown.items() if k != "lang"}
    return {
        "rank": r["rank"],
        "previous": TEXT[lang]["new"] if r["previous_rank"] is None else r["previous_rank"],
        "cells": cells,
        "packets": r["packets"],
        "sources": r["sources"],
        "share": f"{100 * r['share']:.1f}%",
        "mirai": f"{100 * r['tag_shares'].get('mirai', 0):.0f}%",
        "link": "/series?" + urlencode(shown),
        "series": "/api/v1/series?" + urlencode(series),
    }


def _change(now: float, before: float) -> str:
    if not before:
        return ""
    return f"{(now - before) / before:+.1%}"


def _series(
    server: _Server, access: _Access, context: dict[str, Any], params: Mapping[str, str]
) -> None:
    form = {k: params.get(k, "") for k in ("port", "country", "asn", "proto")}
    chosen = {k: v for k, v in form.items() if v}
    period = context["period"]
    context["form"] = form
    context["extra_params"] = list(chosen.items())
    what = ", ".join(f"{k} {v}" for k, v in chosen.items()) or context["t"]["all"]
    context["heading"] = f"{context['t']['series']}: {what}"
    context["series_url"] = "/api/v1/series?" + urlencode({"period": period, **chosen})
    context["phenomena_url"] = "/api/v1/phenomena?" + urlencode({"period": period})
    context["subject"] = json.dumps(chosen)
    _ask(server, access, "top/ports", period=period, limit=1)  # a bad period is a 422 here


def _phenomena(
    server: _Server, access: _Access, context: dict[str, Any], params: Mapping[str, str]
) -> None:
    t, lang = context["t"], context["lang"]
    found = _ask(server, access, "phenomena", period=context["period"])
    findings = []
    for f in found["findings"]:
        series = f.get("evidence", {}).get("series")
        findings.append(
            {
                "title": f["title"][lang],
                "text": f["text"][lang],
                "headline": f["headline"],
                "mark": _ATTRIBUTION_MARK.get(f["attribution"], ""),
                "attribution_text": t.get(f["attribution"], f["attribution"]),
                "sources": f["sources"],
                "dates": f"{f['start'] or ''} – {f['end'] or ''}",
                "chart": json.dumps(series) if series else "",
            }
        )
    context["findings"] = findings


# An event table's columns: (heading, cell), the first (the address) for operators only.
_SCAN_COLUMNS: list[tuple[str, Any]] = [
    ("source", lambda r: r["source"]),
    ("country", lambda r: r["country"] or ""),
    ("port", lambda r: f"{r['port']}/{r['proto']}"),
    ("start", lambda r: r["start"][:19]),
    ("end", lambda r: r["end"][:19]),
    ("packets", lambda r: _count(r["packets"])),
    ("destinations", lambda r: _count(r["destinations"])),
    ("rate", lambda r: _count(r["rate_pps_internet_wide"])),
]
_DOS_COLUMNS: list[tuple[str, Any]] = [
    ("victim", lambda r: r["victim"]),
    ("country", lambda r: r["country"] or ""),
    ("port", lambda r: ", ".join(r["ports"][:3])),
    ("start", lambda r: r["start"][:19]),
    ("end", lambda r: r["end"][:19]),
    ("packets", lambda r: _count(r["packets"])),
    ("rate", lambda r: _count(r["rate_pps_internet_wide"])),
]


def _events(
    server: _Server, access: _Access, context: dict[str, Any], params: Mapping[str, str]
) -> None:
    t, period = context["t"], context["period"]
    context["tables"] = []
    for path, title, columns in (
        ("events/scans", "scans", _SCAN_COLUMNS),
        ("events/dos", "dos", _DOS_COLUMNS),
    ):
        found = _ask(server, access, path, period=period, limit=20)
        shown = columns if access.operator else columns[1:]  # no address in public
        context["tables"].append(
            {
                "title": t[title],
                "total": found["total"]["events"],
                "heads": [t[head] for head, _ in shown],
                "rows": [[cell(r) for _, cell in shown] for r in found["rows"]],
            }
        )


def _infected(
    server: _Server, access: _Access, context: dict[str, Any], params: Mapping[str, str]
) -> None:
    """The country's infected hosts (``?country=``, the report's focus country JP by
    default): its total now and before, new and gone, the table per AS and the trend
    (drawn from the same answer, which the chart fetches)."""
    t = context["t"]
    country = params.get("country") or "JP"
    query = {"period": context["period"], "country": country}
    found = _ask(server, access, "infected", **query)
    total = found["total"]
    context["country"] = found["country"]
    context["country_label"] = _country_label(found["country"], context["lang"])
    context["extra_params"] = [("country", country)] if params.get("country") else []
    context["infected_url"] = "/api/v1/infected?" + urlencode(query)
    change = _change(total["sources"], total["previous_sources"])
    context["tiles"] = [
        {"key": key, "label": t[label], "raw": total[key], "note": change if i == 0 else ""}
        for i, (key, label) in enumerate(
            (
                ("sources", "infected_now"),
                ("previous_sources", "infected_before"),
                ("new", "infected_new"),
                ("gone", "infected_gone"),
            )
        )
    ]
    context["as_data"] = found["as_data"]
    context["any_infected"] = bool(total["sources"] or total["previous_sources"])
    context["rows"] = [
        {
            "rank": r["rank"],
            "asn": "—" if r["asn"] is None else f"AS{r['asn']}",
            "name": r["name"] or "",
            "link": "/series?"
            + urlencode({k: v for k, v in (*query.items(), ("asn", r["asn"])) if v}),
            "sources": r["sources"],
            "previous": r["previous_sources"],
            "change": f"{r['sources'] - r['previous_sources']:+,}",
            "new": r["new"],
            "gone": r["gone"],
        }
        for r in found["rows"]
    ]


def _source(
    server: _Server, access: _Access, context: dict[str, Any], params: Mapping[str, str]
) -> None:
    ip = params.get("ip")
    context["ip"] = ip
    context["history"] = None
    if access.operator and ip:
        context["history"] = server.answer(_ENDPOINTS["source/{ip}"], [("ip", ip)], access)


def _signin(
    server: _Server, access: _Access, context: dict[str, Any], params: Mapping[str, str]
) -> None:
    context["failed"] = bool(params.get("failed"))


_Builder = Callable[["_Server", "_Access", dict[str, Any], Mapping[str, str]], None]
_BUILDERS: dict[str, _Builder] = {
    "overview": _overview,
    "series": _series,
    "phenomena": _phenomena,
    "events": _events,
    "infected": _infected,
}
