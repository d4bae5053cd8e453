"""The tenant's local practice for 党建领治: targets, pass marks, point values, post categories,
terms and reminder periods. Validated by msgspec; the admin form is generated from these fields."""

from __future__ import annotations

import re
from typing import Annotated, Any

import msgspec

NAME = "party_leadership"

# 双报到 post categories of the case (组织建设 … 其他); a district may rename or add its own.
DEFAULT_POST_CATEGORIES = [
    "组织建设",
    "法律咨询与援助",
    "助困扶残与就业援助",
    "社区治理",
    "健康医疗",
    "文化体育",
    "安全宣传与治安巡逻",
    "其他",
]


class Settings(msgspec.Struct, forbid_unknown_fields=True):
    """Tenant settings, validated by msgspec; the admin form is generated from these fields."""

    meetings_per_year: Annotated[int, msgspec.Meta(ge=1, le=52, title="联席会议次数/年 Joint meetings per year")] = 4
    annual_hours_target: Annotated[
        float, msgspec.Meta(ge=0, le=500, title="党员年度服务时长目标（小时） Member service hours per year")
    ] = 50
    pass_mark: Annotated[int, msgspec.Meta(ge=0, le=100, title="评议合格分 Pass mark")] = 60
    excellent_mark: Annotated[int, msgspec.Meta(ge=0, le=100, title="评议优秀分 Excellent mark")] = 90
    hours_points: Annotated[int, msgspec.Meta(ge=0, le=100, title="服务时长分值 Points for the hours target")] = 60
    post_points: Annotated[int, msgspec.Meta(ge=0, le=100, title="认领岗位分值 Points for holding a post")] = 20
    report_points: Annotated[int, msgspec.Meta(ge=0, le=100, title="报到分值 Points for reporting in")] = 10
    staff_points_max: Annotated[int, msgspec.Meta(ge=0, le=100, title="社区评价最高分 Community rating, at most")] = 10
    # One field the admin form can edit: the categories separated by 、 or commas.
    post_categories: Annotated[
        str, msgspec.Meta(min_length=2, max_length=600, title="服务岗位类别（以、分隔） Post categories")
    ] = "、".join(DEFAULT_POST_CATEGORIES)
    committee_term_years: Annotated[int, msgspec.Meta(ge=1, le=10, title="委员任期（年） Committee term in years")] = 5
    agreement_remind_days: Annotated[
        int, msgspec.Meta(ge=1, le=365, title="共建协议到期提醒（天） Remind before an agreement ends (days)")
    ] = 30
    urgent_consultation_hours: Annotated[
        int, msgspec.Meta(ge=1, le=168, title="急事共商召集时限（小时） Urgent consultation within (hours)")
    ] = 24

    def categories(self) -> list[str]:
        return [c.strip() for c in re.split(r"[、,，;；\n]", self.post_categories) if c.strip()]


def settings_of(raw: dict[str, Any] | None) -> Settings:
    """The validated settings from what the tenant stored (defaults for what it did not)."""
    return msgspec.convert(raw or {}, Settings)
