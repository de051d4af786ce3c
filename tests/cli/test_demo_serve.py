import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_demo_command_serves_demo_data(tmp_path: Path) -> None:
    port = free_port()
    # No setup: no keys in the environment (serve would refuse the development keys; the demo uses them).
    env = {k: v for k, v in os.environ.items() if not k.startswith("PENSIONCERT_SECURITY__")}
    env["PENSIONCERT_DATA_DIR"] = str(tmp_path / "demo")
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "pensioncert"), "demo", "--port", str(port),
         "--data-dir", str(tmp_path / "demo")],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 120
        response = None
        while time.monotonic() < deadline:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                time.sleep(0.5)
        assert response is not None and response.status_code == 200
        page = httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert (tmp_path / "demo" / "pensioncert.sqlite3").exists()
        cards = sorted((tmp_path / "demo" / "demo-cards").glob("*.jpg"))
        assert len(cards) == 20 and cards[0].stat().st_size > 10_000
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0]
    assert "张伟" in output and "decision.proceed" in output
