"""The three channel flows in headless Chromium, with the synthetic subject as the phone's camera.

Every test walks the seed's process for its channel on a phone-sized screen and saves a
screenshot of each step under test-artifacts/flows/ (docs/img/flows/ holds a selection).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.api import support
from tests.web.conftest import Phone, Server

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def actions_plan() -> support.Planned:
    return support.plan_challenge("actions", n_actions=2)


@pytest.fixture(scope="module")
def digits_plan() -> support.Planned:
    return support.plan_challenge("digits")


def _fill_identity(page: Any, name: str, number: str) -> None:
    page.fill("#id-name", name)
    page.fill("#id-number", number)


def _record_and_wait(phone: Phone, server: Server, plan: support.Planned) -> dict[str, Any]:
    """Start the camera step with the planned challenge, record, and wait for the result page."""
    page = phone.page
    server.seed_challenges(plan.seed)
    page.click("#start-face")
    page.wait_for_selector('[data-step="face"]:not([hidden])')
    if plan.kind == "digits":
        assert page.get_attribute("#challenge-digits", "data-digits") == plan.digits
    else:
        assert page.get_attribute("#challenge-actions", "data-actions") == ",".join(plan.actions)
    phone.shot("challenge")
    page.click("#record-start")
    page.wait_for_selector("#rec-dot:not([hidden])")
    page.wait_for_timeout(1500)
    phone.shot("recording")
    page.wait_for_selector('[data-step="result"]:not([hidden])', timeout=180_000)
    phone.shot("result")
    result: dict[str, Any] = page.evaluate("window.pensioncert.result")
    return result


def _records_of(number: str) -> list[Any]:
    from pensioncert.storage.crypto import protector_from_settings
    from pensioncert.storage.db import get_database
    from pensioncert.storage.repository import find_retiree, history

    with get_database().session() as session:
        retiree = find_retiree(session, protector_from_settings(), number)
        assert retiree is not None
        return history(session, retiree.id)


def test_wechat_id_card_then_four_digits_passes(
    server: Server, open_phone: Any, numbers: dict[str, str], digits_plan: support.Planned, tmp_path: Any
) -> None:
    name, number = support.IN_WINDOW_NO_PHOTO, numbers[support.IN_WINDOW_NO_PHOTO]
    front, back = support.id_card_jpegs(name, number)
    (tmp_path / "front.jpg").write_bytes(front)
    (tmp_path / "back.jpg").write_bytes(back)
    with open_phone(support.digits_clip(digits_plan)) as phone:
        page = phone.page
        page.goto(f"{server.url}/h5/wechat")
        page.wait_for_selector('[data-step="idcard"]:not([hidden])')
        phone.shot("upload-id-card")
        page.set_input_files("#card-front", str(tmp_path / "front.jpg"))
        page.set_input_files("#card-back", str(tmp_path / "back.jpg"))
        page.click("#card-submit")
        page.wait_for_selector('[data-step="confirm"]:not([hidden])', timeout=120_000)
        assert page.input_value("#confirm-name") == name
        assert page.input_value("#confirm-id") == number
        phone.shot("confirm-fields")
        page.click("#confirm-submit")
        page.wait_for_selector('[data-step="decision"]:not([hidden])')
        assert page.get_attribute("#decision-message", "data-code") == "decision.proceed"
        phone.shot("eligible")
        result = _record_and_wait(phone, server, digits_plan)
    assert result["outcome"] == "passed", result
    assert "认证成功" in page_text(result)
    [record] = [r for r in _records_of(number) if r.result == "passed"]
    assert (record.channel, record.method) == ("wechat", "face_digits")


def page_text(result: dict[str, Any]) -> str:
    return str(result["message"]["zh"])


def test_alipay_self_passes(
    server: Server, open_phone: Any, numbers: dict[str, str], actions_plan: support.Planned
) -> None:
    with open_phone(support.actions_clip(actions_plan)) as phone:
        page = phone.page
        page.goto(f"{server.url}/h5/alipay")
        phone.shot("choose")
        page.click("#choose-self")
        _fill_identity(page, support.IN_WINDOW_2, numbers[support.IN_WINDOW_2])
        phone.shot("identity")
        page.click("#identity-submit")
        page.wait_for_selector('[data-step="decision"]:not([hidden])')
        phone.shot("eligible")
        result = _record_and_wait(phone, server, actions_plan)
        assert page.is_visible("#result-repeat")
    assert result["outcome"] == "passed", result
    assert result["next_window"] is not None


def test_alipay_for_someone_else_records_the_helper(
    server: Server, open_phone: Any, numbers: dict[str, str], actions_plan: support.Planned
) -> None:
    number = numbers[support.OVERDUE]
    with open_phone(support.actions_clip(actions_plan)) as phone:
        page = phone.page
        page.goto(f"{server.url}/h5/alipay")
        page.click("#choose-other")
        page.fill("#helper-name", "陈小华")
        page.fill("#helper-phone", "13912345678")
        page.select_option("#helper-relationship", "child")
        _fill_identity(page, support.OVERDUE, number)
        phone.shot("proxy-identity")
        page.click("#identity-submit")
        page.wait_for_selector('[data-step="decision"]:not([hidden])')
        assert page.get_attribute("#decision-message", "data-code") == "decision.proceed_overdue"
        phone.shot("eligible-overdue")
        result = _record_and_wait(phone, server, actions_plan)
        assert "陈小华" in page.inner_text("#result-helper")
    assert result["outcome"] == "passed" and result["proxy"] is True, result
    [record] = [r for r in _records_of(number) if r.result == "passed"]
    assert (record.proxy_name, record.proxy_phone, record.proxy_relationship) == ("陈小华", "13912345678", "child")


def test_cityapp_face_in_circle_passes(
    server: Server, open_phone: Any, numbers: dict[str, str], actions_plan: support.Planned
) -> None:
    with open_phone(support.actions_clip(actions_plan)) as phone:
        page = phone.page
        page.goto(f"{server.url}/h5/cityapp")
        phone.shot("start")
        _fill_identity(page, support.IN_WINDOW, numbers[support.IN_WINDOW])
        page.click("#identity-submit")
        page.wait_for_selector('[data-step="decision"]:not([hidden])')
        result = _record_and_wait(phone, server, actions_plan)
    assert result["outcome"] == "passed", result
    assert [r.channel for r in _records_of(numbers[support.IN_WINDOW]) if r.result == "passed"] == ["cityapp"]


def test_in_app_browser_without_camera_access_uploads_a_native_recording(
    server: Server, open_phone: Any, numbers: dict[str, str], actions_plan: support.Planned
) -> None:
    """In-app browsers often refuse getUserMedia: the page falls back to the phone's own camera
    app (``<input type=file accept=video/* capture=user>``); an iPhone then uploads an MP4."""
    clip = support.actions_clip(actions_plan)
    with open_phone(None) as phone:  # no camera device at all
        page = phone.page
        page.goto(f"{server.url}/h5/cityapp")
        _fill_identity(page, support.IN_WINDOW, numbers[support.IN_WINDOW])
        page.click("#identity-submit")
        page.wait_for_selector('[data-step="decision"]:not([hidden])')
        server.seed_challenges(actions_plan.seed)
        page.click("#start-face")
        page.wait_for_selector('[data-step="face"]:not([hidden])')
        assert page.get_attribute("#challenge-actions", "data-actions") == ",".join(actions_plan.actions)
        page.click("#record-start")
        page.wait_for_selector("#camera-error:not([hidden])")
        phone.shot("camera-refused-fallback")
        page.set_input_files("#fallback-video", str(clip.mp4))
        page.wait_for_selector('[data-step="result"]:not([hidden])', timeout=180_000)
        phone.shot("result")
        result: dict[str, Any] = page.evaluate("window.pensioncert.result")
    assert result["outcome"] == "passed", result


def test_english_flow_speaks_english_end_to_end(
    server: Server, open_phone: Any, numbers: dict[str, str], actions_plan: support.Planned
) -> None:
    """A family member who reads English: every step and the result come from the English catalogue."""
    with open_phone(support.actions_clip(actions_plan), lang="en") as phone:
        page = phone.page
        page.goto(f"{server.url}/h5/alipay?lang=en")
        page.click("#choose-self")
        _fill_identity(page, support.OVERDUE_OLD, numbers[support.OVERDUE_OLD])
        page.click("#identity-submit")
        page.wait_for_selector('[data-step="decision"]:not([hidden])')
        assert "certify now to resume payment" in page.inner_text("#decision-message").lower()
        result = _record_and_wait(phone, server, actions_plan)
        body = page.inner_text("main")
    assert result["outcome"] == "passed", result
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in body), body  # no Chinese left on the English page


def test_failed_liveness_shows_reasons_retry_advice_and_offline_channels(
    server: Server, open_phone: Any, numbers: dict[str, str], actions_plan: support.Planned
) -> None:
    with open_phone(support.actions_clip(actions_plan, perform=False)) as phone:
        page = phone.page
        page.goto(f"{server.url}/h5/cityapp")
        _fill_identity(page, support.OVERDUE_OLD, numbers[support.OVERDUE_OLD])
        page.click("#identity-submit")
        page.wait_for_selector('[data-step="decision"]:not([hidden])')
        result = _record_and_wait(phone, server, actions_plan)
        assert result["outcome"] == "failed", result
        reasons = page.locator("#result-reasons li").evaluate_all("els => els.map(e => e.dataset.code)")
        assert "liveness.action_not_seen" in reasons
        advice = page.inner_text("#result-advice")
        assert "安静" in advice and "光线" in advice and "帽子和眼镜" in advice
        assert page.locator("#result-offline li").count() == 4
        assert page.is_visible("#retry")
        page.click("#retry")
        page.wait_for_selector('[data-step="face"]:not([hidden])')
        phone.shot("retry-new-challenge")


@pytest.mark.parametrize(("case", "name", "code", "text"), [
    ("not-yet", support.NOT_YET, "decision.not_yet", "认证时间未到"),
    ("already-certified", support.ALREADY, "decision.already_certified", "下次可认证时间"),
    ("info-abnormal", support.ABNORMAL, "decision.info_abnormal", "社会保险信息异常，请到社保经办机构核实"),
    ("out-of-scope", support.OUT_OF_SCOPE, "decision.out_of_scope", "您不属于本次认证范围"),
], ids=["not-yet", "already-certified", "info-abnormal", "out-of-scope"])
def test_ineligible_people_get_the_seed_message_and_no_camera(
    server: Server, open_phone: Any, numbers: dict[str, str], case: str, name: str, code: str, text: str
) -> None:
    with open_phone() as phone:
        page = phone.page
        page.goto(f"{server.url}/h5/cityapp")
        _fill_identity(page, name, numbers[name])
        page.click("#identity-submit")
        page.wait_for_selector('[data-step="decision"]:not([hidden])')
        assert page.get_attribute("#decision-message", "data-code") == code
        assert text in page.inner_text("#decision-message")
        assert not page.is_visible("#start-face")
        assert page.locator("#decision-stop .offline-list li").count() == 4
        phone.shot(case)


def test_typing_mistakes_are_explained(server: Server, open_phone: Any, numbers: dict[str, str]) -> None:
    with open_phone() as phone:
        page = phone.page
        page.goto(f"{server.url}/h5/cityapp")
        _fill_identity(page, support.IN_WINDOW, numbers[support.IN_WINDOW][:-1] + "0")
        page.click("#identity-submit")
        page.wait_for_selector("#flow-error:not([hidden])")
        assert "校验位" in page.inner_text("#flow-error")
        phone.shot("checksum-error")


def test_query_help_offline_and_english(server: Server, open_phone: Any, numbers: dict[str, str]) -> None:
    with open_phone() as phone:
        page = phone.page
        page.goto(server.url + "/")
        assert page.locator(".channel-card").count() == 3
        assert page.locator(".qr img").evaluate_all("imgs => imgs.every(i => i.naturalWidth > 0)")
        phone.shot("home")
        assert page.get_attribute("#lang-switch", "href") == "/?lang=en"
        page.goto(server.url + "/?lang=en")
        assert "Pension entitlement certification" in page.inner_text("h1")
        phone.shot("home-en")
        page.goto(server.url + "/h5/query")
        page.fill("#q-name", support.ALREADY)
        page.fill("#q-id", numbers[support.ALREADY])
        page.click("#query-submit")
        page.wait_for_selector("#query-result:not([hidden])")
        assert page.get_attribute("#query-decision", "data-code") == "decision.already_certified"
        phone.shot("query")
        page.goto(server.url + "/h5/help")
        for question in ("如何查询认证时间", "如何确定认证已经成功", "社会保险信息异常", "认证时间未到",
                         "人脸识别", "哪些退休人员可以网上认证"):
            assert question in page.inner_text(".qa")
        phone.shot("help")
        page.goto(server.url + "/h5/offline")
        assert page.locator(".offline-list li").count() == 4
        phone.shot("offline")
