"""web.toml: the documented example loads; every bad key is an error naming it."""

from __future__ import annotations

import pytest

from conftest import ROOT, self_signed_certificate
from teiten.errors import WebConfigError
from teiten.web.config import _KEYS, DEFAULT_PORT, WebConfig, load_config

EXAMPLE = ROOT / "docs" / "examples" / "web.toml"


def test_the_example_file_loads_and_shows_every_key_with_its_default():
    config = load_config(EXAMPLE)
    assert config.store is not None and config.store.is_absolute()
    assert config.port == DEFAULT_PORT == 8752 and config.host == "127.0.0.1"
    assert not config.tls and config.engine is None  # engine shown commented: $TEITEN_ENGINE
    from dataclasses import replace

    assert replace(config, store=None) == WebConfig()  # every value shown is the default
    text = EXAMPLE.read_text()
    for keys in _KEYS.values():
        for key in keys:
            assert f"{key} =" in text, f"the example does not show {key}"


def test_every_key_is_documented():
    doc = (ROOT / "docs" / "web.md").read_text()
    for section, keys in _KEYS.items():
        for key in keys:
            assert f"`{section}.{key}`" in doc, f"docs/web.md lacks {section}.{key}"


def _load(tmp_path, text):
    path = tmp_path / "web.toml"
    path.write_text(text)
    return load_config(path)


def test_an_empty_file_gives_the_defaults(tmp_path):
    assert _load(tmp_path, "") == WebConfig()
    assert WebConfig().store is None and not WebConfig().public


def test_values_and_relative_paths(tmp_path):
    config = _load(
        tmp_path,
        '[store]\npath = "data"\nengine = "spark"\n'
        "[access]\npublic = true\npublication_delay_hours = 48\n"
        "[limits]\nrequests_per_minute = 6\nburst = 1\ncache_entries = 0\n"
        "[cache]\nwarm = false\n"
        '[log]\nlevel = "debug"\n',
    )
    assert config.store == tmp_path.resolve() / "data"
    assert config.engine == "spark" and config.public and config.publication_delay_hours == 48
    assert (config.requests_per_minute, config.burst, config.cache_entries) == (6, 1, 0)
    assert config.log_level == "debug" and not config.warm and WebConfig().warm


def test_tls_needs_both_files(tmp_path):
    self_signed_certificate(tmp_path, "web")  # web.crt, web.key (loaded as a server would)
    config = _load(tmp_path, '[listen]\ncertfile = "web.crt"\nkeyfile = "web.key"\n')
    assert config.tls and config.keyfile == tmp_path.resolve() / "web.key"
    for text in ('[listen]\ncertfile = "web.crt"\n', '[listen]\nkeyfile = "web.key"\n'):
        with pytest.raises(WebConfigError, match="go together: give both for HTTPS, or neither"):
            _load(tmp_path, text)
    with pytest.raises(WebConfigError, match=r"listen\.keyfile: no such file .*none\.key"):
        _load(tmp_path, '[listen]\ncertfile = "web.crt"\nkeyfile = "none.key"\n')


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[tls]\ncertfile = 'x'\n", "unknown section 'tls'; sections: [store], [listen]"),
        ("public = true\n", "unknown section 'public'"),
        ("[listen]\nprt = 80\n", "[listen] has no key 'prt'; keys: host, port"),
        ("[access]\ndelay = 1\n", "[access] has no key 'delay'"),
        ("[store]\npath = ''\n", "store.path must be a non-empty path string"),
        ("[store]\npath = 7\n", "store.path must be a non-empty path string"),
        ("[store]\nengine = 'sqlite'\n", "store.engine must be duckdb or spark"),
        ("[listen]\nhost = ''\n", "listen.host must be an address or host name"),
        ("[listen]\nhost = 127\n", "listen.host must be a str"),
        ("[listen]\nport = '80'\n", "listen.port must be an integer"),
        ("[listen]\nport = 70000\n", "listen.port must be between 0 and 65535"),
        ("[listen]\nport = -1\n", "listen.port must be between 0 and 65535"),
        ("[access]\npublic = 'yes'\n", "access.public must be a bool"),
        ("[access]\npublic = 1\n", "access.public must be a bool"),
        ("[access]\npublication_delay_hours = -1\n", "from 0 to 8,760"),
        ("[access]\npublication_delay_hours = 8761\n", "from 0 to 8,760"),
        ("[access]\npublication_delay_hours = 1.5\n", "must be an integer"),
        ("[limits]\nrequests_per_minute = 0\n", "limits.requests_per_minute must be at least 1"),
        ("[limits]\nburst = 0\n", "limits.burst must be at least 1"),
        ("[limits]\nburst = true\n", "limits.burst must be an integer"),
        ("[limits]\ncache_entries = -1\n", "limits.cache_entries must be 0 (no cache) or more"),
        ("[log]\nlevel = 'loud'\n", "log.level must be one of debug, info, warning, error"),
        ("[cache]\nwarm = 'yes'\n", "cache.warm must be a bool"),
        ("[cache]\nentries = 10\n", "[cache] has no key 'entries'; keys: warm"),
        ("[store\n", "not valid TOML"),
    ],
)
def test_bad_configuration_is_refused_naming_the_file_and_key(tmp_path, text, message):
    with pytest.raises(WebConfigError, match=r"web\.toml: ") as caught:
        _load(tmp_path, text)
    assert message in str(caught.value)


def test_a_missing_file_is_an_error(tmp_path):
    with pytest.raises(WebConfigError, match=r"nope\.toml: cannot read it"):
        load_config(tmp_path / "nope.toml")
