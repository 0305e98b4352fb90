"""Citation titles for documents (corpus.yaml)."""

from __future__ import annotations

from pathlib import Path

import yaml


def load_titles(catalog: Path | None) -> dict[str, str]:
    """``file name -> citation title`` from ``documents:`` in the catalog; {} when absent."""
    if catalog is None or not catalog.is_file():
        return {}
    data = yaml.safe_load(catalog.read_text("utf-8")) or {}
    documents = data.get("documents") or {}
    return {
        str(name): str(entry.get("title") or name)
        for name, entry in documents.items()
        if isinstance(entry, dict)
    }


def load_municipalities(catalog: Path | None) -> dict[str, str]:
    """``file name -> municipality`` (e.g. 川崎市) from the catalog; {} when absent."""
    if catalog is None or not catalog.is_file():
        return {}
    data = yaml.safe_load(catalog.read_text("utf-8")) or {}
    return {
        str(name): str(entry["municipality"])
        for name, entry in (data.get("documents") or {}).items()
        if isinstance(entry, dict) and entry.get("municipality")
    }
