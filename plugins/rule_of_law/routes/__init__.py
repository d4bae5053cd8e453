"""Pages and the JSON API of the pillar."""

from __future__ import annotations

from typing import Any


def handlers() -> list[Any]:
    from plugins.rule_of_law.routes import api, cases, counselling, overview, petitions, screening, sensitive, teams

    return [
        *overview.handlers,  # the landing page with the figures
        *screening.handlers,  # 矛盾纠纷排查 on a phone, disputes and their hand-off
        *cases.handlers,  # 人民调解 case files, agreement and 卷宗 PDFs
        *teams.handlers,  # 全科网格 teams 1+1+X+Y
        *sensitive.handlers,  # 特殊人群 registers and the access log
        *petitions.handlers,  # 律师参与信访
        *counselling.handlers,  # 心理咨询
        *api.handlers,  # /api/v1/rule-of-law/… for a mini-program
    ]
