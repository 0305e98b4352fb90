"""``python -m flows check``: the administrator's validator."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.__main__ import main

GOOD = "id: ok\ntitle: 正しいフロー\nsteps:\n  - {id: a, kind: text, slot: a, prompt: 業務は？}\n"
BROKEN = (
    "id: ng\ntitle: 壊れたフロー\nsteps:\n"
    "  - {id: a, kind: text, slot: a, prompt: 業務は？, next: zzz}\n"
)


def test_shipped_flows_pass(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check"]) == 0
    out = capsys.readouterr().out
    assert "OK ict_adoption.yaml" in out and "OK rfi.yaml" in out


def test_a_broken_file_fails_with_the_japanese_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "good.yaml").write_text(GOOD, encoding="utf-8")
    broken = tmp_path / "broken.yaml"
    broken.write_text(BROKEN, encoding="utf-8")
    assert main(["check", str(tmp_path / "good.yaml"), str(broken)]) == 1
    captured = capsys.readouterr()
    assert "OK good.yaml" in captured.out
    assert "NG ファイル broken.yaml、フロー「ng」、ステップ「a」" in captured.err
    assert "「zzz」が見つかりません" in captured.err


def test_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "使い方" in capsys.readouterr().err
