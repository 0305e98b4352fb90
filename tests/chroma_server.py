"""A real Chroma server (``chroma run``) on a loopback port, for tests that need one.

The port is found by binding port 0 and the server started on it; another process may
take that port in between, so a start counts only when *our* process answers the
heartbeat and owns the listening socket (checked in ``/proc``). A server that exits
(port taken) is started again on another port; one that does not become ready fails
the test with the end of its log.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

READY_SECONDS = 60.0
START_ATTEMPTS = 3


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _chroma_executable() -> str:
    found = shutil.which("chroma") or str(Path(sys.executable).with_name("chroma"))
    if not Path(found).exists():
        raise AssertionError("the chroma CLI (it comes with chromadb) is not installed")
    return found


def _listening_inodes(port: int) -> set[str]:
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as rows:
            for row in list(rows)[1:]:
                fields = row.split()
                local, state, inode = fields[1], fields[3], fields[9]
                if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:  # LISTEN
                    inodes.add(inode)
    return inodes


def _owns_port(pid: int, port: int) -> bool:
    """Whether process ``pid`` holds the socket listening on ``port`` (True without /proc)."""
    if not Path("/proc/net/tcp").exists():
        return True
    wanted = {f"socket:[{inode}]" for inode in _listening_inodes(port)}
    with contextlib.suppress(OSError):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                if str(fd.readlink()) in wanted:
                    return True
    return False


def _heartbeat(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@contextlib.contextmanager
def running_chroma_server(path: Path, log: Path) -> Iterator[str]:
    """Run ``chroma run`` over ``path`` until the block ends; yields its URL.

    Raises:
        AssertionError: the server did not become ready (the log's end is in the message).
    """
    executable = _chroma_executable()
    for _ in range(START_ATTEMPTS):
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        with log.open("ab") as out:
            process = subprocess.Popen(
                [executable, "run", "--path", str(path), "--host", "127.0.0.1",
                 "--port", str(port)],
                stdout=out, stderr=subprocess.STDOUT,
            )
        try:
            deadline = time.monotonic() + READY_SECONDS
            while process.poll() is None and time.monotonic() < deadline:
                if _heartbeat(url) and _owns_port(process.pid, port):
                    break
                time.sleep(0.2)
            else:
                if process.poll() is None:
                    tail = log.read_text(errors="replace")[-2000:]
                    raise AssertionError(
                        f"the Chroma server on {url} was not ready after {READY_SECONDS:.0f} s:"
                        f"\n{tail}"
                    )
                continue  # it exited: most likely the port was taken meanwhile; another one
            yield url
            return
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
    tail = log.read_text(errors="replace")[-2000:]
    raise AssertionError(f"chroma run exited {START_ATTEMPTS} times at start:\n{tail}")
