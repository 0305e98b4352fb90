"""Refusing well: on-topic questions the loaded documents do not answer.

The retrieval confidence (``KnowledgeBase.is_answerable``) separates off-topic chat, but
an on-topic near miss -- another city's rule, a figure the text does not state, a topic
the documents never mention -- matches the corpus as well as an answerable question. Three
general rules catch those, each with a Japanese explanation:

* **place**: the question names a place (SudachiDict 固有名詞・地名) that occurs in no
  loaded document (「横浜市だと…」);
* **term**: it names a Latin-letter term of three or more letters that occurs in no
  loaded document (ISMAP, ChatGPT): the subject itself is not covered;
* **figure**: it asks for a figure (いくら・何円・何日・何社・何% …, or a quantity of any
  unit for どのくらい・どれくらい・どの程度) and the passages the answer would rest on hold
  no number of that kind;
* **organisation**: it asks which company or vendor (どこの会社・業者名・ベンダーは
  どこ …) and those passages name no organisation (SudachiDict 固有名詞・組織名, or a company form
  such as 株式会社): guidelines describe roles, not who won a contract.

The rules are written from the Japanese question words and units, not from the wording of
any evaluation question; their effect is measured on the near-miss split by
``soudan eval`` (abstain precision / recall on the tune and check halves).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from knowledge.lexical import JapaneseTokenizer, normalize_text
from knowledge.types import Hit

_NUMBER = r"(?:\d[\d,．.]*|[一二三四五六七八九十百千万]+)"
_YEARS = (
    r"(?<![\d元])(?<!令和)(?<!平成)(?<!昭和)(?<!令和\s)(?<!平成\s)(?<!昭和\s)"
    r"(?:\d{1,2}|[一二三四五六七八九十]+)\s*(?:か|ヶ|カ|ケ|箇)?年(?!度)"
)
"""A number of years (「12年間」「5年ごと」), not a date: an era year (平成17年) or a
four-digit year (2026年) does not answer 「何年？」."""
_SEVERAL = r"複数|数(?:社|名|人|件|回)"
"""A count the text gives in words (「複数の事業者」) answers 「何社？」 too."""
_FIGURES: tuple[tuple[re.Pattern[str], re.Pattern[str]], ...] = tuple(
    (re.compile(question), re.compile(answer))
    for question, answer in (
        (
            r"何日|何(?:営業|開庁|稼働|執務)日|何曜",
            _NUMBER + r"\s*(?:営業|開庁|稼働|執務)?日|[月火水木金土日]曜",
        ),
        (r"何時間|何分", _NUMBER + r"\s*(?:時間|分)"),
        (r"何(?:か|ヶ|カ|ケ|箇)月", _NUMBER + r"\s*(?:か|ヶ|カ|ケ|箇)月"),
        (r"何年度", r"(?:令和|平成|昭和)\s*(?:元|" + _NUMBER + r")\s*年度|" + _NUMBER + r"\s*年度"),
        (r"何年(?!度)", _YEARS + r"|毎年|年\s*" + _NUMBER + r"\s*回"),
        (r"何件", _NUMBER + r"\s*件|" + _SEVERAL),
        (r"何社", _NUMBER + r"\s*社|" + _SEVERAL),
        (r"何人|何名", _NUMBER + r"\s*(?:人|名)|" + _SEVERAL),
        (r"何回|何度", _NUMBER + r"\s*(?:回|度)|" + _SEVERAL),
        (r"何点", _NUMBER + r"\s*点"),
        (
            r"何(?:%|％|パーセント|割)",
            _NUMBER + r"\s*(?:%|％|パーセント|割)|\d+\s*/\s*\d+|" + _NUMBER + "分の",
        ),
        (
            r"いくら|何円|何万|金額|単価|総額|予定価格|相場|費用感",
            _NUMBER + r"\s*(?:万|億|千)?円",
        ),
    )
)


_HOW_MUCH = re.compile(r"どのくらい|どれくらい|どのぐらい|どれぐらい|どの程度|どれほど|どれだけ")
_QUANTITY = re.compile(
    _NUMBER + r"\s*(?:%|％|割|円|万|億|人|名|件|回|度|時間|分|日|か月|ヶ月|カ月|年(?!度)|社|点|倍|台)"
    r"|\d+\s*/\s*\d+|毎(?:年|月|週|日)|(?:年|月|週|日)次|四半期|随時|適宜|都度|常時"
)
"""What answers 「どのくらい」: a number with a unit, a share (1/3), or a count or frequency
the text gives in words (毎月・年次・四半期・随時 …; not 「複数」, which says how many, not how
much or how long)."""


def asked_figures(question: str) -> list[re.Pattern[str]]:
    """What a text must hold to answer the figures ``question`` asks for (empty: none)."""
    folded = unicodedata.normalize("NFKC", question)
    found = [holds for asks, holds in _FIGURES if asks.search(folded)]
    if not found and _HOW_MUCH.search(folded):
        found.append(_QUANTITY)
    return found


def without_citations(text: str) -> str:
    """An answer's text without its citation marks (「…とする。[1]」)."""
    return re.sub(r"\[\d+\]", "", text)


_SUFFICIENT = re.compile(r"(?<![\d一二三四五六七八九十百千万])十分")
"""「十分に確認」 (sufficiently) is not ten minutes; 「三十分」 is thirty."""


def holds_figure(text: str, patterns: Sequence[re.Pattern[str]]) -> bool:
    folded = unicodedata.normalize("NFKC", without_citations(text))
    folded = _SUFFICIENT.sub("充分", folded)
    return any(pattern.search(folded) for pattern in patterns)


FIGURE_NOT_STATED = "ご質問の数値は、ガイドラインの該当箇所に記載が見当たりません。"
ORGANISATION_NOT_STATED = "ご質問の会社名・事業者名は、ガイドラインに記載が見当たりません。"

_ASKS_ORGANISATION = re.compile(
    r"(?:どこ|どちら|どの)の?(?:会社|業者|事業者|ベンダー|ベンダ|企業|メーカー)"
    r"|(?:会社|業者|事業者|ベンダー|ベンダ|企業|メーカー)(?:名|の名前)"
    r"|(?:会社|業者|事業者|ベンダー|ベンダ|企業|メーカー)(?:って|は)(?:どこ(?!まで|に|で|から|を)|誰|だれ)"
)
_ORGANISATION_POS = {("固有名詞", "組織名")}
"""Not 固有名詞・一般: SudachiDict tags product and system names (LGWAN, Excel) so too,
and guidelines that hold one would then seem to name the contractor."""
_COMPANY_FORM = re.compile(r"株式会社|有限会社|合同会社|\(株\)|（株）|㈱")


_PLACE_SUFFIX = re.compile(r"(都|道|府|県|市|区|町|村)$")
_LATIN_TERM = re.compile(r"[a-z][a-z0-9]{2,}")
FIGURE_PASSAGES = 3
"""The passages the answer may rest on (the composer uses at most three)."""


@dataclass(frozen=True)
class Refusal:
    """Why a question is declined, and what to tell the user (Japanese)."""

    rule: str
    text: str


class RefusalRules:
    """The near-miss rules over one corpus (rebuild after an ingest)."""

    def __init__(self, tokenizer: JapaneseTokenizer, texts: Sequence[str], places: Sequence[str]):
        self.tokenizer = tokenizer
        self.corpus = normalize_text("\n".join(texts))
        self.places = "・".join(dict.fromkeys(places)) or "読み込んだ文書"

    def check(self, question: str, hits: Sequence[Hit]) -> Refusal | None:
        """The first rule the question breaks, or None."""
        for place in self._places(question):
            if not self._in_corpus(place):
                return Refusal(
                    "place",
                    f"「{place}」についての記載は、読み込んでいるガイドライン（{self.places}）には"
                    "ありません。",
                )
        normalized = normalize_text(question)
        for term in _LATIN_TERM.findall(normalized):
            if term not in self.corpus:
                return Refusal(
                    "term",
                    f"「{_original(question, term)}」はガイドラインに記載がないため、お答えできません。",
                )
        text = " ".join(h.passage.text for h in hits[:FIGURE_PASSAGES])
        for pattern in asked_figures(question):
            if not holds_figure(text, [pattern]):
                return Refusal("figure", FIGURE_NOT_STATED)
        if _ASKS_ORGANISATION.search(unicodedata.normalize("NFKC", question)) and not (
            self._names_organisation(text)
        ):
            return Refusal("organisation", ORGANISATION_NOT_STATED)
        return None

    def _names_organisation(self, text: str) -> bool:
        """True when ``text`` names a company (Sudachi 組織名 or a company form)."""
        from sudachipy import SplitMode

        folded = unicodedata.normalize("NFKC", text)
        if _COMPANY_FORM.search(folded):
            return True
        tokenizer = self.tokenizer._load()
        return any(
            m.part_of_speech()[1:3] in _ORGANISATION_POS
            for m in tokenizer.tokenize(folded[:20000], SplitMode.C)
        )

    @staticmethod
    def check_answer(question: str, answer_text: str) -> Refusal | None:
        """A composed answer to a figure question that states no such figure is declined:
        the sentences chosen do not answer what was asked."""
        patterns = asked_figures(question)
        if patterns and not holds_figure(answer_text, patterns):
            return Refusal("figure", FIGURE_NOT_STATED)
        return None

    def _places(self, question: str) -> list[str]:
        from sudachipy import SplitMode

        tokenizer = self.tokenizer._load()
        return [
            m.surface()
            for m in tokenizer.tokenize(unicodedata.normalize("NFKC", question), SplitMode.C)
            if m.part_of_speech()[1:3] == ("固有名詞", "地名")
        ]

    def _in_corpus(self, place: str) -> bool:
        place = normalize_text(place)
        stem = _PLACE_SUFFIX.sub("", place)
        return place in self.corpus or (len(stem) >= 2 and stem in self.corpus)


def _original(question: str, term: str) -> str:
    """The term as the user wrote it (case and width), for the message."""
    folded = unicodedata.normalize("NFKC", question)
    start = folded.lower().find(term)
    return folded[start : start + len(term)] if start >= 0 else term
