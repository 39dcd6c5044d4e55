"""notify.toml: the documented example loads; every key is shown and documented; every
bad key, value or credentials file is an error naming it, one line at the CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import ROOT
from teiten.cli import main
from teiten.errors import NotifyConfigError
from teiten.notify import KINDS, NOT_OFFERED, NotifyConfig, load_config
from teiten.notify.config import _DELIVERY, _RECIPIENT, _TOP, TLP

_PASSWORD = "never-shown-e8b1"
EXAMPLE = ROOT / "docs" / "examples" / "notify.toml"
DOC = ROOT / "docs" / "notify.md"


def _example(tmp_path: Path) -> Path:
    config = tmp_path / "notify.toml"
    shutil.copy(EXAMPLE, config)
    secret = tmp_path / "smtp-credentials.toml"
    secret.write_text(f'username = "feeds"\npassword = "{_PASSWORD}"\n')
    secret.chmod(0o600)
    return config


def test_the_example_loads(tmp_path: Path) -> None:
    config = load_config(_example(tmp_path))
    assert [r.name for r in config.recipients] == ["example-isp", "national-cert", "archive"]
    isp, cert, archive = config.recipients
    assert isp.asns == (64496, 64497) and isp.prefixes == ("192.0.2.0/24", "2001:db8::/32")
    assert isp.delivery.credentials is not None
    assert isp.delivery.credentials.path == tmp_path.resolve() / "smtp-credentials.toml"
    assert cert.findings == ("mirai", "smb-worm") and cert.delivery.kind == "https"
    assert archive.findings == tuple(KINDS) and archive.countries == ("JP", "KR", "TW")
    assert config.thresholds.smb_worm_min_packets == 10


def test_every_key_is_shown_and_documented() -> None:
    text, doc = EXAMPLE.read_text(), DOC.read_text()
    for section, keys in _TOP.items():
        for key in keys:
            assert f"\n{key} =" in text, f"the example does not show {section}.{key}"
            assert f"`{section}.{key}`" in doc, f"docs/notify.md lacks {section}.{key}"
    for key in _RECIPIENT:
        assert f"\n{key} =" in text and f"`recipient.{key}`" in doc, key
    for key in _DELIVERY:
        shown = f"\n{key} =" in text or f"\n# {key} =" in text
        assert shown and f"`recipient.delivery.{key}`" in doc, key
    for kind in (*KINDS, *NOT_OFFERED):
        assert f"`{kind}`" in doc, kind


_OUT = '[recipient.delivery]\nkind = "directory"\npath = "out"\n'
_ONE = f'[[recipient]]\nname = "a"\nasns = [64496]\n{_OUT}'


def test_a_minimal_file(tmp_path: Path) -> None:
    config = load_config_text(tmp_path, _ONE)
    (r,) = config.recipients
    assert r.delivery.path == tmp_path.resolve() / "out" and config.tlp == "amber"
    assert r.findings == tuple(KINDS) and r.tlp is None and not r.send_empty


def load_config_text(tmp_path: Path, text: str) -> NotifyConfig:
    path = tmp_path / "notify.toml"
    path.write_text(text)
    return load_config(path)


def _r(body: str, delivery: str = _OUT) -> str:
    """A recipient "a" with ``body`` and ``delivery``."""
    return f'[[recipient]]\nname = "a"\n{body}{delivery}'


def _d(body: str) -> str:
    """A recipient "a" of AS1 with this ``[recipient.delivery]`` body."""
    return _r("asns = [1]\n", f"[recipient.delivery]\n{body}")


_SMTP_TO = 'kind = "smtp"\nhost = "h"\nfrom = "a@b"\n'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no [[recipient]]: give at least one"),
        ("[feeds]\ntlp = 'red'\n" + _ONE, "unknown section 'feeds'; sections: [feed], [findings]"),
        ("[feed]\ntlp = 'orange'\n" + _ONE, "feed.tlp must be one of clear, green, amber"),
        ("[findings]\nsmb_worm_min_share = 2\n" + _ONE, "smb_worm_min_share must be a share"),
        (f"[[recipient]]\nasns = [1]\n{_OUT}", "recipient 1: name is required"),
        (f'[[recipient]]\nname = "a b"\nasns = [1]\n{_OUT}', "recipient 1: name is required"),
        (_r(""), "recipient.a: give asns, prefixes or countries"),
        (_r("asn = [1]\n"), "[recipient.a] has no key 'asn'; keys: name, asns"),
        (_r("asns = [-1]\n"), "recipient.a.asns must be a list of AS numbers"),
        (_r('prefixes = ["10.0.0.0/33"]\n'), "recipient.a.prefixes must be a list of networks"),
        (_r('countries = ["Japn"]\n'), "recipient.a.countries: unknown country 'Japn'"),
        (
            _r('asns = [1]\nfindings = ["worm"]\n'),
            "recipient.a.findings: unknown kind 'worm'; kinds: mirai, smb-worm, scanner",
        ),
        (
            _r('asns = [1]\nfindings = ["open-resolver-backscatter"]\n'),
            "open-resolver-backscatter is not offered: the store cannot tell a DNS answer",
        ),
        (f"{_ONE}{_ONE}", "recipient 'a' is named twice"),
        (_r("asns = [1]\n", ""), "recipient.a.delivery is required"),
        (
            _d('kind = "fax"\n'),
            "recipient.a.delivery.kind is required, one of directory, smtp, https, not 'fax'",
        ),
        (_d('kind = "directory"\n'), "recipient.a.delivery.path is required for kind 'directory'"),
        (
            _d('kind = "directory"\npath = "x"\nhost = "h"\n'),
            "recipient.a.delivery.host does not apply to kind 'directory'",
        ),
        (_d(_SMTP_TO), "recipient.a.delivery.to is required for kind 'smtp'"),
        (
            _d(_SMTP_TO + 'to = ["nobody"]\n'),
            "recipient.a.delivery.to must be a non-empty list of e-mail addresses",
        ),
        (
            _d('kind = "https"\nurl = "http://feeds.example.org/"\n'),
            "url must be https:// (plain http only to a loopback address)",
        ),
        (
            _d('kind = "https"\nurl = "https://x.example/"\non_uncertain = "pray"\n'),
            "on_uncertain must be one of resend, hold",
        ),
    ],
)
def test_bad_files_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(NotifyConfigError, match=_escaped(message)):
        load_config_text(tmp_path, text)


def _escaped(text: str) -> str:
    import re

    return re.escape(text)


_SMTP = (
    '[[recipient]]\nname = "a"\nasns = [1]\n[recipient.delivery]\nkind = "smtp"\n'
    'host = "h"\nfrom = "a@b.example"\nto = ["c@d.example"]\ncredentials = "secret.toml"\n'
)


@pytest.mark.parametrize(
    ("content", "mode", "message"),
    [
        ('username = "u"\npassword = "hunter2"\n', 0o644, "can be read by others; run: chmod 600"),
        ('username = "u"\npassword = "hunter2"\n', 0o660, "can be read by others; run: chmod 600"),
        ('username = "u"\n', 0o600, "password is required (a string)"),
        ('username = "u"\npassword = "hunter2"\ntoken = "x"\n', 0o600, "unknown key 'token'"),
        ('username = "u"\npassword = hunter2\n', 0o600, "not valid TOML"),
        (None, 0o600, "No such file or directory"),
    ],
)
def test_credentials_files_are_checked_when_the_file_loads(
    tmp_path: Path, content: str | None, mode: int, message: str
) -> None:
    secret = tmp_path / "secret.toml"
    if content is not None:
        secret.write_text(content)
        secret.chmod(mode)
    with pytest.raises(NotifyConfigError, match=_escaped(message)) as raised:
        load_config_text(tmp_path, _SMTP)
    assert "hunter2" not in str(raised.value)
    secret.unlink(missing_ok=True)
    secret.write_text('username = "u"\npassword = "hunter2"\n')
    secret.chmod(0o600)
    assert load_config_text(tmp_path, _SMTP).recipients[0].delivery.credentials is not None
    with pytest.raises(NotifyConfigError, match="credentials are never sent without TLS"):
        load_config_text(tmp_path, _SMTP + 'security = "none"\n')


def test_check_prints_the_settings_without_secrets(tmp_path: Path) -> None:
    config = _example(tmp_path)
    result = CliRunner().invoke(main, ["notify", "check", "--config", str(config), "--json"])
    assert result.exit_code == 0, result.output
    settings = json.loads(result.stdout)
    assert settings["tlp"] == TLP["amber"] == "TLP:AMBER"
    isp = settings["recipients"][0]
    assert isp["delivery"]["credentials"] == str(tmp_path.resolve() / "smtp-credentials.toml")
    assert _PASSWORD not in result.output
    human = CliRunner().invoke(main, ["notify", "check", "--config", str(config)])
    assert human.exit_code == 0 and _PASSWORD not in human.output
    assert "example-isp: mirai, smb-worm, scanner about AS64496" in human.output


@pytest.mark.parametrize("command", ["check", "build", "send"])
def test_a_bad_or_missing_file_is_one_line(tmp_path: Path, command: str) -> None:
    extra = ["--period", "2024-03"] if command == "build" else []
    for text in (None, "[[recipient]]\nname = 1\n"):
        path = tmp_path / "notify.toml"
        if text is not None:
            path.write_text(text)
        result = CliRunner().invoke(main, ["notify", command, "--config", str(path), *extra])
        assert result.exit_code == 1, result.output
        assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1
        assert "Traceback" not in result.output
