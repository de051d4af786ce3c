"""The face step before recording: live preview, readiness guidance, one screen.

The fake camera plays still scenes (tests/web/scenes.py); the page sends preview frames to
the readiness check and must show the matching guidance, keep the start button disabled
until the face is ready, and keep prompt, circle and button on one screen.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.api import support
from tests.web import scenes
from tests.web.conftest import Phone, Server, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def open_face_step(phone: Phone, server: Server, name: str, number: str) -> None:
    page = phone.page
    page.goto(f"{server.url}/h5/cityapp")
    page.fill("#id-name", name)
    page.fill("#id-number", number)
    page.click("#identity-submit")
    page.wait_for_selector('[data-step="decision"]:not([hidden])')
    page.click("#start-face")
    page.wait_for_selector('[data-step="face"]:not([hidden])')


def on_one_screen(page: Any) -> None:
    """Prompt, circle and main button inside the viewport, nothing to scroll, the prompt the largest text."""
    size = page.viewport_size
    for selector in ("#prompt", "#circle", "#record-start"):
        box = page.locator(selector).bounding_box()
        assert box is not None, selector
        assert box["y"] >= 0 and box["y"] + box["height"] <= size["height"], (selector, box, size)
        assert box["x"] >= 0 and box["x"] + box["width"] <= size["width"], (selector, box, size)
    scroll = page.evaluate("document.documentElement.scrollHeight - window.innerHeight")
    assert scroll <= 0, f"the face step scrolls by {scroll}px"
    largest = page.evaluate("""() => {
        let best = null, size = 0;
        for (const el of document.querySelectorAll('body *')) {
            if (!el.offsetParent || !el.childNodes.length) continue;
            const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
            const px = parseFloat(getComputedStyle(el).fontSize);
            if (own && px > size) { size = px; best = el.id; }
        }
        return best;
    }""")
    assert largest == "prompt", largest


@pytest.mark.parametrize(("scene", "code"), [
    ("empty", "web.ready.no_face"),
    ("off_centre", "web.ready.into_circle"),
    ("dark", "web.ready.too_dark"),
    ("two_faces", "web.ready.many_faces"),
], ids=["empty", "off-centre", "dark", "two-faces"])
def test_preview_guides_and_keeps_start_disabled(
    server: Server, open_phone: Any, numbers: dict[str, str], tmp_path: Any, scene: str, code: str
) -> None:
    with open_phone(scenes.scene_y4m(scene, tmp_path)) as phone:
        page = phone.page
        open_face_step(phone, server, support.IN_WINDOW, numbers[support.IN_WINDOW])
        page.wait_for_selector(f'#prompt[data-code="{code}"]')
        page.wait_for_timeout(1500)  # a few more frames: the guidance holds and the button stays off
        assert page.get_attribute("#prompt", "data-code") == code
        assert page.is_disabled("#record-start")
        assert page.get_attribute("#camera", "data-ready") == "false"
        phone.shot(f"preview-{scene}")


@pytest.mark.parametrize("size", [(360, 640), (390, 844)], ids=["360x640", "390x844"])
def test_face_ready_enables_start_on_one_screen(
    server: Server, open_phone: Any, numbers: dict[str, str], tmp_path: Any, size: tuple[int, int]
) -> None:
    with open_phone(scenes.scene_y4m("good", tmp_path), size=size) as phone:
        page = phone.page
        open_face_step(phone, server, support.IN_WINDOW, numbers[support.IN_WINDOW])
        assert page.is_disabled("#record-start")
        page.wait_for_selector('#prompt[data-code="web.ready.ok"]')
        assert page.is_enabled("#record-start")
        assert page.get_attribute("#camera", "data-ready") == "true"
        # Spoken too: headless Chromium has no voice, so the bundled recording plays.
        wait_until(page, "() => window.pensioncert.spoken.some(s => s.key === 'web.ready.ok')", 20_000)
        assert page.evaluate("speechSynthesis.getVoices().length") == 0
        said = page.evaluate("window.pensioncert.spoken.find(s => s.key === 'web.ready.ok')")
        assert said["via"] == "audio", said
        wait_until(page, "() => window.pensioncert.player.src.endsWith('/zh/web.ready.ok.mp3')"
                         " && window.pensioncert.player.duration > 1", 10_000)
        assert page.evaluate("window.pensioncert.player.error") is None
        on_one_screen(page)
        fallback = page.locator("#fallback-open").bounding_box()
        button = page.locator("#record-start").bounding_box()
        assert fallback is not None and button is not None and fallback["y"] >= button["y"] + button["height"]
        phone.shot(f"preview-ready-{size[0]}x{size[1]}")
