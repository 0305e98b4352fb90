"""Flow engine outputs -> neutral parts (buttons, typed questions, the confirm form)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from bot.core.messages import (
    Action,
    Choice,
    Choices,
    Citation,
    CitationList,
    Form,
    FormField,
    Part,
    SheetSummary,
    Text,
)
from flows import (
    AnswerField,
    Cite,
    Completed,
    ConfirmView,
    Decision,
    FlowDefinition,
    FlowOutput,
    Notice,
    Prompt,
)

EDIT_TITLE = "修正する項目を選ぶ"
EDIT_SUBMIT_LABEL = "修正して確定する"


class FlowView:
    """Renders one flow's outputs for one flow session.

    Buttons carry ``Action("flow.answer", value, ref="<session id>:<step id>")`` so that
    a click on an old button (another session, an earlier step) is recognised.
    """

    def __init__(self, definition: FlowDefinition, titles: Mapping[str, str]) -> None:
        self.definition = definition
        self.titles = titles

    def render(
        self,
        outputs: Sequence[FlowOutput],
        *,
        session_id: str,
        sheet: tuple[str, str, str] = ("", "（未採番）", "下書き"),
    ) -> list[Part]:
        """Parts for ``outputs``; ``sheet`` is the sheet's (id, reference, status label)."""
        parts: list[Part] = []
        for output in outputs:
            if isinstance(output, Notice):
                parts.append(Text(("⚠️ " if output.level == "warning" else "") + output.text))
            elif isinstance(output, Prompt):
                parts.extend(self._prompt(output, session_id))
            elif isinstance(output, ConfirmView):
                parts.extend(self._confirm(output, session_id, sheet))
            elif isinstance(output, Decision):
                parts.extend(self.decisions([output]))
            elif isinstance(output, Completed):
                parts.extend(self.decisions(output.decisions))
        return parts

    # --- pieces ---------------------------------------------------------------------------

    def _prompt(self, prompt: Prompt, session_id: str) -> list[Part]:
        lines = []
        if prompt.error:
            lines.append(f"⚠️ {prompt.error}")
        lines.append(f"Q{prompt.position}. {prompt.text}")
        if prompt.help:
            lines.append(prompt.help)
        if prompt.current_answer:
            lines.append(f"（前回の回答: {prompt.current_answer}）")
        if not prompt.buttons and prompt.hint:
            lines.append(prompt.hint)
        parts: list[Part] = [Text("\n".join(lines))]
        if prompt.cites:
            parts.append(CitationList(self.citations(prompt.cites)))
        ref = f"{session_id}:{prompt.step_id}"
        options = [
            Choice(option.label, Action("flow.answer", option.value, ref))
            for option in (prompt.options if prompt.buttons else ())
        ]
        if prompt.optional and not prompt.buttons:
            options.append(Choice("特になし", Action("flow.answer", "特になし", ref)))
        options += self._navigation(session_id, can_go_back=prompt.can_go_back)
        parts.append(Choices("", tuple(options)))
        return parts

    def _confirm(
        self, view: ConfirmView, session_id: str, sheet: tuple[str, str, str]
    ) -> list[Part]:
        parts: list[Part] = []
        if view.error:
            parts.append(Text(f"⚠️ {view.error}"))
        parts.append(Text(view.text))
        parts.append(
            SheetSummary(sheet_id=sheet[0], reference=sheet[1], status=sheet[2], rows=view.rows)
        )
        parts.extend(self.decisions(view.decisions))
        ref = f"{session_id}:{view.step_id}"
        parts.append(
            Form(
                title=EDIT_TITLE,
                fields=tuple(self.editable_fields(view)),
                submit=Action("flow.submit", session_id, ref),
                submit_label=EDIT_SUBMIT_LABEL,
                reopen=Action("flow.resume", session_id),
                pick=Action("flow.edit_field", "", ref),
            )
        )
        options = [
            Choice("この内容で確定する", Action("flow.answer", "submit", ref), "primary"),
            *self._navigation(session_id, can_go_back=view.can_go_back),
        ]
        parts.append(Choices("", tuple(options)))
        return parts

    def decisions(self, decisions: Iterable[Decision]) -> list[Part]:
        """Each decision with numbered references into one citation list.

        Quotes from the same clause (document + section path) share one number.
        """
        lines: list[str] = []
        clauses: dict[tuple[str, str], list[Cite]] = {}
        for decision in decisions:
            numbers: list[int] = []
            for cite in decision.cites:
                quotes = clauses.setdefault((cite.doc, cite.section), [])
                if cite not in quotes:
                    quotes.append(cite)
                number = list(clauses).index((cite.doc, cite.section)) + 1
                if number not in numbers:
                    numbers.append(number)
            marks = "".join(f"[{n}]" for n in numbers)
            lines.append(f"■ {decision.label}: {decision.statement}{marks}")
        if not lines:
            return []
        parts: list[Part] = [Text("判断結果と次の手順:\n" + "\n".join(lines))]
        if clauses:
            parts.append(CitationList(tuple(self._clause(q) for q in clauses.values())))
        return parts

    def _clause(self, quotes: list[Cite]) -> Citation:
        first = quotes[0]
        return Citation(
            doc=first.doc,
            title=first.title or self.titles.get(first.doc, first.doc),
            section=first.section,
            text=" … ".join(q.quote for q in quotes if q.quote),
        )

    def citations(self, cites: Iterable[Cite]) -> tuple[Citation, ...]:
        return tuple(self._clause([cite]) for cite in cites)

    @staticmethod
    def editable_fields(view: ConfirmView) -> list[FormField]:
        """The answers on the current path as form fields (each reads back unchanged)."""
        return FlowView.editable_fields_of(view.fields)

    @staticmethod
    def editable_fields_of(fields: Iterable[AnswerField]) -> list[FormField]:
        """``fields`` as form fields, in order."""
        return [
            FormField(name=f.slot, label=f.label, value=f.value, multiline=f.multiline)
            for f in fields
        ]

    @staticmethod
    def field_form(field: FormField, *, session_id: str, step_id: str) -> Form:
        """The edit form for the one field picked at the confirm step."""
        ref = f"{session_id}:{step_id}"
        return Form(
            title=f"修正: {field.label}",
            fields=(field,),
            submit=Action("flow.submit", session_id, ref),
            submit_label=EDIT_SUBMIT_LABEL,
            reopen=Action("flow.edit_field", field.name, ref),
        )

    @staticmethod
    def _navigation(session_id: str, *, can_go_back: bool) -> list[Choice]:
        options = []
        if can_go_back:
            options.append(Choice("戻る", Action("flow.back", session_id)))
        options.append(Choice("相談をやめる", Action("flow.cancel", session_id), "danger"))
        return options
