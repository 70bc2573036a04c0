"""RFC 9457 problem responses: every error the service returns, in one shape.

``type`` is a stable URI per kind of problem, ``title`` says what kind, ``detail`` says what
happened to this request and what to do. Never a stack trace, never a value from the
request (validation errors name the field and the rule, not the input).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import DataError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from openbureau.errors import (
    BadFileError,
    BatchInProgressError,
    BatchRefusedError,
    ConflictError,
    ForbiddenFieldError,
    HeaderMismatchError,
    IngestError,
    InquiryRefusedError,
    InvalidRequestError,
    NotAuthenticatedError,
    NotFoundError,
    NotInitialisedError,
    NotPermittedError,
    OpenBureauError,
    PayloadTooLargeError,
    RateLimitedError,
    UnknownFurnisherError,
)

logger = logging.getLogger(__name__)

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://openbureau.dev/problems/"

_TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}
_SLUGS = {
    400: "bad-request",
    401: "not-authenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "invalid-request",
    429: "rate-limited",
    500: "internal-error",
    503: "unavailable",
}


class Problem(BaseModel):
    """An RFC 9457 problem detail."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    reason: str | None = None
    errors: list[dict[str, Any]] | None = None
    receipt: dict[str, Any] | None = None


def problem(
    status: int,
    detail: str,
    *,
    request: Request | None = None,
    slug: str | None = None,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": TYPE_BASE + (slug or _SLUGS.get(status, "error")),
        "title": title or _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if request is not None:
        body["instance"] = request.url.path
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _status(e: OpenBureauError) -> tuple[int, str | None]:
    if isinstance(e, NotAuthenticatedError):
        return 401, None
    if isinstance(e, NotPermittedError):
        return 403, None
    if isinstance(e, InquiryRefusedError):
        return 403, "inquiry-refused"
    if isinstance(e, NotFoundError | UnknownFurnisherError):
        return 404, None
    if isinstance(e, ConflictError | BatchInProgressError):
        return 409, None
    if isinstance(e, PayloadTooLargeError):
        return 413, None
    if isinstance(e, RateLimitedError):
        return 429, None
    if isinstance(
        e,
        InvalidRequestError
        | BadFileError
        | HeaderMismatchError
        | ForbiddenFieldError
        | BatchRefusedError,
    ):
        return 422, "batch-refused" if isinstance(e, BatchRefusedError) else None
    if isinstance(e, NotInitialisedError):
        return 503, None
    if isinstance(e, IngestError):
        return 422, None
    return 500, None


def from_error(e: OpenBureauError, request: Request | None = None) -> JSONResponse:
    status, slug = _status(e)
    headers = None
    extra: dict[str, Any] = {}
    if isinstance(e, NotAuthenticatedError):
        headers = {"WWW-Authenticate": 'Bearer realm="openbureau"'}
    if isinstance(e, RateLimitedError):
        headers = {"Retry-After": str(e.retry_after)}
    if isinstance(e, InquiryRefusedError):
        extra["reason"] = e.reason
    if isinstance(e, BatchRefusedError):
        receipt = getattr(e.receipt, "to_dict", None)
        extra["receipt"] = receipt() if callable(receipt) else None
    if status == 500:
        logger.error("unexpected %s while serving a request", type(e).__name__)
        detail = "the bureau could not complete the request; it has been logged"
    else:
        detail = str(e)
    return problem(status, detail, request=request, slug=slug, headers=headers, **extra)


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        out.append({"field": ".".join(loc), "problem": str(err.get("msg", "invalid"))})
    return out


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into a problem response."""

    async def on_bureau_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, OpenBureauError)
        return from_error(exc, request)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = _validation_errors(exc)
        where = ", ".join(e["field"] + ": " + e["problem"] for e in errors[:5])
        return problem(422, f"the request is invalid: {where}", request=request, errors=errors)

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        status = exc.status_code
        detail = exc.detail if isinstance(exc.detail, str) and status == 413 else None
        if detail is None:
            detail = {
                404: f"there is no route {request.url.path}",
                405: f"{request.method} is not allowed on {request.url.path}",
            }.get(status, _TITLES.get(status, "error").lower())
        headers = dict(exc.headers or {})
        return problem(status, detail, request=request, headers=headers or None)

    async def on_data(request: Request, exc: Exception) -> JSONResponse:
        # A value the database cannot store: what the schemas let through, it refuses.
        return problem(422, "a value in the request cannot be stored", request=request)

    async def on_database(request: Request, exc: Exception) -> JSONResponse:
        logger.error("database unavailable: %s", type(exc).__name__)
        return problem(503, "the credit-file database is unavailable; retry later", request=request)

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        # The exception's text may hold request values: log its type only.
        logger.error("unexpected %s while serving a request", type(exc).__name__)
        return problem(
            500, "the bureau could not complete the request; it has been logged", request=request
        )

    app.add_exception_handler(OpenBureauError, on_bureau_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(DataError, on_data)
    app.add_exception_handler(OperationalError, on_database)
    app.add_exception_handler(InterfaceError, on_database)
    app.add_exception_handler(Exception, on_unexpected)


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries documenting problem responses."""
    return {
        s: {
            "description": _TITLES.get(s, "Error"),
            "model": Problem,
            "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for s in statuses
    }


__all__ = ["MEDIA_TYPE", "Problem", "from_error", "install", "problem", "responses"]
