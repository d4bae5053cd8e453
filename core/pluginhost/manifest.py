"""What a plugin declares about itself: the admin UI and the host read it, nothing is coded twice."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec


@dataclass(frozen=True)
class Action:
    """An RBAC action a plugin guards, and the built-in roles that get it by default."""

    name: str  # "<plugin>.<thing>.<verb>", e.g. "smart_service.event.dispatch"
    title_zh: str
    title_en: str
    default_roles: tuple[str, ...] = ()


@dataclass(frozen=True)
class DeclaredRole:
    """A built-in role a plugin brings (``register_roles`` hook): every tenant gets it, with
    ``grants`` — core actions such as ``core.grid.view`` — by default. Grants of the plugin's own
    actions go in ``Action.default_roles``."""

    code: str  # e.g. "mediator"
    title_zh: str
    title_en: str
    grants: tuple[str, ...] = ()

    def title(self, locale: str) -> str:
        return self.title_en if locale.startswith("en") else self.title_zh


@dataclass(frozen=True)
class Page:
    """A page the host mounts for the plugin: ``template`` rendered at ``path`` (tenant-relative)
    with ``settings`` (the tenant's settings of the plugin) and ``manifest`` in its context, for
    users allowed ``action`` (any signed-in user when None)."""

    path: str  # e.g. "/party/"
    template: str  # e.g. "party_leadership/overview.html"
    action: str | None = None


@dataclass(frozen=True)
class CardSpec:
    """A dashboard card the host renders from ``template`` (context: ``settings``, ``manifest``),
    titled with the manifest's titles, for users allowed ``action``; ``href`` links its title."""

    template: str  # e.g. "party_leadership/widget.html"
    order: int = 100
    action: str | None = None
    href: str | None = None


@dataclass(frozen=True)
class Manifest:
    name: str
    pillar: str  # one of the six, or "other" for third-party extras
    title_zh: str
    title_en: str
    version: str
    core_api: int = 1
    description_zh: str = ""
    description_en: str = ""
    # A msgspec.Struct subclass: the settings form is generated from it and validated by it.
    settings: type[msgspec.Struct] | None = None
    actions: tuple[Action, ...] = ()
    icon: str = "◆"
    extra: dict[str, Any] = field(default_factory=dict)
    # Declared pages: the host mounts the landing page, shows the menu items and renders the card,
    # so a plugin needs no route or hook of its own for them.
    landing: Page | None = None
    menu: tuple[MenuItem, ...] = ()
    widget: CardSpec | None = None
    # Tabs of the field staff's bottom tab bar on the phone (任务, 上报 …), filtered by their action;
    # core adds its own (巡查, 居民, 我的) and shows the bar to users who record field work.
    mobile_tabs: tuple[MenuItem, ...] = ()

    def title(self, locale: str) -> str:
        return self.title_en if locale.startswith("en") else self.title_zh


@dataclass(frozen=True)
class MenuItem:
    title_zh: str
    title_en: str
    href: str  # tenant-relative path, e.g. "/smart-service/"
    # Shown only to users allowed this action (or any of these actions) somewhere.
    action: str | tuple[str, ...] | None = None
    icon: str = ""
    order: int = 100

    def title(self, locale: str) -> str:
        return self.title_en if locale.startswith("en") else self.title_zh


@dataclass(frozen=True)
class Widget:
    """A dashboard card: a title and an HTML fragment (already rendered, autoescaped by its template)."""

    title_zh: str
    title_en: str
    html: str
    order: int = 100
    href: str | None = None

    def title(self, locale: str) -> str:
        return self.title_en if locale.startswith("en") else self.title_zh


@dataclass(frozen=True)
class Panel:
    """A section a plugin adds to a grid node's page."""

    title_zh: str
    title_en: str
    html: str
    order: int = 100

    def title(self, locale: str) -> str:
        return self.title_en if locale.startswith("en") else self.title_zh


@dataclass(frozen=True)
class Notification:
    tenant_id: int
    user_id: int
    title: str
    body: str = ""
    link: str | None = None
    channels: tuple[str, ...] = ("inapp",)
    # Where an outside channel sends it when there is no account yet (a phone for a sign-up code).
    address: str | None = None


@dataclass(frozen=True)
class Figure:
    """One headline number of a pillar (events closed, hours served, votes held …): on a node's
    page, where a community shows all its pillars at a glance, and on a resident's 我的 page."""

    label_zh: str
    label_en: str
    value: int | float | str
    unit_zh: str = ""
    unit_en: str = ""
    href: str | None = None  # tenant-relative page with the detail
    order: int = 100

    def label(self, locale: str) -> str:
        return self.label_en if locale.startswith("en") else self.label_zh

    def unit(self, locale: str) -> str:
        return self.unit_en if locale.startswith("en") else self.unit_zh


@dataclass(frozen=True)
class MySection:
    """A plugin's part of a resident's 我的 page: headline figures, an optional rendered fragment
    (autoescaped by its template) and a link to the plugin's own page with everything."""

    title_zh: str
    title_en: str
    figures: tuple[Figure, ...] = ()
    html: str = ""
    href: str | None = None
    order: int = 100

    def title(self, locale: str) -> str:
        return self.title_en if locale.startswith("en") else self.title_zh
