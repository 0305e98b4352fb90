"""Japanese answer parsing: yes/no, money, numbers, dates and periods.

Each parser either returns a value or raises :class:`AnswerNotUnderstood` whose
``reask`` is a Japanese sentence telling the user what form to type. ``parse_yes_no``
returns ``None`` for an ambiguous answer instead, so callers can re-ask.
"""

from flows.parsing.answer_errors import AnswerNotUnderstood
from flows.parsing.money import parse_money
from flows.parsing.numbers import parse_number
from flows.parsing.periods import Period, parse_period
from flows.parsing.yes_no import parse_yes_no

__all__ = [
    "AnswerNotUnderstood",
    "Period",
    "parse_money",
    "parse_number",
    "parse_period",
    "parse_yes_no",
]
