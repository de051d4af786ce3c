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
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.api import support

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "flows"
BASE_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
             "--no-first-run", "--disable-dev-shm-usage", "--autoplay-policy=no-user-gesture-required"]
PHONE = {"viewport": {"width": 360, "height": 640}, "device_scale_factor": 1, "is_mobile": True, "has_touch": True}


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
    def _open(clip: support.ClipFiles | None = None, lang: str = "zh-CN",
              size: tuple[int, int] | None = None) -> Iterator[Phone]:
        args = list(BASE_ARGS)
        if clip is not None:
            args += ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                     f"--use-file-for-fake-video-capture={clip.y4m}",
                     f"--use-file-for-fake-audio-capture={clip.wav}"]
        browser = playwright_instance.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=args)
        browsers.append(browser)
        screen = dict(PHONE, viewport={"width": size[0], "height": size[1]}) if size else PHONE
        context = browser.new_context(locale=lang, **screen)
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


def wait_until(page: Any, expression: str, timeout_ms: int = 30_000) -> Any:
    """Poll ``expression`` (a JS arrow function) until truthy. Playwright's wait_for_function
    evaluates a string, which the pages' Content-Security-Policy (no unsafe-eval) refuses."""
    waited = 0
    while True:
        value = page.evaluate(expression)
        if value:
            return value
        if waited >= timeout_ms:
            raise AssertionError(f"not true after {timeout_ms} ms: {expression}")
        page.wait_for_timeout(100)
        waited += 100


# ---------------------------------------------------------------- clips that follow the page's schedule

LEAD_IN = 3.0  # seconds of the subject at rest (the live preview's readiness) before an actions clip's schedule


@dataclass(frozen=True)
class Rehearsed:
    """A fake-camera clip and the clip time at which the page must start recording.

    Chromium plays the Y4M from the moment the page opens the camera (the live preview, before
    the start button) and loops it, so the clip's own timeline lines up with the recording only
    if the start is tapped at the right point of the loop (``start_recording``).
    """

    files: support.ClipFiles
    start: float
    loop: float


def rehearse(plan: support.Planned, *, language: str = "zh", early: float = 0.0, perform: bool = True,
             photo: str = support.SUBJECT) -> Rehearsed:
    """The subject at rest for ``LEAD_IN`` s, then answering ``plan``'s challenge as the page will prompt it.

    The answer is ``synth.follow_schedule_script`` of the very challenge the seeded server will
    issue (each step 0.4–1.2 s after its prompt, natural blinks between), shifted by the lead-in.
    ``early`` moves every prompt that many seconds earlier before the script is made: a recording
    made for another schedule. ``perform=False``: the subject only looks at the camera.
    """
    from pensioncert.liveness.challenges import ChallengeKind, issue_challenge
    from pensioncert.settings import get_settings
    from pensioncert.synth import parse_script
    from pensioncert.synth.subject import follow_schedule_script

    challenge = issue_challenge(ChallengeKind(plan.kind), random.Random(plan.seed), datetime.now(UTC), "plan",
                                get_settings().liveness, language=language)
    assert challenge.schedule == plan.schedule and challenge.steps == plan.steps
    if early:
        challenge = replace(challenge, schedule=tuple(max(0.05, at - early) for at in challenge.schedule))
    script = follow_schedule_script(challenge, rng=random.Random(plan.seed)) if perform else ""
    shifted = ",".join(f"{e.action}@{e.start + LEAD_IN:.2f}-{e.end + LEAD_IN:.2f}" for e in parse_script(script))
    duration = round(LEAD_IN + plan.record_seconds + 0.6, 2)
    return Rehearsed(_render(shifted, duration, language, photo), LEAD_IN, duration)


def _render(script: str, duration: float, language: str, photo: str) -> support.ClipFiles:
    """Render once per clip cache (``PENSIONCERT_TEST_CLIP_CACHE``), keyed by what is rendered."""
    import hashlib
    import json

    key = hashlib.sha1(json.dumps(["web", script, duration, language, photo, 480]).encode()).hexdigest()[:12]
    folder = support._cache_dir() / key
    files = support.ClipFiles(*(folder / f"clip.{ext}" for ext in ("y4m", "wav", "webm", "mp4")))
    if not all(p.is_file() for p in (files.y4m, files.wav)):
        import cv2
        import numpy as np

        from pensioncert.media.encode import write_y4m
        from pensioncert.synth import render_subject

        clip = render_subject(photo, script=script, language=language, seed=3, duration=duration)
        clip.write(folder, "clip", ("wav",))
        # 480x360 for the fake camera: Chromium decodes, shows and re-encodes every frame, and on a
        # loaded 2-core test machine 640x480 made it drop frames (the recording then fails, rightly,
        # as liveness.too_few_frames). Faces stay ~180 px wide, well above the analysis minimum.
        small = np.stack([cv2.resize(f, (480, 360), interpolation=cv2.INTER_AREA) for f in clip.frames])
        write_y4m(files.y4m, small, clip.fps)
    return files


START_AT_PHASE = """async ([start, loop, early]) => {
    const s = window.pensioncert;
    const target = ((start - early) % loop + loop) % loop;
    for (;;) {
        const phase = ((performance.now() - s.cameraOpenedAt) / 1000) % loop;
        if ((phase - target + loop) % loop < 0.02 && s.ready) break;
        await new Promise(r => setTimeout(r, 3));
    }
    document.getElementById('record-start').click();
}"""


def start_recording(page: Any, clip: Rehearsed, early: float = 0.05) -> float:
    """Wait for the face to be ready, tap start when the fake camera is at ``clip.start``; return
    how far (s) the recorder's start landed from it (the test fails if the clocks disagree)."""
    page.wait_for_selector('#prompt[data-code="web.ready.ok"]', timeout=60_000)
    page.evaluate(START_AT_PHASE, [clip.start, clip.loop, early])
    page.wait_for_selector("#rec-dot:not([hidden])")
    landed = page.evaluate("([loop]) => ((window.pensioncert.recordStartedAt - window.pensioncert.cameraOpenedAt)"
                           " / 1000) % loop", [clip.loop])
    off = (landed - clip.start + clip.loop / 2) % clip.loop - clip.loop / 2
    assert abs(off) < 0.3, f"recording started at clip time {landed:.2f}, wanted {clip.start:.2f}"
    return float(off)
