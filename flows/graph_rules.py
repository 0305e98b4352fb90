"""Rules over the whole flow: slot references, reachability, loops without an exit."""

from __future__ import annotations

from flows.definition import END, FlowDefinition
from flows.errors import CycleWithoutExitError, UnknownSlotError, UnreachableStepError


def check_slot_references(flow: FlowDefinition) -> None:
    """Every name in a condition is a slot some step collects (or an earlier outcome).

    Raises:
        UnknownSlotError: naming the condition and the unknown name.
    """
    slots = set(flow.slots)
    where = {"source": flow.source, "flow_id": flow.id}
    for step in flow.steps:
        for branch in step.next:
            if branch.condition is None:
                continue
            for name in sorted(branch.condition.names() - slots):
                raise UnknownSlotError(
                    f"分岐の条件式「{branch.condition.source}」にあるスロット「{name}」は、"
                    f"どのステップでも集めていません。使えるスロット: {', '.join(flow.slots)}",
                    step_id=step.id,
                    **where,
                )
    known = set(slots)
    for outcome in flow.outcomes:
        for name in sorted(outcome.condition.names() - known):
            raise UnknownSlotError(
                f"判断「{outcome.name}」の条件式「{outcome.condition.source}」にある「{name}」は、"
                "スロットでも、それより前に書かれた判断の名前でもありません。",
                **where,
            )
        known.add(outcome.name)


def check_graph(flow: FlowDefinition) -> None:
    """Every step is reachable from the first one, and the end is reachable from every step.

    Raises:
        UnreachableStepError: A step no path leads to.
        CycleWithoutExitError: Steps that loop among themselves with no way to the end.
    """
    where = {"source": flow.source, "flow_id": flow.id}
    edges = {step.id: step.targets() for step in flow.steps}
    reachable = _reach(flow.start, edges)
    for step in flow.steps:
        if step.id not in reachable:
            raise UnreachableStepError(
                "このステップにはどこからも進めません。"
                f"前のステップの next に「{step.id}」を書くか、ステップを削除してください。",
                step_id=step.id,
                **where,
            )
    stuck = [step.id for step in flow.steps if END not in _reach(step.id, edges)]
    for step_id in stuck:
        if not any(step_id in _reach(t, edges) for t in edges[step_id]):
            continue  # leads into a loop but is not part of it; report the loop itself
        loop = [s for s in stuck if s in _reach(step_id, edges) and step_id in _reach(s, edges)]
        members = "、".join(f"「{s}」" for s in loop)
        raise CycleWithoutExitError(
            f"ステップ {members} の間で質問が繰り返され、フローが終わりません。"
            f"どれかの next に、ループを抜けて先へ進む分岐（または「{END}」）を追加してください。",
            step_id=step_id,
            **where,
        )


def _reach(start: str, edges: dict[str, list[str]]) -> set[str]:
    seen = {start}
    stack = [start]
    while stack:
        for target in edges.get(stack.pop(), []):
            if target not in seen:
                seen.add(target)
                stack.append(target)
    return seen
