"""The YAML schema of a flow file (pydantic), before the graph rules are checked.

These models only describe the shape; :mod:`flows.loader` turns pydantic's errors
into the Japanese :class:`~flows.errors.FlowDefinitionError` subclasses.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


def _scalar_text(value: object) -> object:
    # YAML 1.1 reads yes/no/on/off as booleans and 1 as an int; option values are text.
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return str(value)
    return value


def _condition_text(value: object) -> object:
    # ``when: true`` arrives from YAML as a boolean; the expression language spells it true.
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


# A YAML folded scalar (``>-``) joins lines with a space; Japanese prose has none.
_FOLDED_SPACE = re.compile(r"(?<=[^\x00-\x7f]) (?=[^\x00-\x7f])")


def _japanese_prose(value: object) -> object:
    """Drop the single spaces YAML folding put between two Japanese characters."""
    if isinstance(value, str):
        return _FOLDED_SPACE.sub("", value)
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class RawCite(_Strict):
    doc: str
    section: str
    quote: str = ""


class RawOption(_Strict):
    value: str
    label: str

    _coerce_value = field_validator("value", mode="before")(_scalar_text)


class RawBranch(_Strict):
    if_: str | None = Field(default=None, alias="if")
    then: str | None = None
    else_: str | None = Field(default=None, alias="else")

    _coerce_if = field_validator("if_", mode="before")(_condition_text)


class RawStep(_Strict):
    id: str
    kind: str
    prompt: str | None = None
    slot: str | None = None
    label: str | None = None
    next: str | list[RawBranch] | None = None
    help: str = ""
    cite: list[RawCite] = Field(default_factory=list)
    options: list[RawOption] = Field(default_factory=list)
    optional: bool = False

    _coerce_id = field_validator("id", mode="before")(_scalar_text)
    _prose = field_validator("prompt", "help", mode="before")(_japanese_prose)


class RawOutcome(_Strict):
    name: str
    label: str | None = None
    when: str
    if_true: str = ""
    if_false: str = ""
    cite: list[RawCite] = Field(default_factory=list)
    kind: Literal["decision", "note", "next_step"] = "decision"
    yes_label: str = "該当"
    no_label: str = "非該当"

    _coerce_when = field_validator("when", mode="before")(_condition_text)
    _prose = field_validator("if_true", "if_false", mode="before")(_japanese_prose)


class RawFollowUp(_Strict):
    flow: str
    when: str = "true"
    label: str

    _coerce_when = field_validator("when", mode="before")(_condition_text)


class RawSheet(_Strict):
    """How the flow fills the 相談シート (the ``sheet:`` block)."""

    entry: bool = False
    subject: str | None = None
    cost: str | None = None
    digest: list[str] = Field(default_factory=list)
    follow_ups: list[RawFollowUp] = Field(default_factory=list)
    document: str | None = None
    parts: dict[str, str] = Field(default_factory=dict)


class RawFlow(_Strict):
    id: str
    version: str = "1"
    title: str
    description: str = ""
    documents: dict[str, str] = Field(default_factory=dict)
    steps: list[RawStep] = Field(min_length=1)
    outcomes: list[RawOutcome] = Field(default_factory=list)
    sheet: RawSheet = Field(default_factory=RawSheet)

    _coerce_version = field_validator("version", mode="before")(_scalar_text)
    _prose = field_validator("description", mode="before")(_japanese_prose)
