"""The depends_on graph of components: who is related to whom, and who depends on whom."""

from __future__ import annotations

from monitor.config import Config


class ComponentGraph:
    """Answers "related" (linked by depends_on either way) and "ancestors" (depended on) questions."""

    def __init__(self, config: Config) -> None:
        parents = {c.id: set(c.depends_on) for c in config.components}
        links: dict[str, set[str]] = {c.id: set() for c in config.components}
        for child, its_parents in parents.items():
            for parent in its_parents:
                links[child].add(parent)
                links[parent].add(child)
        self._related = {start: _reachable(links, start) - {start} for start in links}
        self._ancestors = {start: _reachable(parents, start) - {start} for start in parents}

    def related(self, component_id: str) -> set[str]:
        """Return every component linked to ``component_id`` through depends_on, either way."""
        return self._related.get(component_id, set())

    def ancestors(self, component_id: str) -> set[str]:
        """Return every component ``component_id`` depends on, directly or not."""
        return self._ancestors.get(component_id, set())


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    stack = [start]
    while stack:
        node = stack.pop()
        if node not in seen:
            seen.add(node)
            stack.extend(graph.get(node, ()))
    return seen
