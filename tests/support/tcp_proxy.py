"""TCP stand-ins for a database that stops answering, for the store's timeout tests.

``FreezableProxy`` forwards to a real server until ``freeze()``: from then on it
keeps every connection open and reads nothing, as a server behind a broken
network path looks to its client. ``SilentServer`` accepts connections and
never says a word (a server that hangs before its greeting).
"""

from __future__ import annotations

import select
import socket
import threading
from types import TracebackType

__all__ = ["FreezableProxy", "SilentServer"]


class FreezableProxy:
    """Forwards 127.0.0.1:<port> to ``target``; ``freeze()`` stops all traffic both ways."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        # accept() is not woken by close() from another thread: poll instead.
        self._listener.settimeout(0.05)
        self.port: int = self._listener.getsockname()[1]
        self._frozen = threading.Event()
        self._closed = threading.Event()
        self._sockets: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def freeze(self) -> None:
        self._frozen.set()

    def thaw(self) -> None:
        self._frozen.clear()

    def close(self) -> None:
        self._closed.set()
        self._thread.join()
        self._listener.close()
        for thread in self._threads:
            thread.join()
        for sock in self._sockets:
            sock.close()

    def __enter__(self) -> FreezableProxy:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            server = socket.create_connection(self.target)
            self._sockets += [client, server]
            pump = threading.Thread(target=self._pump, args=(client, server), daemon=True)
            self._threads.append(pump)
            pump.start()

    def _pump(self, client: socket.socket, server: socket.socket) -> None:
        peers = {client: server, server: client}
        try:
            self._forward(peers)
        finally:
            client.close()
            server.close()

    def _forward(self, peers: dict[socket.socket, socket.socket]) -> None:
        while not self._closed.is_set():
            if self._frozen.is_set():
                self._closed.wait(0.05)
                continue
            try:
                ready, _, _ = select.select(list(peers), [], [], 0.05)
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return
                    peers[sock].sendall(data)
            except OSError:
                return


class SilentServer:
    """Accepts TCP connections on 127.0.0.1 and never sends a byte."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=16)
        self.port: int = self._listener.getsockname()[1]

    def close(self) -> None:
        self._listener.close()

    def __enter__(self) -> SilentServer:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
