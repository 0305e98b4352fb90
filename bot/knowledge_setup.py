"""The knowledge side as the bot configures it: settings -> ``KnowledgeConfig`` -> ``KnowledgeBase``.

Kept light (no typer, no storage) so that ``soudan model build`` and the server import
only what they need.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.settings import Settings
from knowledge.config import KnowledgeConfig

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from knowledge.knowledge_base import KnowledgeBase
    from knowledge.types import AnswerComposer

_NO_API_KEY = "not-needed"
"""Sent when no key is configured (vLLM, Ollama and llama.cpp accept any), so that the
client never falls back to an ``OPENAI_API_KEY`` of the environment."""


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

    knowledge = KnowledgeBase(knowledge_config(settings), wrap_composer=llm_composer(settings))
    if warm:
        threading.Thread(target=knowledge.warm_up, name="knowledge-warm-up", daemon=True).start()
    return knowledge


def chat_model(settings: Settings) -> BaseChatModel:
    """The chat model on the configured OpenAI-compatible endpoint (no request is made).

    One attempt per question (``max_retries=0``) within ``llm_timeout`` seconds: on any
    failure the extractive answer is shown instead.
    """
    from langchain_openai import ChatOpenAI
    from pydantic import SecretStr

    return ChatOpenAI(
        model=settings.llm_model,
        base_url=settings.llm_base_url,
        api_key=settings.llm_api_key or SecretStr(_NO_API_KEY),
        timeout=settings.llm_timeout,
        max_retries=0,
        max_tokens=settings.llm_max_tokens,
        temperature=0,
    )


def llm_composer(settings: Settings) -> Callable[[AnswerComposer], AnswerComposer] | None:
    """Builds the LLM composer around the extractive one, or None (no ``SOUDAN_LLM_BASE_URL``:
    answers stay extractive)."""
    if not settings.llm_configured:
        return None

    def wrap(extractive: AnswerComposer) -> AnswerComposer:
        from knowledge.llm_composer import GroundedLLMComposer

        return GroundedLLMComposer(chat_model(settings), extractive)

    return wrap
