"""Build the Teams app package (a zip to upload in Teams or the Teams admin center).

Usage::

    python deploy/teams/build_app_package.py --app-id <MICROSOFT_APP_ID> \\
        [--website https://soudan.example.jp/] [--version 1.0.1] [--out soudan-teams.zip]

The manifest's placeholder ids are replaced by the Azure Bot's Microsoft App ID (the
Teams app id is the same id, so the app and the bot are easy to match up).
"""

from __future__ import annotations

import argparse
import json
import re
import uuid
import zipfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PLACEHOLDER_ID = "00000000-0000-0000-0000-000000000000"
_VERSION = re.compile(r"^\d+\.\d+\.\d+$")


def build_manifest(app_id: str, *, website: str | None = None, version: str | None = None) -> Any:
    """The manifest with the app id (and optionally website and version) filled in.

    Raises:
        ValueError: the app id is not a GUID or the version is not ``x.y.z``.
    """
    try:
        normalized = str(uuid.UUID(app_id))
    except ValueError as exc:
        raise ValueError(
            f"--app-id must be the Azure Bot's Microsoft App ID (a GUID): {app_id!r}"
        ) from exc
    manifest = json.loads((HERE / "manifest.json").read_text(encoding="utf-8"))
    manifest["id"] = normalized
    manifest["bots"][0]["botId"] = normalized
    if website:
        base = website.rstrip("/")
        manifest["developer"] |= {
            "websiteUrl": f"{base}/",
            "privacyUrl": f"{base}/privacy",
            "termsOfUseUrl": f"{base}/terms",
        }
    if version:
        if not _VERSION.match(version):
            raise ValueError(f"--version must look like 1.0.1: {version!r}")
        manifest["version"] = version
    return manifest


def build_package(
    out: Path, app_id: str, *, website: str | None = None, version: str | None = None
) -> Path:
    """Write the zip (manifest.json, color.png, outline.png at its root) to ``out``."""
    manifest = build_manifest(app_id, website=website, version=version)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as package:
        package.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2))
        for icon in ("color.png", "outline.png"):
            package.write(HERE / icon, icon)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app-id", required=True, help="Microsoft App ID of the Azure Bot")
    parser.add_argument("--website", help="https URL shown as the developer's website")
    parser.add_argument("--version", help="app version x.y.z (raise it for every re-upload)")
    parser.add_argument("--out", type=Path, default=Path("soudan-teams.zip"))
    args = parser.parse_args()
    path = build_package(args.out, args.app_id, website=args.website, version=args.version)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
