"""Running the API: one process, or several workers sharing one listening socket.

`quaythu-central serve --workers N` migrates the schema once in the parent, then starts uvicorn
with N worker processes; each builds its app with `app_from_environment` from
`QUAYTHU_CENTRAL_DATABASE_URL`. A worker that dies is replaced by uvicorn's supervisor; what it
was storing is rolled back by the database (one transaction per request), and the counter's
retry stores it (docs/SYNC.md). Several workers want PostgreSQL; on SQLite they queue behind
one write lock.
"""

from __future__ import annotations

import os

from fastapi import FastAPI

from central.api import create_app
from central.store import ENV_DATABASE_URL, CentralStore


def app_from_environment() -> FastAPI:
    """The app of one worker process (uvicorn's factory)."""
    url = os.environ.get(ENV_DATABASE_URL)
    if not url:
        raise RuntimeError(f"{ENV_DATABASE_URL} is not set")
    return create_app(CentralStore(url))


def serve(url: str, *, host: str, port: int, workers: int, log_level: str) -> None:
    import uvicorn

    CentralStore(url).close()  # migrate once, before the workers start, and fail early
    os.environ[ENV_DATABASE_URL] = url
    uvicorn.run(
        "central.server:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        access_log=False,
        timeout_graceful_shutdown=10,
    )
