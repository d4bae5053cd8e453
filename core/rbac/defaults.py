"""Built-in roles (DOMAIN.md "Core") and core's own actions with their default grants."""

from __future__ import annotations

from collections.abc import Iterable

from core.pluginhost.manifest import Action, DeclaredRole

# code, 中文, English — district_admin gets every action ("*"). Roles of a pillar (党组织管理员,
# 调解员, 志愿者) are declared by its plugin through the ``register_roles`` hook.
BUILTIN_ROLES: tuple[tuple[str, str, str], ...] = (
    ("district_admin", "区管理员", "District admin"),
    ("subdistrict_officer", "街道干部", "Sub-district officer"),
    ("community_secretary", "社区书记", "Community secretary"),
    ("community_worker", "社区工作者", "Community worker"),
    ("grid_leader", "网格长", "Grid leader"),
    ("grid_worker", "网格员", "Grid worker"),
    ("building_head", "楼栋长/单元长", "Building head"),
    ("resident", "居民", "Resident"),
)

STAFF = (
    "subdistrict_officer",
    "community_secretary",
    "community_worker",
    "grid_leader",
    "grid_worker",
)


REGISTER_KEEPERS = (
    "subdistrict_officer",
    "community_secretary",
    "community_worker",
    "grid_leader",
    "grid_worker",
)

# Everyone who may take part in activities, votes and notices as a person (roles a plugin declares
# say what they join themselves, e.g. a volunteer role granting core.activity.join).
PARTICIPANTS = (*STAFF, "building_head", "resident")

CORE_ACTIONS: tuple[Action, ...] = (
    Action("core.admin.view", "查看辖区设置", "View district settings", ()),
    Action("core.admin.tenant", "修改辖区名称、语言与术语", "Edit district names, locale and terms", ()),
    Action("core.admin.plugins", "开关插件并修改设置", "Switch plugins and edit their settings", ()),
    Action("core.admin.audit", "查看审计日志", "View the audit log", ()),
    Action("core.admin.users", "管理账号", "Manage accounts", ()),
    Action("core.admin.roles", "管理角色与授权", "Manage roles and assignments", ()),
    Action("core.grid.view", "查看网格", "View the grid", (*STAFF, "building_head")),
    # Minimum necessary (个人信息保护法 第6条): the register is for those who keep it; party admins,
    # mediators and building heads work with their own records, not the whole register.
    Action("core.resident.view", "查看实有人口", "View residents", REGISTER_KEEPERS),
    Action(
        "core.resident.edit",
        "维护实有人口",
        "Edit residents",
        ("community_secretary", "community_worker", "grid_leader", "grid_worker"),
    ),
    Action(
        "core.resident.reveal", "查看完整身份证号和电话", "Reveal full ID numbers and phones", ("community_secretary",)
    ),
    Action("core.resident.export", "导出实有人口", "Export residents", ("community_secretary",)),
    Action(
        "core.household.edit",
        "维护房屋与产权",
        "Edit households and owners",
        ("community_secretary", "community_worker"),
    ),
    Action("core.org.view", "查看驻区单位与组织", "View organisations", STAFF),
    Action(
        "core.org.edit",
        "维护驻区单位与组织",
        "Edit organisations",
        ("community_secretary", "community_worker", "subdistrict_officer"),
    ),
    Action("core.grid.edit", "维护网格", "Edit the territory tree", ()),
    Action("core.grid.import", "导入网格和人口", "Import the tree and residents", ()),
    Action("core.files.upload", "上传文件", "Upload files", (*STAFF, "building_head", "resident")),
    # Shared services (core/services): generic actions every pillar's staff and residents use.
    Action(
        "core.account.link",
        "确认居民账号与实有人口关联",
        "Confirm residents' account links",
        ("community_secretary", "community_worker"),
    ),
    Action("core.activity.manage", "发布活动、签到与记录时长", "Publish activities, check in, record hours", STAFF),
    Action("core.activity.join", "报名参加活动", "Sign up for activities", PARTICIPANTS),
    Action("core.points.view", "查看积分账户", "View points accounts", STAFF),
    Action(
        "core.points.post", "记入与冲正积分", "Post and reverse points", ("community_secretary", "community_worker")
    ),
    Action("core.ballot.manage", "发起、录入与结束表决", "Open, enter and close ballots", STAFF),
    Action("core.ballot.vote", "参加表决", "Vote in ballots", PARTICIPANTS),
    Action("core.notice.manage", "发布公示并答复异议", "Put items on notice and answer objections", STAFF),
    Action("core.consent.view", "查看个人信息授权记录", "View consent records", REGISTER_KEEPERS),
    # Field work (core/grids/fieldwork): grid workers record their own patrols, visits and daily log;
    # those above them read what was recorded in their area.
    Action(
        "core.field.record",
        "巡查、走访与民情日志",
        "Record patrols, visits and the daily log",
        ("grid_leader", "grid_worker"),
    ),
    Action(
        "core.field.view",
        "查看巡查、走访与民情日志",
        "View patrols, visits and daily logs",
        ("subdistrict_officer", "community_secretary", "community_worker", "grid_leader"),
    ),
)

# What core grants, by default, the staff roles pillars declare (党组织管理员, 调解员): the core actions
# every staff role gets — what those roles had when core listed them in STAFF — but not the
# register (minimum necessary: REGISTER_KEEPERS only). Add a new all-staff action here too.
STAFF_GRANTS: tuple[str, ...] = (
    "core.grid.view",
    "core.org.view",
    "core.files.upload",
    "core.activity.manage",
    "core.activity.join",
    "core.points.view",
    "core.ballot.manage",
    "core.ballot.vote",
    "core.notice.manage",
)


def default_rules(actions: list[Action], roles: Iterable[DeclaredRole] = ()) -> set[tuple[str, str]]:
    rules = {("district_admin", "*")}
    for action in actions:
        for role in action.default_roles:
            rules.add((role, action.name))
    for declared in roles:
        rules.update((declared.code, grant) for grant in declared.grants)
    return rules
