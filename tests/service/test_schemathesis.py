"""The OpenAPI document against the app's answers (schemathesis), with valid credentials:
no server errors, and every response matches the status codes, media types and schemas the
document declares."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from .conftest import Service

schemathesis = pytest.importorskip("schemathesis")

CALLER = {
    "furnisher": "furnisher_a",
    "lender": "lender_a",
    "consumer": "consumer_a",
    "regulator": "regulator",
    "operator": "operator",
}
EXAMPLES = 25


def _conformance_test(operation: Any, headers: dict[str, str], checks: list[Any]) -> Any:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(case=operation.as_strategy())
    def run(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=checks)

    return run


def test_openapi_conformance(service: Service) -> None:
    from schemathesis.checks import (
        content_type_conformance,
        not_a_server_error,
        response_headers_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_headers_conformance,
        response_schema_conformance,
    ]
    app = service.client.app
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    # Lenders need a live consent for anything but refusals: give them one to find.
    service.consent()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    exercised = 0
    for operation in operations:
        roles = operation.definition.raw.get("x-roles") or []
        headers = service.auth(CALLER[roles[0]]) if roles else {}
        _conformance_test(operation, headers, checks)()
        exercised += 1
    assert exercised == len(operations)
