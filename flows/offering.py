"""Which flows a tenant is offered: a per-tenant choice (``Settings.tenant_flows``) over the
loaded flows, checked against them so a typo fails at start-up, not in a conversation.

Example:
    >>> offered = offered_flows(load_flows(), ["katsushika_operations"])  # doctest: +SKIP
    >>> list(offered)                                                    # doctest: +SKIP
    ['katsushika_operations']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from flows.definition import FlowDefinition


class UnknownOfferedFlowError(ValueError):
    """A tenant is offered a flow that is not loaded; the message is Japanese."""


def offered_flows(
    available: Mapping[str, FlowDefinition], chosen: Sequence[str] | None
) -> dict[str, FlowDefinition]:
    """The flows to offer, in the chosen order (every loaded flow when ``chosen`` is None).

    Raises:
        UnknownOfferedFlowError: a chosen id is not among the loaded flows.
    """
    if chosen is None:
        return dict(available)
    unknown = [flow_id for flow_id in chosen if flow_id not in available]
    if unknown:
        raise UnknownOfferedFlowError(
            f"提供するフローに、読み込まれていないフロー「{'、'.join(unknown)}」が指定されています。"
            f"使えるフロー: {', '.join(sorted(available))}（SOUDAN_TENANT_FLOWS を確認してください）"
        )
    return {flow_id: available[flow_id] for flow_id in chosen}


def check_tenant_flows(
    available: Mapping[str, FlowDefinition], tenant_flows: Mapping[str, Sequence[str]]
) -> None:
    """Check every tenant's choice at start-up.

    Raises:
        UnknownOfferedFlowError: naming the tenant whose choice names an unknown flow.
    """
    for tenant, chosen in tenant_flows.items():
        try:
            offered_flows(available, chosen)
        except UnknownOfferedFlowError as error:
            raise UnknownOfferedFlowError(f"テナント {tenant}: {error}") from None
