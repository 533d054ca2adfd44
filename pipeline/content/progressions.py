"""The order of the exercise library: which card comes before which.

A card's `before` (front matter, or links to cards in its before-you-start section) and another
card's `progresses_to` (front matter, or links in its progression section) both say "this one
first, then that one". Together they make a directed graph over the cards; it must have no
cycle, and each card's prerequisite chain is everything that comes before it, in an order a
reader can follow. Pure functions over the model.
"""

from __future__ import annotations

from pipeline.core.model import CardLink, Exercise

# u -> {v: the link that says "u before v"}
Graph = dict[str, dict[str, CardLink]]


def order_graph(exercises: dict[str, Exercise]) -> Graph:
    graph: Graph = {slug: {} for slug in exercises}
    for slug, exercise in exercises.items():
        for link in exercise.block.prerequisites:
            if link.slug in graph:
                graph[link.slug].setdefault(slug, link)
        for link in exercise.block.progresses_to:
            if link.slug in graph:
                graph[slug].setdefault(link.slug, link)
    return graph


def find_cycles(graph: Graph) -> list[list[str]]:
    """One cycle (a list of slugs, first == last) for each group of cards that loop back on
    themselves, in a stable order."""
    cycles = []
    for component in _strongly_connected(graph):
        start = min(component)
        if len(component) == 1 and start not in graph[start]:
            continue
        cycles.append(_cycle_through(graph, start, set(component)))
    return sorted(cycles)


def prerequisite_chain(exercises: dict[str, Exercise], slug: str) -> list[str]:
    """Every card that comes before `slug`, directly or through others, earliest first (ties by
    name). Assumes the graph has no cycle (load.py refuses one)."""
    graph = order_graph(exercises)
    ancestors = _ancestors(graph, slug)
    incoming = {node: sum(1 for other in ancestors if node in graph[other]) for node in ancestors}
    ready = sorted((node for node, count in incoming.items() if count == 0), key=lambda n: exercises[n].name.lower())
    chain = []
    while ready:
        node = ready.pop(0)
        chain.append(node)
        for successor in graph[node]:
            if successor in incoming:
                incoming[successor] -= 1
                if incoming[successor] == 0:
                    ready.append(successor)
                    ready.sort(key=lambda n: exercises[n].name.lower())
    return chain


def _ancestors(graph: Graph, slug: str) -> set[str]:
    reverse: dict[str, set[str]] = {node: set() for node in graph}
    for node, successors in graph.items():
        for successor in successors:
            reverse[successor].add(node)
    found: set[str] = set()
    stack = list(reverse.get(slug, ()))
    while stack:
        node = stack.pop()
        if node not in found and node != slug:
            found.add(node)
            stack.extend(reverse[node])
    return found


def _cycle_through(graph: Graph, start: str, component: set[str]) -> list[str]:
    """A shortest path from `start` back to itself inside its component (breadth first)."""
    previous: dict[str, str] = {}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for successor in sorted(graph[node]):
            if successor == start:
                path = [node]
                while path[-1] != start:
                    path.append(previous[path[-1]])
                return [start, *reversed(path[:-1]), start] if node != start else [start, start]
            if successor in component and successor not in previous:
                previous[successor] = node
                queue.append(successor)
    raise AssertionError(f"{start} is in a cycle but none was found")


def _strongly_connected(graph: Graph) -> list[list[str]]:
    """Tarjan's algorithm, iteratively (no recursion limit on a long chain of cards)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            advanced = False
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(graph[successor]))))
                    advanced = True
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
    return components
