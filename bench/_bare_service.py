"""The framework floor of ``bench/service.py --ceilings``: the inquiry route with no work.

The same stack as ``openbureau serve`` (FastAPI on uvicorn with uvloop and httptools, one
worker), the same request model (:class:`openbureau.service.schemas.InquiryRequest`
validates the body), a bearer-key dependency, and a 201 whose body is as long as a real
report (``OB_BARE_BODY_BYTES``). No database, no report, no audit: whatever one inquiry costs
beyond this, the service cannot go faster than this app on the same machine.

    uvicorn bench._bare_service:app --port N     (run by bench/service.py)
"""

from __future__ import annotations

import os
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Request, Response

from openbureau.service.schemas import InquiryRequest

_SIZE = int(os.environ.get("OB_BARE_BODY_BYTES", "3800"))
# The load generator samples report.score.source: "bare" says where the answer came from.
_HEAD = b'{"report":{"score":{"source":"bare"},"pad":"'
_BODY = _HEAD + b"x" * max(_SIZE - len(_HEAD) - 3, 0) + b'"}}'

app = FastAPI(docs_url=None, redoc_url=None)


def _bearer(request: Request) -> str:
    key = request.headers.get("authorization", "")
    if not key.startswith("Bearer "):
        raise HTTPException(401)
    return key[7:]


@app.get("/v1/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/v1/inquiries", status_code=201)
def inquiry(body: InquiryRequest, key: Annotated[str, Depends(_bearer)]) -> Response:
    return Response(_BODY, status_code=201, media_type="application/json")
