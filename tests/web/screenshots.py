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
CITY = "test_cityapp_face_in_circle_passes"
FAILED = "test_failed_liveness_shows_reasons_retry_advice_and_offline_channels"
PAGES = "test_query_help_offline_and_english"
INELIGIBLE = "test_ineligible_people_get_the_seed_message_and_no_camera"

SHOTS = {
    "wechat-1-upload-id-card": (WECHAT, "01-upload-id-card"),
    "wechat-2-confirm": (WECHAT, "02-confirm-fields"),
    "wechat-3-eligible": (WECHAT, "03-eligible"),
    "wechat-4-digits": (WECHAT, "04-challenge"),
    "wechat-5-recording": (WECHAT, "05-recording"),
    "wechat-6-passed": (WECHAT, "06-result"),
    "alipay-1-choose": (ALIPAY, "01-choose"),
    "alipay-2-identity": (ALIPAY, "02-identity"),
    "alipay-3-eligible": (ALIPAY, "03-eligible"),
    "alipay-4-actions": (ALIPAY, "04-challenge"),
    "alipay-5-recording": (ALIPAY, "05-recording"),
    "alipay-6-passed": (ALIPAY, "06-result"),
    "proxy-1-identity": (PROXY, "01-proxy-identity"),
    "proxy-2-eligible-overdue": (PROXY, "02-eligible-overdue"),
    "proxy-3-passed": (PROXY, "05-result"),
    "cityapp-1-start": (CITY, "01-start"),
    "cityapp-2-challenge": (CITY, "02-challenge"),
    "cityapp-3-recording": (CITY, "03-recording"),
    "cityapp-4-passed": (CITY, "04-result"),
    "failed-1-result": (FAILED, "03-result"),
    "failed-2-retry": (FAILED, "04-retry-new-challenge"),
    "checksum-error": ("test_typing_mistakes_are_explained", "01-checksum-error"),
    "not-yet": (f"{INELIGIBLE}_not-yet_", "01-not-yet"),
    "already-certified": (f"{INELIGIBLE}_already-certified_", "01-already-certified"),
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
    if missing:
        raise SystemExit("missing screenshots (run pytest tests/web first):\n" + "\n".join(missing))


if __name__ == "__main__":
    main()
