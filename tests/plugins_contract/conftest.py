"""Helpers for the plugin-contract tests come from the shipped harness (``liuzhi.testing``): an
app of our own with extra plugins (``running``), throwaway districts (the ``districts`` fixture)."""

from __future__ import annotations

from liuzhi.testing import KINDS, District, definition, drop_tenant, forget_tables, running

__all__ = ["KINDS", "District", "definition", "drop_tenant", "forget_tables", "running"]
