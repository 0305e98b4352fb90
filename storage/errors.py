"""Errors raised by the storage layer.

Every error a person may end up reading carries a Japanese message that says what
happened and what to do next; the attributes carry the machine-readable details.
"""

from __future__ import annotations


class StorageError(Exception):
    """Base class of every error raised by :mod:`storage`."""


class NotFoundError(StorageError):
    """A row that the caller named does not exist."""

    def __init__(self, kind: str, key: str) -> None:
        self.kind = kind
        self.key = key
        super().__init__(f"{kind}「{key}」が見つかりません。番号を確認してください。")


class IllegalTransitionError(StorageError):
    """A 相談シート status change that the lifecycle does not allow."""

    def __init__(self, message: str, *, from_status: str, to_status: str) -> None:
        self.from_status = from_status
        self.to_status = to_status
        super().__init__(message)


class SheetNotEditableError(StorageError):
    """The sheet's content cannot be changed in its current status."""

    def __init__(self, message: str, *, status: str) -> None:
        self.status = status
        super().__init__(message)


class StaleSessionError(StorageError):
    """Someone saved the flow session first (optimistic concurrency).

    The caller should reload the session and re-apply the user's input, or tell the
    user that the conversation moved on elsewhere.
    """

    def __init__(self, flow_session_id: str, expected_version: int) -> None:
        self.flow_session_id = flow_session_id
        self.expected_version = expected_version
        super().__init__(
            "この相談は別の操作で先に更新されました。もう一度入力してください。"
        )


class ActiveSessionExistsError(StorageError):
    """The conversation already has an active flow session."""

    def __init__(self, conversation: str) -> None:
        self.conversation = conversation
        super().__init__(
            "この会話では相談がすでに進行中です。続ける場合はそのまま回答し、"
            "やめる場合は「やめる」と送ってください。"
        )


class AppendOnlyError(StorageError):
    """An attempt to change or delete an 監査ログ (audit log) row."""

    def __init__(self) -> None:
        super().__init__("監査ログは追記のみです。既存の記録は変更・削除できません。")
