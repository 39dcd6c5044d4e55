"""``/api/docs``: the HTTP API's interactive documentation, over ``/api/v1/openapi.json``.

Swagger UI (``swagger-ui-dist``, fetched at build time by :mod:`teiten.web.assets`)
renders the OpenAPI document in the browser from this server's files only, started by
``static/apidocs.js`` (no inline script): it runs under the app's own
Content-Security-Policy, as it needs no eval and sets its styles through the DOM,
never inline. The page is a dashboard page: a browser that may not read the API is
sent to the sign-in form. "Try it out" asks this server, with the sign-in cookie or
with the token given to "Authorize" (the document's bearer scheme).

The document is the one its reader may use: an operator gets all of it; anyone else,
in public mode, the operations answered to them only (those marked
:data:`~teiten.web.app.OPERATORS_ONLY` are left out) and no ``sensor`` parameter,
which public mode refuses.
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from teiten.web.app import API, OPERATORS_ONLY, _Access, _json_bytes
from teiten.web.messages import TEXT, language

__all__ = ["SCHEME", "add_api_docs", "openapi_view"]

#: The document's security scheme: an operator token as a bearer token.
SCHEME = "operatorToken"
_SCHEMES = {
    SCHEME: {
        "type": "http",
        "scheme": "bearer",
        "description": "An operator token (`teiten web tokens add NAME`). A browser signed "
        "in at /signin sends its cookie instead.",
    }
}
# Public mode refuses these parameters (teiten.web.api.parse_query).
_NOT_PUBLIC = {"sensor", "prefix"}


def add_api_docs(app: FastAPI) -> None:
    """``GET /api/docs`` and ``GET /api/v1/openapi.json`` on ``app``."""
    views: dict[bool, bytes] = {}

    @app.get(f"{API}/openapi.json", include_in_schema=False)
    async def openapi(request: Request) -> Response:
        operator = _operator(request)
        if operator not in views:  # the routes are fixed once the app is made
            views[operator] = _json_bytes(openapi_view(app.openapi(), operator=operator))
        return Response(views[operator], media_type="application/json")

    @app.get("/api/docs", include_in_schema=False)
    async def docs(request: Request) -> HTMLResponse:
        from teiten.web.pages import _ENV

        lang = language(request.query_params.get("lang"), request.headers.get("accept-language"))
        html = _ENV.get_template("apidocs.html.j2").render(
            lang=lang,
            t=TEXT[lang],
            operator=_operator(request),
            openapi=f"{API}/openapi.json",
        )
        return HTMLResponse(html)


def _operator(request: Request) -> bool:
    access: _Access = request.state.access
    return access.operator


def openapi_view(document: dict[str, Any], *, operator: bool) -> dict[str, Any]:
    """``document`` with the operator token's scheme, as its reader may use it: all of it
    for an operator; else without the operations only operators are answered, and
    without the parameters public mode refuses."""
    view = copy.deepcopy(document)
    view.setdefault("components", {})["securitySchemes"] = _SCHEMES
    view["security"] = [{}, {SCHEME: []}]  # a token is optional, except where marked
    for path, item in list(view["paths"].items()):
        for method, operation in list(item.items()):
            if operation.get(OPERATORS_ONLY):
                operation["security"] = [{SCHEME: []}]
                if not operator:
                    del item[method]
            elif not operator:
                shown = [p for p in operation.get("parameters", []) if p["name"] not in _NOT_PUBLIC]
                operation["parameters"] = shown
        if not item:
            del view["paths"][path]
    return view
