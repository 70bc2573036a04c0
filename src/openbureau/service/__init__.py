"""The bureau service: consent-gated credit reports over HTTP, roles, the audit chain, limits.

Only this package imports FastAPI. :func:`create_app` is imported lazily so that the CLI's
``clients`` and ``audit`` commands do not pay for the web stack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from openbureau.service.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from openbureau.service.app import create_app

        return create_app
    raise AttributeError(name)
