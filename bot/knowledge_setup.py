"""The knowledge side as the bot configures it: settings -> ``KnowledgeConfig`` -> ``KnowledgeBase``.

Kept light (no typer, no storage) so that ``soudan model build`` and the server import
only what they need.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from bot.settings import Settings
from knowledge.config import KnowledgeConfig

if TYPE_CHECKING:
    from knowledge.knowledge_base import KnowledgeBase


def knowledge_config(settings: Settings) -> KnowledgeConfig:
    """Map the bot's settings onto the knowledge side's configuration."""
    return KnowledgeConfig(
        docs_dir=settings.docs_dir,
        chroma_path=settings.chroma_path,
        embedding_model=settings.effective_embedding_model,
        corpus_catalog=settings.effective_corpus_catalog,
        chroma_url=settings.chroma_url,
        collection=settings.chroma_collection,
        top_k=settings.top_k,
        max_document_bytes=settings.max_document_bytes,
        bundled_model_dir=settings.bundled_model_dir,
    )


def open_knowledge(settings: Settings, *, warm: bool = False) -> KnowledgeBase:
    """The knowledge base the conversation core uses (cheap: everything loads lazily).

    Args:
        settings: The settings.
        warm: Load the model and indexes in a background thread now, so that the first
            question does not wait for them (chat and server start-up).
    """
    from knowledge.knowledge_base import KnowledgeBase

    knowledge = KnowledgeBase(knowledge_config(settings))
    if warm:
        threading.Thread(target=knowledge.warm_up, name="knowledge-warm-up", daemon=True).start()
    return knowledge
