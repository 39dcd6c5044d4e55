"""report.toml: the documented example loads, every key is documented, every bad key is an
error naming it (exit 2 at the CLI, no traceback)."""

from __future__ import annotations

import dataclasses

import pytest
from click.testing import CliRunner

from conftest import ROOT
from teiten.cli import main
from teiten.errors import SettingsFileError
from teiten.report.settings import _KEYS, ReportSettings, load_settings

from .conftest import PERIOD

EXAMPLE = ROOT / "docs" / "examples" / "report.toml"


def _keys_by_field() -> dict[str, tuple[str, str]]:
    return {
        name: (section, key) for section, keys in _KEYS.items() for key, (name, *_) in keys.items()
    }


def test_every_setting_is_a_key_of_the_example_file_and_of_the_docs():
    text = EXAMPLE.read_text(encoding="utf-8")
    doc = (ROOT / "docs" / "report.md").read_text(encoding="utf-8")
    keys = _keys_by_field()
    for f in dataclasses.fields(ReportSettings):
        if f.name == "file":  # where the settings came from, not a key
            continue
        assert f.name in keys, f"ReportSettings.{f.name} has no key in report.toml"
        section, key = keys[f.name]
        assert f"[{section}]" in text and f"\n{key} = " in text, f"example lacks {section}.{key}"
        assert f"`{section}.{key}`" in doc, f"docs/report.md lacks {section}.{key}"


def test_the_example_file_loads_with_what_it_says():
    s = load_settings(EXAMPLE)
    assert s.organisation("ja") == "サンプルCSIRT" and s.organisation("en") == "Example CSIRT"
    assert s.contact_email == "csirt@example.jp" and s.tlp == "CLEAR"
    assert not s.publish_sensor_counts and not s.exact_daily_counts
    assert s.file is not None and s.file.name == "report.toml"
    assert s.file.digest.startswith("blake3:") and len(s.file.digest) == len("blake3:") + 64


def test_defaults_are_the_safe_ones():
    s = ReportSettings()
    assert not s.publish_sensor_counts and not s.exact_daily_counts
    assert s.organisation("ja") is None and s.disclaimer("en") is None and s.tlp is None
    assert str(s.zone("ja")) == "Asia/Tokyo" and str(s.zone("en")) == "UTC"
    assert str(ReportSettings(timezone="Europe/Berlin").zone("ja")) == "Europe/Berlin"


def test_a_language_left_out_uses_the_other():
    s = ReportSettings(organisation_en="Example CSIRT")
    assert s.organisation("ja") == "Example CSIRT"


def _load(tmp_path, text: str) -> ReportSettings:
    path = tmp_path / "report.toml"
    path.write_text(text, encoding="utf-8")
    return load_settings(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[organization]\nja = "x"\n', "unknown section 'organization'"),
        ('[organisation]\nname = "x"\n', "[organisation] has no key 'name'"),
        ("[organisation]\nja = 1\n", "organisation.ja must be a str"),
        ('[organisation]\nja = "  "\n', "organisation.ja must be a non-empty text"),
        ('[title]\nen = ""\n', "title.en must be a non-empty text"),
        ('[contact]\nemail = "csirt"\n', "contact.email must be an e-mail address"),
        ('[contact]\nurl = "csirt.example.jp"\n', "contact.url must be an http:// or https://"),
        ("[disclaimer]\nen = false\n", "disclaimer.en must be a str"),
        ('[publication]\ntimezone = "JST"\n', "publication.timezone must be an IANA time zone"),
        ('[publication]\ntimezone = "Asia/Tokio"\n', "publication.timezone must be an IANA"),
        ('[publication]\npublish_sensor_counts = "no"\n', "publish_sensor_counts must be a bool"),
        ("[publication]\nexact_daily_counts = 1\n", "exact_daily_counts must be a bool"),
        ('[publication]\ntlp = "WHITE"\n', "publication.tlp must be one of CLEAR, GREEN"),
        ('[publication]\ntlp = "TLP:CLEAR"\n', "without the 'TLP:'"),
        ('timezone = "UTC"\n', "unknown section 'timezone'"),
        ("[publication\n", "not valid TOML"),
    ],
)
def test_bad_settings_are_refused_naming_the_key(tmp_path, text, message):
    with pytest.raises(SettingsFileError, match=r"report\.toml") as caught:
        _load(tmp_path, text)
    assert message in str(caught.value)


def test_a_missing_file_is_an_error(tmp_path):
    with pytest.raises(SettingsFileError, match="cannot read it"):
        load_settings(tmp_path / "nope.toml")


def test_the_cli_refuses_a_bad_file_with_exit_2_and_no_traceback(report_store, tmp_path):
    config = tmp_path / "report.toml"
    config.write_text('[publication]\ntlp = "WHITE"\n', encoding="utf-8")
    out = tmp_path / "r.html"
    args = ["report", "--store", str(report_store.root), "--period", PERIOD, "--out", str(out)]
    result = CliRunner().invoke(main, [*args, "--config", str(config)])
    assert result.exit_code == 2, result.output
    assert "--config" in result.output and "publication.tlp must be one of" in result.output
    assert "Traceback" not in result.output and not out.exists()
    missing = CliRunner().invoke(main, [*args, "--config", str(tmp_path / "none.toml")])
    assert missing.exit_code == 2 and "cannot read it" in missing.output


def test_metric_packets_needs_sensor_counts_published(report_store, tmp_path):
    out = tmp_path / "r.html"
    args = ["report", "--store", str(report_store.root), "--period", PERIOD, "--out", str(out)]
    refused = CliRunner().invoke(main, [*args, "--metric", "packets"])
    assert refused.exit_code == 2 and "publish_sensor_counts = true" in refused.output
    config = tmp_path / "report.toml"
    config.write_text("[publication]\npublish_sensor_counts = true\n", encoding="utf-8")
    allowed = CliRunner().invoke(main, [*args, "--metric", "packets", "--config", str(config)])
    assert allowed.exit_code == 0, allowed.output
