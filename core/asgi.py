"""ASGI entry point for uvicorn workers: ``uvicorn core.asgi:create --factory``."""

import os

from core.app import create_app


def create():  # type: ignore[no-untyped-def]
    return create_app(run_jobs=os.environ.get("LIUZHI_RUN_JOBS", "1") == "1")
