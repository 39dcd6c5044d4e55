"""``teiten serve``: the HTTP API over a store (``/api/v1``), public or for operators.

Who sees what: with a valid operator token (``Authorization: Bearer …``, issued by
``teiten web tokens add NAME``) everything; without one, in public mode, what
:func:`teiten.web.api.public_view` leaves (aggregates, no address, nothing per
sensor); without one otherwise, everything only while the store has no tokens and the
server listens on a loopback address (one analyst on their own machine), else 401.
A wrong token is always 401. Every client (its token's name, else its address) has a
request budget (429 with ``Retry-After`` beyond it). Answers are cached per store
version, which is also their ``ETag`` and ``Last-Modified``: a client that has the
current answer gets 304 without it being computed again; ``X-Cache: hit`` says an
answer was ready (:mod:`teiten.web.answers`), and the dashboard's standard answers are
made ahead whenever the store changes (:mod:`teiten.web.warm`). Logs name endpoints and
statuses, never tokens or client addresses.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import json
import logging
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path
from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.concurrency import run_in_threadpool

import teiten
from teiten.errors import ParameterError, Refusal, StoreError, TeitenError
from teiten.web.answers import Answers, Engines, Held, Key, store_version
from teiten.web.api import (
    ENDPOINTS,
    Endpoint,
    answer,
    csv_of,
    parse_query,
    public_view,
    query_name,
)
from teiten.web.config import WebConfig
from teiten.web.ratelimit import RateLimiter
from teiten.web.tokens import Tokens
from teiten.web.warm import Warmer

__all__ = ["create_app", "is_loopback", "store_version"]

log = logging.getLogger("teiten.web")
# The modules the endpoints' answers are computed in (imported when the server starts).
_ANSWER_MODULES = (
    "teiten.cli.top",
    "teiten.cli.series",
    "teiten.cli.events",
    "teiten.cli.phenomena",
    "teiten.cli.sources",
    "teiten.cli.infected",
    "teiten.analyze.rankings",
    "teiten.analyze.series",
    "teiten.analyze.phenomena",
    "teiten.store.asn",
)

API = "/api/v1"
# No script or style from anywhere but this server, none inline, no framing.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
_FREE = ("/static/", "/signin", "/api/v1/health")  # answered to anyone, outside any budget
# An OpenAPI operation only operators are answered (left out of the public document).
OPERATORS_ONLY = "x-teiten-operators"
# A browser's operator token (set by the dashboard's sign-in form: HttpOnly, SameSite=Strict).
TOKEN_COOKIE = "teiten_token"  # answered whatever the client's budget


@dataclass(frozen=True)
class _Access:
    """Who asks: ``operator`` (full answers) or not (public ones), and the client's key
    for its request budget (a token's name, or its address); ``ahead``: the server
    itself, making answers before anyone asks (:mod:`teiten.web.warm`)."""

    operator: bool
    client: str
    ahead: bool = False


@dataclass(frozen=True)
class _Asked:
    """An answer asked for: its key in the cache (and so its ETag), the store's time,
    and how to make it."""

    key: Key
    modified: float
    make: Callable[[], Held]

    @property
    def etag(self) -> str:
        digest = hashlib.blake2b("\0".join(self.key).encode(), digest_size=16).hexdigest()
        return f'"{digest}"'


class _Metrics:
    """The server's Prometheus metrics: labels are endpoint paths and statuses only."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "teiten_web_requests",
            "Requests answered, by endpoint and status.",
            ["endpoint", "status"],
            registry=self.registry,
        )
        self.seconds = Histogram(
            "teiten_web_request_seconds",
            "Time to answer, by endpoint.",
            ["endpoint"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30),
        )
        self.cache = Counter(
            "teiten_web_cache",
            "Answers from the cache (hit), computed for a client (miss) or ahead (warm).",
            ["result"],
            registry=self.registry,
        )
        self.warm_done = Gauge(
            "teiten_web_warm_done",
            "Requests of a first dashboard visit (pages, charts) made ahead, this store version.",
            registry=self.registry,
        )
        self.warm_planned = Gauge(
            "teiten_web_warm_planned",
            "Requests of a first dashboard visit to make ahead, this store version (so far).",
            registry=self.registry,
        )


class _Server:
    """What the routes share."""

    def __init__(self, config: WebConfig) -> None:
        assert config.store is not None
        self.config = config
        self.store = config.store
        self.tokens = Tokens(config.store)
        self.limiter = RateLimiter(config.requests_per_minute, config.burst)
        self.cache = Answers(config.cache_entries)
        self.engines = Engines(config.store, config.engine)
        self.metrics = _Metrics()
        self.loopback = is_loopback(config.host)
        self._answering: anyio.CapacityLimiter | None = None

    def answering(self) -> anyio.CapacityLimiter:
        """The threads answers are made in for clients, one per maker (an event loop's):
        a request waits here, in the order it came, not in a thread of its own. With a
        thread per waiting request (twenty clients: twenty threads, each opening the store
        and woken in no order by the makers' semaphore), twenty clients' first answers on
        the 30 M store took 0.55-0.69 s of CPU (now 0.47-0.57) and their p95 was
        208-250 ms (now 141-181)."""
        if self._answering is None:
            self._answering = anyio.CapacityLimiter(self.cache.makers)
        return self._answering

    def prepare(self) -> None:
        """Import what answers are computed with, read the packaged knowledge base, port
        registry and country names, and open the engine, before the first client asks: a
        first answer then costs its queries alone (the first twenty clients would
        otherwise all wait for one import of the analyses, one parse of each file)."""
        import importlib

        from teiten.enrich import port_registry
        from teiten.enrich.countries import country_code
        from teiten.knowledge import load_knowledge

        for module in _ANSWER_MODULES:
            importlib.import_module(module)
        load_knowledge()  # the packaged files, parsed once: port rows name their service,
        port_registry()  # ... and their IANA name;
        country_code("JP")  # a country filter is read from every spelling of every name
        try:
            with self.engines.lend():
                pass
        except Exception as exc:  # told again, to each client whose answer needs it
            log.warning("the store's engine could not be opened yet: %s", exc)

    def asked(self, route: str, query: str, access: _Access, make: Callable[[], Held]) -> _Asked:
        """``route``'s answer for ``query`` (as parsed: the same text for the same
        answer) as ``access`` may see it, at the store's current version."""
        version, modified = store_version(self.store)
        view = "operator" if access.operator else "public"
        return _Asked((version, route, query, view), modified, make)

    def endpoint_asked(
        self, endpoint: Endpoint, given: list[tuple[str, str]], access: _Access
    ) -> _Asked:
        """The endpoint's answer for the query ``given``; :class:`ParameterError` for a
        parameter refused (a public one: a period not published yet, too)."""
        kwargs, output = parse_query(endpoint, given, public=not access.operator)
        if not access.operator:
            _check_delay(kwargs.get("period"), self.config.publication_delay_hours)
        query = json.dumps({**kwargs, "format": output}, sort_keys=True, default=str)

        def make() -> Held:
            with self.engines.lend() as engine:
                result = answer(endpoint, kwargs, self.store, self.config.engine, engine)
            body = result.json if access.operator else public_view(endpoint, result.json)
            if output == "csv":
                shown = csv_of(endpoint, result, body, public=not access.operator)
                return shown.encode(), "text/csv; charset=utf-8"
            return _json_bytes(body), "application/json"

        return self.asked(f"{API}/{endpoint.path}", query, access, make)

    def store_asked(self, access: _Access) -> _Asked:
        """``/api/v1/store``: what the store holds (in public, without its sensors)."""

        def make() -> Held:
            from teiten.store import Store
            from teiten.store.summary import summarize

            info = summarize(Store(self.store, create=False))
            if not access.operator:
                info = {k: v for k, v in info.items() if k not in ("store", "sensors", "inputs")}
            return _json_bytes(info), "application/json"

        return self.asked(f"{API}/store", "", access, make)

    def held(self, asked: _Asked, *, for_client: bool = True) -> tuple[Held, bool]:
        """The answer asked for, from the cache, else made (once, whoever asks meanwhile);
        and whether it was found made. Not ``for_client``: made ahead (the warmer)."""
        found, made = self.cache.get_or_make(asked.key, asked.make, for_client=for_client)
        if for_client:
            self.metrics.cache.labels("miss" if made else "hit").inc()
        elif made:
            self.metrics.cache.labels("warm").inc()
        return found, not made

    def answer(self, endpoint: Endpoint, given: list[tuple[str, str]], access: _Access) -> Any:
        """The endpoint's JSON for the query ``given`` as ``access`` may see it, as its API
        route answers it (the pages' figures)."""
        asked = self.endpoint_asked(endpoint, given, access)
        found, _ = self.held(asked, for_client=not access.ahead)
        return json.loads(found[0])

    def access(self, request: Request) -> _Access:
        """The caller's access; :class:`~teiten.errors.Refusal` (401) for a wrong or missing
        token."""
        header = request.headers.get("authorization")
        cookie = request.cookies.get(TOKEN_COOKIE)
        if header is not None or cookie:
            scheme, _, token = (header or f"bearer {cookie}").partition(" ")
            name = self.tokens.verify(token.strip()) if scheme.lower() == "bearer" else None
            if name is None:
                raise Refusal(401, "unauthorized", "the bearer token is not valid")
            return _Access(True, f"token:{name}")
        client = request.client.host if request.client else "-"
        if self.config.public:
            return _Access(False, f"addr:{client}")
        if self.loopback and not self.tokens.list():
            return _Access(True, f"addr:{client}")
        raise Refusal(
            401,
            "unauthorized",
            "an operator token is needed: send 'Authorization: Bearer <token>' "
            "(issued by `teiten web tokens add NAME`)",
        )


_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="teiten"'}


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address) is this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """``{"error": message}``; a 401 says how to authenticate."""
    if status == 401:
        headers = {**(headers or {}), **_CHALLENGE}
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _invalid(exc: ParameterError) -> JSONResponse:
    """422 naming the parameter, shaped as FastAPI's own validation errors are."""
    detail = [{"loc": ["query", exc.name], "msg": str(exc), "type": "value_error"}]
    return JSONResponse({"detail": detail}, status_code=422)


def _json_bytes(body: Any) -> bytes:
    """JSON as ``--json`` prints it (the same bytes)."""
    return (json.dumps(body, ensure_ascii=False, indent=2, default=str) + "\n").encode()


def create_app(config: WebConfig) -> FastAPI:
    """The app serving ``config.store`` (which must exist)."""
    server = _Server(config)
    warmer = _warmer(server)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(server.prepare)
        if warmer is not None:
            warmer.start()
        try:
            yield
        finally:
            if warmer is not None:
                warmer.stop()
            server.engines.close()

    app = FastAPI(
        lifespan=lifespan,
        title="teiten",
        version=teiten.__version__,
        description=(
            "Darknet (network telescope) observations: rankings, events and phenomena "
            "of a teiten store. Every endpoint mirrors a CLI command: the same parameters, "
            "the same JSON as its --json."
        ),
        openapi_url=None,  # served by teiten.web.apidocs, as the caller may see it
        docs_url=None,
        redoc_url=None,
    )
    app.state.server = server

    @app.middleware("http")
    async def guard(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        try:
            response = await _limited(server, request, call_next)
        except Exception:  # never a traceback to the client
            log.exception("error answering %s", _route_of(request))
            response = _error(500, "internal error; the server's log has the details")
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)  # a report sets its own CSP
        label = _route_of(request)
        server.metrics.requests.labels(label, str(response.status_code)).inc()
        server.metrics.seconds.labels(label).observe(time.perf_counter() - started)
        return response

    @app.get(
        f"{API}/health",
        summary="Whether the server runs and reads its store, and how far the dashboard's "
        "standard answers are made",
        openapi_extra={"security": []},  # answered to anyone, never with a token's view
    )
    async def health() -> JSONResponse:
        version, _ = store_version(server.store)
        ok = version.split("/")[0] != "-"
        body = {
            "status": "ok" if ok else "error",
            "version": teiten.__version__,
            "warm": warmer.state() if warmer is not None else {"state": "off"},
        }
        return JSONResponse(body, status_code=200 if ok else 503)

    @app.get(
        f"{API}/metrics",
        summary="Prometheus metrics (operators)",
        openapi_extra={OPERATORS_ONLY: True},
    )
    async def metrics(request: Request) -> Response:
        if not request.state.access.operator:
            return _error(401, "an operator token is needed for the metrics")
        return Response(generate_latest(server.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get(f"{API}/store", summary="What the store holds: days, packets, sensors, editions")
    async def store(request: Request) -> Response:
        access: _Access = request.state.access
        return await _cached(server, request, access, server.store_asked(access))

    for endpoint in ENDPOINTS:
        _route(app, server, endpoint)
    from teiten.web.reports import add_reports

    add_reports(app, server)
    from teiten.web.apidocs import add_api_docs

    add_api_docs(app)
    from teiten.web.pages import add_pages

    add_pages(app, server)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    return app


def _warmer(server: _Server) -> Warmer | None:
    """The thread making the dashboard's standard answers ahead, in the view its
    visitors get (the public one in public mode); None when ``[cache] warm`` is off or
    nothing is kept (``cache_entries = 0``)."""
    if not server.config.warm or server.config.cache_entries <= 0:
        return None
    return Warmer(server, _Access(not server.config.public, "-", ahead=True))


async def _limited(
    server: _Server, request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """The response, unless the client is over its budget (429) or refused (401; a page
    sends a browser to the sign-in form instead)."""
    path = request.url.path
    if path.startswith(_FREE):
        request.state.access = _Access(False, "-")
        return await call_next(request)
    try:
        request.state.access = server.access(request)
        client = request.state.access.client
    except Refusal as refused:
        client = f"addr:{request.client.host if request.client else '-'}"
        wait = server.limiter.take(client)
        if wait > 0:
            return _too_many(wait)
        if not path.startswith(f"{API}/"):  # a page (the dashboard's, /api/docs)
            return RedirectResponse("/signin", 303)
        return _error(refused.status, refused.message)
    wait = server.limiter.take(client)
    if wait > 0:
        return _too_many(wait)
    return await call_next(request)


def _route_of(request: Request) -> str:
    """The route a request took, as declared (``/api/v1/source/{ip}``: never the address
    asked for, in a log line or a metric label), or ``other``."""
    route = request.scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path.startswith(API) else "other"


def _too_many(wait: float) -> JSONResponse:
    seconds = max(1, math.ceil(wait))
    return _error(
        429,
        f"too many requests: try again in {seconds} s",
        {"Retry-After": str(seconds)},
    )


def _route(app: FastAPI, server: _Server, endpoint: Endpoint) -> None:
    async def handler(request: Request) -> Response:
        access: _Access = request.state.access
        if not access.operator and not endpoint.public:
            return _error(401, f"/{endpoint.path} is for operators: send an operator token")
        try:
            given = [*request.query_params.multi_items(), *request.path_params.items()]
            asked = server.endpoint_asked(endpoint, given, access)
            return await _cached(server, request, access, asked)
        except ParameterError as exc:
            return _invalid(exc)

    app.add_api_route(
        f"{API}/{endpoint.path}",
        handler,
        methods=["GET"],
        summary=endpoint.summary,
        description=f"The JSON of `teiten {' '.join(endpoint.command)} --json`.",
        openapi_extra={
            "parameters": _openapi_parameters(endpoint),
            **({} if endpoint.public else {OPERATORS_ONLY: True}),
        },
    )


def _check_delay(period: str | None, hours: int) -> None:
    """Public mode with a publication delay: a period must end ``hours`` before now."""
    if period is None or hours <= 0:
        return
    from datetime import UTC, datetime, timedelta

    from teiten.analyze.periods import parse_period

    latest = datetime.now(UTC) - timedelta(hours=hours)
    if datetime.combine(parse_period(period).end, datetime.min.time(), UTC) > latest:
        last = latest.date() - timedelta(days=1)  # the last day of a period ending by then
        raise ParameterError(
            "period",
            f"{period}: data of the last {hours} hours is not published yet; "
            f"periods ending on or before {last} are",
        )


async def _cached(server: _Server, request: Request, access: _Access, asked: _Asked) -> Response:
    """The answer ``asked`` for, from the cache when the store has not changed since,
    or 304 when the client holds it already."""
    headers = {
        "ETag": asked.etag,
        "Last-Modified": formatdate(asked.modified, usegmt=True),
        "Cache-Control": "private, no-cache" if access.operator else "public, no-cache",
        "Vary": "Authorization",
    }
    if request.headers.get("if-none-match") == asked.etag:
        return Response(status_code=304, headers=headers)
    try:
        if server.cache.get(asked.key) is not None:
            (content, media), hit = server.held(asked)  # at hand: no thread needed
        else:
            limiter = server.answering()
            (content, media), hit = await anyio.to_thread.run_sync(
                server.held, asked, limiter=limiter
            )
    except ParameterError:
        raise
    except StoreError as exc:
        return _error(503, str(exc))
    except TeitenError as exc:
        return _error(400, str(exc))
    headers["X-Cache"] = "hit" if hit else "miss"
    return Response(content, media_type=media, headers=headers)


def _openapi_parameters(endpoint: Endpoint) -> list[dict[str, Any]]:
    """The query parameters of ``endpoint`` for the OpenAPI document, from its command's
    options (names, types, choices, ranges, defaults and help)."""
    import click

    out = []
    for param in endpoint.parameters():
        schema = _schema(param.type)
        if isinstance(param.default, int | float | str) and not param.multiple:
            schema["default"] = param.default  # (not click's "no default" sentinel)
        if getattr(param, "multiple", False):
            schema = {"type": "array", "items": schema}
        out.append(
            {
                "name": query_name(param),
                "in": "path" if isinstance(param, click.Argument) else "query",
                "required": bool(param.required),
                "description": getattr(param, "help", None) or "",
                "schema": schema,
                **({"style": "form", "explode": True} if getattr(param, "multiple", False) else {}),
            }
        )
    out.append(
        {
            "name": "format",
            "in": "query",
            "required": False,
            "description": "json (the command's --json) or csv (its --csv)",
            "schema": {"type": "string", "enum": list(endpoint.formats), "default": "json"},
        }
    )
    return out


def _schema(kind: Any) -> dict[str, Any]:
    import click

    if isinstance(kind, click.Choice):
        return {"type": "string", "enum": [str(c) for c in kind.choices]}
    if isinstance(kind, click.types.BoolParamType):
        return {"type": "boolean"}
    if isinstance(kind, click.IntRange | click.types.IntParamType):
        schema: dict[str, Any] = {"type": "integer"}
    elif isinstance(kind, click.FloatRange | click.types.FloatParamType):
        schema = {"type": "number"}
    else:
        return {"type": "string"}
    if isinstance(kind, click.IntRange | click.FloatRange):
        if kind.min is not None:
            schema["minimum"] = kind.min
            if kind.min_open:
                schema["exclusiveMinimum"] = kind.min
                del schema["minimum"]
        if kind.max is not None:
            schema["maximum"] = kind.max
    return schema
