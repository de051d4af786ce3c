"""Copy the best browser-test screenshots into docs/img/flows/ (``python -m tests.web.screenshots``).

Run after ``pytest tests/web``; images are reduced to a 256-colour palette to keep the
repository small (the pages are flat colours and text).
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "test-artifacts" / "flows"
TARGET = ROOT / "docs" / "img" / "flows"

WECHAT = "test_wechat_id_card_then_four_digits_passes"
ALIPAY = "test_alipay_self_passes"
PROXY = "test_alipay_for_someone_else_records_the_helper"
CITY = "test_cityapp_passes_and_the_result_survives_a_reload"
INAPP = "test_in_app_browser_without_camera_records_natively_and_follows_the_review"
FAILED = "test_failed_liveness_shows_reasons_retry_advice_and_offline_channels"
PAGES = "test_query_help_offline_and_english"
INELIGIBLE = "test_ineligible_people_get_the_seed_message_and_no_camera"
PREVIEW = "test_preview_guides_and_keeps_start_disabled"
READY = "test_face_ready_enables_start_on_one_screen"

SHOTS = {
    "wechat-1-upload-id-card": (WECHAT, "01-upload-id-card"),
    "wechat-2-confirm": (WECHAT, "02-confirm-fields"),
    "wechat-3-eligible": (WECHAT, "03-eligible"),
    "wechat-4-ready": (WECHAT, "04-ready"),
    "wechat-5-digit": (WECHAT, "05-recording"),
    "wechat-6-result": (WECHAT, "06-result"),
    "alipay-1-choose": (ALIPAY, "01-choose"),
    "alipay-2-identity": (ALIPAY, "02-identity"),
    "alipay-3-eligible": (ALIPAY, "03-eligible"),
    "alipay-4-ready": (ALIPAY, "04-ready"),
    "alipay-5-prompt": (ALIPAY, "05-recording"),
    "alipay-6-passed": (ALIPAY, "06-result"),
    "proxy-1-identity": (PROXY, "01-proxy-identity"),
    "proxy-2-eligible-overdue": (PROXY, "02-eligible-overdue"),
    "proxy-3-passed": (PROXY, "05-result"),
    "cityapp-1-start": (CITY, "01-start"),
    "cityapp-2-ready": (CITY, "02-ready"),
    "cityapp-3-prompt": (CITY, "03-recording"),
    "cityapp-4-passed": (CITY, "04-result"),
    "cityapp-5-reloaded": (CITY, "05-result-after-reload"),
    "preview-empty": (f"{PREVIEW}_empty_", "01-preview-empty"),
    "preview-off-centre": (f"{PREVIEW}_off-centre_", "01-preview-off_centre"),
    "preview-dark": (f"{PREVIEW}_dark_", "01-preview-dark"),
    "preview-two-faces": (f"{PREVIEW}_two-faces_", "01-preview-two_faces"),
    "preview-ready": (f"{READY}_360x640_", "01-preview-ready-360x640"),
    "inapp-1-camera-refused": (INAPP, "01-camera-refused"),
    "inapp-2-all-steps": (INAPP, "02-native-steps"),
    "inapp-3-review": (INAPP, "03-review"),
    "inapp-4-accepted": (INAPP, "04-review-accepted"),
    "inapp-5-history": (INAPP, "05-history-one-row"),
    "failed-1-result": (FAILED, "03-result"),
    "failed-2-retry": (FAILED, "04-retry-new-challenge"),
    "checksum-error": ("test_typing_mistakes_are_explained", "01-checksum-error"),
    "typed-with-spaces": ("test_number_typed_with_spaces_reaches_the_eligibility_answer", "01-typed-with-spaces"),
    "name-mismatch": ("test_name_mismatch_leads_back_to_the_form", "01-name-mismatch"),
    "cap-reached": ("test_daily_cap_is_said_at_the_eligibility_step", "01-cap-reached"),
    "already-certified": ("test_already_certified_is_a_success_notice_with_the_next_period", "01-already-certified"),
    "not-yet": (f"{INELIGIBLE}_not-yet_", "01-not-yet"),
    "info-abnormal": (f"{INELIGIBLE}_info-abnormal_", "01-info-abnormal"),
    "out-of-scope": (f"{INELIGIBLE}_out-of-scope_", "01-out-of-scope"),
    "home": (PAGES, "01-home"),
    "home-en": (PAGES, "02-home-en"),
    "query": (PAGES, "03-query"),
    "help": (PAGES, "04-help"),
    "offline": (PAGES, "05-offline"),
}


def main() -> None:
    TARGET.mkdir(parents=True, exist_ok=True)
    missing = []
    for name, (folder, shot) in SHOTS.items():
        source = SOURCE / folder / f"{shot}.png"
        if not source.is_file():
            missing.append(str(source))
            continue
        image = Image.open(source).convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
        image.save(TARGET / f"{name}.png", optimize=True)
    for stale in TARGET.glob("*.png"):  # screenshots of steps that no longer exist
        if stale.stem not in SHOTS:
            stale.unlink()
    if missing:
        raise SystemExit("missing screenshots (run pytest tests/web first):\n" + "\n".join(missing))


if __name__ == "__main__":
    main()
