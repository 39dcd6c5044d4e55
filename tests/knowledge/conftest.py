"""Fixtures for the knowledge tests: a store per test, JSON files in tmp_path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


@pytest.fixture
def write_json(tmp_path):
    def write(name: str, doc) -> Path:
        path = tmp_path / name
        path.write_text(json.dumps(doc, indent=2))
        return path

    return write


@pytest.fixture
def store(tmp_path, monkeypatch) -> Path:
    """An empty store directory, also $TEITEN_STORE so nothing reads ./teiten-data."""
    root = tmp_path / "store"
    root.mkdir()
    monkeypatch.setenv("TEITEN_STORE", str(root))
    return root
