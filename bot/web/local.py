"""The console beside the terminal chat (``soudan start`` / ``make run`` on embedded defaults).

The terminal chat owns the main thread (it reads the keyboard); the console's
aiohttp server runs on its own event loop in a daemon thread and stops when the
chat ends.

Example:
    >>> server = LocalConsole(build_console_app(services), "127.0.0.1", 3000)  # doctest: +SKIP
    >>> server.start()                     # raises OSError when the port is taken  # doctest: +SKIP
    >>> TerminalChat(services.assistant).run()                                # doctest: +SKIP
    >>> server.stop()                                                         # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import threading

from aiohttp import web


class LocalConsole:
    """Serve ``app`` on ``host:port`` from a background thread."""

    def __init__(self, app: web.Application, host: str, port: int) -> None:
        self.app = app
        self.host = host
        self.port = port
        self._loop = asyncio.new_event_loop()
        self._runner = web.AppRunner(app, access_log=None)
        self._thread: threading.Thread | None = None

    def start(self, timeout: float = 10.0) -> None:
        """Bind and start serving; raises :class:`OSError` when the address is in use."""
        started = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            try:
                self._loop.run_until_complete(self._runner.setup())
                site = web.TCPSite(self._runner, self.host, self.port)
                self._loop.run_until_complete(site.start())
            except BaseException as error:  # reported to the caller's thread
                failure.append(error)
                started.set()
                return
            started.set()
            self._loop.run_forever()
            self._loop.run_until_complete(self._runner.cleanup())

        self._thread = threading.Thread(target=run, name="soudan-console", daemon=True)
        self._thread.start()
        if not started.wait(timeout):
            raise OSError("the console did not start in time")
        if failure:
            raise failure[0]

    def stop(self) -> None:
        """Stop serving and wait for the thread (a no-op when it never started)."""
        if self._thread is None or not self._thread.is_alive():
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
