"""``/api/docs``: Swagger UI over the OpenAPI document, from this server, under its CSP.

The page carries the app's strict Content-Security-Policy and no inline script or
style; in Debian's chromium it lists the API's operations without a console error or a
CSP violation, and "Try it out" gets a 200. The document is the one its reader may use:
in public mode, no operation only operators are answered and no ``sensor`` parameter;
an operator's token, given to "Authorize" or by the sign-in cookie, is sent with the
requests "Try it out" makes.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator

import httpx
import pytest

from _cli_store import PERIOD, REAL_PERIOD
from teiten.web.apidocs import SCHEME
from teiten.web.app import SECURITY_HEADERS
from teiten.web.tokens import Tokens

from ._server import WebServer
from .browser import WatchedPage

OPERATORS_ONLY = {"/api/v1/sources", "/api/v1/source/{ip}", "/api/v1/metrics"}
# Records every CSP violation in the page (an init script: the page's CSP does not apply).
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__violations.push(e.violatedDirective + " " + e.blockedURI));
"""


def _open_docs(page: WatchedPage, url: str) -> None:
    page.add_init_script(RECORD_VIOLATIONS)
    page.goto(url + "/api/docs")
    page.locator("body[data-ready='true']").wait_for(state="attached", timeout=30_000)
    page.locator(".opblock").first.wait_for()


def _assert_clean(page: WatchedPage) -> None:
    assert page.evaluate("window.__violations") == []
    page.assert_clean()


def _paths(page: WatchedPage) -> set[str]:
    return {text.strip() for text in page.locator(".opblock-summary-path").all_inner_texts()}


def _operation(page: WatchedPage, path: str):
    return page.locator(f".opblock:has(.opblock-summary-path[data-path='{path}'])")


def _execute(page: WatchedPage, path: str, **params: str) -> str:
    """Expand ``path``'s operation, 'Try it out' with ``params``, Execute; the status shown."""
    operation = _operation(page, path)
    operation.locator(".opblock-summary").click()
    operation.locator("button.try-out__btn").click()
    for name, value in params.items():
        operation.locator(f"tr[data-param-name='{name}'] input").fill(value)
    operation.locator("button.execute").click()
    status = operation.locator(".live-responses-table .response .response-col_status")
    status.wait_for(timeout=60_000)
    return status.inner_text().strip()


def test_the_page_has_the_app_s_strict_csp_and_nothing_inline(operator):
    response = httpx.get(operator.url + "/api/docs")
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    assert csp == SECURITY_HEADERS["Content-Security-Policy"]
    assert "unsafe" not in csp and "script-src 'self'" in csp and "style-src 'self'" in csp
    html = response.text
    scripts = re.findall(r"<script\b([^>]*)>", html)
    assert scripts and all(re.search(r'src="/static/', attrs) for attrs in scripts)
    assert "<style" not in html and " style=" not in html
    assert not re.search(r"\son[a-z]+=", html)  # no inline event handler
    assert re.findall(r'(?:src|href)="(https?:)?//', html) == []  # no other origin
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
        assert httpx.get(operator.url + asset).status_code == 200, asset


def test_the_docs_list_the_api_in_a_real_browser_and_try_it_out_answers(page, operator):
    _open_docs(page, operator.url)
    paths = _paths(page)
    assert {"/api/v1/top/ports", "/api/v1/series", "/api/v1/phenomena"} <= paths
    assert paths >= OPERATORS_ONLY  # a lone analyst is an operator
    assert "/api/v1/openapi.json" not in paths
    assert _execute(page, "/api/v1/top/ports", period=PERIOD, limit="3") == "200"
    body = _operation(page, "/api/v1/top/ports").locator(".live-responses-table .microlight")
    assert '"rows"' in body.first.inner_text()
    _assert_clean(page)


def test_the_dashboard_links_the_docs(page, operator):
    page.goto(f"{operator.url}/?period={PERIOD}&lang=ja")
    page.locator("body[data-ready='true']").wait_for(state="attached", timeout=30_000)
    page.click("#api-docs")
    page.wait_for_url(re.compile(r"/api/docs\?lang=ja$"))
    page.locator(".opblock").first.wait_for()
    assert page.locator("html").get_attribute("lang") == "ja"
    page.assert_clean()


def test_the_public_document_leaves_out_what_only_operators_are_answered(public, operator):
    full = httpx.get(operator.url + "/api/v1/openapi.json").json()
    shown = httpx.get(public.url + "/api/v1/openapi.json").json()
    assert set(full["paths"]) >= OPERATORS_ONLY
    assert set(shown["paths"]) == set(full["paths"]) - OPERATORS_ONLY
    for item in shown["paths"].values():
        for operation in item.values():
            assert not {"sensor", "prefix"} & {p["name"] for p in operation.get("parameters", [])}
    top = full["paths"]["/api/v1/top/ports"]["get"]
    assert {"sensor", "prefix"} <= {p["name"] for p in top["parameters"]}
    for document in (full, shown):
        assert document["components"]["securitySchemes"][SCHEME]["scheme"] == "bearer"
        assert document["paths"]["/api/v1/health"]["get"]["security"] == []
    assert full["paths"]["/api/v1/sources"]["get"]["security"] == [{SCHEME: []}]


@pytest.fixture(scope="module")
def guarded(store, tmp_path_factory) -> Iterator[tuple[WebServer, WebServer, str]]:
    """A public server and an operator server over a copy of ``store`` with a token."""
    folder = tmp_path_factory.mktemp("apidocs")
    copy = folder / "store"
    shutil.copytree(store, copy)
    token = Tokens(copy).add("analyst")
    budget = {"requests_per_minute": 100_000, "burst": 100_000}
    public = WebServer(folder / "public", copy, access={"public": True}, limits=budget).start()
    operators = WebServer(folder / "operators", copy, limits=budget).start()
    try:
        yield public, operators, token
    finally:
        public.stop()
        operators.stop()


def test_in_public_mode_the_docs_hide_operator_endpoints_and_authorize_sends_the_token(
    page, guarded
):
    public, _, token = guarded
    _open_docs(page, public.url)
    paths = _paths(page)
    assert "/api/v1/top/ports" in paths and not paths & OPERATORS_ONLY
    assert page.locator("tr[data-param-name='sensor']").count() == 0
    page.click("button.authorize")
    page.locator(".auth-container input").fill(token)
    page.click(".auth-btn-wrapper button.authorize")
    page.click(".auth-btn-wrapper button.btn-done")
    with page.expect_request(re.compile(r"/api/v1/top/ports\?")) as sent:
        status = _execute(page, "/api/v1/top/ports", period=REAL_PERIOD)
    assert status == "200"
    assert sent.value.headers.get("authorization") == f"Bearer {token}"
    answered = sent.value.response()
    assert answered is not None and "sensors" in answered.json()["total"]  # the operator's view
    _assert_clean(page)


def test_a_signed_in_operator_s_cookie_goes_with_try_it_out(page, guarded):
    _, operators, token = guarded
    page.goto(operators.url + "/api/docs")
    page.wait_for_url(re.compile(r"/signin$"))  # refused: a page sends the browser to sign in
    page.fill("input[name=token]", token)
    page.click("form button[type=submit]")
    page.wait_for_url(re.compile(r"/\?lang="))
    page.locator("body[data-ready='true']").wait_for(state="attached", timeout=30_000)
    _open_docs(page, operators.url)
    assert _paths(page) >= OPERATORS_ONLY
    with page.expect_request(re.compile(r"/api/v1/sources\?")) as sent:
        status = _execute(page, "/api/v1/sources", period=REAL_PERIOD, limit="5")
    assert status == "200"
    assert "authorization" not in sent.value.headers  # the cookie, not Authorize
    _assert_clean(page)
