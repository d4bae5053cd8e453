"""Grid workers' field work (网格员的一天): 巡查 patrols with their route and what was found on the
way, 走访 household visits that update the register, and the 民情日志 daily log.

models.py the tables · service.py the use cases · routes.py pages · routes_api.py the JSON API ·
routes_pwa.py the web app manifest and service worker. A module that makes a record during a
patrol links it with ``note_finding`` (re-exported here)."""

from core.grids.fieldwork.service import note_finding

__all__ = ["note_finding"]
