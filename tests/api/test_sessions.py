"""Sessions, identification and eligibility through the API (no camera involved)."""

from __future__ import annotations

import pytest

from pensioncert.api.present import mask_name
from tests.api import support
from tests.api.conftest import Api, assert_error


def test_openapi_publishes_every_route(api: Api) -> None:
    paths = api.client.get("/openapi.json").json()["paths"]
    for path in ("/api/v1/sessions", "/api/v1/sessions/{session_id}/identity", "/api/v1/sessions/{session_id}/id-card",
                 "/api/v1/sessions/{session_id}/eligibility", "/api/v1/sessions/{session_id}/challenges",
                 "/api/v1/sessions/{session_id}/challenges/{challenge_id}/start",
                 "/api/v1/sessions/{session_id}/recordings", "/api/v1/jobs/{job_id}",
                 "/api/v1/sessions/{session_id}/result", "/api/v1/queries/period", "/api/v1/queries/history",
                 "/api/v1/qr/{channel}.{fmt}", "/api/v1/channels"):
        assert path in paths, path
    assert "ResultOut" in api.client.get("/openapi.json").json()["components"]["schemas"]


def test_start_session_validates_channel_and_helper(api: Api) -> None:
    assert_error(api.client.post("/api/v1/sessions", json={"channel": "weibo"}), 422, "api.invalid_request")
    assert_error(api.client.post("/api/v1/sessions", json={"channel": "alipay", "mode": "proxy"}), 422,
                 "flow.helper_missing")
    helper = {"name": "张小明", "phone": "12ab", "relationship": "child"}
    bad_phone = {"channel": "alipay", "mode": "proxy", "helper": helper}
    assert_error(api.client.post("/api/v1/sessions", json=bad_phone), 422, "flow.helper_phone_invalid")
    good = dict(bad_phone, helper={"name": "张小明", "phone": "139 0000 1111", "relationship": "child"})
    body = api.client.post("/api/v1/sessions", json=good).json()
    assert body["mode"] == "proxy" and body["helper_name"] == "张小明" and body["state"] == "started"


@pytest.mark.parametrize(("number", "code"), [
    ("", "id.empty"),
    ("44030419580312", "id.bad_length"),
    ("44030419580312017A", "id.bad_format"),
    ("440304195802300170", "id.bad_birth_date"),
    ("440304195803120178", "id.bad_checksum"),
])
def test_identify_refuses_malformed_numbers_with_the_precise_reason(api: Api, number: str, code: str) -> None:
    session_id = api.session()
    assert_error(api.identify(session_id, "张伟", number), 422, code)
    assert api.client.get(f"/api/v1/sessions/{session_id}").json()["state"] == "started"


@pytest.mark.parametrize(("name", "code", "may"), [
    (support.IN_WINDOW, "decision.proceed", True),
    (support.OVERDUE, "decision.proceed_overdue", True),
    (support.ALREADY, "decision.already_certified", False),
    (support.NOT_YET, "decision.not_yet", False),
    (support.ABNORMAL, "decision.info_abnormal", False),
    (support.OUT_OF_SCOPE, "decision.out_of_scope", False),
    (support.TERMINATED, "decision.terminated", False),
])
def test_identify_gives_the_seed_decision(api: Api, name: str, code: str, may: bool) -> None:
    session_id = api.session()
    decision = api.identify(session_id, name).json()
    assert decision["code"] == code and decision["may_certify"] is may
    assert decision["message"]["zh"] and decision["message"]["en"]
    assert decision["retiree_name"] == mask_name(name) != name
    if not may:
        # No camera for someone who may not certify now: the challenge is refused with the same reason.
        assert_error(api.challenge(session_id), 409, code)


def test_decision_messages_carry_the_window(api: Api) -> None:
    decision = api.identify(api.session(), support.NOT_YET).json()
    window = decision["window"]
    start = window["start"]
    assert f"{int(start[:4])}年{int(start[5:7])}月" in decision["message"]["zh"]
    assert start[:7] in decision["message"]["en"]
    already = api.identify(api.session(), support.ALREADY).json()
    assert "完成认证" in already["message"]["zh"] and "下次可认证时间" in already["message"]["zh"]


def test_name_mismatch_and_unknown_person(api: Api) -> None:
    # One answer for both (issue 13.3: no enumeration of the registry); the audit keeps the precise one.
    mismatch = api.identify(api.session(), "张三", api.numbers[support.IN_WINDOW]).json()
    assert mismatch["code"] == "decision.no_match" and mismatch["retiree_name"] is None
    unknown = api.identify(api.session(), "张三", "11010519491231002X").json()
    assert unknown["code"] == "decision.no_match"
    spaced = api.identify(api.session(), " 张 伟 ", api.numbers[support.IN_WINDOW].lower()).json()
    assert spaced["code"] == "decision.proceed"


def test_eligible_without_any_reference_photo_is_sent_elsewhere(api: Api) -> None:
    session_id = api.session()
    decision = api.identify(session_id, support.IN_WINDOW_NO_PHOTO).json()
    assert decision["may_certify"] is True and decision["has_reference"] is False
    assert_error(api.challenge(session_id), 409, "flow.no_reference")


def test_enrolment_policy_makes_a_live_reference_possible(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    from pensioncert.settings import get_settings

    monkeypatch.setenv("PENSIONCERT_FLOW__ENROLL_REFERENCE_ON_FIRST_CERTIFICATION", "true")
    get_settings.cache_clear()
    session_id = api.session()
    assert api.identify(session_id, support.IN_WINDOW_NO_PHOTO).json()["has_reference"] is True
    assert api.challenge(session_id).status_code == 201


def test_identity_is_fixed_once_the_camera_step_begins(api: Api) -> None:
    session_id = api.session()
    api.identify(session_id, support.IN_WINDOW)
    challenge = api.challenge(session_id).json()
    assert challenge["kind"] == "actions" and 2 <= challenge["step_count"] <= 3
    assert_error(api.identify(session_id, support.OVERDUE), 409, "flow.already_identified")


def test_wechat_gets_digits_and_others_get_actions(api: Api) -> None:
    kinds = {}
    for channel in ("wechat", "alipay", "cityapp"):
        session_id = api.session(channel)
        api.identify(session_id, support.IN_WINDOW)
        kinds[channel] = api.started_challenge(session_id)
    wechat = kinds["wechat"]
    assert wechat["kind"] == "digits" and len(wechat["digits"]) == 4 and wechat["actions"] == []
    assert [step["digit"] for step in wechat["steps"]] == list(wechat["digits"])
    assert all(step["digit"] in step["prompt"]["zh"] for step in wechat["steps"])
    assert kinds["alipay"]["kind"] == kinds["cityapp"]["kind"] == "actions"


def test_unknown_session_and_job(api: Api) -> None:
    assert_error(api.client.get("/api/v1/sessions/nope"), 404, "flow.session_not_found")
    assert_error(api.client.get("/api/v1/jobs/nope"), 404, "flow.job_not_found")
    assert_error(api.client.get("/api/v1/nothing-here"), 404, "api.not_found")


def test_queries_period_and_history(api: Api) -> None:
    body = {"name": support.ALREADY, "id_number": api.numbers[support.ALREADY]}
    period = api.client.post("/api/v1/queries/period", json=body).json()
    assert period["code"] == "decision.already_certified"
    history = api.client.post("/api/v1/queries/history", json=body).json()
    assert history["decision"]["code"] == "decision.already_certified" and history["history"] == []
    assert_error(api.client.post("/api/v1/queries/period", json={"name": "x", "id_number": "123"}), 422,
                 "id.bad_length")


def test_channels_and_qr_codes(api: Api) -> None:
    channels = api.client.get("/api/v1/channels").json()
    online = [c for c in channels if c["kind"] == "online"]
    offline = [c for c in channels if c["kind"] == "offline"]
    assert [c["code"] for c in online] == ["wechat", "alipay", "cityapp"]
    assert {c["code"] for c in offline} == {"service_window", "community_workstation", "self_service_terminal",
                                            "ems_door_to_door"}
    png = api.client.get("/api/v1/qr/wechat.png")
    assert png.headers["content-type"] == "image/png" and png.content.startswith(b"\x89PNG")
    svg = api.client.get("/api/v1/qr/cityapp.svg")
    assert svg.headers["content-type"].startswith("image/svg+xml") and b"<svg" in svg.content
    assert png.content != api.client.get("/api/v1/qr/alipay.png").content
    assert_error(api.client.get("/api/v1/qr/weibo.png"), 404, "flow.bad_channel")


def test_qr_code_encodes_the_channel_page(api: Api) -> None:
    import io

    import cv2
    import numpy as np
    from PIL import Image

    png = api.client.get("/api/v1/qr/alipay.png?scale=10").content
    image = np.asarray(Image.open(io.BytesIO(png)).convert("L"))
    text, _, _ = cv2.QRCodeDetector().detectAndDecode(image)
    assert text == "http://testserver/h5/alipay"


@pytest.mark.slow
def test_scanned_id_card_fills_the_identity_and_its_portrait_is_the_reference(api: Api) -> None:
    """The city app's "scan the ID card": OCR of the front fills name and number; with no
    registry photo, the card's portrait is what the face is compared with."""
    name = support.IN_WINDOW_NO_PHOTO
    front, _ = support.id_card_jpegs(name, api.numbers[name])
    session_id = api.session("cityapp")
    reading = api.client.post(f"/api/v1/sessions/{session_id}/id-card",
                              files={"front": ("front.jpg", front, "image/jpeg")})
    assert reading.status_code == 200, reading.text
    body = reading.json()
    assert body["fields"]["name"] == name and body["fields"]["id_number"] == api.numbers[name]
    assert body["portrait_found"] is True
    decision = api.identify(session_id, name, source="id_card").json()
    assert decision["may_certify"] is True and decision["has_reference"] is True
    assert api.challenge(session_id).status_code == 201
    # Not a picture at all: refused before any OCR runs.
    refused = api.client.post(f"/api/v1/sessions/{api.session()}/id-card",
                              files={"front": ("x.jpg", b"GIF89a not a card", "image/jpeg")})
    assert_error(refused, 415, "upload.unsupported_type")


def test_id_card_decompression_bomb_is_refused_before_decoding(api: Api) -> None:
    from tests.media.test_images import png_declaring

    session_id = api.session("wechat")
    bomb = api.client.post(f"/api/v1/sessions/{session_id}/id-card",
                           files={"front": ("front.png", png_declaring(20_000, 20_000), "image/png")})
    assert_error(bomb, 413, "media.image_too_large")
    broken = api.client.post(f"/api/v1/sessions/{session_id}/id-card",
                             files={"front": ("front.png", png_declaring(800, 500)[:60], "image/png")})
    assert_error(broken, 422, "media.image_unreadable")
    # Nothing was recorded: the session can still scan a card or be identified.
    assert api.identify(session_id, support.IN_WINDOW_NO_PHOTO).status_code == 200
