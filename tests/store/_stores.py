"""Stores for the store tests, built as a user builds them: `teiten ingest` on real captures."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import capture_path
from teiten.cli import main

TEITEN = [sys.executable, "-m", "teiten.cli"]
# Four real attacks of 2021Q2 (different days) and a capture spanning 2010 and 2015.
Q2 = [
    "stopddos_amp.UDP.isakmp.pcap",
    "stopddos_amp.UDP.snmp.src161.pcapng",
    "stopddos_amp.TCP.syn.optionallyACK.optionallysamePort.pcapng",
    "stopddos_pkt.TCP.DOMINATE.syn.ecn.cwr.pcapng",
]
TWO_DAYS = "pcpp_example2.pcap"  # 2010-06-29 and 2015-01-03


def cli(*args: str, ok: bool = True) -> object:
    """Run a teiten command in-process (click's runner); assert success unless ``ok=False``."""
    result = CliRunner().invoke(main, [str(a) for a in args])
    if ok:
        assert result.exit_code == 0, (args, result.output, result.exception)
    return result


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real ``teiten`` command in a child process (stderr kept apart)."""
    return subprocess.run(
        [*TEITEN, *map(str, args)],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=300,
    )


def ingest(root: Path, *names: str, sensor: str = "default", force: bool = False) -> dict:
    args = ["ingest", "--store", root, "--sensor", sensor, "--json"]
    args += ["--force"] if force else []
    result = cli(*args, *(capture_path(n) for n in names))
    return json.loads(result.output)


def rankings(root: Path, period: str) -> dict[str, dict]:
    """`top ports` and `top countries` as --json gives them, for every kind of traffic."""
    found = {}
    for dimension in ("ports", "countries"):
        for traffic in ("probe", "backscatter", "all"):
            result = cli(
                "top", dimension, "--store", root, "--period", period, "--traffic", traffic,
                "--limit", "1000", "--json",
            )  # fmt: skip
            found[f"{dimension}/{traffic}"] = json.loads(result.output)
    return found


def listing(root: Path) -> dict[str, tuple[int, int]]:
    """Every path under ``root`` (folders too) with its size and modification time."""
    found = {".": (0, root.stat().st_mtime_ns)} if root.exists() else {}
    for path in sorted(root.rglob("*")):
        stat = path.lstat()
        found[path.relative_to(root).as_posix()] = (
            0 if path.is_dir() else stat.st_size,
            stat.st_mtime_ns,
        )
    return found


@contextlib.contextmanager
def read_only_view(source: Path, at: Path) -> Iterator[Path]:
    """``source`` bind-mounted read-only at ``at``; skips when this host cannot mount."""
    if os.geteuid() != 0:
        pytest.skip("a read-only bind mount needs root (CI runs as root)")
    at.mkdir()
    done = subprocess.run(["mount", "--bind", str(source), str(at)], capture_output=True)
    if done.returncode:
        pytest.skip(f"cannot bind-mount here: {done.stderr.decode().strip()}")
    try:
        remount = subprocess.run(
            ["mount", "-o", "remount,bind,ro", str(at)], capture_output=True, check=False
        )
        if remount.returncode:
            pytest.skip(f"cannot remount read-only here: {remount.stderr.decode().strip()}")
        yield at
    finally:
        subprocess.run(["umount", "-l", str(at)], check=False)  # lazy: files may be open


def kill_at_step(args: list[str], steps: int, pause: float, what: str) -> None:
    """Run ``teiten ARGS`` pausing ``pause`` s at each step of its rewrite
    (``TEITEN_TEST_STEP_SECONDS``, :func:`teiten.store.rewrite.step`) and ``kill -9`` it
    once it reached step ``steps``; ``what`` names the command in a failure."""
    env = {**os.environ, "TEITEN_TEST_STEP_SECONDS": str(pause)}
    child = subprocess.Popen([*TEITEN, *args], stderr=subprocess.PIPE, text=True, env=env)
    seen = 0
    assert child.stderr is not None
    while seen < steps:
        line = child.stderr.readline()
        assert line, f"the {what} ended after {seen} steps"
        seen += line.strip() == "teiten: test step"
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
