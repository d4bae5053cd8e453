"""The audit log in words for people: who (name and role), what ("改派事件 SL-…", "修改居民 张*"),
from the entries' object types and actions and the terms core and plugins declare
(``audit_terms`` hook). Labels are read in one query per object type for a whole page."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit.models import AuditEntry
from core.db.base import Base
from core.pluginhost.manifest import AuditTerm

VERBS = {
    "create": ("新增", "Added"),
    "update": ("修改", "Changed"),
    "delete": ("删除", "Deleted"),
}
CORE_TERMS: dict[str, AuditTerm] = {
    "users": AuditTerm("账号", "account", label="display_name"),
    "residents": AuditTerm("居民", "resident", label="name", mask=True),
    "households": AuditTerm("户", "household"),
    "organisations": AuditTerm("单位组织", "organisation", label="name"),
    "grid_nodes": AuditTerm("网格节点", "grid node", label="name"),
    "roles": AuditTerm("角色", "role", label="name_zh"),
    "role_assignments": AuditTerm("角色授权", "role assignment", label="role_code"),
    "tenants": AuditTerm("辖区", "district", label="name_zh"),
    "tenant_plugins": AuditTerm("板块开关", "plugin switch", label="plugin"),
    "activities": AuditTerm("活动", "activity", label="title"),
    "activity_signups": AuditTerm("活动报名", "activity sign-up"),
    "ballots": AuditTerm("表决", "ballot", label="title"),
    "notices": AuditTerm("公示", "notice", label="title"),
    "documents": AuditTerm("文书", "document"),
    "consent_records": AuditTerm("授权记录", "consent record"),
    "ledger_postings": AuditTerm("积分记账", "points posting"),
    "account_links": AuditTerm("账号关联", "account link"),
    "stored_files": AuditTerm("文件", "file"),
    "auth.login": AuditTerm("登录", "Signed in"),
    "auth.logout": AuditTerm("退出登录", "Signed out"),
    "auth.login_failed": AuditTerm("登录失败", "Sign-in failed"),
    "auth.password_changed": AuditTerm("修改密码", "Changed password"),
    "auth.second_factor_on": AuditTerm("开启两步验证", "Turned on two-step sign-in"),
    "auth.second_factor_off": AuditTerm("关闭两步验证", "Turned off two-step sign-in"),
    "tenant.settings": AuditTerm("修改辖区设置", "Changed district settings"),
    "plugin.enable": AuditTerm("开启板块", "Switched on plugin"),
    "plugin.disable": AuditTerm("关闭板块", "Switched off plugin"),
    "plugin.settings": AuditTerm("修改板块设置", "Changed plugin settings"),
    "import.start": AuditTerm("开始导入", "Started import"),
    "import.finish": AuditTerm("完成导入", "Finished import"),
    "import.fail": AuditTerm("导入失败", "Import failed"),
    "role.create": AuditTerm("新增角色", "Added role"),
    "role.delete": AuditTerm("删除角色", "Deleted role"),
    "role.grants": AuditTerm("修改角色权限", "Changed role grants"),
}


def mask_name(name: str) -> str:
    """张三 → 张*, 欧阳娜娜 → 欧***: the family name stays, the rest is hidden."""
    name = (name or "").strip()
    return name[:1] + "*" * max(1, len(name) - 1) if name else ""


@dataclass(frozen=True)
class Described:
    entry: AuditEntry
    who: str
    role: str
    what: str


def _label_column(terms: Mapping[str, AuditTerm], object_type: str) -> str | None:
    term = terms.get(object_type)
    return term.label if term is not None else None


async def _labels(
    session: AsyncSession, tenant_id: int, wanted: Mapping[str, set[str]], terms: Mapping[str, AuditTerm]
) -> dict[tuple[str, str], str]:
    out: dict[tuple[str, str], str] = {}
    for object_type, ids in wanted.items():
        column = _label_column(terms, object_type)
        table = Base.metadata.tables.get(object_type)
        if column is None or table is None or column not in table.c or "id" not in table.c:
            continue
        numeric = [int(i) for i in ids if str(i).isdigit()]
        if not numeric:
            continue
        # A Core select is not tenant-filtered by the ORM: the tenant is named here (RLS backs it on PostgreSQL).
        stmt = select(table.c.id, table.c[column]).where(table.c.id.in_(numeric))
        if "tenant_id" in table.c:
            stmt = stmt.where(table.c.tenant_id == tenant_id)
        for row_id, value in (await session.execute(stmt)).all():
            text = str(value or "")
            out[(object_type, str(row_id))] = mask_name(text) if terms[object_type].mask else text
    return out


async def describe(
    session: AsyncSession, tenant_id: int, entries: Iterable[AuditEntry], terms: Mapping[str, AuditTerm], locale: str
) -> list[Described]:
    from core.identity.models import User
    from core.rbac.models import Role, RoleAssignment

    entries = list(entries)
    en = locale.startswith("en")
    # What to label: each entry's own object, or the object a log row speaks for.
    wanted: dict[str, set[str]] = defaultdict(set)
    plans: list[tuple[str, str | None, str | None]] = []  # (phrase, object_type, id) per entry
    for e in entries:
        changes = e.changes if isinstance(e.changes, dict) else {}
        named = terms.get(e.action)
        term = terms.get(e.object_type)
        kind = e.action.rsplit(".", 1)[-1]
        target_type, target_id = e.object_type, e.object_id
        if named is not None:
            phrase = named.title(locale)
        elif term is not None and term.verb_key and str(changes.get(term.verb_key)) in term.verbs:
            zh, en_ = term.verbs[str(changes[term.verb_key])]
            phrase = en_ if en else zh
            if term.refers is not None:
                key, target_type = term.refers
                target_id = str(changes.get(key)) if changes.get(key) is not None else None
        elif term is not None and kind in VERBS:
            verb = VERBS[kind][1 if en else 0]
            phrase = f"{verb} {term.title(locale)}" if en else f"{verb}{term.title(locale)}"
        else:  # nobody named it: the action as recorded, and the object's id
            phrase = e.action + (f" #{e.object_id}" if e.object_id else "")
        if target_id is not None and _label_column(terms, target_type):
            wanted[target_type].add(target_id)
        plans.append((phrase, target_type, target_id))
    labels = await _labels(session, tenant_id, wanted, terms)

    user_ids = {e.actor_id for e in entries if e.actor_kind == "user" and e.actor_id is not None}
    names: dict[int, str] = {}
    roles: dict[int, list[str]] = defaultdict(list)
    if user_ids:
        names = dict((await session.execute(select(User.id, User.display_name).where(User.id.in_(user_ids)))).all())
        role_rows = await session.execute(
            select(RoleAssignment.user_id, Role.name_zh, Role.name_en)
            .join(Role, Role.code == RoleAssignment.role_code)
            .where(RoleAssignment.user_id.in_(user_ids))
            .order_by(RoleAssignment.user_id, Role.name_zh)
        )
        for uid, zh, en_name in role_rows.all():
            title = (en_name or zh) if en else zh
            if title not in roles[uid]:
                roles[uid].append(title)
    system = {"system": ("系统", "System"), "operator": ("平台运维", "Platform operator")}
    out = []
    for e, (phrase, target_type, target_id) in zip(entries, plans, strict=True):
        label = labels.get((target_type or "", str(target_id))) if target_id is not None else None
        what = f"{phrase} {label}" if label else phrase
        if e.actor_kind == "user" and e.actor_id in names:
            who, role = names[e.actor_id], "、".join(roles.get(e.actor_id, []))
        else:
            who = e.actor_name
            role = system.get(e.actor_kind, (e.actor_kind, e.actor_kind))[1 if en else 0]
        out.append(Described(e, who, role, what))
    return out


def collect_terms(results: Iterable[tuple[str, Any]]) -> dict[str, AuditTerm]:
    """Core's terms plus each plugin's (``audit_terms`` results); a plugin does not replace core's."""
    terms = dict(CORE_TERMS)
    for _plugin, result in results:
        for key, term in dict(result or {}).items():
            if isinstance(term, AuditTerm) and key not in CORE_TERMS:
                terms[key] = term
    return terms
