"""Operator tokens: shown once, stored hashed in a private file, found by their hash."""

from __future__ import annotations

import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from teiten.errors import NotAStoreError, OptionError
from teiten.store import Store
from teiten.web.tokens import TOKENS_FILE, Tokens, WebToken


@pytest.fixture
def root(tmp_path):
    Store(tmp_path / "store").close()
    return tmp_path / "store"


def test_a_token_verifies_as_its_name_only(root):
    tokens = Tokens(root)
    alice, bob = tokens.add("alice"), tokens.add("bob.ops-2")
    assert len(alice) >= 40 and alice != bob
    assert tokens.verify(alice) == "alice" and tokens.verify(bob) == "bob.ops-2"
    for wrong in (alice + "x", alice[:-1], "", "alice", "Bearer " + alice):
        assert tokens.verify(wrong) is None


def test_the_file_is_private_and_holds_no_token(root):
    tokens = Tokens(root)
    token = tokens.add("alice")
    assert tokens.path == root / TOKENS_FILE
    assert stat.S_IMODE(tokens.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(tokens.path.parent.stat().st_mode) == 0o700
    tokens.close()
    for file in tokens.path.parent.iterdir():
        assert token.encode() not in file.read_bytes()


def test_nothing_is_made_before_the_first_token(root):
    tokens = Tokens(root)
    assert tokens.verify("anything") is None and tokens.list() == []
    with pytest.raises(OptionError, match="no web token named alice"):
        tokens.rotate("alice")
    assert not (root / "web").exists()


def test_a_server_sees_tokens_issued_and_removed_after_it_started(root):
    server = Tokens(root)  # opened before the file exists, as `teiten serve` may be
    assert server.verify("x") is None
    operator = Tokens(root)
    token = operator.add("alice")
    assert server.verify(token) == "alice"
    operator.remove("alice")
    assert server.verify(token) is None


def test_rotate_invalidates_the_old_token(root):
    tokens = Tokens(root)
    old = tokens.add("alice")
    issued = tokens.list()[0].issued_at
    new = tokens.rotate("alice")
    assert new != old and tokens.verify(old) is None and tokens.verify(new) == "alice"
    assert tokens.list()[0].issued_at >= issued
    with pytest.raises(OptionError, match=r"no web token named bob \(see `teiten web tokens"):
        tokens.rotate("bob")


def test_remove(root):
    tokens = Tokens(root)
    token, kept = tokens.add("alice"), tokens.add("bob")
    tokens.remove("alice")
    assert tokens.verify(token) is None and tokens.verify(kept) == "bob"
    with pytest.raises(OptionError, match="no web token named alice"):
        tokens.remove("alice")


def test_a_name_is_issued_once(root):
    tokens = Tokens(root)
    first = tokens.add("alice")
    with pytest.raises(OptionError, match=r"alice exists already; `teiten web tokens rotate"):
        tokens.add("alice")
    assert tokens.verify(first) == "alice"


@pytest.mark.parametrize("name", ["", "two words", "-dash", "a/b", "x" * 65, "名前"])
def test_bad_names_are_refused(root, name):
    tokens = Tokens(root)
    with pytest.raises(OptionError, match=r"token name .*: use 1-64 letters, digits"):
        tokens.add(name)
    assert tokens.list() == []


def test_list_gives_names_and_issue_times_never_tokens(root):
    tokens = Tokens(root)
    issued = [tokens.add(name) for name in ("zed", "alice")]
    listed = tokens.list()
    assert [t.name for t in listed] == ["alice", "zed"]
    assert all(isinstance(t, WebToken) and t.issued_at > 0 for t in listed)
    assert not any(token in repr(listed) for token in issued)


def test_the_store_must_exist(tmp_path):
    with pytest.raises(NotAStoreError, match="not a teiten store"):
        Tokens(tmp_path / "none")
    assert not (tmp_path / "none").exists()


def test_verify_is_safe_to_share_between_threads(root):
    tokens = Tokens(root)
    token = tokens.add("alice")
    with ThreadPoolExecutor(8) as pool:
        found = list(pool.map(tokens.verify, [token, "wrong"] * 200))
    assert found == ["alice", None] * 200


def test_the_web_server_loads_neither_the_collector_nor_the_packet_decoder():
    """Tokens share the sensors' label rule, not the collector: ``teiten serve`` starts
    without importing the collector's upload path (and numba's compiler with it)."""
    code = (
        "import sys, teiten.web.app, teiten.cli.web; "
        "print(sorted(m for m in ('teiten.collector', 'numba') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
