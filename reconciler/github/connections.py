"""The connection pool an interrupt can cut: every connection some thread is using is tracked,
so Ctrl-C can shut its socket under the thread blocked reading it."""

from __future__ import annotations

import socket
import threading
import weakref
from contextlib import suppress
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool


class InUse:
    """Connections some thread is using, so an interrupt can shut their sockets under the
    threads blocked reading them (a read blocked in recv() ignores everything else)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._conns: weakref.WeakSet[Any] = weakref.WeakSet()

    def claim(self, conn: Any) -> None:
        with self._lock:
            self._conns.add(conn)

    def release(self, conn: Any) -> None:
        with self._lock:
            self._conns.discard(conn)

    def shutdown(self) -> None:
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            sock = getattr(conn, "sock", None)
            if sock is not None:
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


def _tracking(base: type[HTTPConnectionPool], in_use: InUse) -> type[HTTPConnectionPool]:
    class Pool(base):  # type: ignore[valid-type,misc]
        def _get_conn(self, timeout: float | None = None) -> Any:
            conn = super()._get_conn(timeout)
            in_use.claim(conn)
            return conn

        def _put_conn(self, conn: Any) -> None:
            if conn is not None:
                in_use.release(conn)
            super()._put_conn(conn)

    return Pool


class TrackingAdapter(HTTPAdapter):
    """requests' adapter with no retries of its own, whose pools report to `in_use`."""

    def __init__(self, in_use: InUse, pool_size: int) -> None:
        self._in_use = in_use
        super().__init__(pool_connections=4, pool_maxsize=pool_size, max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _tracking(HTTPConnectionPool, self._in_use),
            "https": _tracking(HTTPSConnectionPool, self._in_use),
        }
