"""Schemathesis against the published OpenAPI schema: whatever a client sends, never a 5xx.

Bounded (a few examples per operation, no deadline) so the whole run stays near a minute on
a busy machine. Rate limits are off here: a fuzzer from one address would only meet 429s.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings

from tests.api.conftest import ManualQueue
from tests.api.support import load_demo_registry

EXAMPLES = 20
schemathesis.experimental.OPEN_API_3_1.enable()  # FastAPI publishes OpenAPI 3.1


@pytest.fixture
def api_schema(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from pensioncert.api.app import create_app
    from pensioncert.settings import get_settings

    monkeypatch.setenv("PENSIONCERT_SECURITY__RATE_LIMIT_ENABLED", "false")
    get_settings.cache_clear()
    load_demo_registry()
    app = create_app(queue=ManualQueue())
    with TestClient(app):  # runs the lifespan: migrations, the job queue on app.state
        yield schemathesis.from_asgi("/openapi.json", app)


schema = schemathesis.from_pytest_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
def test_no_server_errors(case: Any) -> None:
    response = case.call_asgi()
    case.validate_response(response, checks=(schemathesis.checks.not_a_server_error,))
    if response.status_code >= 400 and response.headers.get("content-type", "").startswith("application/json"):
        body = response.json()
        if case.path.startswith("/api/"):
            assert "error" in body and body["error"]["code"], body  # the one error shape, a stable code
