"""The HTTP/1.1 server under the loopback transport: one thread runs a readiness loop
(`selectors`: epoll on Linux, kqueue on macOS) over every connection of every port, so
the code that answers a request (the sandbox) only ever runs on that thread, one
request at a time, with no lock.

Each connection reads with `http11.RequestParser` (bounded and strict), answers in order
(pipelined requests included), writes each answer in one call, keeps the connection
alive as HTTP/1.1 says, and reads nothing more while a client leaves its answers
unread. A bad request is answered with its status and a short JSON body, then the
connection is closed cleanly: the server stops writing and keeps reading (and
discarding) for a moment, so the client sees the answer instead of a reset. A
connection silent for `read_timeout` seconds is closed; one that stopped in the middle
of a request is answered 408 first.

The loop is written out rather than built on asyncio: per request it does one
readiness wait, one read into a reused buffer and one write, with no layer between. It
costs the same CPU per call as an asyncio server on its own, and less beside a
replaying client in the same process, where every line of Python run is run under the
interpreter lock (bench/README.md has the figures).
"""

from __future__ import annotations

import contextlib
import functools
import json
import selectors
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from harness.transports.http11 import (
    DateHeader,
    Limits,
    ParsedRequest,
    Refusal,
    RequestParser,
    status_line,
)

# status, field lines ("Name: value\r\n" each, already made safe), body
Answer = tuple[int, str, bytes]
Responder = Callable[[ParsedRequest], Answer]
SERVER_NAME = "connector-harness"
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
JSON_FIELDS = "Content-Type: application/json\r\n"
READ_SIZE = 65536
_READ, _WRITE = selectors.EVENT_READ, selectors.EVENT_WRITE


@dataclass(frozen=True, slots=True)
class Timeouts:
    read: float = 30.0  # seconds a connection may stay silent, idle or mid-request
    linger: float = 2.0  # seconds to keep reading after closing on a client, before a reset


def error_body(error: str, detail: str) -> bytes:
    return json.dumps({"error": error, "detail": detail}, ensure_ascii=True).encode()


class _Listener:
    __slots__ = ("respond", "sock")

    def __init__(self, sock: socket.socket, respond: Responder) -> None:
        self.sock = sock
        self.respond = respond


class _Reader:
    __slots__ = ("on_readable",)

    def __init__(self, on_readable: Callable[[], None]) -> None:
        self.on_readable = on_readable


class HttpServer:
    """Serves HTTP/1.1 on already bound sockets from one thread of its own (start, stop)."""

    def __init__(
        self,
        *,
        limits: Limits | None = None,
        timeouts: Timeouts | None = None,
        name: str = "connector-harness-http",
    ) -> None:
        self.limits = limits or Limits()
        self.timeouts = timeouts or Timeouts()
        self.name = name
        self.date = DateHeader()
        # Every read lands here first: the loop reads one connection at a time.
        self.read_buffer = memoryview(bytearray(READ_SIZE))
        self._listeners: list[_Listener] = []
        self._readers: list[tuple[socket.socket, _Reader]] = []
        self._connections: set[_Connection] = set()
        self._selector: selectors.BaseSelector | None = None
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._wake_reader.setblocking(False)

    def add(self, sock: socket.socket, respond: Responder) -> None:
        """Serve `sock` (bound and listening) with `respond`; before `start` only."""
        sock.setblocking(False)
        self._listeners.append(_Listener(sock, respond))

    def add_reader(self, sock: socket.socket, on_readable: Callable[[], None]) -> None:
        """Call `on_readable` on the loop's thread whenever `sock` has data; before `start`
        only. The loop's thread is the one that calls the sandbox: a reader may too."""
        sock.setblocking(False)
        self._readers.append((sock, _Reader(on_readable)))

    def start(self) -> None:
        selector = selectors.DefaultSelector()
        for listener in self._listeners:
            selector.register(listener.sock, _READ, listener)
        for sock, reader in self._readers:
            selector.register(sock, _READ, reader)
        selector.register(self._wake_reader, _READ, None)
        self._selector = selector
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop listening, close every connection (flushing what is written) and wait."""
        thread = self._thread
        if thread is not None and thread.is_alive():
            self._stopping = True
            with contextlib.suppress(OSError):
                self._wake_writer.send(b"x")
            thread.join(timeout=10)
        self._thread = None
        for listener in self._listeners:
            with contextlib.suppress(OSError):
                listener.sock.close()
        for end in (self._wake_reader, self._wake_writer):
            with contextlib.suppress(OSError):
                end.close()

    @property
    def connections(self) -> int:
        """Connections open now (for tests and diagnostics)."""
        return len(self._connections)

    # -- the loop (its own thread) ---------------------------------------------------------------

    def _run(self) -> None:
        selector = self._selector
        assert selector is not None
        interval = max(min(1.0, self.timeouts.read / 4, self.timeouts.linger / 4), 0.01)
        next_sweep = time.monotonic() + interval
        try:
            while not self._stopping:
                timeout = max(next_sweep - time.monotonic(), 0.0)
                for key, mask in selector.select(timeout):
                    target = key.data
                    if type(target) is _Connection:
                        if mask & _WRITE:
                            target.on_writable()
                        if mask & _READ and not target.closed:
                            target.on_readable()
                    elif target is None:
                        with contextlib.suppress(OSError):
                            self._wake_reader.recv(64)
                    elif type(target) is _Reader:
                        target.on_readable()
                    else:
                        self._accept(target)
                now = time.monotonic()
                if now >= next_sweep:
                    for connection in list(self._connections):
                        connection.expire(now)
                    next_sweep = now + interval
        finally:
            for connection in list(self._connections):
                connection.end()
            selector.close()

    def _accept(self, listener: _Listener) -> None:
        while True:
            try:
                sock, _ = listener.sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:  # out of file descriptors, a reset before accept: not ours to fix
                return
            sock.setblocking(False)
            # An answer is one write; waiting to coalesce it with nothing only adds latency.
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            connection = _Connection(self, sock, listener.respond)
            self._connections.add(connection)
            assert self._selector is not None
            self._selector.register(sock, _READ, connection)

    def _forget(self, connection: _Connection) -> None:
        self._connections.discard(connection)
        if self._selector is not None:
            with contextlib.suppress(KeyError, ValueError, OSError):
                self._selector.unregister(connection.sock)


class _Connection:
    """One client connection: read requests, answer them in order, close on errors."""

    __slots__ = (
        "closed",
        "closing_since",
        "events",
        "last_active",
        "out",
        "owner",
        "parser",
        "peer_done",
        "respond",
        "shutdown_pending",
        "sock",
    )

    def __init__(self, owner: HttpServer, sock: socket.socket, respond: Responder) -> None:
        self.owner = owner
        self.sock = sock
        self.respond = respond
        self.parser = RequestParser(owner.limits)
        self.out = bytearray()  # written but not yet taken by the socket
        self.events = _READ
        self.last_active = time.monotonic()
        self.closing_since: float | None = None
        self.shutdown_pending = False  # stop writing once `out` drains
        self.peer_done = False  # the client sent EOF: close once `out` drains
        self.closed = False

    # -- readiness ---------------------------------------------------------------------------------

    def on_readable(self) -> None:
        buffer = self.owner.read_buffer
        try:
            count = self.sock.recv_into(buffer)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self.close()
            return
        if count == 0:
            # The client sends nothing more; a request it left half-sent can never complete.
            self.peer_done = True
            if not self.out:
                self.close()
            else:
                self._want(_WRITE)
            return
        self.last_active = time.monotonic()
        if self.closing_since is not None:
            return  # closing: what still arrives is read and dropped, so no reset hides the answer
        self.parser.feed(buffer[:count])
        self._answer_ready()

    def on_writable(self) -> None:
        try:
            sent = self.sock.send(self.out)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self.close()
            return
        del self.out[:sent]
        if self.out:
            return
        if self.peer_done:
            self.close()
        elif self.shutdown_pending:
            self.shutdown_pending = False
            self._shut_write()
            self._want(_READ)
        else:
            self._want(_READ)
            self._answer_ready()  # requests that waited while the client was not reading

    # -- answering ---------------------------------------------------------------------------------

    def _answer_ready(self) -> None:
        parser = self.parser
        while not self.out and self.closing_since is None and not self.closed:
            item = parser.next()
            if item is None:
                if parser.wants_continue:
                    parser.continue_sent = True
                    self._send(CONTINUE)
                return
            if isinstance(item, Refusal):
                self._refuse(item)
                return
            self._reply(item)

    def _reply(self, request: ParsedRequest) -> None:
        keep_alive = request.keep_alive
        try:
            status, fields, body = self.respond(request)
        except Exception as err:  # a bug must not take the server down with it
            _report_internal_error(request, err)
            status, fields = 500, JSON_FIELDS
            body = error_body("internal_error", "the sandbox failed on this request")
            keep_alive = False
        self._write(status, fields, body, keep_alive, head_only=request.method == "HEAD")
        if not keep_alive:
            self._close_after_answer()

    def _refuse(self, refusal: Refusal) -> None:
        body = error_body(refusal.error, refusal.detail)
        self._write(refusal.status, JSON_FIELDS, body, keep_alive=False, head_only=False)
        self._close_after_answer()

    def _write(
        self, status: int, fields: str, body: bytes, keep_alive: bool, *, head_only: bool
    ) -> None:
        head = (
            f"{_opening(status)}{self.owner.date.at(time.time())}\r\n{fields}"
            f"Content-Length: {len(body)}\r\n{'' if keep_alive else _CLOSE}\r\n"
        ).encode("latin-1", "replace")
        # Head and body in one write: two small writes cost a packet each.
        self._send(head if head_only else head + body)

    def _send(self, data: bytes) -> None:
        if self.out:
            self.out += data
            return
        try:
            sent = self.sock.send(data)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            self.close()
            return
        if sent < len(data):
            self.out += data[sent:]
            self._want(_WRITE)  # and read no more until the client takes its answers

    def _close_after_answer(self) -> None:
        """Stop writing, keep reading for a moment (RFC 9112 9.6), then close."""
        self.closing_since = time.monotonic()
        self.parser = RequestParser(self.owner.limits)  # drop whatever was buffered
        if self.out:
            self.shutdown_pending = True
        else:
            self._shut_write()

    def _shut_write(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            self.close()

    def _want(self, events: int) -> None:
        if events != self.events and not self.closed:
            self.events = events
            assert self.owner._selector is not None
            self.owner._selector.modify(self.sock, events, self)

    # -- ending ------------------------------------------------------------------------------------

    def expire(self, now: float) -> None:
        """Close the connection if it has been silent too long (called about once a second)."""
        timeouts = self.owner.timeouts
        if self.closing_since is not None:
            if now - self.closing_since > timeouts.linger:
                self.close()
            return
        if now - self.last_active < timeouts.read:
            return
        if self.out:
            self.close()  # it neither reads its answers nor sends: nothing more to say
        elif self.parser.pending:
            self._refuse(
                Refusal(
                    408,
                    "request_timeout",
                    f"the request was not complete after {timeouts.read:g} s of silence",
                )
            )
        else:
            self.close()

    def end(self) -> None:
        """The server stops: send what is written if the socket takes it now, then close."""
        if self.out:
            with contextlib.suppress(OSError):
                self.sock.send(self.out)
        self.close()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.owner._forget(self)
        with contextlib.suppress(OSError):
            self.sock.close()


_CLOSE = "Connection: close\r\n"


@functools.cache
def _opening(status: int) -> str:
    """An answer head up to the Date value, the same for every answer of one status."""
    return f"{status_line(status)}Server: {SERVER_NAME}\r\nDate: "


def _report_internal_error(request: ParsedRequest, err: Exception) -> None:
    sys.stderr.write(
        f"connector-harness: internal error answering {request.method} {request.target[:200]}: "
        f"{type(err).__name__}: {err} (answered 500; please report this)\n"
    )
    sys.stderr.flush()


__all__ = ["JSON_FIELDS", "Answer", "HttpServer", "Responder", "Timeouts", "error_body"]
