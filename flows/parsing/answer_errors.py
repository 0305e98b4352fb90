"""The one error type of the answer parsers."""

from __future__ import annotations


class AnswerNotUnderstood(ValueError):
    """The user's answer could not be read.

    Attributes:
        reask: Japanese text that says why and what form to type, ready to show.
    """

    def __init__(self, reask: str) -> None:
        self.reask = reask
        super().__init__(reask)
