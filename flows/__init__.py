"""フロー (guided consultations): YAML flow definitions and a pure engine.

Example:
    >>> from datetime import date
    >>> flows = load_flows()
    >>> engine = FlowEngine(flows["ict_adoption"])
    >>> turn = engine.start(today=date(2026, 11, 21))
    >>> turn = engine.step(turn.state, FlowInput(text="住民票の窓口交付"))
"""

from flows.definition import END, Branch, Cite, FlowDefinition, Option, Outcome, Step, StepKind
from flows.engine import FlowEngine, FlowInput, Turn
from flows.errors import (
    BadConditionError,
    CycleWithoutExitError,
    DuplicateFlowIdError,
    DuplicateStepIdError,
    FlowDefinitionError,
    FlowSchemaError,
    InvalidOptionsError,
    MissingFieldError,
    MissingPromptError,
    UnknownFieldError,
    UnknownNextStepError,
    UnknownSlotError,
    UnknownStepKindError,
    UnreachableStepError,
    UnsupportedYamlTagError,
    YamlSyntaxError,
    YamlTooDeepError,
)
from flows.loader import DEFINITIONS_DIR, load_flow_file, load_flow_text, load_flows
from flows.outputs import AnswerField, Completed, ConfirmView, Decision, FlowOutput, Notice, Prompt
from flows.scripted_run import FlowRun, ScriptedAnswerError, run_with_answers
from flows.state import FlowState

__all__ = [
    "DEFINITIONS_DIR",
    "END",
    "AnswerField",
    "BadConditionError",
    "Branch",
    "Cite",
    "Completed",
    "ConfirmView",
    "CycleWithoutExitError",
    "Decision",
    "DuplicateFlowIdError",
    "DuplicateStepIdError",
    "FlowDefinition",
    "FlowDefinitionError",
    "FlowEngine",
    "FlowInput",
    "FlowOutput",
    "FlowRun",
    "FlowSchemaError",
    "FlowState",
    "InvalidOptionsError",
    "MissingFieldError",
    "MissingPromptError",
    "Notice",
    "Option",
    "Outcome",
    "Prompt",
    "ScriptedAnswerError",
    "Step",
    "StepKind",
    "Turn",
    "UnknownFieldError",
    "UnknownNextStepError",
    "UnknownSlotError",
    "UnknownStepKindError",
    "UnreachableStepError",
    "UnsupportedYamlTagError",
    "YamlSyntaxError",
    "YamlTooDeepError",
    "load_flow_file",
    "load_flow_text",
    "load_flows",
    "run_with_answers",
]
