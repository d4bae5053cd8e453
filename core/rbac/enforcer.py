"""casbin for the small role → action table; the grid scope through a custom matcher function.

One enforcer per tenant (a few hundred policy lines), rebuilt when the tenant's policy_version
moves. pycasbin's enforce is synchronous and not thread-safe: call it on the event loop only.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import casbin
from casbin.model import Model
from casbin.util import key_match

MODEL_TEXT = """
[request_definition]
r = sub, act, path

[policy_definition]
p = role, act

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = scopedRole(r.sub, p.role, r.path) && keyMatch(r.act, p.act)
"""


@dataclass(frozen=True)
class Assignment:
    role: str
    path: str  # materialised node path with trailing slash
    node_id: int = 0


@dataclass
class Subject:
    """A user's assignments, loaded once per request by one indexed query."""

    user_id: int | None
    assignments: tuple[Assignment, ...] = ()
    _roles: frozenset[str] = field(default=frozenset(), init=False)

    def __post_init__(self) -> None:
        self._roles = frozenset(a.role for a in self.assignments)

    def covers(self, role: str, path: str | None) -> bool:
        if role not in self._roles:
            return False
        if path is None:  # "anywhere": may the user do this at all (menus, landing pages)
            return True
        return any(a.role == role and path.startswith(a.path) for a in self.assignments)


def _scoped_role(sub: Subject, role: str, path: str | None) -> bool:
    return sub.covers(role, path or None)


class TenantPolicy:
    def __init__(self, rules: Iterable[tuple[str, str]], version: int) -> None:
        model = Model()
        model.load_model_from_text(MODEL_TEXT)
        self.enforcer = casbin.Enforcer(model)
        self.enforcer.add_function("scopedRole", _scoped_role)
        self.rules = sorted(set(rules))
        if self.rules:
            self.enforcer.add_policies([list(r) for r in self.rules])
        self.version = version
        self.loaded_at = time.monotonic()
        self._granting: dict[str, frozenset[str]] = {}

    def age(self) -> float:
        return time.monotonic() - self.loaded_at

    def allows(self, subject: Subject, action: str, path: str | None = None) -> bool:
        """Same answer as casbin's enforce (a property test holds them equal), without re-running
        the matcher for every policy line: which roles grant an action is fixed for a policy
        version, so it is asked once per action and kept."""
        if not subject.assignments:
            return False
        return any(subject.covers(role, path) for role in self.roles_granting(action))

    def enforce(self, subject: Subject, action: str, path: str | None = None) -> bool:
        """casbin's own evaluation of the model (the reference ``allows`` is tested against)."""
        if not subject.assignments:
            return False
        return bool(self.enforcer.enforce(subject, action, path or ""))

    def roles_granting(self, action: str) -> frozenset[str]:
        found = self._granting.get(action)
        if found is None:
            rules = self.enforcer.get_policy()  # the table casbin holds
            found = frozenset(role for role, pattern in rules if key_match(action, pattern))
            self._granting[action] = found
        return found

    def prefixes(self, subject: Subject, action: str) -> list[str]:
        """Node paths under which the subject may do ``action``: the input of a SQL scope filter."""
        roles = self.roles_granting(action)
        paths = sorted({a.path for a in subject.assignments if a.role in roles})
        # Drop paths already covered by a shorter one, so the SQL predicate stays small.
        out: list[str] = []
        for p in paths:
            if not any(p.startswith(q) for q in out):
                out.append(p)
        return out
