"""Fixtures of the API tests: an app on a fresh database with the demo registry loaded."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pensioncert.evaluation.harness import ManualQueue  # the test runs run_verification itself
from tests.api import support


@dataclass
class Api:
    """A TestClient plus the demo registry's ID numbers and helpers for the flow's steps."""

    client: TestClient
    numbers: dict[str, str]

    @property
    def app(self) -> Any:
        return self.client.app

    def session(self, channel: str = "cityapp", **body: Any) -> str:
        response = self.client.post("/api/v1/sessions", json={"channel": channel, **body})
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def identify(self, session_id: str, name: str, number: str | None = None, **extra: Any) -> Any:
        number = self.numbers[name] if number is None else number
        return self.client.post(f"/api/v1/sessions/{session_id}/identity",
                                json={"name": name, "id_number": number, **extra})

    def challenge(self, session_id: str, seed: int | None = None) -> Any:
        if seed is not None:
            self.app.state.challenge_rng = random.Random(seed)
        return self.client.post(f"/api/v1/sessions/{session_id}/challenges")

    def start(self, session_id: str, challenge_id: str, *, timed: bool = True) -> Any:
        return self.client.post(f"/api/v1/sessions/{session_id}/challenges/{challenge_id}/start",
                                json={"timed": timed})

    def started_challenge(self, session_id: str, seed: int | None = None, *, timed: bool = True) -> dict[str, Any]:
        """Issue and start a challenge (as the page does when it starts recording); the start's body."""
        issued = self.challenge(session_id, seed)
        assert issued.status_code == 201, issued.text
        started = self.start(session_id, issued.json()["id"], timed=timed)
        assert started.status_code == 200, started.text
        return dict(started.json())

    def upload(self, session_id: str, challenge_id: str, data: bytes, filename: str = "r.webm",
               content_type: str = "video/webm") -> Any:
        return self.client.post(f"/api/v1/sessions/{session_id}/recordings", data={"challenge_id": challenge_id},
                                files={"video": (filename, data, content_type)})

    def wait(self, job_id: str, polls: int = 600) -> dict[str, Any]:
        """Poll the job until decided (bounded by a number of polls, not by time)."""
        for _ in range(polls):
            job = self.client.get(f"/api/v1/jobs/{job_id}").json()
            if job["state"] == "decided":
                return dict(job)
            time.sleep(0.25)
        raise AssertionError(f"job {job_id} never decided: {job}")

    def result(self, session_id: str) -> dict[str, Any]:
        response = self.client.get(f"/api/v1/sessions/{session_id}/result")
        assert response.status_code == 200, response.text
        return dict(response.json())


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    """The app on SQLite with the in-process queue, demo registry loaded."""
    from pensioncert.api.app import create_app

    support.flow_env(monkeypatch)
    numbers = support.load_demo_registry()
    with TestClient(create_app(challenge_rng=random.Random(0))) as client:
        yield Api(client, numbers)


@pytest.fixture
def db_api(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    """Like ``api``, on each database the product supports (SQLite and the real PostgreSQL)."""
    from pensioncert.api.app import create_app
    from pensioncert.storage import db

    monkeypatch.setenv("PENSIONCERT_STORAGE__DATABASE_URL", database_url)
    db.get_database.cache_clear()
    support.flow_env(monkeypatch)
    numbers = support.load_demo_registry()
    with TestClient(create_app(challenge_rng=random.Random(0))) as client:
        yield Api(client, numbers)
    db.get_database().dispose()


@pytest.fixture
def manual_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Api, ManualQueue]]:
    """The app with a queue that runs nothing: the test drives ``run_verification``."""
    from pensioncert.api.app import create_app

    support.flow_env(monkeypatch)
    numbers = support.load_demo_registry()
    queue = ManualQueue()
    with TestClient(create_app(queue=queue, challenge_rng=random.Random(0))) as client:
        yield Api(client, numbers), queue


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    """The one error shape: stable code, both languages."""
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]["zh"] and error["message"]["en"]
    assert error["message"]["zh"] != error["message"]["en"]
    return dict(error)
