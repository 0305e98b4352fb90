"""Errors raised while loading a flow definition.

Every rule of the validator has its own exception type, all subclasses of
:class:`FlowDefinitionError`. Messages are Japanese, written for the municipal
administrator who edits the YAML: they name the file, the flow and the step, and say
what to change.
"""

from __future__ import annotations


class FlowDefinitionError(ValueError):
    """A flow definition (YAML) is invalid.

    Attributes:
        source: The file (or other source) the definition came from.
        flow_id: The flow id, when known.
        step_id: The step the problem is in, when there is one.
        detail: The Japanese explanation without the location prefix.
    """

    def __init__(
        self,
        detail: str,
        *,
        source: str = "",
        flow_id: str | None = None,
        step_id: str | None = None,
    ) -> None:
        self.source = source
        self.flow_id = flow_id
        self.step_id = step_id
        self.detail = detail
        super().__init__(self._compose())

    def _compose(self) -> str:
        where = []
        if self.source:
            where.append(f"ファイル {self.source}")
        if self.flow_id:
            where.append(f"フロー「{self.flow_id}」")
        if self.step_id:
            where.append(f"ステップ「{self.step_id}」")
        prefix = "、".join(where)
        return f"{prefix}: {self.detail}" if prefix else self.detail


class FlowSchemaError(FlowDefinitionError):
    """The YAML does not have the expected shape (wrong type, not a mapping, ...)."""


class YamlSyntaxError(FlowSchemaError):
    """The file is not valid YAML."""


class UnsupportedYamlTagError(YamlSyntaxError):
    """The YAML uses a tag such as ``!!python/object`` (only plain values are allowed)."""


class YamlTooDeepError(YamlSyntaxError):
    """Lists and mappings are nested deeper than a flow can need."""


class MissingFieldError(FlowSchemaError):
    """A required field is missing."""


class UnknownFieldError(FlowSchemaError):
    """A field name is not part of the schema (often a typo such as ``promt``)."""


class UnknownStepKindError(FlowSchemaError):
    """``kind`` is not one of the supported step kinds."""


class DuplicateStepIdError(FlowSchemaError):
    """Two steps share one id."""


class DuplicateFlowIdError(FlowSchemaError):
    """Two files define the same flow id."""


class InvalidOptionsError(FlowSchemaError):
    """A choice step has too few, or duplicate, options."""


class UnknownNextStepError(FlowDefinitionError):
    """``next`` (or a branch ``then``) names a step that does not exist."""


class UnreachableStepError(FlowDefinitionError):
    """A step can never be reached from the first step."""


class CycleWithoutExitError(FlowDefinitionError):
    """Steps form a loop from which the end of the flow can never be reached."""


class UnknownSlotError(FlowDefinitionError):
    """A condition refers to a slot that no step collects."""


class MissingPromptError(FlowDefinitionError):
    """A step has no (or an empty) ``prompt``."""


class BadConditionError(FlowDefinitionError):
    """A condition expression cannot be parsed."""
