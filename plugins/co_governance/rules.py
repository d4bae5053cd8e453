"""The rules, pure: star levels by cumulative hours (national, fixed), points for hours (the
tenant's local practice, from Settings), volunteer numbers in the tenant's format.

Star levels follow 《志愿服务记录与证明出具办法》 and the 全国志愿服务信息系统 星级认定: cumulative
recorded hours of 100 / 300 / 600 / 1000 / 1500 make 一星 … 五星. The comparison is on whole
minutes, so 99.5 h (5970 min) is below 一星 and 100 h (6000 min) is 一星 exactly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal

from core.services.errors import lazy

STAR_HOURS = (100, 300, 600, 1000, 1500)
STAR_NAMES = ("", "一星", "二星", "三星", "四星", "五星")
STAR_NAMES_EN = ("", lazy("1 star"), lazy("2 stars"), lazy("3 stars"), lazy("4 stars"), lazy("5 stars"))
CENT = Decimal("0.01")


def star_level(minutes: int) -> int:
    """0 (none) … 5 for a volunteer's cumulative served minutes."""
    return sum(1 for hours in STAR_HOURS if minutes >= hours * 60)


def next_star(minutes: int) -> tuple[int, int] | None:
    """(the next level, hours it needs) — or None at 五星."""
    level = star_level(minutes)
    return None if level >= len(STAR_HOURS) else (level + 1, STAR_HOURS[level])


def hours_of(minutes: int) -> Decimal:
    return (Decimal(minutes) / 60).quantize(CENT, rounding=ROUND_DOWN)


_PAIR = re.compile(r"^\s*([^:：,，]{1,20})\s*[:：]\s*(\d+(?:\.\d{1,2})?)\s*$")


def parse_pairs(text: str) -> dict[str, Decimal]:
    """``"助老助残:1.5, 环境保护:1"`` → {category: value}; raises ValueError naming the bad part."""
    out: dict[str, Decimal] = {}
    for part in re.split(r"[,，;；\n]", text or ""):
        if not part.strip():
            continue
        m = _PAIR.match(part)
        if not m:
            raise ValueError(part.strip())
        out[m.group(1).strip()] = Decimal(m.group(2))
    return out


@dataclass(frozen=True)
class PointsRule:
    """Points for served time: hours × points per hour × the category's coefficient, capped per
    volunteer and calendar year overall (``yearly_cap``, 0 = none) and per category."""

    per_hour: Decimal = Decimal(1)
    coefficients: dict[str, Decimal] = field(default_factory=dict)
    yearly_cap: Decimal = Decimal(0)
    category_caps: dict[str, Decimal] = field(default_factory=dict)

    @classmethod
    def of(cls, settings: dict[str, object]) -> PointsRule:
        return cls(
            per_hour=Decimal(str(settings.get("points_per_hour", 1))),
            coefficients=parse_pairs(str(settings.get("category_coefficients", "") or "")),
            yearly_cap=Decimal(str(settings.get("yearly_points_cap", 0) or 0)),
            category_caps=parse_pairs(str(settings.get("category_yearly_caps", "") or "")),
        )

    def raw(self, minutes: int, category: str) -> Decimal:
        coefficient = self.coefficients.get(category, Decimal(1))
        return (Decimal(minutes) / 60 * self.per_hour * coefficient).quantize(CENT, rounding=ROUND_DOWN)

    def award(self, minutes: int, category: str, *, earned_year: Decimal, earned_year_category: Decimal) -> Decimal:
        """Points for this record, given what the volunteer already earned this year (without it)."""
        points = self.raw(minutes, category)
        if self.yearly_cap > 0:
            points = min(points, max(Decimal(0), self.yearly_cap - earned_year))
        cap = self.category_caps.get(category)
        if cap is not None:
            points = min(points, max(Decimal(0), cap - earned_year_category))
        return max(points, Decimal(0)).quantize(CENT)


_FORMAT = re.compile(r"^[A-Za-z0-9-]{0,12}\{year\}[A-Za-z0-9-]{0,6}\{seq:(\d)\}$|^[A-Za-z0-9-]{0,12}\{seq:(\d)\}$")


def check_number_format(fmt: str) -> str:
    if not _FORMAT.match(fmt or ""):
        raise ValueError(fmt)
    return fmt


def volunteer_number(fmt: str, year: int, seq: int) -> str:
    """``"SL{year}{seq:6}"`` → ``SL2026000123``: the tenant's prefix, the year, a padded sequence."""
    m = _FORMAT.match(fmt)
    if not m:
        raise ValueError(fmt)
    width = int(m.group(1) or m.group(2))
    head = fmt[: fmt.index("{seq:")]
    return head.replace("{year}", str(year)) + f"{seq:0{width}d}"
