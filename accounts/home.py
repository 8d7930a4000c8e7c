"""Work queues on each role's home page. Later apps register a panel for a role in their
AppConfig.ready(), so this layer never imports them."""

from collections import defaultdict
from collections.abc import Callable

# role → [panel(user) -> {"title", "count", "url", "empty"}]
PANELS: dict[str, list[Callable]] = defaultdict(list)


def register_panel(role: str, panel: Callable) -> None:
    if panel not in PANELS[role]:
        PANELS[role].append(panel)


def panels_for(user) -> list[dict]:
    return [panel(user) for panel in PANELS[user.role]]
