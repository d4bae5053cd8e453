"""Local practice as tenant settings (validated by msgspec; the admin form is generated from them)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

PAIRS = r"^\s*([^:：,，;；]{1,20}\s*[:：]\s*\d+(\.\d{1,2})?\s*([,，;；]\s*|$))*$"


class Settings(msgspec.Struct, forbid_unknown_fields=True):
    points_per_hour: Annotated[int, msgspec.Meta(ge=1, le=100, title="每小时积分 Points per volunteer hour")] = 1
    category_coefficients: Annotated[
        str,
        msgspec.Meta(
            max_length=500,
            pattern=PAIRS,
            title="服务类别积分系数 Points coefficient per category",
            description="助老助残:1.5, 应急救援:2",
        ),
    ] = "助老助残:1.5,应急救援:2,环境保护:1,文明劝导:1"
    yearly_points_cap: Annotated[int, msgspec.Meta(ge=0, le=100000, title="每人每年积分上限 Yearly points cap")] = 0
    category_yearly_caps: Annotated[
        str,
        msgspec.Meta(
            max_length=500,
            pattern=PAIRS,
            title="类别年度积分上限 Yearly cap per category",
            description="文明劝导:100",
        ),
    ] = ""
    volunteer_number_format: Annotated[
        str,
        msgspec.Meta(
            max_length=40,
            pattern=r"^[A-Za-z0-9-]{0,12}(\{year\}[A-Za-z0-9-]{0,6})?\{seq:\d\}$",
            title="志愿者编号格式 Volunteer number format",
            description="SL{year}{seq:6}",
        ),
    ] = "SLZY{year}{seq:6}"
    store_name: Annotated[str, msgspec.Meta(min_length=1, max_length=40, title="积分商店名称 Points store name")] = (
        "雷锋超市"
    )
    review_min_score_alert: Annotated[
        int, msgspec.Meta(ge=1, le=5, title="物业季度评价预警分 Property review alert below")
    ] = 3


def of(plugin_settings: dict[str, Any] | None) -> dict[str, Any]:
    """The tenant's settings with the defaults filled in."""
    defaults = msgspec.to_builtins(Settings())
    return {**defaults, **(plugin_settings or {})}
