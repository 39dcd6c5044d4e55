"""The public facade and the documentation stay in step with the code."""

import re

import click

import teiten
from conftest import ROOT
from teiten.cli import main


def test_public_api_is_pinned():
    assert sorted(teiten.__all__) == sorted(
        [
            "DecodedPackets",
            "Filters",
            "IngestReport",
            "PacketBatch",
            "Period",
            "Ranking",
            "Store",
            "TeitenError",
            "__version__",
            "decode_batch",
            "ingest",
            "open_capture",
            "open_geo",
            "parse_period",
            "rank",
        ]
    )
    for name in teiten.__all__:
        assert getattr(teiten, name) is not None


def _commands(group: click.Group, prefix: str = "teiten") -> list[str]:
    found = []
    for name, command in group.commands.items():
        path = f"{prefix} {name}"
        if isinstance(command, click.Group):
            found += _commands(command, path)
        else:
            found.append(path)
    return found


def test_every_command_is_in_the_readme_with_help():
    readme = (ROOT / "README.md").read_text()
    for command in _commands(main):
        assert command in readme, f"README.md does not mention `{command}`"


def test_readme_shows_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    assert re.search(r"make demo", readme) and re.search(r"make test", readme)
