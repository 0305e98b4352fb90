"""The flows every replica runs: the flow files' text and digest in the database.

A process that starts with flow files (``soudan serve`` / ``start`` / ``chat``)
publishes them — file name and YAML text, and the digest of both — to the
``shared_version`` row ``flows`` when they differ from what is stored, and so does
``soudan flow publish``. Every running process re-reads the stored digest at most every
:data:`CHECK_SECONDS` and, when it changed, validates the stored files and runs them
from its next turn on: a flow change reaches every replica without a restart. Stored
files that fail validation (published by an older soudan, say) are logged and the
running flows are kept. The last process to publish wins: replicas started from one
image publish the same digest, so nothing flaps.

Example:
    >>> files = FlowFiles.read(settings.flows_dir)                       # doctest: +SKIP
    >>> catalog = FlowCatalog(database, files)                           # doctest: +SKIP
    >>> catalog.publish(by="serve")                                      # doctest: +SKIP
    >>> catalog.current()["ict_adoption"].title                          # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from flows import FlowDefinition, FlowDefinitionError
from flows.errors import DuplicateFlowIdError, FlowSchemaError
from flows.loader import load_flow_text
from storage import Database
from storage import versions as shared

log = logging.getLogger(__name__)

NAME = "flows"
"""The ``shared_version`` row of the flow files."""
CHECK_SECONDS = 3.0
"""How often (at most) a process re-reads the stored flow digest."""


@dataclass(frozen=True)
class FlowFiles:
    """A set of flow files: file name -> YAML text."""

    files: Mapping[str, str]

    @classmethod
    def read(cls, path: Path | str) -> FlowFiles:
        """The ``*.yaml`` / ``*.yml`` files of a directory (or one file), as UTF-8 text.

        Raises:
            FlowDefinitionError: a file cannot be read or is not UTF-8.
        """
        root = Path(path)
        paths = [root] if root.is_file() else sorted([*root.glob("*.yaml"), *root.glob("*.yml")])
        files: dict[str, str] = {}
        for file in paths:
            try:
                files[file.name] = file.read_text(encoding="utf-8")
            except UnicodeDecodeError as err:
                raise FlowSchemaError(
                    "文字コードが UTF-8 ではありません。UTF-8 で保存し直してください。",
                    source=file.name,
                ) from err
            except OSError as err:
                raise FlowSchemaError(
                    f"ファイルを読めません（{type(err).__name__}）。", source=file.name
                ) from err
        return cls(files)

    @property
    def digest(self) -> str:
        """SHA-256 over the file names and texts (order-independent)."""
        hasher = hashlib.sha256()
        for name in sorted(self.files):
            for piece in (name, self.files[name]):
                data = piece.encode("utf-8")
                hasher.update(len(data).to_bytes(8, "big"))
                hasher.update(data)
        return hasher.hexdigest()

    def load(self) -> dict[str, FlowDefinition]:
        """Validate every file and build the flows (as :func:`flows.load_flows` does).

        Raises:
            FlowDefinitionError: the first problem, naming the file.
        """
        flows: dict[str, FlowDefinition] = {}
        for name in sorted(self.files):
            flow = load_flow_text(self.files[name], source=name)
            if flow.id in flows:
                raise DuplicateFlowIdError(
                    f"フロー ID「{flow.id}」は {flows[flow.id].source} でも定義されています。"
                    "ID はファイルごとに別の名前にしてください。",
                    source=name, flow_id=flow.id,
                )
            flows[flow.id] = flow
        return flows


class FlowCatalog:
    """The flows this process runs, following the version stored in the database.

    Args:
        database: where the ``flows`` row lives (shared by every replica).
        files: the flow files this process started with (already validated or not).
        check_seconds: how often :meth:`current` re-reads the stored digest.
        clock: monotonic seconds (inject one in tests).
    """

    def __init__(
        self,
        database: Database,
        files: FlowFiles,
        *,
        check_seconds: float = CHECK_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.database = database
        self.files = files
        self.check_seconds = check_seconds
        self.clock = clock
        self._flows: Mapping[str, FlowDefinition] = files.load()
        self._digest = files.digest
        self._refused: str | None = None
        self._checked = -float("inf")  # the first current() reads the stored version
        self._lock = threading.Lock()

    @property
    def digest(self) -> str:
        """The digest of the flows this process runs now."""
        return self._digest

    def publish(self, *, by: str | None = None) -> bool:
        """Store this process's flow files as the ones every replica runs.

        Returns:
            True when the stored flows changed.
        """
        with self.database.session() as session:
            changed = shared.publish_shared_version(
                session=session, name=NAME, digest=self.files.digest,
                content=dict(self.files.files), changed_by=by,
            )
        if changed:
            log.info("flows published: %s (%d files)", self.files.digest[:12],
                     len(self.files.files))
        return changed

    def current(self) -> Mapping[str, FlowDefinition]:
        """The flows to run now: the stored ones once another process changed them.

        Reads the stored digest at most every ``check_seconds``; a database that cannot
        be read keeps the running flows (logged).
        """
        if self.clock() - self._checked < self.check_seconds:
            return self._flows
        with self._lock:
            if self.clock() - self._checked < self.check_seconds:
                return self._flows
            self._checked = self.clock()
            try:
                self._follow()
            except Exception as exc:
                log.error("flow version check failed: %s", type(exc).__name__)
        return self._flows

    def _follow(self) -> None:
        with self.database.session() as session:
            digest = shared.get_shared_digest(session=session, name=NAME)
            if digest is None or digest in (self._digest, self._refused):
                return
            stored = shared.get_shared_version(session=session, name=NAME)
        if stored is None or stored.content is None:
            return
        files = FlowFiles({str(k): str(v) for k, v in stored.content.items()})
        try:
            flows = files.load()
        except FlowDefinitionError as error:
            self._refused = stored.digest
            log.error("published flows %s do not validate (%s); keeping %s",
                      stored.digest[:12], type(error).__name__, self._digest[:12])
            return
        self._flows, self._digest = flows, stored.digest
        log.info("flows reloaded: %s (%d flows)", stored.digest[:12], len(flows))
