"""``python -m flows check [PATH ...]``: validate flow definition files.

Prints each flow's id and step count, or the Japanese error, and exits 1 on an error.
"""

from __future__ import annotations

import sys
from pathlib import Path

from flows.errors import FlowDefinitionError
from flows.loader import DEFINITIONS_DIR, load_flows

USAGE = "使い方: python -m flows check [フロー定義のファイルまたはフォルダ ...]"


def main(argv: list[str]) -> int:
    """Run the check command; returns the exit status."""
    if not argv or argv[0] != "check":
        print(USAGE, file=sys.stderr)
        return 2
    paths = [Path(arg) for arg in argv[1:]] or [DEFINITIONS_DIR]
    status = 0
    for path in paths:
        if not path.exists():
            print(f"NG {path}: ファイルまたはフォルダがありません。", file=sys.stderr)
            status = 1
            continue
        try:
            flows = load_flows(path)
        except FlowDefinitionError as err:
            print(f"NG {err}", file=sys.stderr)
            status = 1
            continue
        for flow in flows.values():
            print(
                f"OK {flow.source}: フロー「{flow.id}」（{flow.title}）"
                f" ステップ {len(flow.steps)} 個、判断 {len(flow.outcomes)} 個"
            )
    return status


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
