"""Charts for core and plugins: ``templates/chart.html`` draws the spec with core's static/charts.js."""

from __future__ import annotations

import json
from typing import Any

from markupsafe import Markup


def chart_json(spec: dict[str, Any]) -> Markup:
    """``{type, labels, datasets: [{label, data}], suffix}`` as the template's ``chart_json``: JSON
    left unescaped (a <script type="application/json"> does not decode entities) yet safe inside
    the element (no "</")."""
    return Markup(json.dumps(spec, ensure_ascii=False).replace("</", "<\\/"))
