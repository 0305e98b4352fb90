"""The Teams app package in ``deploy/teams``: manifest, icons, and the zip builder."""

from __future__ import annotations

import importlib.util
import json
import struct
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "teams"
APP_ID = "8f2b7c1e-1111-4222-8333-944455566677"


def load_builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "build_app_package", DEPLOY / "build_app_package.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def png_size(data: bytes) -> tuple[int, int, int]:
    """(width, height, colour type) from a PNG's IHDR."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height, _depth, colour = struct.unpack(">IIBB", data[16:26])
    return width, height, colour


def test_the_icons_have_the_sizes_teams_requires() -> None:
    assert png_size((DEPLOY / "color.png").read_bytes())[:2] == (192, 192)
    width, height, colour = png_size((DEPLOY / "outline.png").read_bytes())
    assert (width, height) == (32, 32)
    assert colour == 6  # RGBA: the outline icon needs a transparent background


def test_the_manifest_declares_a_personal_and_team_bot_with_its_icons() -> None:
    manifest = json.loads((DEPLOY / "manifest.json").read_text(encoding="utf-8"))
    assert float(manifest["manifestVersion"]) >= 1.17
    [bot] = manifest["bots"]
    assert set(bot["scopes"]) == {"personal", "team"}
    assert len(manifest["name"]["short"]) <= 30
    assert len(manifest["description"]["short"]) <= 80
    assert len(manifest["description"]["full"]) <= 4000
    for icon in manifest["icons"].values():
        assert (DEPLOY / icon).is_file()
    assert all(url.startswith("https://") for url in manifest["developer"].values() if "://" in url)


def test_the_package_carries_the_app_id_and_the_files_at_its_root(tmp_path: Path) -> None:
    builder = load_builder()
    out = builder.build_package(
        tmp_path / "soudan.zip",
        APP_ID,
        website="https://soudan.city.example.lg.jp",
        version="1.0.3",
    )
    with zipfile.ZipFile(out) as package:
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(package.read("manifest.json"))
    assert manifest["id"] == manifest["bots"][0]["botId"] == APP_ID
    assert manifest["version"] == "1.0.3"
    assert manifest["developer"]["privacyUrl"] == "https://soudan.city.example.lg.jp/privacy"


def test_a_wrong_app_id_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    builder = load_builder()
    with pytest.raises(ValueError, match="GUID"):
        builder.build_package(tmp_path / "soudan.zip", "soudan-bot")
    assert not (tmp_path / "soudan.zip").exists()
