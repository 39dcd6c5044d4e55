"""The front-end files ``teiten serve`` serves itself, fetched at build time and pinned.

The dashboard draws its charts with uPlot, and ``/api/docs`` shows the API with Swagger
UI (``swagger-ui-dist``), both taken from the npm registry's tarballs by ``make setup``
(``python -m teiten.web.assets``) and never from a CDN at run time: the pages work
offline, under a Content-Security-Policy that allows scripts from this server only.
Each package is pinned by version and by the registry's sha512 ``integrity``; a
download that does not match is refused before anything is extracted. Only the listed
files are taken, under names the pin gives (never names from the archive), into
``static/vendor/<package>/`` beside this module, with an ``ASSETS.json`` saying what is
there; the folder is not committed (``.gitignore``), and a wheel built after the fetch
carries it as package data.

A mirror of the registry: ``TEITEN_NPM_REGISTRY=https://mirror.example/npm`` (or a
``file://`` folder laid out like the registry); the digest is checked all the same.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import os
import shutil
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from teiten.errors import AssetError

__all__ = [
    "ASSETS",
    "DEFAULT_REGISTRY",
    "REGISTRY_ENV",
    "SWAGGER_UI",
    "UPLOT",
    "VENDOR",
    "Asset",
    "ensure_assets",
    "fetch_asset",
    "is_present",
    "vendor_file",
]

DEFAULT_REGISTRY = "https://registry.npmjs.org"
#: The environment variable naming a mirror of the npm registry.
REGISTRY_ENV = "TEITEN_NPM_REGISTRY"
#: Where the fetched files live by default (``static/vendor/<package>/``).
VENDOR = Path(__file__).resolve().parent / "static" / "vendor"
#: The record written beside each package's files.
RECORD = "ASSETS.json"
TIMEOUT_S = 60.0
#: A tarball larger than this is refused unread (uPlot's is 164 kB, swagger-ui-dist's 3.6 MB).
MAX_TARBALL_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class Asset:
    """An npm package whose files teiten serves: its pinned tarball and what to take of it."""

    package: str
    version: str
    #: The registry's ``dist.integrity`` of the tarball: ``sha512-<base64 digest>``.
    integrity: str
    license: str
    #: Members of the tarball to take; each is written under its base name.
    files: tuple[str, ...]

    def __post_init__(self) -> None:
        names = [self.name_of(member) for member in self.files]
        if len(set(names)) != len(names) or RECORD in names:
            raise ValueError(f"{self.package}: base names must be distinct, not {RECORD}: {names}")

    @property
    def label(self) -> str:
        return f"{self.package} {self.version}"

    @property
    def tarball(self) -> str:
        """The tarball's path under a registry (``uplot/-/uplot-1.6.32.tgz``)."""
        return f"{self.package}/-/{self.package}-{self.version}.tgz"

    def url(self, registry: str | None = None) -> str:
        """The tarball's URL under ``registry``, else ``$TEITEN_NPM_REGISTRY``, else npm's."""
        base = registry or os.environ.get(REGISTRY_ENV) or DEFAULT_REGISTRY
        return f"{base.rstrip('/')}/{self.tarball}"

    @staticmethod
    def name_of(member: str) -> str:
        return member.rsplit("/", 1)[-1]

    @property
    def names(self) -> tuple[str, ...]:
        """The files as served, under ``vendor/<package>/``."""
        return tuple(self.name_of(member) for member in self.files)


UPLOT = Asset(
    package="uplot",
    version="1.6.32",
    integrity="sha512-KIMVnG68zvu5XXUbC4LQEPnhwOxBuLyW1AHtpm6IKTXImkbLgkMy+jabjLgSLMasNuGGzQm/ep3tOkyTxpiQIw==",
    license="MIT",
    files=("package/dist/uPlot.iife.min.js", "package/dist/uPlot.min.css", "package/LICENSE"),
)
# The bundle (React and all) and its styles; Apache-2.0 asks that its NOTICE go along, and
# the bundle's own LICENSE.txt names the licences of what it bundles.
SWAGGER_UI = Asset(
    package="swagger-ui-dist",
    version="5.36.0",
    integrity="sha512-Lt6/Kb0gXmLdiabLhvso4VdJP9V7qJWB0zh0gzeXUV3+CMOTzMmvpJRSXN7EAjfwixwmoi9ezDbLHiexC7lA9A==",
    license="Apache-2.0",
    files=(
        "package/swagger-ui-bundle.js",
        "package/swagger-ui.css",
        "package/LICENSE",
        "package/NOTICE",
        "package/swagger-ui-bundle.js.LICENSE.txt",
    ),
)
#: Every vendored package (``make setup`` fetches them all).
ASSETS: tuple[Asset, ...] = (UPLOT, SWAGGER_UI)


def ensure_assets(
    dest: Path | None = None,
    *,
    assets: Sequence[Asset] = ASSETS,
    registry: str | None = None,
) -> Path:
    """Fetch each of ``assets`` into ``dest/<package>/`` unless it is there already.

    ``dest`` defaults to :data:`VENDOR`; returns it. Nothing is downloaded for a package
    whose record and files match its pin.
    """
    dest = VENDOR if dest is None else Path(dest)
    for asset in assets:
        if not is_present(asset, dest):
            fetch_asset(asset, dest, registry=registry)
    return dest


def is_present(asset: Asset, dest: Path | None = None) -> bool:
    """True when ``dest/<package>/`` holds this pin's files, unaltered since the fetch."""
    folder = (VENDOR if dest is None else Path(dest)) / asset.package
    record = _read_record(folder)
    if record is None or any(record.get(k) != v for k, v in _pin(asset).items()):
        return False
    files = record.get("files")
    if not isinstance(files, dict) or set(files) != set(asset.names):
        return False
    try:
        return all(_sha256((folder / name).read_bytes()) == files[name] for name in asset.names)
    except OSError:
        return False


def fetch_asset(asset: Asset, dest: Path | None = None, *, registry: str | None = None) -> Path:
    """Download ``asset``'s tarball, check its digest, and write its files; their folder.

    The folder is replaced whole (written beside it, then renamed), so a failure leaves
    what was there before.
    """
    dest = VENDOR if dest is None else Path(dest)
    url = asset.url(registry)
    data = _download(asset, url)
    actual = _digest(data, asset.integrity)
    if actual != asset.integrity:
        raise AssetError(
            f"{asset.label}: the tarball from {url} does not match its pinned integrity "
            f"(expected {asset.integrity}, got {actual}); nothing was extracted. A mirror "
            f"(${REGISTRY_ENV}) may serve another file; the pin is ASSETS in teiten.web.assets"
        )
    contents = _extract(asset, data, url)
    folder = dest / asset.package
    try:
        dest.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{asset.package}-", dir=dest))
    except OSError as exc:
        raise AssetError(f"{asset.label}: cannot write into {dest}: {exc.strerror}") from exc
    try:
        staging.chmod(0o755)
        for name, content in contents.items():
            (staging / name).write_bytes(content)
        record = {
            **_pin(asset),
            "license": asset.license,
            "source": url,
            "files": _hashes(contents),
        }
        (staging / RECORD).write_text(json.dumps(record, indent=2) + "\n")
        if folder.exists():
            shutil.rmtree(folder)
        staging.rename(folder)
    except OSError as exc:
        raise AssetError(f"{asset.label}: cannot write {folder}: {exc}") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


def vendor_file(name: str, dest: Path | None = None) -> Path:
    """The fetched file ``name`` (``uplot/uPlot.iife.min.js``), for the app to serve.

    A name no pin lists is a :class:`KeyError` (a 404 to a client); a listed file that
    is missing, or from another version, an :class:`AssetError` saying what to run.
    """
    package, _, base = name.partition("/")
    asset = next((a for a in ASSETS if a.package == package and base in a.names), None)
    if asset is None:
        raise KeyError(f"no vendored file {name!r}")
    folder = (VENDOR if dest is None else Path(dest)) / package
    path = folder / base
    record = _read_record(folder)
    if record is None or not path.is_file():
        problem = f"{path} is missing"
    elif (found := record.get("version")) != asset.version:
        problem = f"{folder} holds {asset.package} {found}, not {asset.version}"
    else:
        return path
    raise AssetError(
        f"{problem}: the dashboard's front-end files are fetched at build time, not "
        f"committed; run `make setup`, or `python -m teiten.web.assets` (a mirror of the npm "
        f"registry: ${REGISTRY_ENV})"
    )


def _pin(asset: Asset) -> dict[str, str]:
    return {"package": asset.package, "version": asset.version, "integrity": asset.integrity}


def _read_record(folder: Path) -> dict[str, object] | None:
    try:
        record = json.loads((folder / RECORD).read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def _download(asset: Asset, url: str) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": "teiten (assets)"})
    hint = f"check the network, or set ${REGISTRY_ENV} to a reachable mirror of the npm registry"
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            data: bytes = response.read(MAX_TARBALL_BYTES + 1)
    except urllib.error.HTTPError as exc:
        exc.close()
        raise AssetError(f"{asset.label}: {url} answered HTTP {exc.code}; {hint}") from exc
    except urllib.error.URLError as exc:
        raise AssetError(f"{asset.label}: cannot download {url}: {exc.reason}; {hint}") from exc
    except OSError as exc:  # a timeout, a reset connection
        raise AssetError(f"{asset.label}: cannot download {url}: {exc}; {hint}") from exc
    if len(data) > MAX_TARBALL_BYTES:
        raise AssetError(f"{asset.label}: {url} is larger than {MAX_TARBALL_BYTES} bytes; refused")
    return data


def _digest(data: bytes, integrity: str) -> str:
    """``data``'s digest written as ``integrity`` is (``sha512-<base64>``)."""
    algorithm = integrity.partition("-")[0]
    digest = hashlib.new(algorithm, data).digest()
    return f"{algorithm}-{base64.b64encode(digest).decode('ascii')}"


def _extract(asset: Asset, data: bytes, url: str) -> dict[str, bytes]:
    """``{served name: bytes}`` of the pinned members; nothing else is read.

    A member is taken by its exact name and written under the pin's name, so an archive
    entry such as ``../x`` or ``/etc/x`` is never written anywhere; a pinned member that
    is a link, a folder or listed twice is refused.
    """
    wanted = set(asset.files)
    found: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            for member in tar:
                if member.name not in wanted:
                    continue
                if member.name in found:
                    raise AssetError(f"{asset.label}: {url} holds {member.name} twice; refused")
                stream = tar.extractfile(member) if member.isreg() else None
                if stream is None:
                    raise AssetError(
                        f"{asset.label}: {member.name} in {url} is not a regular file; refused"
                    )
                found[member.name] = stream.read()
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise AssetError(f"{asset.label}: {url} is not a readable .tgz: {exc}") from exc
    if missing := sorted(wanted - set(found)):
        raise AssetError(f"{asset.label}: {url} lacks {', '.join(missing)}")
    return {asset.name_of(member): found[member] for member in asset.files}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hashes(contents: dict[str, bytes]) -> dict[str, str]:
    return {name: _sha256(content) for name, content in contents.items()}


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m teiten.web.assets``: fetch what is missing, say what was done."""
    parser = argparse.ArgumentParser(
        prog="python -m teiten.web.assets",
        description="Fetch the dashboard's front-end files (uPlot, Swagger UI) from the npm "
        f"registry (${REGISTRY_ENV} for a mirror), checked against their pinned sha512.",
    )
    parser.add_argument("--dest", type=Path, default=VENDOR, help=f"folder (default {VENDOR})")
    parser.add_argument("--quiet", action="store_true", help="say nothing when all are present")
    args = parser.parse_args(argv)
    try:
        for asset in ASSETS:
            if is_present(asset, args.dest):
                if not args.quiet:
                    print(f"{asset.label}: present in {args.dest / asset.package}")
                continue
            folder = fetch_asset(asset, args.dest)
            print(f"{asset.label}: fetched {asset.url()} into {folder} (integrity checked)")
    except AssetError as exc:
        print(f"teiten: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
