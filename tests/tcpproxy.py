"""A TCP proxy on loopback that a test can cut, hang and restore, to play a failing database."""

from __future__ import annotations

import socket
import threading

from flask import Flask
from sqlalchemy.engine import make_url

from tests.server import free_port


class TcpProxy:
    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.port = free_port()
        self.hanging = False
        self._connections: list[socket.socket] = []
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self.restore()

    def restore(self) -> None:
        """Listen and forward again."""
        self.hanging = False
        if self._listener is None:
            listener = socket.socket()
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", self.port))
            listener.listen(64)
            self._listener = listener
            threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        """Stop listening and reset every open connection: the database is gone."""
        if self._listener is not None:
            try:  # wakes the thread blocked in accept(); close() alone would not on Linux
                self._listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._listener.close()
            self._listener = None
        self.drop_connections()

    def drop_connections(self) -> None:
        """Close every established connection but keep listening: the database restarted."""
        with self._lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            connection.close()

    def hang(self) -> None:
        """Accept new connections but never answer: a blackholed network."""
        self.hanging = True

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            with self._lock:
                self._connections.append(client)
            if self.hanging:
                continue  # held open, never forwarded
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._connections.append(upstream)
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def app_through(proxy: TcpProxy, app: Flask) -> Flask:
    """An app like `app` (testing) whose database connections, both pools, pass through `proxy`."""
    from backend import create_app
    from config import engine_options

    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).set(host="127.0.0.1", port=proxy.port)
    rendered = url.render_as_string(hide_password=False)
    return create_app(
        {
            "APP_ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": rendered,
            "SQLALCHEMY_ENGINE_OPTIONS": engine_options(rendered, {}),
        }
    )


def close_pools(app: Flask) -> None:
    """Drop `app`'s pooled connections (the app's engine and backend/fastpath.py's)."""
    from backend import fastpath
    from backend.extensions import db

    with app.app_context():
        fastpath.autocommit_engine().dispose()
        db.engine.dispose()
