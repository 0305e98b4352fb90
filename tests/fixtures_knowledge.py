"""The real knowledge base, built once per test session (real model, real Chroma).

Fixtures:

* ``project_settings`` -- ``Settings`` as a fresh checkout has them (no ``.env``), used
  to find the bundled model that ``make test`` builds before the tests.
* ``corpus_knowledge`` -- a :class:`knowledge.KnowledgeBase` over ``../shared/corpus``,
  indexed into a session temp dir with the bundled model.
* ``make_services`` -- builds the whole system (``bot.wiring.build_services``) on a
  fresh SQLite database in a test's tmp dir, sharing ``corpus_knowledge``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bot.settings import Settings
from bot.wiring import Services, build_services, knowledge_config
from knowledge import KnowledgeBase


@pytest.fixture(scope="session")
def project_settings() -> Settings:
    return Settings(_env_file=None)  # type: ignore[call-arg]


@pytest.fixture(scope="session")
def corpus_knowledge(
    project_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> KnowledgeBase:
    index_dir = tmp_path_factory.mktemp("knowledge-index")
    settings = project_settings.model_copy(
        update={"data_dir": index_dir, "embedding_model": str(project_settings.bundled_model_dir)}
    )
    # The model `make test` built under the project's data dir (built here if missing).
    config = replace(
        knowledge_config(settings), bundled_model_dir=project_settings.bundled_model_dir
    )
    knowledge = KnowledgeBase(config)
    knowledge.ingest(progress=False)
    return knowledge


@pytest.fixture
def make_services(
    project_settings: Settings, corpus_knowledge: KnowledgeBase, tmp_path: Path
) -> Iterator[Callable[..., Services]]:
    """``make_services(**settings_overrides) -> Services`` on a fresh SQLite database."""
    built: list[Services] = []

    def make(**overrides: Any) -> Services:
        values: dict[str, Any] = {"data_dir": tmp_path / "data", **overrides}
        settings = project_settings.model_copy(update=values)
        services = build_services(settings, knowledge=corpus_knowledge)
        built.append(services)
        return services

    yield make
    for services in built:
        services.database.dispose()
