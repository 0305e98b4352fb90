"""Commands that need no model start without loading one (a module check, not a timing).

Each command runs in a fresh interpreter, as ``soudan`` does; afterwards the heavy
libraries of the knowledge side must not be in ``sys.modules``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = (
    "torch",
    "sentence_transformers",
    "transformers",
    "chromadb",
    "langchain",
    "langchain_core",
    "langchain_text_splitters",
    "sudachipy",
    "docx",
    "openpyxl",
)
PROBE = """
import json, sys
from bot.cli.main import app
sys.argv = ["soudan", *json.loads(sys.argv[1])]
try:
    app()
except SystemExit:
    pass
print("LOADED=" + json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in HEAVY)))
"""


@pytest.mark.parametrize(
    "command",
    [
        ["--help"],
        ["users", "list"],
        ["review", "list", "--as", "terminal:local:terminal-user"],
    ],
)
def test_a_command_without_a_model_loads_no_model_library(
    command: list[str], tmp_path: Path
) -> None:
    env = {
        "SOUDAN_DATA_DIR": str(tmp_path / "data"),
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PYTHONPATH": str(ROOT),
    }
    script = f"HEAVY = {HEAVY!r}\n" + PROBE
    done = subprocess.run(
        [sys.executable, "-c", script, json.dumps(command)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith("LOADED=")), None)
    assert line is not None, done.stderr[-2000:]
    assert json.loads(line.removeprefix("LOADED=")) == []
