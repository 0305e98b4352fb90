"""Load and validate flow definitions from YAML.

Example:
    >>> flows = load_flows(DEFINITIONS_DIR)
    >>> flows["ict_adoption"].start
    'business'
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from flows.definition import (
    END,
    Branch,
    Cite,
    FlowDefinition,
    FollowUp,
    Option,
    Outcome,
    SheetPlan,
    Step,
    StepKind,
)
from flows.document_parts import KNOWN_PARTS
from flows.errors import (
    BadConditionError,
    DuplicateFlowIdError,
    DuplicateStepIdError,
    FlowDefinitionError,
    FlowSchemaError,
    InvalidOptionsError,
    MissingFieldError,
    MissingPromptError,
    UnknownFieldError,
    UnknownNextStepError,
    UnknownStepKindError,
    UnsupportedYamlTagError,
    YamlSyntaxError,
    YamlTooDeepError,
)
from flows.expressions import Condition, ConditionSyntaxError, parse_condition
from flows.graph_rules import check_graph, check_slot_references
from flows.schema import RawBranch, RawCite, RawFlow, RawSheet, RawStep

DEFINITIONS_DIR = Path(__file__).parent / "definitions"
"""The flows shipped with soudan (ict_adoption, rfi)."""

_SLOT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_RESERVED = {"and", "or", "not", "in", "true", "false"}
_EXPECTED_SHAPES = {
    "list_type": "「- 」で始まる行を並べたリストにしてください。",
    "dict_type": "「名前: 値」を並べた形にしてください。",
    "model_type": "「名前: 値」を並べた形にしてください。",
    "model_attributes_type": "「名前: 値」を並べた形にしてください。",
    "string_type": "文字列にしてください。",
    "bool_type": "true か false にしてください。",
    "bool_parsing": "true か false にしてください。",
    "literal_error": "決められた値にしてください（判断の kind は decision / note / next_step）。",
}
_STEP_FIELDS = {f.alias or name for name, f in RawStep.model_fields.items()}
MAX_NESTING = 50
"""Deepest nesting of lists and mappings a flow file may have (the shipped flows use 6)."""
_KIND_NAMES = ", ".join(kind.value for kind in StepKind)


def load_flows(path: Path | str = DEFINITIONS_DIR) -> dict[str, FlowDefinition]:
    """Load every flow in a directory (``*.yaml``, ``*.yml``), or one file.

    Args:
        path: A directory of flow files or a single file.

    Returns:
        Flow id → validated definition.

    Raises:
        FlowDefinitionError: (a subclass) for the first problem found, naming the
            file, flow and step.
    """
    root = Path(path)
    files = [root] if root.is_file() else sorted([*root.glob("*.yaml"), *root.glob("*.yml")])
    flows: dict[str, FlowDefinition] = {}
    for file in files:
        flow = load_flow_file(file)
        if flow.id in flows:
            raise DuplicateFlowIdError(
                f"フロー ID「{flow.id}」は {flows[flow.id].source} でも定義されています。"
                "ID はファイルごとに別の名前にしてください。",
                source=str(file),
                flow_id=flow.id,
            )
        flows[flow.id] = flow
    if not root.is_file():
        # One file checked alone cannot know its follow-ups; a directory must have them.
        check_follow_ups(flows)
    return flows


def check_follow_ups(flows: dict[str, FlowDefinition]) -> None:
    """Every ``sheet.follow_ups[].flow`` names a loaded flow other than itself.

    Raises:
        UnknownFieldError: naming the flow file and the missing flow id.
    """
    for flow in flows.values():
        for follow_up in flow.sheet.follow_ups:
            if follow_up.flow_id not in flows or follow_up.flow_id == flow.id:
                raise UnknownFieldError(
                    f"sheet.follow_ups の flow「{follow_up.flow_id}」というフローはありません"
                    "（同じフォルダにある別のフローの id を書いてください）。",
                    source=flow.source,
                    flow_id=flow.id,
                )


def load_flow_file(path: Path | str) -> FlowDefinition:
    """Load and validate one flow file.

    Raises:
        FlowDefinitionError: (a subclass) also when the file cannot be read or is not
            UTF-8.
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise FlowSchemaError(
            "文字コードが UTF-8 ではありません。UTF-8 で保存し直してください。", source=file.name
        ) from err
    except OSError as err:
        raise FlowSchemaError(
            f"ファイルを読めません（{type(err).__name__}）。", source=file.name
        ) from err
    return load_flow_text(text, source=file.name)


class _FlowYamlLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses nesting deeper than :data:`MAX_NESTING`.

    PyYAML composes nodes recursively: a few thousand ``[`` would otherwise end in a
    ``RecursionError``.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_NESTING:
                raise _TooDeep(self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _TooDeep(Exception):
    def __init__(self, mark: Any) -> None:
        super().__init__("too deep")
        self.mark = mark


def _parse_yaml(text: str, source: str) -> Any:
    """The YAML document in ``text``, or a Japanese :class:`YamlSyntaxError`."""
    loader = _FlowYamlLoader(text)
    try:
        return loader.get_single_data()
    except _TooDeep as err:
        raise YamlTooDeepError(
            f"入れ子（リストや「名前: 値」の中のリスト）が深すぎます（{_line(err.mark)}）。"
            f"{MAX_NESTING} 段までにしてください。",
            source=source,
        ) from None
    except RecursionError:
        raise YamlTooDeepError(
            f"入れ子が深すぎて読めません。{MAX_NESTING} 段までにしてください。", source=source
        ) from None
    except yaml.constructor.ConstructorError as err:
        tag = _unsupported_tag(err)
        if tag is not None:
            raise UnsupportedYamlTagError(
                f"対応していないタグ「{tag}」が使われています（{_line(err.problem_mark)}）。"
                "フロー定義には「!!python/...」などの「!」で始まるタグは書けません。"
                "タグを消して、ふつうの文字列・数値・リストで書いてください。",
                source=source,
            ) from None
        raise _syntax_error(err, source) from None
    except yaml.YAMLError as err:
        raise _syntax_error(err, source) from None
    finally:
        loader.dispose()


def _unsupported_tag(err: yaml.constructor.ConstructorError) -> str | None:
    match = re.search(r"constructor for the tag '([^']+)'", str(err.problem or ""))
    if match is None:
        return None
    return match.group(1).replace("tag:yaml.org,2002:", "!!")


def _line(mark: Any) -> str:
    return f"{mark.line + 1} 行目付近" if mark is not None else "場所不明"


def _syntax_error(err: yaml.YAMLError, source: str) -> YamlSyntaxError:
    mark = getattr(err, "problem_mark", None)
    where = f"{mark.line + 1} 行目付近" if mark is not None else "どこか"
    return YamlSyntaxError(
        f"YAML として読めません（{where}）。インデントと「:」の後の空白を確認してください。"
        "文の途中に「: 」（コロンと空白）がある値は、"
        '全体を "..." で囲むか「：」（全角）にしてください。',
        source=source,
    )


def load_flow_text(text: str, *, source: str = "<inline>") -> FlowDefinition:
    """Validate YAML text and build the definition.

    Args:
        text: The YAML of one flow.
        source: The file name used in error messages.

    Raises:
        FlowDefinitionError: (a subclass) describing the first problem.
    """
    data = _parse_yaml(text, source)
    if not isinstance(data, dict):
        raise FlowSchemaError(
            "ファイルの一番外側は「id:」「title:」「steps:」などを並べた形にしてください。",
            source=source,
        )
    flow_id = str(data.get("id")) if data.get("id") is not None else None
    _precheck_steps(data, source, flow_id)
    try:
        raw = RawFlow.model_validate(data)
    except ValidationError as err:
        raise _translate(err, data, source, flow_id) from err
    return _build(raw, text, source)


def _precheck_steps(data: dict[str, Any], source: str, flow_id: str | None) -> None:
    """Rules that read better before pydantic: kinds, prompts, duplicate ids."""
    steps = data.get("steps")
    if not isinstance(steps, list):
        return
    seen: set[str] = set()
    for index, raw in enumerate(steps):
        if not isinstance(raw, dict):
            continue
        step_id = str(raw["id"]) if "id" in raw else f"{index + 1} 番目"
        kind = raw.get("kind")
        if kind is not None and kind not in {k.value for k in StepKind}:
            raise UnknownStepKindError(
                f"kind「{kind}」は使えません。次のどれかにしてください: {_KIND_NAMES}",
                source=source,
                flow_id=flow_id,
                step_id=step_id,
            )
        unknown = sorted(str(key) for key in raw if key not in _STEP_FIELDS)
        if unknown:
            raise UnknownFieldError(
                f"「{unknown[0]}」という項目はありません。綴りを確認してください"
                f"（ステップに書ける項目: {', '.join(sorted(_STEP_FIELDS))}）。",
                source=source,
                flow_id=flow_id,
                step_id=step_id,
            )
        prompt = raw.get("prompt")
        if "id" in raw and (not isinstance(prompt, str) or not prompt.strip()):
            raise MissingPromptError(
                "prompt（利用者に表示する質問文）がありません。「prompt:」に質問文を書いてください。",
                source=source,
                flow_id=flow_id,
                step_id=step_id,
            )
        if "id" in raw:
            if step_id in seen:
                raise DuplicateStepIdError(
                    f"ステップ ID「{step_id}」が複数あります。"
                    "ID はステップごとに別の名前にしてください。",
                    source=source,
                    flow_id=flow_id,
                    step_id=step_id,
                )
            seen.add(step_id)


def _translate(
    err: ValidationError, data: dict[str, Any], source: str, flow_id: str | None
) -> FlowDefinitionError:
    first = err.errors()[0]
    loc = [str(part) for part in first["loc"]]
    step_id = None
    if len(loc) >= 2 and loc[0] in ("steps", "outcomes") and loc[1].isdigit():
        entries = data.get(loc[0]) or []
        entry = entries[int(loc[1])] if int(loc[1]) < len(entries) else {}
        key = "id" if loc[0] == "steps" else "name"
        name = entry.get(key) if isinstance(entry, dict) else None
        label = str(name) if name is not None else f"{int(loc[1]) + 1} 番目"
        if loc[0] == "steps":
            step_id = label
        else:
            loc = ["outcomes", f"「{label}」", *loc[2:]]
    field = ".".join(loc[2:] if step_id is not None else loc) or loc[0]
    field = field.replace("if_", "if").replace("else_", "else")
    leaf = loc[-1].replace("if_", "if").replace("else_", "else")

    def located(error: type[FlowDefinitionError], detail: str) -> FlowDefinitionError:
        return error(detail, source=source, flow_id=flow_id, step_id=step_id)

    if first["type"] == "missing":
        return located(MissingFieldError, f"必須の項目「{leaf}」がありません（{field}）。")
    if first["type"] == "extra_forbidden":
        return located(
            UnknownFieldError,
            f"「{leaf}」という項目はありません。綴りを確認してください（{field}）。",
        )
    if first["type"] == "too_short" and loc == ["steps"]:
        return located(MissingFieldError, "steps にステップが1つもありません。")
    expected = _EXPECTED_SHAPES.get(first["type"], f"（{first['msg']}）")
    return located(FlowSchemaError, f"項目「{field}」の値の形が正しくありません。{expected}")


def _build(raw: RawFlow, text: str, source: str) -> FlowDefinition:
    flow_id = raw.id
    step_ids = {step.id for step in raw.steps}
    titles = dict(raw.documents)

    def cites(items: list[RawCite]) -> tuple[Cite, ...]:
        return tuple(
            Cite(doc=c.doc, section=c.section, quote=c.quote, title=titles.get(c.doc, c.doc))
            for c in items
        )

    def condition(expression: str, step_id: str | None, what: str) -> Condition:
        try:
            return parse_condition(expression)
        except ConditionSyntaxError as err:
            raise BadConditionError(
                f"{what}の条件式が正しくありません。{err}",
                source=source,
                flow_id=flow_id,
                step_id=step_id,
            ) from err

    steps = [
        _build_step(raw_step, step_ids, source, flow_id, cites, condition) for raw_step in raw.steps
    ]
    outcomes = []
    for raw_outcome in raw.outcomes:
        what = f"判断「{raw_outcome.name}」"
        outcomes.append(
            Outcome(
                name=raw_outcome.name,
                label=raw_outcome.label or raw_outcome.name,
                condition=condition(raw_outcome.when, None, what),
                when_true=raw_outcome.if_true.strip(),
                when_false=raw_outcome.if_false.strip(),
                cites=cites(raw_outcome.cite),
                kind=raw_outcome.kind,
                yes_label=raw_outcome.yes_label,
                no_label=raw_outcome.no_label,
            )
        )
    plan = _sheet_plan(raw, source, condition)
    definition = FlowDefinition(
        id=flow_id,
        version=raw.version,
        title=raw.title,
        description=raw.description.strip(),
        steps=tuple(steps),
        outcomes=tuple(outcomes),
        source=source,
        definition_hash=hashlib.sha256(text.encode("utf-8")).hexdigest()[:16],
        documents=titles,
        sheet=plan,
    )
    check_slot_references(definition)
    check_graph(definition)
    return definition


def _sheet_plan(raw: RawFlow, source: str, condition: Any) -> SheetPlan:
    """The ``sheet:`` block, its slot and outcome names checked against the flow."""
    sheet: RawSheet = raw.sheet
    slots = {step.slot for step in raw.steps if step.slot}
    money = {step.slot for step in raw.steps if step.slot and step.kind == StepKind.MONEY}
    outcomes = {outcome.name for outcome in raw.outcomes}
    where = {"source": source, "flow_id": raw.id}
    if sheet.subject is not None and sheet.subject not in slots:
        raise UnknownFieldError(
            f"sheet.subject の「{sheet.subject}」という slot はこのフローにありません。", **where
        )
    if sheet.cost is not None and sheet.cost not in money:
        raise UnknownFieldError(
            f"sheet.cost には kind: money のステップの slot を書いてください（「{sheet.cost}」）。",
            **where,
        )
    for name in sheet.digest:
        if name not in outcomes:
            raise UnknownFieldError(
                f"sheet.digest の「{name}」という判断（outcomes の name）はこのフローにありません。",
                **where,
            )
    for part, slot in sheet.parts.items():
        if part not in KNOWN_PARTS:
            raise UnknownFieldError(
                f"sheet.parts の「{part}」という文書の項目はありません"
                f"（使える項目: {'、'.join(sorted(KNOWN_PARTS))}）。",
                **where,
            )
        if slot not in slots:
            raise UnknownFieldError(
                f"sheet.parts の「{part}」に書いた「{slot}」という slot はこのフローにありません。",
                **where,
            )
    return SheetPlan(
        entry=sheet.entry,
        subject=sheet.subject,
        cost=sheet.cost,
        digest=tuple(sheet.digest),
        follow_ups=tuple(
            FollowUp(f.flow, f.label, condition(f.when, None, f"sheet.follow_ups「{f.flow}」"))
            for f in sheet.follow_ups
        ),
        document=sheet.document,
        parts=dict(sheet.parts),
    )


def _build_step(
    raw: RawStep,
    step_ids: set[str],
    source: str,
    flow_id: str,
    cites: Any,
    condition: Any,
) -> Step:
    where = {"source": source, "flow_id": flow_id, "step_id": raw.id}
    kind = StepKind(raw.kind)
    if raw.id == END:
        raise FlowSchemaError(
            f"「{END}」はフローの終わりを表す予約語なので、ステップ ID に使えません。", **where
        )
    if kind is not StepKind.CONFIRM and not raw.slot:
        raise MissingFieldError(
            "slot（回答を保存する名前）がありません。「slot:」に英字の名前を書いてください。",
            **where,
        )
    if raw.slot and (not _SLOT_RE.match(raw.slot) or raw.slot in _RESERVED):
        raise FlowSchemaError(
            f"slot「{raw.slot}」は使えない名前です。英字で始まる英数字と「_」だけにしてください"
            "（and / or / not / in / true / false は使えません）。",
            **where,
        )
    if kind is StepKind.CHOICE:
        values = [option.value for option in raw.options]
        if len(values) < 2:
            raise InvalidOptionsError(
                "choice のステップには options を2つ以上書いてください。", **where
            )
        if len(set(values)) != len(values):
            raise InvalidOptionsError(
                "options の value が重複しています。別々の値にしてください。", **where
            )
    elif raw.options:
        raise InvalidOptionsError(
            f"options は choice のステップにだけ書けます（このステップは {kind.value}）。", **where
        )
    if raw.optional and kind is not StepKind.TEXT:
        raise FlowSchemaError("optional: true は text のステップにだけ書けます。", **where)
    branches = _branches(raw, step_ids, where, condition)
    return Step(
        id=raw.id,
        kind=kind,
        prompt=(raw.prompt or "").strip(),
        slot=raw.slot,
        label=raw.label or raw.slot or raw.id,
        next=branches,
        help=raw.help.strip(),
        cites=cites(raw.cite),
        options=tuple(Option(o.value, o.label) for o in raw.options),
        optional=raw.optional,
    )


def _branches(
    raw: RawStep, step_ids: set[str], where: dict[str, Any], condition: Any
) -> tuple[Branch, ...]:
    def target(name: str) -> str:
        if name != END and name not in step_ids:
            raise UnknownNextStepError(
                f"次のステップ「{name}」が見つかりません。"
                f"存在するステップ ID か「{END}」を書いてください。",
                **where,
            )
        return name

    if raw.next is None:
        return ()
    if isinstance(raw.next, str):
        return (Branch(target(raw.next)),)
    branches: list[Branch] = []
    for index, item in enumerate(raw.next):
        is_last = index == len(raw.next) - 1
        if item.else_ is not None:
            if item.if_ is not None or item.then is not None or not is_last:
                raise FlowSchemaError("「else:」は分岐の最後に単独で書いてください。", **where)
            branches.append(Branch(target(item.else_)))
        else:
            _check_if_then(item, where)
            assert item.if_ is not None and item.then is not None
            branches.append(Branch(target(item.then), condition(item.if_, raw.id, "分岐")))
    if branches[-1].condition is not None:
        raise MissingFieldError(
            "分岐（next のリスト）の最後に、"
            "どの条件にも当てはまらない場合の「- else: ステップID」を書いてください。",
            **where,
        )
    return tuple(branches)


def _check_if_then(item: RawBranch, where: dict[str, Any]) -> None:
    if item.if_ is None or item.then is None:
        missing = "if" if item.if_ is None else "then"
        raise MissingFieldError(
            f"分岐に「{missing}:」がありません。"
            "「- if: 条件式」と「then: ステップID」を組にしてください。",
            **where,
        )
