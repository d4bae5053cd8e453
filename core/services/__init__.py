"""Services core offers every plugin.

Infrastructure: ``notifications``, ``files`` (storage), ``jobs`` (delayed and periodic), ``events``.
Shared building blocks the pillars stand on (docs/plugins.md "Shared services"), each imported as
``from core.services import <name>``: ``accounts`` (resident sign-up and linking, outside identity
providers), ``activities``, ``ledger`` (points), ``ballots``, ``notices`` (公示), ``documents``
(PDF with verification) and ``consent`` (个人信息保护法).
"""
