"""Hostile or broken flow files give one clear Japanese error, never a traceback.

Before: deeply nested YAML raised ``RecursionError``; a ``!!python/object`` tag was
reported as an indentation problem.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from flows import (
    FlowDefinitionError,
    FlowSchemaError,
    UnsupportedYamlTagError,
    YamlTooDeepError,
    load_flow_file,
    load_flow_text,
    load_flows,
)
from flows.loader import DEFINITIONS_DIR, MAX_NESTING

DEEP = [
    "a: " + "[" * 5000 + "]" * 5000,
    "a: " + "{b: " * 3000 + "1" + "}" * 3000,
    "- " * 3000 + "1",
    "id: x\nsteps:\n" + "".join("  " * i + "-\n" for i in range(1, 400)),
]


@pytest.mark.parametrize("text", DEEP)
def test_deep_nesting_is_a_japanese_error_not_a_recursion_error(text: str) -> None:
    with pytest.raises(YamlTooDeepError) as caught:
        load_flow_text(text, source="deep.yaml")
    message = str(caught.value)
    assert "deep.yaml" in message and "入れ子" in message and f"{MAX_NESTING} 段" in message


def test_nesting_within_the_limit_is_not_refused() -> None:
    text = "a: " + "[" * (MAX_NESTING - 2) + "]" * (MAX_NESTING - 2)
    with pytest.raises(FlowDefinitionError) as caught:
        load_flow_text(text, source="ok.yaml")
    assert not isinstance(caught.value, YamlTooDeepError)  # read fine; then not a flow


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        ("id: x\ntitle: !!python/object:os.system {}\n", "!!python/object:os.system"),
        ('id: !!python/object/apply:os.system ["ls"]\n', "!!python/object/apply:os.system"),
        ("id: x\ntitle: !!python/name:builtins.print\n", "!!python/name:builtins.print"),
        ("id: !custom 1\n", "!custom"),
    ],
)
def test_python_tags_are_reported_as_unsupported_tags(text: str, tag: str) -> None:
    with pytest.raises(UnsupportedYamlTagError) as caught:
        load_flow_text(text, source="evil.yaml")
    message = str(caught.value)
    assert f"対応していないタグ「{tag}」" in message
    assert "インデント" not in message
    assert "evil.yaml" in message


def test_a_file_that_is_not_utf8_names_the_file(tmp_path: Path) -> None:
    file = tmp_path / "sjis.yaml"
    file.write_bytes("id: テスト\n".encode("cp932"))
    with pytest.raises(FlowSchemaError) as caught:
        load_flow_file(file)
    assert "sjis.yaml" in str(caught.value) and "UTF-8" in str(caught.value)


def test_one_bad_file_in_a_directory_stops_loading(tmp_path: Path) -> None:
    for shipped in DEFINITIONS_DIR.glob("*.yaml"):
        (tmp_path / shipped.name).write_text(shipped.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "zz_bad.yaml").write_text("id: x\ntitle: !!python/object:os.system {}\n",
                                          encoding="utf-8")
    with pytest.raises(UnsupportedYamlTagError) as caught:
        load_flows(tmp_path)
    assert caught.value.source == "zz_bad.yaml"
