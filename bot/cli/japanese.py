"""The CLI's own words (help, usage, errors from click and typer) in Japanese.

click and typer look their messages up through ``gettext``; with no Japanese
catalogue shipped, an operator would read 「Show this message and exit.」 and
「Missing argument 'REFERENCE'.」. :func:`install` puts a small Japanese catalogue in
front of those look-ups (unknown messages stay as they are). It imports nothing
heavy: ``soudan --help`` must stay fast.

Example:
    >>> install()
    >>> import click.decorators
    >>> click.decorators._("Show this message and exit.")
    'このヘルプを表示して終了します。'
"""

from __future__ import annotations

import re
from types import ModuleType
from typing import Any

MESSAGES: dict[str, str] = {
    "Show this message and exit.": "このヘルプを表示して終了します。",
    "Usage:": "使い方:",
    "Options": "オプション",
    "Arguments": "引数",
    "Commands": "コマンド",
    "Positional arguments": "引数",
    "Error": "エラー",
    "Error: {message}": "エラー: {message}",
    "Aborted!": "中断しました。",
    "Aborted.": "中断しました。",
    "Missing argument": "引数がありません",
    "Missing option": "オプションがありません",
    "Missing parameter": "指定がありません",
    "Missing {param_type}": "{param_type} がありません",
    "Missing parameter: {param_name}": "指定がありません: {param_name}",
    "Missing command.": "コマンドを指定してください。",
    "No such option {name!r}.": "オプション {name!r} はありません。",
    "No such command {name!r}.": "コマンド {name!r} はありません。",
    "Did you mean {possibility}?": "{possibility} のことですか？",
    "(Did you mean one of: {possibilities}?)": "（次のどれかのことですか: {possibilities}）",
    "Try '{command} {option}' for help.": "使い方は「{command} {option}」で確認できます。",
    "Try [blue]'{command_path} {help_option}'[/] for help.":
        "使い方は [blue]「{command_path} {help_option}」[/] で確認できます。",
    "Invalid value: {message}": "値が正しくありません: {message}",
    "Invalid value for {param_hint}: {message}": "{param_hint} の値が正しくありません: {message}",
    "Got unexpected extra argument ({args})": "余分な引数があります（{args}）。",
    "Got unexpected extra arguments ({args})": "余分な引数があります（{args}）。",
    "Option {name!r} requires an argument.": "オプション {name!r} には値を指定してください。",
    "Option {name!r} requires {nargs} arguments.":
        "オプション {name!r} には値を {nargs} 個指定してください。",
    "Option {name!r} does not take a value.": "オプション {name!r} には値を指定できません。",
    "{value!r} is not a valid {number_type}.": "{value!r} は{number_type}として読めません。",
    "integer": "整数",
    "float": "数値",
    "{value!r} is not {choice}.": "{value!r} は使えません（使えるのは {choice}）。",
    "{value!r} is not one of {choices}.": "{value!r} は使えません（使えるのは {choices}）。",
    "{value} is not in the range {range}.": "{value} は範囲 {range} の外です。",
    "{name} {filename!r} does not exist.": "{name} {filename!r} がありません。",
    "{name} {filename!r} is a file.": "{name} {filename!r} はファイルです。",
    "{name} {filename!r} is a directory.": "{name} {filename!r} はフォルダーです。",
    "{name} {filename!r} is not readable.": "{name} {filename!r} を読めません。",
    "{name} {filename!r} is not writable.": "{name} {filename!r} に書き込めません。",
    "file": "ファイル",
    "directory": "フォルダー",
    "path": "パス",
    "[default: {}]": "[既定: {}]",
    "[env var: {}]": "[環境変数: {}]",
    "[required]": "[必須]",
    "default: {default}": "既定: {default}",
    "env var: {var}": "環境変数: {var}",
    "required": "必須",
    "(deprecated) ": "（非推奨）",
    "(dynamic)": "（実行時に決定）",
}

_RICH_CONSTANTS = {
    "DEFAULT_STRING": "[default: {}]",
    "ENVVAR_STRING": "[env var: {}]",
    "REQUIRED_LONG_STRING": "[required]",
    "ARGUMENTS_PANEL_TITLE": "Arguments",
    "OPTIONS_PANEL_TITLE": "Options",
    "COMMANDS_PANEL_TITLE": "Commands",
    "ERRORS_PANEL_TITLE": "Error",
    "ABORTED_TEXT": "Aborted.",
    "RICH_HELP": "Try [blue]'{command_path} {help_option}'[/] for help.",
    "DEPRECATED_STRING": "(deprecated) ",
}


def gettext(message: str) -> str:
    """The Japanese for one of click's / typer's messages (the message itself otherwise)."""
    return MESSAGES.get(message, message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """Plural-aware look-up; Japanese has one form."""
    return gettext(singular if count == 1 else plural)


def _patch(module: ModuleType, name: str, value: object) -> None:
    if hasattr(module, name):
        setattr(module, name, value)


def install() -> None:
    """Make click and typer speak Japanese (idempotent)."""
    import click.core
    import click.decorators
    import click.exceptions
    import click.formatting
    import click.parser
    import click.types
    import typer.core
    import typer.rich_utils

    modules = (
        click.core, click.decorators, click.exceptions, click.formatting, click.parser,
        click.types, typer.core, typer.rich_utils,
    )
    for module in modules:
        _patch(module, "_", gettext)
        _patch(module, "ngettext", ngettext)
    for constant, english in _RICH_CONSTANTS.items():
        _patch(typer.rich_utils, constant, gettext(english))
    _install_vendored_click()


HELP_OPTION_TEXT = MESSAGES["Show this message and exit."]
_EXTRA_ARGS = re.compile(r"^Got unexpected extra argument(?:\(s\)|s)? \((?P<args>.*)\)$")
_VALUE_PROBLEMS = (
    ("Input should be a valid integer", "整数で指定してください。"),
    ("Input should be a valid number", "数値で指定してください。"),
    ("Input should be a valid boolean", "true か false で指定してください。"),
    ("Input should be a valid date", "日付（例: 2026-11-20）で指定してください。"),
    ("Input should be", "値の形が正しくありません。"),
)


def _value_problem(message: str) -> str:
    for english, japanese in _VALUE_PROBLEMS:
        if message.startswith(english):
            return japanese
    return message
_NO_SUCH_OPTION = re.compile(r"^No such option: (?P<name>.*)$")


def _install_vendored_click() -> None:
    """typer vendors click (``typer._click``) with its English written inline."""
    try:
        from typer._click import core, exceptions, formatting
    except ImportError:  # an older typer: the gettext look-ups above cover it
        return
    if getattr(core, "_soudan_japanese", False):
        return
    core._soudan_japanese = True  # type: ignore[attr-defined]

    get_help_option = core.Command.get_help_option

    def japanese_help_option(self: Any, ctx: Any) -> Any:
        option = get_help_option(self, ctx)
        if option is not None:
            option.help = HELP_OPTION_TEXT
        return option

    core.Command.get_help_option = japanese_help_option  # type: ignore[method-assign]

    write_usage = formatting.HelpFormatter.write_usage

    def japanese_usage(self: Any, prog: str, args: str = "", prefix: str | None = None) -> None:
        write_usage(self, prog, args, "使い方: " if prefix is None else prefix)

    formatting.HelpFormatter.write_usage = japanese_usage  # type: ignore[method-assign]

    fail = core.Context.fail

    def japanese_fail(self: Any, message: str) -> Any:
        extra = _EXTRA_ARGS.match(message)
        if extra:
            message = f"余分な引数があります（{extra['args']}）。"
        return fail(self, message)

    core.Context.fail = japanese_fail  # type: ignore[method-assign]

    def hint_of(error: Any) -> str | None:
        hint = error.param_hint
        if hint is None and error.param is not None:
            hint = error.param.get_error_hint()
        if hint is None:
            return None
        return " / ".join(hint) if isinstance(hint, list | tuple) else str(hint)

    def bad_parameter(self: Any) -> str:
        hint = hint_of(self)
        problem = _value_problem(str(self.message))
        if hint is None:
            return f"値が正しくありません: {problem}"
        return f"{hint} の値が正しくありません: {problem}"

    def missing_parameter(self: Any) -> str:
        hint = hint_of(self)
        kind = self.param_type or (self.param.param_type_name if self.param else "")
        what = {"argument": "引数", "option": "オプション"}.get(kind, "指定")
        named = f" {hint}" if hint else ""
        return f"{what}{named} を指定してください。"

    exceptions.BadParameter.format_message = bad_parameter  # type: ignore[method-assign]
    exceptions.MissingParameter.format_message = missing_parameter  # type: ignore[method-assign]

    no_such_option_init = exceptions.NoSuchOption.__init__

    def japanese_no_such_option(self: Any, option_name: str, message: str | None = None,
                                possibilities: Any = None, ctx: Any = None) -> None:
        no_such_option_init(self, option_name, message, possibilities, ctx)
        found = _NO_SUCH_OPTION.match(self.message)
        if found:
            self.message = f"オプション {found['name']} はありません。"

    exceptions.NoSuchOption.__init__ = japanese_no_such_option  # type: ignore[method-assign]
