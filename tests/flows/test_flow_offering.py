"""Per-tenant choice of the flows offered (``Settings.tenant_flows``), checked against the
loaded flows."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.settings import Settings
from flows import load_flows
from flows.offering import UnknownOfferedFlowError, check_tenant_flows, offered_flows

FLOWS = load_flows()


def settings(value: str) -> Settings:
    return Settings(_env_file=None, tenant_flows=value)  # type: ignore[call-arg]


def test_the_setting_reads_tenants_and_a_default() -> None:
    chosen = settings("T-katsushika=katsushika_operations; *=ict_adoption,rfi,outline")
    assert chosen.flows_offered_to("T-katsushika") == ["katsushika_operations"]
    assert chosen.flows_offered_to("T-kisarazu") == ["ict_adoption", "rfi", "outline"]


def test_the_setting_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOUDAN_TENANT_FLOWS", "T1=outline,procurement_prep")
    chosen = Settings(_env_file=None)  # type: ignore[call-arg]
    assert chosen.flows_offered_to("T1") == ["outline", "procurement_prep"]
    assert chosen.flows_offered_to("T2") is None  # no default: every loaded flow


def test_no_setting_offers_every_loaded_flow() -> None:
    assert offered_flows(FLOWS, Settings(_env_file=None).flows_offered_to("T1")) == FLOWS  # type: ignore[call-arg]


def test_a_tenant_gets_only_its_flows_in_the_chosen_order() -> None:
    chosen = settings("T-katsushika=katsushika_operations,post_evaluation")
    offered = offered_flows(FLOWS, chosen.flows_offered_to("T-katsushika"))
    assert list(offered) == ["katsushika_operations", "post_evaluation"]


def test_a_malformed_setting_is_refused_in_japanese() -> None:
    with pytest.raises(ValidationError, match="テナントID=フローID"):
        settings("katsushika_operations")


def test_an_unknown_flow_is_refused_naming_the_tenant() -> None:
    with pytest.raises(UnknownOfferedFlowError, match=r"テナント T-x: .*「katsushika」"):
        check_tenant_flows(FLOWS, settings("T-x=katsushika").tenant_flows)
    check_tenant_flows(FLOWS, settings("T-x=katsushika_operations;*=ict_adoption").tenant_flows)


def test_start_up_stops_with_one_japanese_line_on_an_unknown_offered_flow(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import typer

    from bot.cli.serve_cmds import check_flows

    with pytest.raises(typer.Exit) as stopped:
        check_flows(settings("T-x=katsushika"))
    assert stopped.value.exit_code == 2
    err = capsys.readouterr().err
    assert err.startswith("起動できません: SOUDAN_TENANT_FLOWS に誤りがあります。テナント T-x:")
    check_flows(settings("T-x=katsushika_operations"))  # a valid choice starts
