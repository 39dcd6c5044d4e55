"""`teiten web tokens|check` and `teiten serve`: tokens shown once, clean errors, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from conftest import ROOT
from teiten.cli import main
from teiten.store import Store
from teiten.web.tokens import Tokens

TEITEN = [sys.executable, "-m", "teiten.cli"]
EXAMPLE = ROOT / "docs" / "examples" / "web.toml"


@pytest.fixture
def where(tmp_path):
    Store(tmp_path / "store").close()
    return ["--store", str(tmp_path / "store")]


def _run(args, **env):
    result = CliRunner().invoke(main, args, env=env or None)
    assert "Traceback" not in result.output
    return result


def test_tokens_add_prints_the_token_once_and_how_to_send_it(where):
    added = _run(["web", "tokens", "add", "alice", *where])
    assert added.exit_code == 0, added.output
    said, token, usage = added.output.strip().splitlines()
    assert "operator token alice issued" in said and "shown only this once" in said
    assert usage == "send it with each request in the header `Authorization: Bearer <token>`"
    assert Tokens(where[1]).verify(token) == "alice"
    as_json = json.loads(_run(["web", "tokens", "add", "bob", "--json", *where]).output)
    assert set(as_json) == {"name", "token"} and as_json["name"] == "bob"
    assert Tokens(where[1]).verify(as_json["token"]) == "bob"


def test_tokens_list_shows_names_and_times_never_tokens(where):
    assert _run(["web", "tokens", "list", *where]).output == (
        "no operator tokens (teiten web tokens add NAME)\n"
    )
    assert json.loads(_run(["web", "tokens", "list", "--json", *where]).output) == {"tokens": []}
    token = _run(["web", "tokens", "add", "alice", *where]).output.splitlines()[1]
    listed = _run(["web", "tokens", "list", *where])
    assert listed.exit_code == 0 and listed.output.startswith("alice: issued 20")
    as_json = _run(["web", "tokens", "list", "--json", *where])
    (row,) = json.loads(as_json.output)["tokens"]
    assert row["name"] == "alice" and set(row) == {"name", "issued_at"}
    assert token not in listed.output + as_json.output


def test_tokens_rotate_and_remove(where):
    old = json.loads(_run(["web", "tokens", "add", "alice", "--json", *where]).output)["token"]
    rotated = _run(["web", "tokens", "rotate", "alice", *where])
    assert rotated.exit_code == 0 and "the old one stops working now" in rotated.output
    new = rotated.output.splitlines()[1]
    tokens = Tokens(where[1])
    assert tokens.verify(old) is None and tokens.verify(new) == "alice"
    again = json.loads(_run(["web", "tokens", "rotate", "alice", "--json", *where]).output)
    assert tokens.verify(new) is None and tokens.verify(again["token"]) == "alice"
    removed = _run(["web", "tokens", "remove", "alice", *where])
    assert removed.exit_code == 0 and "refused from now on" in removed.output
    assert tokens.verify(again["token"]) is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["add", "alice"], "web token alice exists already; `teiten web tokens rotate alice`"),
        (["add", "two words"], "token name 'two words': use 1-64 letters"),
        (["rotate", "bob"], "no web token named bob (see `teiten web tokens list`)"),
        (["remove", "bob"], "no web token named bob"),
    ],
)
def test_token_mistakes_are_usage_errors(where, args, message):
    assert _run(["web", "tokens", "add", "alice", *where]).exit_code == 0
    result = _run(["web", "tokens", *args, *where])
    assert result.exit_code == 2 and f"Error: {message}" in result.output


def test_tokens_need_a_store(tmp_path):
    for args in (["add", "alice"], ["list"], ["remove", "alice"]):
        result = _run(["web", "tokens", *args, "--store", str(tmp_path / "none")])
        assert result.exit_code == 1 and "not a teiten store (no manifest)" in result.output
    assert not (tmp_path / "none").exists()


def test_check_prints_the_settings_or_names_the_bad_key(tmp_path):
    checked = _run(["web", "check", "--config", str(EXAMPLE)])
    assert checked.exit_code == 0 and "port = 8752" in checked.output
    settings = json.loads(_run(["web", "check", "--config", str(EXAMPLE), "--json"]).output)
    assert settings["store"] == "/var/lib/teiten/store" and settings["public"] is False
    bad = tmp_path / "web.toml"
    bad.write_text("[listen]\nprt = 8752\n")
    refused = _run(["web", "check", "--config", str(bad)])
    assert refused.exit_code == 1
    assert refused.output == f"Error: {bad}: [listen] has no key 'prt'; keys: host, port, " + (
        "certfile, keyfile\n"
    )


def test_serve_without_a_store_says_how_to_give_one(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "TEITEN_STORE"}
    result = subprocess.run([*TEITEN, "serve"], capture_output=True, text=True, env=env)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    (error,) = [line for line in result.stderr.splitlines() if line.startswith("Error")]
    assert error == (
        "Error: no store to serve: pass --store DIR, set $TEITEN_STORE, or give a --config "
        "file with a [store] path"
    )


def test_serve_refuses_a_directory_that_is_not_a_store(tmp_path):
    config = tmp_path / "web.toml"
    config.write_text('[store]\npath = "from-config"\n')

    def refused(args, **env):
        result = _run(["serve", *args], **env)
        assert result.exit_code == 1 and "not a teiten store (no manifest)" in result.output
        return result.output

    cli = str(tmp_path / "from-cli")
    assert "from-cli" in refused(["--store", cli, "--config", str(config)])  # the option wins
    assert "from-config" in refused(["--config", str(config)], TEITEN_STORE=str(tmp_path / "env"))
    assert "from-env" in refused([], TEITEN_STORE=str(tmp_path / "from-env"))
    assert not (tmp_path / "from-cli").exists()


def test_serve_options_are_checked_before_anything_runs(tmp_path):
    assert _run(["serve", "--port", "70000"]).exit_code == 2
    assert _run(["serve", "--engine", "sqlite"]).exit_code == 2
    bad = tmp_path / "web.toml"
    bad.write_text("[limits]\nburst = 0\n")
    result = _run(["serve", "--config", str(bad)])
    assert result.exit_code == 1 and "limits.burst must be at least 1" in result.output
