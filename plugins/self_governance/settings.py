"""Tenant settings (local practice; the defaults are the statutes'), and the thresholds they drive.

Statutory defaults: 城市居民委员会组织法 第十条 (居民会议: more than half of the adult residents or
of the households' representatives present; decisions by more than half of those present; 1/5 of
residents may request a meeting), 物业管理条例 第十三、十四、十六条 (15 days' notice, 20% of owners
call an extraordinary assembly, 备案 within 30 days). Every comparison is on integers, so a
threshold holds exactly at its edge.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

NAME = "self_governance"


class Settings(msgspec.Struct, forbid_unknown_fields=True):
    """The admin form is generated from these fields."""

    notice_days: Annotated[
        int, msgspec.Meta(ge=1, le=60, title="业主大会公告期（天） Owners' assembly notice (days)")
    ] = 15
    extraordinary_share_percent: Annotated[
        int, msgspec.Meta(ge=1, le=100, title="临时业主大会提议比例 % Owners to call an extraordinary assembly")
    ] = 20
    meeting_quorum_percent: Annotated[
        int, msgspec.Meta(ge=1, le=99, title="居民会议法定人数（超过 %） Residents' meeting quorum (more than %)")
    ] = 50
    meeting_petition_percent: Annotated[
        int, msgspec.Meta(ge=1, le=100, title="提议召开居民会议比例 % Residents to request a meeting")
    ] = 20
    open_votes: Annotated[
        bool, msgspec.Meta(title="业委会可查看业主投票选择 Owners' committee may see how each owner voted")
    ] = False
    vote_days: Annotated[int, msgspec.Meta(ge=1, le=60, title="业主大会表决期（天） Owners' voting period (days)")] = 7
    renewal_months: Annotated[
        int, msgspec.Meta(ge=1, le=24, title="换届提醒（任期届满前月数） Renewal reminder (months)")
    ] = 6
    filing_days: Annotated[
        int, msgspec.Meta(ge=1, le=90, title="业委会备案期限（天） Committee filing deadline (days)")
    ] = 30


def of(raw: dict[str, Any] | None) -> Settings:
    """The tenant's validated settings (a dict from the context) as the Struct, defaults filled."""
    return msgspec.convert(raw or {}, Settings)


def quorate(present: int, expected: int, percent: int) -> bool:
    """More than ``percent`` % of those who should attend are present."""
    return expected > 0 and present * 100 > expected * percent


def petition_reached(signatures: int, base: int, percent: int) -> bool:
    """At least ``percent`` % of ``base`` have signed (1/5 of residents; 20% of owners)."""
    return base > 0 and signatures * 100 >= base * percent
