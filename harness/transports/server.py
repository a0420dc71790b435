"""The HTTP/1.1 server under the loopback transport: one asyncio event loop, on a thread of
its own, owns every connection of every port, so the code that answers a request (the
sandbox) only ever runs on that thread, one request at a time, with no lock.

Each connection reads with `http11.RequestParser` (bounded and strict), answers in order
(pipelined requests included), writes each answer in one call, keeps the connection
alive as HTTP/1.1 says, and stops reading while a client does not read its answers. A
bad request is answered with its status and a short JSON body, then the connection is
closed cleanly: the server stops writing and keeps reading (and discarding) for a
moment, so the client sees the answer instead of a reset. A connection that sends
nothing for `read_timeout` seconds is closed; one that stopped in the middle of a
request is answered 408 first.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from harness.errors import UsageError
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


@dataclass(frozen=True, slots=True)
class Timeouts:
    read: float = 30.0  # seconds a connection may stay silent, idle or mid-request
    linger: float = 2.0  # seconds to keep reading after closing on a client, before a reset


def error_body(error: str, detail: str) -> bytes:
    return json.dumps({"error": error, "detail": detail}, ensure_ascii=True).encode()


@dataclass(slots=True)
class _Site:
    """One listening socket and what answers its requests."""

    sock: socket.socket
    respond: Responder
    server: asyncio.AbstractServer | None = None


READ_SIZE = 65536


@dataclass(slots=True)
class _State:
    connections: set[_Connection] = field(default_factory=set)
    date: DateHeader = field(default_factory=DateHeader)
    # Every read lands here first: one loop thread reads one connection at a time, and a
    # fresh 256 KiB buffer per read (asyncio's default) costs an mmap and munmap each.
    read_buffer: memoryview = field(default_factory=lambda: memoryview(bytearray(READ_SIZE)))


class HttpServer:
    """Serves HTTP/1.1 on already bound sockets from one event loop thread (start, stop)."""

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
        self._sites: list[_Site] = []
        self._state = _State()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._sweeper: asyncio.TimerHandle | None = None

    def add(self, sock: socket.socket, respond: Responder) -> None:
        """Serve `sock` (bound and listening) with `respond`; before `start` only."""
        sock.setblocking(False)
        self._sites.append(_Site(sock, respond))

    def start(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._failure is not None:
            self.stop()
            raise UsageError(f"the loopback server did not start: {self._failure}")

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if thread.is_alive():
            with contextlib.suppress(RuntimeError):  # the loop already stopped
                loop.call_soon_threadsafe(self._shutdown)
            thread.join(timeout=10)
        self._loop = self._thread = None
        for site in self._sites:
            with contextlib.suppress(OSError):
                site.sock.close()

    @property
    def connections(self) -> int:
        """Connections open now (for tests and diagnostics)."""
        return len(self._state.connections)

    def _run(self) -> None:
        loop = self._loop
        assert loop is not None
        try:
            loop.run_until_complete(self._open(loop))
        except Exception as err:  # reported to start(), which raises it as a usage error
            self._failure = err
        finally:
            self._ready.set()
        try:
            if self._failure is None:
                loop.run_forever()
        finally:
            loop.close()

    async def _open(self, loop: asyncio.AbstractEventLoop) -> None:
        for site in self._sites:
            factory = functools.partial(_Connection, self, site.respond)
            site.server = await loop.create_server(factory, sock=site.sock)
        self._schedule_sweep(loop)

    def _schedule_sweep(self, loop: asyncio.AbstractEventLoop) -> None:
        interval = max(min(1.0, self.timeouts.read / 4, self.timeouts.linger / 4), 0.01)
        self._sweeper = loop.call_later(interval, self._sweep, loop)

    def _sweep(self, loop: asyncio.AbstractEventLoop) -> None:
        now = time.monotonic()
        for connection in list(self._state.connections):
            connection.expire(now)
        self._schedule_sweep(loop)

    def _shutdown(self) -> None:
        assert self._loop is not None
        self._loop.create_task(self._close_all(self._loop))

    async def _close_all(self, loop: asyncio.AbstractEventLoop) -> None:
        """Stop listening, close every connection and wait until the loop has let them go."""
        if self._sweeper is not None:
            self._sweeper.cancel()
        for site in self._sites:
            if site.server is not None:
                site.server.close()
        connections = self._state.connections
        for connection in list(connections):
            connection.end()
        deadline = time.monotonic() + 2.0
        while connections and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
        for connection in list(connections):
            connection.abort()
        for _ in range(100):  # an aborted transport lets go on the loop's next iteration
            if not connections:
                break
            await asyncio.sleep(0)
        for site in self._sites:
            if site.server is not None:
                await site.server.wait_closed()
        loop.stop()


class _Connection(asyncio.BufferedProtocol):
    """One client connection: read requests, answer them in order, close on errors."""

    __slots__ = (
        "closing_since",
        "last_active",
        "owner",
        "parser",
        "paused",
        "respond",
        "transport",
    )

    def __init__(self, owner: HttpServer, respond: Responder) -> None:
        self.owner = owner
        self.respond = respond
        self.parser = RequestParser(owner.limits)
        self.transport: asyncio.Transport | None = None
        self.last_active = time.monotonic()
        self.closing_since: float | None = None
        self.paused = False

    # -- asyncio callbacks ---------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            # An answer is one write; waiting to coalesce it with nothing only adds latency.
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.owner._state.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.owner._state.connections.discard(self)

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.owner._state.read_buffer

    def buffer_updated(self, nbytes: int) -> None:
        self.last_active = time.monotonic()
        if self.closing_since is not None:
            return  # closing: what still arrives is read and dropped, so no reset hides the answer
        self.parser.feed(self.owner._state.read_buffer[:nbytes])
        self._answer_ready()

    def eof_received(self) -> bool:
        # The client sends nothing more; a request it left half-sent can never complete.
        return False  # close our side too, once the answers written so far are flushed

    def pause_writing(self) -> None:
        # The client is not reading its answers: read no more requests until it does.
        self.paused = True
        assert self.transport is not None
        self.transport.pause_reading()

    def resume_writing(self) -> None:
        self.paused = False
        assert self.transport is not None
        if self.closing_since is None:
            self.transport.resume_reading()
            self._answer_ready()

    # -- answering -----------------------------------------------------------------------------

    def _answer_ready(self) -> None:
        parser = self.parser
        while not self.paused and self.closing_since is None:
            item = parser.next()
            if item is None:
                if parser.wants_continue:
                    parser.continue_sent = True
                    assert self.transport is not None
                    self.transport.write(CONTINUE)
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
        transport = self.transport
        assert transport is not None
        head = (
            f"{_opening(status)}{self.owner._state.date.at(time.time())}\r\n{fields}"
            f"Content-Length: {len(body)}\r\n{'' if keep_alive else _CLOSE}\r\n"
        ).encode("latin-1", "replace")
        # Head and body in one write: two small writes cost a packet each.
        transport.write(head if head_only else head + body)

    def _close_after_answer(self) -> None:
        """Stop writing, keep reading for a moment (RFC 9112 9.6), then close."""
        transport = self.transport
        assert transport is not None
        self.closing_since = time.monotonic()
        if transport.is_closing():
            return
        self.parser = RequestParser(self.owner.limits)  # drop whatever was buffered
        if self.paused:
            self.paused = False
        transport.resume_reading()
        if transport.can_write_eof():
            transport.write_eof()
        else:
            transport.close()

    def expire(self, now: float) -> None:
        """Close the connection if it has been silent too long (called about once a second)."""
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        timeouts = self.owner.timeouts
        if self.closing_since is not None:
            if now - self.closing_since > timeouts.linger:
                transport.abort()
            return
        if now - self.last_active < timeouts.read:
            return
        if transport.get_write_buffer_size():
            transport.abort()  # it neither reads its answers nor sends: nothing more to say
        elif self.parser.pending:
            self._refuse(
                Refusal(
                    408,
                    "request_timeout",
                    f"the request was not complete after {timeouts.read:g} s of silence",
                )
            )
        else:
            transport.close()

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    def end(self) -> None:
        """The server stops: close now (flushing what was written), or reset a stuck client."""
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        if transport.get_write_buffer_size():
            transport.abort()
        else:
            transport.close()


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
