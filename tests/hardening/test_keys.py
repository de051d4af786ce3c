"""Issue 13.2: serve and worker refuse the development keys; ``keys generate`` makes real ones."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

PENSIONCERT = str(Path(sys.executable).parent / "pensioncert")


def _env(tmp_path: Path, **security: str) -> dict[str, str]:
    """This process's environment without any key, plus ``security`` (PENSIONCERT_SECURITY__<name>)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PENSIONCERT_SECURITY__")}
    env["PENSIONCERT_DATA_DIR"] = str(tmp_path / "data")
    env["PENSIONCERT_JOBS__REDIS_URL"] = "redis://127.0.0.1:1/0"  # never the shared Redis
    env.update({f"PENSIONCERT_SECURITY__{name}": value for name, value in security.items()})
    return env


def _port() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return str(probe.getsockname()[1])


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run([PENSIONCERT, *args], env=env, capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail(f"pensioncert {' '.join(args)} started (still running after 60 s) instead of refusing")


@pytest.mark.parametrize("command", [["serve", "--port"], ["worker", "--burst", "--no-preload"]],
                         ids=["serve", "worker"])
def test_refuses_to_start_without_keys(tmp_path: Path, command: list[str]) -> None:
    args = [*command, _port()] if command[-1] == "--port" else command
    result = _run(args, _env(tmp_path))
    assert result.returncode != 0
    assert "PENSIONCERT_SECURITY__DATA_KEY" in result.stderr
    assert "PENSIONCERT_SECURITY__LOOKUP_KEY" in result.stderr
    assert "pensioncert keys generate" in result.stderr


def test_refuses_the_development_keys_set_explicitly(tmp_path: Path) -> None:
    from pensioncert.settings import SecuritySettings

    defaults = SecuritySettings()
    result = _run(["serve", "--port", _port()],
                  _env(tmp_path, DATA_KEY=defaults.data_key, LOOKUP_KEY="a-real-lookup-key-of-some-length"))
    assert result.returncode != 0
    assert "PENSIONCERT_SECURITY__DATA_KEY" in result.stderr
    assert "LOOKUP_KEY" not in result.stderr


def test_keys_generate_prints_fresh_keys_that_pass_the_check() -> None:
    from pensioncert.cli.main import app
    from pensioncert.keys import key_problems
    from pensioncert.settings import SecuritySettings

    outputs = [CliRunner().invoke(app, ["keys", "generate"]) for _ in range(2)]
    assert all(result.exit_code == 0 for result in outputs)
    first = dict(line.split("=", 1) for line in outputs[0].stdout.splitlines())
    second = dict(line.split("=", 1) for line in outputs[1].stdout.splitlines())
    assert set(first) == {"PENSIONCERT_SECURITY__DATA_KEY", "PENSIONCERT_SECURITY__LOOKUP_KEY"}
    assert first != second and not set(first.values()) & set(second.values())
    security = SecuritySettings(data_key=first["PENSIONCERT_SECURITY__DATA_KEY"],
                                lookup_key=first["PENSIONCERT_SECURITY__LOOKUP_KEY"])
    assert key_problems(security) == []
    assert len(key_problems(SecuritySettings())) == 2
    assert len(key_problems(SecuritySettings(data_key="c2hvcnQ=", lookup_key="short"))) == 2
