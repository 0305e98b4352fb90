"""A real ``soudan serve`` process for a test: start, wait until it answers, SIGKILL, restart."""

from __future__ import annotations

import asyncio
import email.utils
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import aiohttp

from bot.settings import Settings

# Variables of the developer's shell that would change what the server does.
_OWN_PREFIXES = ("SOUDAN_", "SLACK_", "MICROSOFT_")
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_environment(data_dir: Path, **values: str) -> dict[str, str]:
    """The environment of a test server: a fresh data dir, an empty documents folder (the
    consultation flows need no guideline text) and the model ``make test`` built."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(_OWN_PREFIXES)}
    docs = data_dir.parent / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    project = Settings(_env_file=None)  # type: ignore[call-arg]
    # The code under test, not whatever checkout the virtualenv's editable install names.
    path = [str(PROJECT_ROOT), *filter(None, [environment.get("PYTHONPATH")])]
    environment |= {
        "PYTHONPATH": os.pathsep.join(path),
        "SOUDAN_DATA_DIR": str(data_dir),
        "SOUDAN_DOCS_DIR": str(docs),
        "SOUDAN_EMBEDDING_MODEL": str(project.bundled_model_dir),
        "SOUDAN_LOG_LEVEL": "INFO",
        **values,
    }
    return environment


class ServerProcess:
    """``soudan serve`` on 127.0.0.1:``port``, restartable on the same port and data.

    Args:
        environment: the process environment (see :func:`server_environment`).
        workdir: the working directory (no ``.env`` there); the log goes to ``server.log``.
    """

    def __init__(self, environment: Mapping[str, str], workdir: Path, port: int) -> None:
        self.environment = dict(environment)
        self.workdir = workdir
        self.port = port
        self.log_path = workdir / "server.log"
        self.starts = 0
        self.kills = 0
        self.start_seconds: list[float] = []
        """How long each start took until ``/healthz`` answered."""
        self.clock_offset = 0.0
        """Seconds to add to this process's ``time.time()`` to get the server's clock (the
        suite may run with its own clock moved; Slack signatures must use the server's)."""
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _command(self) -> list[str]:
        script = Path(sys.executable).with_name("soudan")
        if script.exists():
            return [str(script), "serve"]
        return [sys.executable, "-m", "bot.cli.main", "serve"]

    async def start(self, timeout: float = 30.0) -> None:
        """Start the server and wait until ``/healthz`` answers."""
        assert self._process is None or self._process.poll() is not None
        self.starts += 1
        with self.log_path.open("ab") as log:
            log.write(f"\n--- start {self.starts} ---\n".encode())
            self._process = subprocess.Popen(
                [*self._command(), "--host", "127.0.0.1", "--port", str(self.port)],
                env=self.environment, cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        began = time.monotonic()
        deadline = began + timeout
        async with aiohttp.ClientSession() as http:
            while True:
                if self._process.poll() is not None:
                    raise AssertionError(f"soudan serve exited at start:\n{self.log_tail()}")
                try:
                    async with http.get(f"{self.url}/healthz") as response:
                        if response.status == 200:
                            served = email.utils.parsedate_to_datetime(response.headers["Date"])
                            self.clock_offset = served.timestamp() - time.time()
                            self.start_seconds.append(time.monotonic() - began)
                            return
                except aiohttp.ClientError:
                    pass
                if time.monotonic() > deadline:
                    raise AssertionError(f"soudan serve not ready:\n{self.log_tail()}")
                await asyncio.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs, nothing is flushed."""
        process = self._process
        assert process is not None
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            self.kills += 1
        process.wait()

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM and wait (the server finishes its turns in flight)."""
        process = self._process
        if process is None or process.poll() is not None:
            return process.returncode if process is not None else 0
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise AssertionError(
                f"soudan serve did not stop on SIGTERM:\n{self.log_tail()}"
            ) from None

    def clock(self) -> float:
        """The server's wall clock (for Slack request timestamps)."""
        return time.time() + self.clock_offset

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
