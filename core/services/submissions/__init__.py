"""Idempotent replays: a form or API call sent again with the same client-generated id (a phone
that lost its signal and sent its queue twice) answers what the first one did, writing nothing new."""

from core.services.submissions.service import claim, clean_client_id, complete, find

__all__ = ["claim", "clean_client_id", "complete", "find"]
