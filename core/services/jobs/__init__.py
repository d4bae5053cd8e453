"""Delayed and periodic jobs that carry their tenant and never run twice across app processes.

Plugins return ``JobSpec`` s from ``register_jobs`` and queue work with
``await enqueue(session, tenant_id, "<plugin>.<job>", {...})`` inside their own transaction.
"""

from core.services.jobs.runner import JobContext, JobRunner, JobSpec, enqueue, enqueue_once

__all__ = ["JobContext", "JobRunner", "JobSpec", "enqueue", "enqueue_once"]
