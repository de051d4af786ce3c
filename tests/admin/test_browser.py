"""The issue's "done when", in headless Chromium: a reviewer clears the queue, an operator records an
offline certification, an auditor sees who viewed what. Screenshots go to $PENSIONCERT_ADMIN_SCREENSHOTS
(docs/img/admin when refreshing the docs), else to a temporary directory."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import uvicorn

from pensioncert.certification.demo_data import demo_id_number
from pensioncert.clock import agency_today
from pensioncert.storage.db import Database
from tests.admin.conftest import PASSWORDS, TEST_PROTECTOR, USERS, make_app, seed

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run"]
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed")]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("admin-browser")
    database = Database(f"sqlite:///{folder / 'browser.sqlite3'}")
    database.migrate()
    seed(database, TEST_PROTECTOR, agency_today())
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(make_app(database, TEST_PROTECTOR), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):  # wait for the socket, not for a duration
        if server.started:
            break
        time.sleep(0.05)
    assert server.started
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    database.dispose()


@pytest.fixture(scope="module")
def browser(base_url: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("PENSIONCERT_ADMIN_SCREENSHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _page(browser: object, base_url: str):  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900}, locale="zh-CN")  # type: ignore[attr-defined]
    context.set_default_timeout(15000)
    return context.new_page()


def _login(page, role: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/admin/login")
    page.fill("input[name=username]", USERS[role])
    page.fill("input[name=password]", PASSWORDS[role])
    page.click("button[type=submit]")
    page.wait_for_selector("header nav")


def test_login(browser: object, base_url: str, shots: Path) -> None:
    page = _page(browser, base_url)
    page.goto("/admin/review")
    assert "/admin/login" in page.url
    page.fill("input[name=username]", "reviewer")
    page.fill("input[name=password]", "not-the-password")
    page.click("button[type=submit]")
    assert page.inner_text("#login-error") == "用户名或密码错误"
    page.screenshot(path=str(shots / "login.png"))
    page.fill("input[name=password]", PASSWORDS["reviewer"])
    page.click("button[type=submit]")
    page.wait_for_selector("#queue, #queue-empty")
    assert page.url.endswith("/admin/review")
    page.context.close()


def test_reviewer_clears_the_queue(browser: object, base_url: str, shots: Path) -> None:
    page = _page(browser, base_url)
    _login(page, "reviewer")
    page.goto("/admin/review")
    assert page.locator("#queue tbody tr").count() == 2
    page.screenshot(path=str(shots / "review-queue.png"), full_page=True)
    page.click("#queue tbody tr:first-child a.button")
    page.select_option("#accept-form select[name=reason]", "same_person")
    page.fill("#accept-form textarea[name=notes]", "证件照与视频一致")
    page.screenshot(path=str(shots / "review-case.png"), full_page=True)
    page.click("#accept-form button[type=submit]")
    page.wait_for_selector("[role=status]")
    assert page.locator("#queue tbody tr").count() == 1
    page.click("#queue tbody tr:first-child a.button")
    page.click("#reject-form button[type=submit]")  # no reason chosen: the browser refuses to send
    assert "/decide" not in page.url
    page.select_option("#reject-form select[name=reason]", "evidence_unusable")
    page.click("#reject-form button[type=submit]")
    page.wait_for_selector("#queue-empty")
    assert page.inner_text("#queue-empty") == "审核队列已清空"
    page.screenshot(path=str(shots / "review-empty.png"))
    page.context.close()


def test_operator_records_an_offline_certification(browser: object, base_url: str, shots: Path) -> None:
    page = _page(browser, base_url)
    _login(page, "operator")
    assert page.url.endswith("/admin/offline")
    page.fill("input[name=id_number]", demo_id_number("440307", date(1955, 5, 21), 58))
    page.fill("input[name=name]", "陈静")
    page.select_option("select[name=channel]", "home_visit")
    page.fill("input[name=proxy_name]", "陈明")
    page.fill("input[name=proxy_relationship]", "儿子")
    page.fill("textarea[name=notes]", "卧床，上门认证")
    page.screenshot(path=str(shots / "offline-form.png"), full_page=True)
    page.click("form.card button[type=submit]")
    page.wait_for_selector("#offline-done")
    assert "陈静" in page.inner_text("#offline-done")
    assert "补发" in page.inner_text("#resumed")
    page.screenshot(path=str(shots / "offline-done.png"))
    page.click("#offline-done a")
    assert page.inner_text("#status") == "正常"
    assert "operator" in page.inner_text("table.history")
    page.context.close()


def test_auditor_sees_who_viewed_what(browser: object, base_url: str, shots: Path) -> None:
    viewer = _page(browser, base_url)
    _login(viewer, "operator")
    viewer.goto("/admin/retirees?q=王芳")
    viewer.click("text=王芳")
    viewer.click("text=查看完整号码（将记录）")
    viewer.wait_for_selector("#full-id")
    viewer.context.close()

    page = _page(browser, base_url)
    _login(page, "auditor")
    assert page.url.endswith("/admin/audit")
    page.fill("input[name=retiree]", "王芳")
    page.check("input[name=views_only]")
    page.click("form.row button[type=submit]")
    rows = page.locator("#audit tbody tr")
    texts = [rows.nth(i).inner_text() for i in range(rows.count())]
    assert any("operator" in text and "查看人员信息" in text and "王芳" in text for text in texts), texts
    assert any("operator" in text and "查看完整身份证号码" in text for text in texts), texts
    page.screenshot(path=str(shots / "audit.png"), full_page=True)
    page.goto("/admin/retirees/1")
    assert "您的角色无权" in page.inner_text("main")  # and the auditor sees no retiree's data
    page.context.close()


def test_administrator_pages(browser: object, base_url: str, shots: Path) -> None:
    page = _page(browser, base_url)
    _login(page, "administrator")
    page.goto("/admin/dashboard")
    assert int(page.inner_text("#count-in_window")) >= 1
    assert page.locator("figure img").count() == 3
    page.screenshot(path=str(shots / "dashboard.png"), full_page=True)
    page.goto("/admin/suspensions")
    page.screenshot(path=str(shots / "suspensions.png"), full_page=True)
    page.goto("/admin/passive")
    page.screenshot(path=str(shots / "passive.png"), full_page=True)
    page.goto("/admin/retirees?q=周秀英")
    page.click("text=周秀英")
    page.screenshot(path=str(shots / "retiree.png"), full_page=True)
    page.goto("/admin/review")
    assert "您的角色无权" in page.inner_text("main")
    page.context.close()
