"""Core's always-on registration of the import job (registered in ``create_app`` like LoggingSender)."""

from __future__ import annotations

from typing import Any

from core.imports.runner import ImportJob
from core.pluginhost.markers import hookimpl
from core.services.jobs import JobSpec


class ImportJobs:
    __liuzhi_name__ = "core.imports"

    def __init__(self) -> None:
        self.job = ImportJob()

    @hookimpl
    def register_jobs(self) -> list[JobSpec]:
        return [self.job.spec()]

    @hookimpl
    def startup(self, app: Any) -> None:
        # The job reads the upload from the app's storage and encrypts with its vault.
        self.job.state = app.state
