"""The mediation agreement (人民调解法 第29条) and the case file (卷宗) as PDFs, issued through
core.services.documents (CJK text, the district's name, a verification QR code)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.services import documents
from plugins.rule_of_law import mediation
from plugins.rule_of_law.common import Conflict, lazy
from plugins.rule_of_law.models import Case, CaseEntry

SOURCE = "rule_of_law"

AGREEMENT = documents.DocumentTemplate(
    kind="agreement",
    title="人民调解协议书",
    fields=(("编号", "{number}"), ("纠纷类型", "{kind}")),
    paragraphs=(
        "当事人基本情况：{parties}",
        "纠纷主要事实：{facts}",
        "争议事项及各方责任：{matters}",
        "经调解，自愿达成如下协议：{terms}",
        "履行方式和期限：{performance}",
        "本协议自各方当事人签名、人民调解员签名并加盖人民调解委员会印章之日起生效。本协议一式{copies}份，"
        "当事人各持一份，人民调解委员会留存一份。",
        "依照《中华人民共和国人民调解法》第三十三条，双方当事人可以自本协议生效之日起三十日内共同向人民法院申请司法确认。",
    ),
    closing="",
    signatures=("当事人", "当事人", "人民调解员", "人民调解委员会（印）"),
)

CASE_FILE = documents.DocumentTemplate(
    kind="case_file",
    title="人民调解卷宗",
    fields=(
        ("案号", "{number}"),
        ("案由", "{title}"),
        ("受理方式", "{origin}"),
        ("受理日期", "{accepted}"),
        ("调解期限", "{due}"),
        ("结果", "{state}"),
        ("调解员", "{mediators}"),
    ),
    paragraphs=("卷内文书目录：{checklist}",),
    closing="以下为卷内记录。",
    signatures=("立卷人",),
)

# The case file's mandatory documents (司法部《人民调解文书格式》) and the entry that makes each one.
MANDATORY: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("人民调解受理登记表", ("accept", "refuse")),
    ("人民调解调查记录", ("investigate",)),
    ("人民调解记录", ("session",)),
    ("人民调解协议书或终止调解告知", ("agree", "terminate", "refuse")),
    ("人民调解回访记录", ("follow_up",)),
)

ORIGIN_ZH = {mediation.APPLICATION: "当事人申请", mediation.OWN_INITIATIVE: "人民调解委员会主动调解"}
ROUTE_ZH = {"arbitration": "仲裁", "administrative": "行政途径", "litigation": "诉讼"}
ENTRY_ZH = {
    "accept": "受理",
    "refuse": "当事人拒绝调解（第十七条）",
    "investigate": "调查",
    "session": "调解",
    "agree": "达成协议",
    "terminate": "终止调解",
    "follow_up": "回访",
    "reminder": "告知司法确认（第三十三条）",
    "overdue": "超过调解期限",
}
STATE_ZH = {
    "pending": "待受理",
    "accepted": "已受理",
    "refused": "当事人拒绝调解",
    "investigating": "调查中",
    "mediating": "调解中",
    "agreed": "达成协议",
    "terminated": "终止调解",
    "followed_up": "已回访",
}
KIND_ZH = {
    "neighbour": "邻里纠纷",
    "family": "婚姻家庭纠纷",
    "property": "物业纠纷",
    "labour": "劳动争议",
    "land": "土地房屋纠纷",
    "contract": "合同债务纠纷",
    "other": "其他纠纷",
}
PARTY_FIELDS = (
    ("gender", "性别"),
    ("age", "年龄"),
    ("ethnicity", "民族"),
    ("occupation", "职业"),
    ("employer", "单位"),
    ("address", "住所"),
)


def party_line(p: dict[str, Any]) -> str:
    extra = "，".join(f"{label}{p[key]}" for key, label in PARTY_FIELDS if p.get(key))
    return f"{p.get('name', '')}（{extra}）" if extra else str(p.get("name", ""))


@dataclass(frozen=True)
class Checklist:
    items: list[tuple[str, bool]]

    @property
    def complete(self) -> bool:
        return all(ok for _, ok in self.items)


def checklist(case: Case, entries: list[CaseEntry]) -> Checklist:
    """Which mandatory documents the file holds. A refused case needs only the first and the notice;
    a terminated one no follow-up."""
    kinds = {e.kind for e in entries}
    items = []
    for name, makers in MANDATORY:
        if case.state == "refused" and name in ("人民调解调查记录", "人民调解记录", "人民调解回访记录"):
            continue
        if case.state == "terminated" and name == "人民调解回访记录":
            continue
        items.append((name, bool(kinds & set(makers))))
    return Checklist(items)


async def issue_agreement(session: AsyncSession, storage: Any, *, tenant: Any, case: Case, base_url: str) -> Any:
    if case.state not in ("agreed", "followed_up"):
        raise Conflict(lazy("The case has no agreement yet."))
    values = {
        "number": case.number,
        "kind": KIND_ZH.get(case.kind, case.kind),
        "parties": "；".join(party_line(p) for p in case.parties),
        "facts": case.facts,
        "matters": case.matters,
        "terms": case.terms,
        "performance": case.performance,
        "copies": len(case.parties) + 1,
    }
    doc = await documents.issue(
        session,
        storage,
        tenant=tenant,
        template=AGREEMENT,
        values=values,
        base_url=base_url,
        subject=(f"{SOURCE}.case", str(case.id)),
        node_path=case.node_path,
        source=SOURCE,
    )
    case.agreement_document_id = doc.id
    await session.flush()
    return doc


async def issue_case_file(
    session: AsyncSession,
    storage: Any,
    *,
    tenant: Any,
    case: Case,
    entries: list[CaseEntry],
    mediator_names: list[str],
    base_url: str,
) -> Any:
    check = checklist(case, entries)
    rows = [["时间", "事项", "记录人", "参加人", "内容"]]
    for e in entries:
        content = e.note
        if e.kind == "terminate":
            content = (
                f"{e.note}（已告知当事人可通过{'、'.join(ROUTE_ZH[r] for r in e.data.get('routes', []))}维护权利）"
            )
        elif e.kind == "reminder":
            content = f"已告知当事人可于{e.data.get('confirmation_due_on', '')}前共同申请司法确认"
        rows.append([e.at.strftime("%Y-%m-%d %H:%M"), ENTRY_ZH.get(e.kind, e.kind), e.actor_name, e.attendees, content])
    if case.state in ("agreed", "followed_up"):
        rows.append(["", "协议内容", "", "", case.terms])
    values = {
        "number": case.number,
        "title": case.title,
        "origin": ORIGIN_ZH.get(case.origin or "", "—"),
        "accepted": case.accepted_at.strftime("%Y-%m-%d") if case.accepted_at else "—",
        "due": case.due_on.isoformat() if case.due_on else "—",
        "state": STATE_ZH.get(case.state, case.state),
        "mediators": "、".join(mediator_names) or "—",
        "checklist": "；".join(f"{name}{'（已归档）' if ok else '（缺）'}" for name, ok in check.items),
    }
    return await documents.issue(
        session,
        storage,
        tenant=tenant,
        template=CASE_FILE,
        values=values,
        base_url=base_url,
        subject=(f"{SOURCE}.case_file", str(case.id)),
        node_path=case.node_path,
        source=SOURCE,
        rows=rows,
    )
