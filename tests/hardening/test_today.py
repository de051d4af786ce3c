"""Issue 13.7: one "today" for the agency (settings.cycle.time_zone, Asia/Shanghai by default).

A retiree's window opens on day D. At 23:30 Shanghai time the evening before, the API, the CLI
and the back office all say "already certified" (not yet time); at 00:30 on D (still D-1 in UTC and on a UTC server)
they all say "proceed", and a review accepted for an attempt made then certifies D.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from pensioncert import clock
from pensioncert.certification.demo_data import demo_id_number
from tests.api.conftest import ManualQueue

SHANGHAI = ZoneInfo("Asia/Shanghai")
NAME = "钱守时"
NUMBER = demo_id_number("440304", date(1956, 6, 6), 41)
PASSWORD = "a-long-enough-password"


def _window_opening_on(day: date) -> date:
    """A last certification date whose next window opens exactly on ``day``."""
    from pensioncert.certification.rules import cycle_rules_for
    from pensioncert.domain.cycle import cycle_status
    from pensioncert.settings import get_settings

    rules = cycle_rules_for(NUMBER[:6], get_settings().cycle)
    for back in range(200, 420):
        last = day - timedelta(days=back)
        if cycle_status(day, rules, last_certified=last).window_start == day:
            return last
    raise AssertionError("no last-certified date opens a window on that day")


@dataclass
class Agency:
    opens: date  # D
    client: TestClient
    retiree_id: int

    def at(self, monkeypatch: pytest.MonkeyPatch, day: date, hour: int, minute: int) -> datetime:
        instant = datetime.combine(day, time(hour, minute), SHANGHAI).astimezone(UTC)
        monkeypatch.setattr(clock, "now", lambda: instant)
        return instant

    def api(self) -> str:
        response = self.client.post("/api/v1/queries/period", json={"name": NAME, "id_number": NUMBER})
        assert response.status_code == 200, response.text
        return str(response.json()["code"])

    def cli(self) -> str:
        from pensioncert.cli.main import app

        result = CliRunner().invoke(app, ["status", NUMBER, "--lang", "en"])
        found = re.search(r"decision\.\w+", result.output)
        assert found is not None, result.output
        return found.group(0)

    def back_office(self) -> str:
        page = self.client.get(f"/admin/retirees/{self.retiree_id}")
        assert page.status_code == 200, page.text
        found = re.search(r"<dt>当前认证资格</dt><dd>([^<]*)</dd>", page.text)
        assert found is not None, page.text
        codes = [code for code, opening in OPENINGS.items() if found.group(1).startswith(opening)]
        assert len(codes) == 1, found.group(1)
        return codes[0]


# How the back office's (Chinese) decision text of each case opens (messages/catalogue/domain.toml).
OPENINGS = {"decision.already_certified": "您已于", "decision.proceed": "您在认证期内",
            "decision.not_yet": "认证时间未到"}


@pytest.fixture
def agency(monkeypatch: pytest.MonkeyPatch) -> Iterator[Agency]:
    from pensioncert.admin import auth
    from pensioncert.api.app import create_app
    from pensioncert.registry.importer import apply_registry
    from pensioncert.storage.crypto import protector_from_settings
    from pensioncert.storage.db import get_database
    from pensioncert.storage.models import Retiree
    from pensioncert.storage.repository import find_retiree

    monkeypatch.setenv("TZ", "UTC")  # the server's own zone is not the agency's
    opens = clock.agency_today() - timedelta(days=10)  # recent: open review cases look back 90 days
    last = _window_opening_on(opens)
    csv = f"姓名,身份证号码,养老保险类型,首次发放日期,上次认证日期\n{NAME},{NUMBER},企业职工,2010-01-01,{last}\n"
    with get_database().session() as session:
        report = apply_registry(session, protector_from_settings(), csv.encode(), "r.csv", opens)
        assert report.created == 1, report
        auth.create_staff(session, "clerk", PASSWORD, "reviewer")
    with get_database().session() as session:
        retiree: Retiree | None = find_retiree(session, protector_from_settings(), NUMBER)
        assert retiree is not None
        retiree_id = retiree.id
    with TestClient(create_app(queue=ManualQueue()), follow_redirects=False) as client:
        with get_database().session() as session:
            token = auth.login(session, "clerk", PASSWORD, "127.0.0.1").token
        client.cookies.set("pc_admin_session", str(token), path="/admin")
        yield Agency(opens, client, retiree_id)


@pytest.mark.parametrize(("day_offset", "hour", "minute", "expected"), [
    (-1, 23, 30, "decision.already_certified"),
    (0, 0, 30, "decision.proceed"),
])
def test_api_cli_and_back_office_agree_at_the_edges_of_the_day(
    agency: Agency, monkeypatch: pytest.MonkeyPatch, day_offset: int, hour: int, minute: int, expected: str
) -> None:
    instant = agency.at(monkeypatch, agency.opens + timedelta(days=day_offset), hour, minute)
    assert instant.date() == agency.opens - timedelta(days=1)  # both instants are D-1 in UTC
    assert (agency.api(), agency.cli(), agency.back_office()) == (expected, expected, expected)


def test_a_review_certifies_the_agency_day_of_the_attempt(agency: Agency) -> None:
    from pensioncert.admin import review
    from pensioncert.storage.db import get_database
    from pensioncert.storage.models import CertificationRecord

    attempt = datetime.combine(agency.opens, time(0, 30), SHANGHAI).astimezone(UTC)  # D-1 16:30 UTC
    with get_database().session() as session:
        opened = CertificationRecord(retiree_id=agency.retiree_id, created_at=attempt, channel="alipay",
                                     method="face_actions", result="review")
        session.add(opened)
        session.flush()
        record = review.decide(session, agency.retiree_id, opened.id, accept=True, reason="same_person", notes="",
                               reviewer="clerk")
        assert record.certified_on == agency.opens


def test_the_zone_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    from pensioncert.settings import get_settings

    instant = datetime(2026, 3, 1, 16, 30, tzinfo=UTC)  # 00:30 on 2 March in Shanghai
    monkeypatch.setattr(clock, "now", lambda: instant)
    assert clock.agency_today() == date(2026, 3, 2)
    monkeypatch.setenv("PENSIONCERT_CYCLE__TIME_ZONE", "Europe/London")
    get_settings.cache_clear()
    assert clock.agency_today() == date(2026, 3, 1)
