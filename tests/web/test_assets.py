"""The dashboard's vendored front-end files: pinned, checked before use, fetched once.

Most tests serve tarballs from a fake npm registry on loopback ($TEITEN_NPM_REGISTRY);
one asks the real registry that the pin is what it publishes.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import subprocess
import sys
import tarfile
import urllib.request
from pathlib import Path

import pytest

from teiten.errors import AssetError
from teiten.web.assets import (
    ASSETS,
    DEFAULT_REGISTRY,
    REGISTRY_ENV,
    SWAGGER_UI,
    UPLOT,
    VENDOR,
    Asset,
    ensure_assets,
    fetch_asset,
    is_present,
    main,
    vendor_file,
)

from .browser import StaticServer

CHART_JS = b"window.fakechart = 1;\n"
LICENSE = b"MIT License, fake\n"


def tgz(files: dict[str, bytes], symlinks: dict[str, str] | None = None) -> bytes:
    """A gzip'd tar holding ``files`` (and ``symlinks``: name -> target), in that order."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in (symlinks or {}).items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)
    return buffer.getvalue()


def sri(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def pin(tarball: bytes, version: str = "1.0.0") -> Asset:
    files = ("package/dist/chart.js", "package/LICENSE")
    return Asset("fakechart", version, sri(tarball), "MIT", files)


GOOD = tgz({"package/dist/chart.js": CHART_JS, "package/LICENSE": LICENSE, "package/x.md": b""})


@pytest.fixture
def registry(monkeypatch):
    """A fake npm registry: ``registry.files[path] = tarball``; it is $TEITEN_NPM_REGISTRY."""
    with StaticServer({}) as server:
        monkeypatch.setenv(REGISTRY_ENV, server.url + "/npm/")
        yield server


def publish(registry: StaticServer, asset: Asset, tarball: bytes) -> str:
    path = "/npm/" + asset.tarball
    registry.files[path] = tarball
    return path


def test_fetch_takes_the_pinned_files_records_them_and_is_idempotent(registry, tmp_path):
    asset = pin(GOOD)
    path = publish(registry, asset, GOOD)

    assert ensure_assets(tmp_path, assets=[asset]) == tmp_path
    folder = tmp_path / "fakechart"
    assert sorted(p.name for p in folder.iterdir()) == ["ASSETS.json", "LICENSE", "chart.js"]
    assert (folder / "chart.js").read_bytes() == CHART_JS
    record = json.loads((folder / "ASSETS.json").read_text())
    assert record["package"] == "fakechart"
    assert record["version"] == "1.0.0"
    assert record["integrity"] == asset.integrity
    assert record["source"] == registry.url + path
    assert registry.requests == [path]

    ensure_assets(tmp_path, assets=[asset])  # present: nothing asked
    assert registry.requests == [path]
    assert is_present(asset, tmp_path)

    (folder / "chart.js").write_bytes(b"altered")  # no longer what was fetched
    assert not is_present(asset, tmp_path)
    ensure_assets(tmp_path, assets=[asset])
    assert registry.requests == [path, path]
    assert (folder / "chart.js").read_bytes() == CHART_JS


@pytest.mark.parametrize("asset", ASSETS, ids=lambda a: a.package)
def test_a_tampered_tarball_is_refused_before_anything_is_extracted(registry, tmp_path, asset):
    tampered = tgz({member: b"alert(1)" for member in asset.files})  # every file it takes
    publish(registry, asset, tampered)

    with pytest.raises(AssetError) as caught:
        ensure_assets(tmp_path / "vendor", assets=[asset])
    message = str(caught.value)
    assert message.startswith(f"{asset.package} {asset.version}: ")
    assert f"expected {asset.integrity}, got {sri(tampered)}" in message
    assert REGISTRY_ENV in message
    assert not (tmp_path / "vendor").exists()


def test_swagger_ui_is_pinned_to_its_bundle_its_styles_and_its_licences():
    assert SWAGGER_UI.tarball == "swagger-ui-dist/-/swagger-ui-dist-5.36.0.tgz"
    assert SWAGGER_UI.integrity.startswith("sha512-") and SWAGGER_UI.license == "Apache-2.0"
    assert SWAGGER_UI.names == (
        "swagger-ui-bundle.js",
        "swagger-ui.css",
        "LICENSE",
        "NOTICE",  # Apache-2.0 asks that it go along
        "swagger-ui-bundle.js.LICENSE.txt",  # the licences of what the bundle holds
    )
    assert [a.package for a in ASSETS] == ["uplot", "swagger-ui-dist"]


def test_a_failed_update_keeps_the_files_there(registry, tmp_path):
    old = pin(GOOD)
    publish(registry, old, GOOD)
    ensure_assets(tmp_path, assets=[old])
    new = pin(GOOD, version="1.0.1")
    publish(registry, new, b"not the pinned tarball")

    with pytest.raises(AssetError, match="does not match its pinned integrity"):
        ensure_assets(tmp_path, assets=[new])
    assert is_present(old, tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["fakechart"]  # no staging folder left


def test_members_outside_the_pin_are_never_written(registry, tmp_path):
    tarball = tgz(
        {
            "../escaped.js": b"x",
            "/tmp/absolute.js": b"x",
            "package/../../climbed.js": b"x",
            "package/dist/chart.js": CHART_JS,
            "package/LICENSE": LICENSE,
        }
    )
    asset = pin(tarball)
    publish(registry, asset, tarball)
    dest = tmp_path / "deep" / "vendor"

    fetch_asset(asset, dest)
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert written == [
        "deep/vendor/fakechart/ASSETS.json",
        "deep/vendor/fakechart/LICENSE",
        "deep/vendor/fakechart/chart.js",
    ]
    assert not Path("/tmp/absolute.js").exists()


def test_a_pinned_member_that_is_a_link_is_refused(registry, tmp_path):
    tarball = tgz({"package/LICENSE": LICENSE}, symlinks={"package/dist/chart.js": "/etc/passwd"})
    asset = pin(tarball)
    publish(registry, asset, tarball)

    with pytest.raises(AssetError, match=r"package/dist/chart\.js .* is not a regular file"):
        fetch_asset(asset, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_pinned_member_missing_from_the_tarball_is_refused(registry, tmp_path):
    tarball = tgz({"package/LICENSE": LICENSE})
    asset = pin(tarball)
    publish(registry, asset, tarball)

    with pytest.raises(AssetError, match=r"lacks package/dist/chart\.js"):
        fetch_asset(asset, tmp_path)


def test_an_unreachable_tarball_names_the_url_and_the_mirror_setting(registry, tmp_path):
    asset = pin(GOOD)  # not published: 404
    with pytest.raises(AssetError) as caught:
        fetch_asset(asset, tmp_path)
    assert f"{registry.url}/npm/fakechart/-/fakechart-1.0.0.tgz answered HTTP 404" in str(
        caught.value
    )
    assert REGISTRY_ENV in str(caught.value)


def test_vendor_file_says_what_to_run_when_the_files_are_missing(tmp_path):
    with pytest.raises(AssetError) as caught:
        vendor_file("uplot/uPlot.iife.min.js", tmp_path)
    assert "uPlot.iife.min.js is missing" in str(caught.value)
    assert "make setup" in str(caught.value)
    assert "python -m teiten.web.assets" in str(caught.value)

    folder = tmp_path / "uplot"
    folder.mkdir()
    (folder / "uPlot.iife.min.js").write_text("")
    (folder / "ASSETS.json").write_text(json.dumps({"package": "uplot", "version": "1.6.31"}))
    with pytest.raises(AssetError, match=r"holds uplot 1\.6\.31, not 1\.6\.32: .*make setup"):
        vendor_file("uplot/uPlot.iife.min.js", tmp_path)

    for name in ("uplot/uPlot.esm.js", "uplot/../uplot/LICENSE", "uplot", "other/x.js"):
        with pytest.raises(KeyError):
            vendor_file(name, tmp_path)


def test_main_reports_a_refused_download(registry, tmp_path, capsys):
    publish(registry, UPLOT, b"tampered")
    assert main(["--dest", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("teiten: error: uplot 1.6.32: the tarball from ")


@pytest.fixture(scope="module")
def fetched() -> Path:
    """The real vendor folder, fetched from the real registry unless already there."""
    return ensure_assets()


def test_the_pin_is_what_the_registry_publishes(fetched):
    for asset in ASSETS:
        url = f"{DEFAULT_REGISTRY}/{asset.package}/{asset.version}"
        with urllib.request.urlopen(url, timeout=60) as response:
            published = json.load(response)
        assert published["dist"]["integrity"] == asset.integrity
        assert published["dist"]["tarball"] == asset.url(DEFAULT_REGISTRY)
        assert published["license"] == asset.license
        assert is_present(asset, fetched)  # the files there came from that very tarball
        record = json.loads((fetched / asset.package / "ASSETS.json").read_text())
        assert record["integrity"] == published["dist"]["integrity"]
    assert vendor_file("uplot/uPlot.iife.min.js") == VENDOR / "uplot" / "uPlot.iife.min.js"
    assert b"uPlot" in vendor_file("uplot/uPlot.iife.min.js").read_bytes()[:2000]
    bundle = vendor_file("swagger-ui-dist/swagger-ui-bundle.js")
    assert bundle == VENDOR / "swagger-ui-dist" / "swagger-ui-bundle.js"
    assert b"SwaggerUIBundle" in bundle.read_bytes()


def test_the_entry_point_says_the_files_are_present(fetched):
    command = [sys.executable, "-m", "teiten.web.assets", "--dest", str(fetched)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    assert done.stdout == (
        f"uplot 1.6.32: present in {fetched / 'uplot'}\n"
        f"swagger-ui-dist 5.36.0: present in {fetched / 'swagger-ui-dist'}\n"
    )
    quiet = subprocess.run([*command, "--quiet"], capture_output=True, text=True, check=True)
    assert quiet.stdout == quiet.stderr == ""
