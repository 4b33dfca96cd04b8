"""Write exwatch's Grafana dashboards to ``dashboards/grafana/``: ``python -m dashboards.build``.

The JSON files are committed; a test checks they equal this script's output.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from dashboards import incidents, itself, notifications, overview
from dashboards.panels import Json

OUTPUT = Path(__file__).parent / "grafana"
BUILDERS: dict[str, Callable[[], Json]] = {
    "exchange-overview.json": overview.build,
    "incidents.json": incidents.build,
    "notifications.json": notifications.build,
    "exwatch.json": itself.build,
}


def render(dashboard: Json) -> str:
    """The file text of ``dashboard``: stable, indented JSON."""
    return json.dumps(dashboard, indent=2, ensure_ascii=False) + "\n"


def build_all() -> dict[str, str]:
    """File name -> file text of every dashboard."""
    return {name: render(builder()) for name, builder in BUILDERS.items()}


def main() -> None:
    """Write every dashboard into ``OUTPUT``."""
    OUTPUT.mkdir(exist_ok=True)
    for name, text in build_all().items():
        (OUTPUT / name).write_text(text, encoding="utf-8")
        print(f"wrote {OUTPUT / name}")


if __name__ == "__main__":
    main()
