"""collector.toml: the documented example loads; every bad key is an error naming it."""

from __future__ import annotations

import pytest

from conftest import ROOT
from teiten.collector import CollectorConfigError, load_config
from teiten.collector.config import DEFAULT_PORT

EXAMPLE = ROOT / "docs" / "examples" / "collector.toml"


def test_the_example_file_loads_and_sets_every_default_explicitly(tmp_path):
    config = load_config(EXAMPLE)
    assert config.port == DEFAULT_PORT and config.host == "127.0.0.1"
    assert config.store.is_absolute()
    assert config.certfile is None and not config.tls
    assert config.compact_interval_seconds == 3600 and config.compact_min_files == 4
    assert config.raw_retention_days is None  # shown commented: the store's own setting
    from teiten.collector.config import _KEYS

    text = EXAMPLE.read_text()
    for keys in _KEYS.values():
        for key in keys:
            assert f"{key} =" in text, f"the example does not show {key}"


def test_the_readme_shows_the_example_file_as_it_is():
    assert EXAMPLE.read_text().strip() in (ROOT / "README.md").read_text()


def test_every_key_is_documented():
    from teiten.collector.config import _KEYS

    doc = (ROOT / "docs" / "collector.md").read_text()
    for section, keys in _KEYS.items():
        for key in keys:
            assert f"`{section}.{key}`" in doc, f"docs/collector.md lacks {section}.{key}"


def _load(tmp_path, text):
    path = tmp_path / "collector.toml"
    path.write_text(text)
    return load_config(path)


def test_relative_paths_are_relative_to_the_file(tmp_path):
    config = _load(tmp_path, '[store]\npath = "data"\n[limits]\nmax_body_bytes = 2048\n')
    assert config.store == tmp_path.resolve() / "data" and config.max_body_bytes == 2048


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[listen]\nport = 80\n", "store.path is required"),
        ('[store]\npath = "s"\n[listen]\nport = "80"\n', "listen.port must be an integer"),
        ('[store]\npath = "s"\n[listen]\nport = 70000\n', "between 0 and 65535"),
        ('[store]\npath = "s"\n[limits]\nmax_concurrent_requests = 0\n', "at least 1"),
        ('[store]\npath = "s"\n[limits]\nmax_body = 5\n', "[limits] has no key 'max_body'"),
        ('[store]\npath = "s"\n[tls]\ncertfile = "x"\n', "unknown section 'tls'"),
        ('[store]\npath = "s"\n[listen]\ncertfile = "c.pem"\n', "go together"),
        ('[store]\npath = "s"\n[enrich]\ngeoip = "none.mmdb"\n', "geoip: no such file"),
        ('[store]\npath = "s"\n[enrich]\nresearch_scanners = 1\n', "must be a bool"),
        ('[store]\npath = "s"\n[log]\nlevel = "loud"\n', "one of debug, info"),
        ('[store]\npath = "s"\ncompact_interval_seconds = -1\n', "0 (never) or more"),
        ('[store]\npath = "s"\ncompact_min_files = 1\n', "at least 2"),
        ('[store]\npath = "s"\nraw_retention_days = 0\n', "from 1 to 36,500"),
        ('[store]\npath = "s"\nraw_retention_days = -7\n', "from 1 to 36,500"),
        ('[store]\npath = "s"\nraw_retention_days = "90"\n', "must be an integer"),
        ('[store]\npath = "s"\nraw_retention_days = 1.5\n', "must be an integer"),
        ('[store]\npath = "s"\nraw_retention_days = true\n', "must be an integer"),
        ("[store\n", "not valid TOML"),
    ],
)
def test_bad_configuration_is_refused_naming_the_key(tmp_path, text, message):
    with pytest.raises(CollectorConfigError, match=r"collector\.toml") as caught:
        _load(tmp_path, text)
    assert message in str(caught.value)


def test_a_missing_file_is_an_error(tmp_path):
    with pytest.raises(CollectorConfigError, match="cannot read it"):
        load_config(tmp_path / "nope.toml")
