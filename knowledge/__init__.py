"""Knowledge side of soudan: guideline documents -> hybrid retrieval -> cited answers.

Heavy pieces (Chroma, LangChain, torch) load only when first used, so importing this
package is cheap; ``KnowledgeBase`` and ``IngestReport`` are resolved lazily.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from knowledge.config import KnowledgeConfig
from knowledge.types import Answer, AnswerComposer, Hit, Passage, QuestionAnswerer

if TYPE_CHECKING:
    from knowledge.ingestion import IngestReport
    from knowledge.knowledge_base import KnowledgeBase

__all__ = [
    "Answer",
    "AnswerComposer",
    "Hit",
    "IngestReport",
    "KnowledgeBase",
    "KnowledgeConfig",
    "Passage",
    "QuestionAnswerer",
]


def __getattr__(name: str) -> Any:
    if name == "KnowledgeBase":
        from knowledge.knowledge_base import KnowledgeBase

        return KnowledgeBase
    if name == "IngestReport":
        from knowledge.ingestion import IngestReport

        return IngestReport
    raise AttributeError(name)
