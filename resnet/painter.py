"""The views' pictures drawn in a process of their own, so that the server's interpreter does not draw them.

Under a class the server's interpreter is shared by everything: every NumPy, Pillow and PyTorch operation a picture
makes gives Python's GIL up and then waits up to the 5 ms switch interval to win it back from whichever thread runs
Python. Beside a thread running Python, an explanation's montages took 1.8 s and its block panel 1.6 s (8 and 9 ms
alone; medians, this machine); ``benchmarks/explain_gil.py`` compares the whole /explain drawn here and by a painter.
A painter is a process that imports NumPy, Pillow and matplotlib but never PyTorch (~100 MB resident after a few
dozen views, against ~500 MB for PyTorch's import alone): it gets a job (a function of ``resnet.pictures``, its
arguments: a ``pictures.Snapshot``, a language, ...) over a socket, draws it, writes every picture as a PNG into
Gradio's file cache (``pictures.png_file``) and answers with the files' paths, which are the paths the server would
have written (they are named by the pictures' pixels).

A painter that dies or does not answer in time is replaced, and that one call is drawn in the server instead: a
view is never lost to it. ``$RESNET_PAINTERS`` sets how many there are (default 1; 0 draws in the server).

    python -m resnet.painter FD      # what the server starts: serves jobs on the socket FD until it closes
"""

from __future__ import annotations

import os
import pickle
import queue
import socket
import struct
import subprocess
import sys
import threading
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from resnet.pictures import png_file

ROOT = Path(__file__).resolve().parents[1]
Job = Callable[..., tuple[np.ndarray, ...]]


def draw(job: Job, args: Sequence[Any], names: Sequence[str], folder: str) -> tuple[str, ...]:
    """Run ``job(*args)`` and write its pictures into ``folder`` as ``names``: their paths, in order."""
    pictures = job(*args)
    return tuple(png_file(p, folder, n) for p, n in zip(pictures, names, strict=True))


def send(sock: socket.socket, data: bytes) -> None:
    """One message: its length (8 bytes), then its bytes."""
    sock.sendall(struct.pack("!Q", len(data)) + data)


def receive(sock: socket.socket) -> bytes:
    """One message (``send``); EOFError where the other end closed."""
    (size,) = struct.unpack("!Q", _exactly(sock, 8))
    return _exactly(sock, size)


def _exactly(sock: socket.socket, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(min(size - len(data), 1 << 20))
        if not chunk:
            raise EOFError("the other end of the painter's socket closed")
        data += chunk
    return bytes(data)


class _Process:
    """One painter process and the server's end of its socket."""

    def __init__(self, nice: int) -> None:
        self.socket, theirs = socket.socketpair()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "resnet.painter", str(theirs.fileno()), str(nice)],
            pass_fds=[theirs.fileno()],
            stdin=subprocess.DEVNULL,
            env=env,
        )
        theirs.close()

    def call(self, message: bytes, timeout_s: float) -> tuple[str, Any]:
        """The answer to ``message``; TimeoutError (an OSError) where sending or the answer takes ``timeout_s``
        (a painter that stopped reads nothing, and a job larger than the socket's buffer would wait forever)."""
        self.socket.settimeout(timeout_s)
        send(self.socket, message)
        return pickle.loads(receive(self.socket))

    def close(self) -> None:
        self.socket.close()  # the painter reads the end of its socket and exits
        self.process.kill()
        self.process.wait()


class Painter:
    """Draws jobs in ``processes`` painter processes (started with the first job), each one job at a time.

    ``paint`` is thread-safe: a caller waits (without the GIL) for a free painter. With ``processes`` 0 every job is
    drawn in the calling thread. ``replaced`` counts the painters that died or hung and were replaced.

    Painters run ``nice`` steps below the server ($RESNET_PAINTER_NICE, default 10): where the cores are short, the
    server's one interpreter (labels, Gradio's handling) goes first and pictures are drawn in the gaps. At 30
    students (``benchmarks/load.py --against RESNET_PAINTER_NICE=0``, two runs, either order) the page's label p95
    0.76× and 0.75×, its views for latest strokes p95 0.94× and 0.95×, with 1.6× and 1.9× as many of them.
    """

    def __init__(self, processes: int | None = None, timeout_s: float = 30.0, nice: int | None = None):
        self.processes = int(os.environ.get("RESNET_PAINTERS", 1)) if processes is None else processes
        self.nice = int(os.environ.get("RESNET_PAINTER_NICE", 10)) if nice is None else nice
        self.timeout_s = timeout_s
        self.replaced = 0
        self._free: queue.Queue[_Process | None] = queue.Queue()
        self._all: list[_Process] = []
        self._lock = threading.Lock()
        self._started = False
        weakref.finalize(self, Painter._close_all, self._all)

    def paint(self, job: Job, args: Sequence[Any], names: Sequence[str], folder: str | Path) -> tuple[str, ...]:
        """The paths of ``job(*args)``'s pictures as PNG files in ``folder``, named ``names``."""
        folder = str(folder)
        if self.processes <= 0:
            return draw(job, args, names, folder)
        self._start()
        process = self._free.get()
        try:
            if process is None:  # a painter that could not be started
                return draw(job, args, names, folder)
            message = pickle.dumps((job, tuple(args), tuple(names), folder), protocol=pickle.HIGHEST_PROTOCOL)
            status, value = process.call(message, self.timeout_s)
        except (OSError, EOFError, pickle.UnpicklingError):  # TimeoutError is an OSError
            process = self._replace(process)
            return draw(job, args, names, folder)  # this one view, in the server
        finally:
            self._free.put(process)
        if status == "error":
            raise value
        return value

    def _start(self) -> None:
        with self._lock:
            if self._started:
                return
            self._started = True
        for _ in range(self.processes):
            self._free.put(self._new())

    def _new(self) -> _Process | None:
        try:
            process = _Process(self.nice)
        except OSError:
            return None
        with self._lock:
            self._all.append(process)
        return process

    def _replace(self, process: _Process | None) -> _Process | None:
        if process is not None:
            process.close()
            with self._lock:
                self._all.remove(process)
        self.replaced += 1
        return self._new()

    def close(self) -> None:
        """Stop every painter (they also stop by themselves when the server's end of their socket closes)."""
        Painter._close_all(self._all)

    @staticmethod
    def _close_all(processes: list[_Process]) -> None:
        for process in list(processes):
            process.close()
        processes.clear()


def serve(sock: socket.socket) -> None:
    """Answer jobs on ``sock`` until it closes: ("ok", paths) or ("error", the exception)."""
    while True:
        try:
            message = receive(sock)
        except (EOFError, OSError):
            return
        try:
            answer: tuple[str, Any] = ("ok", draw(*pickle.loads(message)))
        except Exception as exc:  # the server raises it where the view asked
            answer = ("error", exc)
        try:
            data = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # an exception that does not pickle
            data = pickle.dumps(("error", RuntimeError(f"{type(exc).__name__}: {exc}")))
        send(sock, data)


if __name__ == "__main__":
    sys.stdout = sys.stderr  # stdout is the server's
    os.nice(int(sys.argv[2]))
    serve(socket.socket(fileno=int(sys.argv[1])))
