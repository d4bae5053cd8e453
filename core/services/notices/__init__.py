"""Public notices (公示) with periods and objections. ``from core.services import notices``."""

from core.services.notices.models import (
    OBJECTION_ANSWERED,
    OBJECTION_OPEN,
    PUBLISHED,
    WITHDRAWN,
    Notice,
    NoticeObjection,
)
from core.services.notices.service import (
    OBJECTION_CHANNELS,
    answer,
    board,
    get,
    is_shown,
    object_to,
    objections,
    of_subject,
    open_objections,
    publish,
    withdraw,
)

__all__ = [
    "OBJECTION_ANSWERED",
    "OBJECTION_CHANNELS",
    "OBJECTION_OPEN",
    "PUBLISHED",
    "WITHDRAWN",
    "Notice",
    "NoticeObjection",
    "answer",
    "board",
    "get",
    "is_shown",
    "object_to",
    "objections",
    "of_subject",
    "open_objections",
    "publish",
    "withdraw",
]
