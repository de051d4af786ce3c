"""The live preview's readiness check: the order of the guidance, the endpoint, its limits."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from pensioncert.api.readiness import READY, Seen, judge
from pensioncert.settings import ReadinessSettings
from tests.api import support
from tests.api.conftest import Api, api, assert_error  # noqa: F401  (the api fixture)
from tests.web import scenes

RULES = ReadinessSettings()
CIRCLE = (180.0, 240.0, 120.0)  # a 360x480 frame, the circle as the page draws it
FACE = (110.0, 160.0, 250.0, 320.0)  # 140 px wide, centred on the circle


def seen(*faces: tuple[float, float, float, float], face_luma: float | None = 130.0,
         frame_luma: float = 120.0) -> Seen:
    return Seen(list(faces), face_luma if faces else None, frame_luma)


def test_guidance_in_order() -> None:
    previous = (180.0, 240.0, 140.0)
    assert judge(seen(frame_luma=20.0), CIRCLE, None, RULES)[0] == "web.ready.too_dark"
    assert judge(seen(), CIRCLE, None, RULES)[0] == "web.ready.no_face"
    assert judge(seen(FACE, (10.0, 10.0, 90.0, 100.0)), CIRCLE, previous, RULES)[0] == "web.ready.many_faces"
    assert judge(seen(FACE, (10.0, 10.0, 40.0, 40.0)), CIRCLE, previous, RULES)[0] == READY  # a face in a poster
    assert judge(seen(FACE, face_luma=35.0), CIRCLE, previous, RULES)[0] == "web.ready.too_dark"
    assert judge(seen(FACE, face_luma=240.0), CIRCLE, previous, RULES)[0] == "web.ready.too_bright"
    assert judge(seen((10.0, 10.0, 150.0, 170.0)), CIRCLE, previous, RULES)[0] == "web.ready.into_circle"
    assert judge(seen((150.0, 200.0, 210.0, 280.0)), CIRCLE, None, RULES)[0] == "web.ready.closer"
    assert judge(seen((20.0, 60.0, 340.0, 420.0)), CIRCLE, None, RULES)[0] == "web.ready.farther"


def test_ready_needs_two_frames_in_the_same_place() -> None:
    code, face = judge(seen(FACE), CIRCLE, None, RULES)
    assert code == "web.ready.hold_still" and face == (180.0, 240.0, 140.0)
    assert judge(seen(FACE), CIRCLE, face, RULES)[0] == READY
    moved = (face[0] + 0.2 * face[2], face[1], face[2])
    assert judge(seen(FACE), CIRCLE, moved, RULES)[0] == "web.ready.hold_still"


def _jpeg(name: str) -> str:
    frame = scenes.scene(name)[:, 140:500]  # the 360 px the page shows of a 640x480 camera
    buffer = io.BytesIO()
    Image.fromarray(frame).save(buffer, format="JPEG", quality=70)
    return base64.b64encode(buffer.getvalue()).decode()


@pytest.fixture
def session_id(api: Api) -> str:  # noqa: F811
    sid = api.session("cityapp")
    assert api.identify(sid, support.IN_WINDOW).status_code == 200
    return sid


@pytest.mark.parametrize(("scene", "code"), [
    ("empty", "web.ready.no_face"), ("dark", "web.ready.too_dark"), ("good", "web.ready.hold_still"),
])
def test_endpoint_judges_one_frame(api: Api, session_id: str, scene: str, code: str) -> None:  # noqa: F811
    response = api.client.post(f"/api/v1/sessions/{session_id}/readiness",
                               json={"jpeg": _jpeg(scene), "circle": [180, 278, 160]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["code"] == code and body["message"]["zh"] and body["ready"] is False
    if scene == "good":
        again = api.client.post(f"/api/v1/sessions/{session_id}/readiness",
                                json={"jpeg": _jpeg(scene), "circle": [180, 278, 160], "previous": body["face"]})
        assert again.json()["code"] == READY and again.json()["ready"] is True


def test_endpoint_refuses_what_is_not_a_small_jpeg(api: Api, session_id: str) -> None:  # noqa: F811
    url = f"/api/v1/sessions/{session_id}/readiness"
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64)).save(buffer, format="PNG")
    png = base64.b64encode(buffer.getvalue()).decode()
    assert_error(api.client.post(url, json={"jpeg": png, "circle": [32, 32, 20]}), 422, "web.ready.bad_frame")
    assert_error(api.client.post(url, json={"jpeg": "not base64!", "circle": [32, 32, 20]}), 422,
                 "web.ready.bad_frame")
    buffer = io.BytesIO()
    Image.new("RGB", (1280, 960)).save(buffer, format="JPEG", quality=5)
    big = base64.b64encode(buffer.getvalue()).decode()
    assert_error(api.client.post(url, json={"jpeg": big, "circle": [32, 32, 20]}), 422, "web.ready.bad_frame")
    assert_error(api.client.post("/api/v1/sessions/nope/readiness", json={"jpeg": _jpeg("good"),
                                                                          "circle": [1, 1, 1]}),
                 404, "flow.session_not_found")


class CountingLimiter:
    """Counts without time windows, so the test cannot straddle a minute boundary."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def hit(self, key: str, limit: int, window: int) -> int:
        self.counts[key] = self.counts.get(key, 0) + 1
        return 0 if self.counts[key] <= limit else window


def test_endpoint_is_rate_limited_per_session(api: Api, session_id: str, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    from pensioncert.settings import get_settings

    monkeypatch.setenv("PENSIONCERT_READINESS__FRAMES_PER_MINUTE", "3")
    get_settings.cache_clear()
    api.app.state.readiness_limiter = CountingLimiter()
    url = f"/api/v1/sessions/{session_id}/readiness"
    body = {"jpeg": _jpeg("empty"), "circle": [180, 278, 160]}
    assert [api.client.post(url, json=body).status_code for _ in range(3)] == [200, 200, 200]
    assert_error(api.client.post(url, json=body), 429, "protection.rate_limited")
    other = api.session("cityapp")  # another session has its own budget
    assert api.client.post(f"/api/v1/sessions/{other}/readiness", json=body).status_code == 200
