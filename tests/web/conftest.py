"""Browser fixtures: the app served by uvicorn on a free loopback port, headless Debian Chromium.

The phone's camera and microphone are Chromium's fake capture devices playing the
synthetic subject's Y4M and WAV, so the page records a real WebM through getUserMedia
and MediaRecorder and the server analyses it with the real pipeline.
"""

from __future__ import annotations

import random
import re
import shutil
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.api import support

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "flows"
BASE_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
             "--no-first-run", "--disable-dev-shm-usage", "--autoplay-policy=no-user-gesture-required"]
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 1, "is_mobile": True, "has_touch": True}


class Server:
    """uvicorn in a thread; ``app`` is reachable so a test can seed the challenge RNG."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.app = app
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                                     lifespan="on"))
        self._thread = threading.Thread(target=self._server.run, name="uvicorn", daemon=True)

    def start(self) -> None:
        self._thread.start()
        for _ in range(400):
            if self._server.started:
                return
            self._thread.join(0.05)
        raise RuntimeError("uvicorn did not start")

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(60)

    def seed_challenges(self, seed: int) -> None:
        self.app.state.challenge_rng = random.Random(seed)


@dataclass
class Phone:
    """One browser page on a phone-sized screen, saving numbered screenshots."""

    page: Any
    folder: Path
    shots: list[Path] = field(default_factory=list)

    def shot(self, step: str) -> Path:
        path = self.folder / f"{len(self.shots) + 1:02d}-{step}.png"
        self.page.screenshot(path=str(path), full_page=True)
        self.shots.append(path)
        return path


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail("Debian chromium is not installed (scripts/bootstrap.sh installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    from pensioncert.api.app import create_app

    support.flow_env(monkeypatch)
    support.load_demo_registry()
    served = Server(create_app(challenge_rng=random.Random(0)))
    served.start()
    yield served
    served.stop()


@pytest.fixture
def numbers(server: Server) -> dict[str, str]:
    """Name → ID number of the demo registry the server holds."""
    return {name: number for name, number in _demo_numbers().items()}


def _demo_numbers() -> dict[str, str]:
    from pensioncert.certification.demo_data import demo_retirees

    return {row.name: row.id_number for row in demo_retirees(support.cst_today())}


@pytest.fixture
def open_phone(playwright_instance: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """``open_phone(clip)`` launches Chromium whose camera and microphone play ``clip``."""
    browsers: list[Any] = []
    folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)

    @contextmanager
    def _open(clip: support.ClipFiles | None = None, lang: str = "zh-CN") -> Iterator[Phone]:
        args = list(BASE_ARGS)
        if clip is not None:
            args += ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                     f"--use-file-for-fake-video-capture={clip.y4m}",
                     f"--use-file-for-fake-audio-capture={clip.wav}"]
        browser = playwright_instance.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=args)
        browsers.append(browser)
        context = browser.new_context(locale=lang, **PHONE)
        context.set_default_timeout(30_000)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        yield Phone(page, folder)
        assert errors == [], errors  # no script errors on any page
        context.close()

    yield _open
    for browser in browsers:
        browser.close()
