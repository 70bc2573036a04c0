"""Who may call what: every route declares the roles it admits, in one place, and nothing
else gets in.

A route admits roles through one dependency, ``Allow("lender", ...)``: it authenticates the
bearer key, applies the client's rate limit, and refuses other roles (403). :func:`check`
runs when the app is built and refuses to build an app with a route that declares no roles
and is not explicitly public (default deny). Tests enumerate the matrix from
:func:`route_roles`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from openbureau.errors import ConfigError, NotPermittedError
from openbureau.service.auth import ROLES, Authenticator, Principal
from openbureau.service.limits import RATE_CHECKED

# Routes anyone may call: the OpenAPI document and the liveness probe (no data behind them).
PUBLIC = frozenset({("GET", "/openapi.json"), ("GET", "/v1/health")})

_bearer = HTTPBearer(auto_error=False, description="An API key or a consumer credential.")


class Allow:
    """The dependency that admits ``roles`` (and makes the caller's Principal available)."""

    def __init__(self, *roles: str) -> None:
        unknown = set(roles) - set(ROLES)
        if unknown or not roles:
            raise ConfigError(f"a route must admit known roles, got {sorted(unknown) or 'none'}")
        self.roles = frozenset(roles)

    async def __call__(
        self,
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal:
        bureau = request.app.state.bureau
        token = credentials.credentials if credentials is not None else None
        # A key seen in the last seconds is answered on the event loop; a lookup goes to a
        # worker thread (it reads the database).
        auth: Authenticator = bureau.auth
        cached = auth.cached(token)
        principal: Principal = (
            cached if cached is not None else await run_in_threadpool(auth.authenticate, token)
        )
        if not request.scope.get(RATE_CHECKED):  # not yet limited by the middleware
            bureau.limiter.check(principal.client_id)
        if principal.role not in self.roles:
            raise NotPermittedError(
                f"a {principal.role} may not {request.method} {request.url.path}"
            )
        return principal


def _allow_of(route: APIRoute) -> Allow | None:
    found = [d.call for d in route.dependant.dependencies if isinstance(d.call, Allow)]
    if len(found) > 1:
        raise ConfigError(f"route {route.path} declares its roles more than once")
    return found[0] if found else None


def route_roles(app: FastAPI) -> dict[tuple[str, str], frozenset[str] | None]:
    """``(method, path) -> admitted roles`` for every route (None: public)."""
    out: dict[tuple[str, str], frozenset[str] | None] = {}
    for route in app.routes:
        methods = sorted(getattr(route, "methods", None) or ())
        path = str(getattr(route, "path", ""))
        allow = _allow_of(route) if isinstance(route, APIRoute) else None
        for method in methods:
            if method == "HEAD":
                continue
            out[(method, path)] = allow.roles if allow is not None else None
    return out


def check(app: FastAPI) -> None:
    """Refuse an app with a non-public route that admits nobody in particular."""
    for (method, path), roles in route_roles(app).items():
        if roles is None and (method, path) not in PUBLIC:
            raise ConfigError(f"route {method} {path} declares no roles and is not public")


def document(app: FastAPI) -> None:
    """Write each route's roles into its OpenAPI operation (``x-roles``)."""
    for route in app.routes:
        if isinstance(route, APIRoute):
            allow = _allow_of(route)
            if allow is not None:
                extra: dict[str, Any] = dict(route.openapi_extra or {})
                extra["x-roles"] = sorted(allow.roles)
                route.openapi_extra = extra


__all__ = ["PUBLIC", "Allow", "check", "document", "route_roles"]
