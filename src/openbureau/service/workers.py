"""Worker processes of ``openbureau serve --workers N``: each listens on a socket of its own.

uvicorn's own multi-worker mode shares one listening socket among its workers, and asyncio
accepts every pending connection each time a worker wakes. A burst of connections (lenders'
keep-alive clients opening at once) can so land on one worker while another idles, for as
long as those connections live. Measured on the load bench, 100k file, 2 workers: 92–95
sockets on one worker and 10 on the other once a rate-limited client joined the 50 others,
and the machine 75 % busy instead of 97 %. Here each worker binds a socket of its own with
``SO_REUSEPORT``, so the kernel spreads new connections over the workers by address hash.
The parent starts the workers, starts another for one that dies after it has started, and
stops them all on SIGINT or SIGTERM. Without ``SO_REUSEPORT`` the caller falls back to
uvicorn's own workers.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import time
from multiprocessing.process import BaseProcess
from typing import Any

logger = logging.getLogger(__name__)

_STARTUP_S = 60.0  # a worker that dies this soon after its start is not started again


def available() -> bool:
    return hasattr(socket, "SO_REUSEPORT")


def _socket(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def _worker(config: dict[str, Any]) -> None:
    import uvicorn

    sock = _socket(config["host"], config["port"])
    uvicorn.Server(uvicorn.Config(**config)).run(sockets=[sock])


def run(config: dict[str, Any], count: int) -> int:
    """Serve with ``count`` workers, each ``uvicorn.Server(uvicorn.Config(**config))`` on a
    socket of its own; returns the exit code once they have all stopped. Raises OSError when
    the address cannot be bound."""
    _socket(config["host"], config["port"]).close()  # in use by another program: fail here
    spawn = multiprocessing.get_context("spawn")
    stopping = False
    code = 0

    def start() -> tuple[BaseProcess, float]:
        proc = spawn.Process(target=_worker, args=(config,), name="openbureau-worker")
        proc.start()
        return proc, time.monotonic()

    def stop(_signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    workers = [start() for _ in range(count)]
    try:
        while not stopping:
            time.sleep(0.2)
            for i, (proc, since) in enumerate(workers):
                if proc.is_alive() or stopping:
                    continue
                if time.monotonic() - since < _STARTUP_S:
                    # It failed as it started (a setting, the database): another would too.
                    logger.error("a worker exited (%s) as it started; stopping", proc.exitcode)
                    stopping, code = True, 1
                    break
                logger.warning("a worker exited (%s); starting another", proc.exitcode)
                workers[i] = start()
    finally:
        procs = [proc for proc, _ in workers]
        for proc in procs:
            if proc.is_alive():
                proc.terminate()  # SIGTERM: uvicorn finishes the requests in flight
        for proc in procs:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.kill()
                proc.join()
                code = 1
        for s, handler in previous.items():
            signal.signal(s, handler)
    return code


__all__ = ["available", "run"]
