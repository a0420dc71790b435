"""The HTTP/1.1 server under the loopback transport: one thread runs a readiness loop
(epoll on Linux, poll elsewhere) over every connection of every port, so the code that
answers a request (the sandbox) only ever runs on that thread, one request at a time,
with no lock.

Each connection reads with `http11.RequestParser` (bounded and strict), answers in order
(pipelined requests included), writes each answer in one call, keeps the connection
alive as HTTP/1.1 says, and reads nothing more while a client leaves its answers
unread. A bad request is answered with its status and a short JSON body, then the
connection is closed cleanly: the server stops writing and keeps reading (and
discarding) for a moment, so the client sees the answer instead of a reset. A
connection silent for `read_timeout` seconds is closed; one that stopped in the middle
of a request is answered 408 first.

The loop is written out rather than built on asyncio or `selectors`: per request it does
one readiness wait, one read into a reused buffer and one write of the whole answer,
with no layer between, and the head is put together from bytes made once (per status,
per second for the Date). It costs less CPU per call than an asyncio server on its own,
and less again beside a replaying client in the same process, where every line of
Python run is run under the interpreter lock (bench/README.md has the figures). After
answering, the loop polls for the next request for up to `Timeouts.poll` before it
sleeps, for as long as that pays (`_PollWindow`): with one client, a call is one round
trip, and the wake-up of a sleeping thread was the largest part of the server's time.
"""

from __future__ import annotations

import contextlib
import json
import select
import selectors
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from harness.transports.http11 import (
    DateHeader,
    Limits,
    ParsedRequest,
    Refusal,
    RequestParser,
    status_line,
)

# status, field lines (b"Name: value\r\n" each, already made safe), body
Answer = tuple[int, bytes, bytes]
Responder = Callable[[ParsedRequest], Answer]
SERVER_NAME = "connector-harness"
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
JSON_FIELDS = b"Content-Type: application/json\r\n"
READ_SIZE = 65536
# poll(2)'s bits, which epoll shares: what a socket is waited for, and what it is ready for.
_READ, _WRITE = select.POLLIN, select.POLLOUT


@dataclass(frozen=True, slots=True)
class Timeouts:
    read: float = 30.0  # seconds a connection may stay silent, idle or mid-request
    linger: float = 2.0  # seconds to keep reading after closing on a client, before a reset
    poll: float = 100e-6  # most seconds to poll for the next request before sleeping (0: never)


class _PollWindow:
    """How long the loop polls for more work before it sleeps, adapted as Linux KVM adapts
    its halt-polling window (Documentation/virt/kvm/halt-polling.rst).

    A thread that sleeps in the kernel and is woken by the next request pays for the
    wake-up, and on a virtual machine an idle CPU's wake-up is dearer still. A replaying
    client sends its next request tens of microseconds after it reads an answer, so
    polling that long finds it without sleeping. After each wait for work (polling, then
    sleeping if polling found nothing), the window doubles (from `START`, up to `limit`)
    if the work came later than the window but within `limit`, and halves if it came later
    than `limit` or not at all. A quiet server soon stops polling: what it can spend
    polling is at most about twice `limit` after each burst of requests."""

    START = 10e-6

    __slots__ = ("limit", "seconds")

    def __init__(self, limit: float) -> None:
        self.limit = limit
        self.seconds = 0.0

    def waited(self, seconds: float, woken: bool) -> None:
        if not woken or seconds > self.limit:
            self.seconds = self.seconds / 2 if self.seconds >= 2 * self.START else 0.0
        elif seconds > self.seconds:
            self.seconds = min(max(self.seconds * 2, self.START), self.limit)


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


class _Poll:
    """Readiness by file descriptor, as `select.poll` reports it (masks of `_READ`, `_WRITE`
    and hang-up or error bits): epoll on Linux, poll(2) elsewhere, `selectors` where neither
    exists. The loop calls `wait` once per wakeup, so it goes straight to the system call:
    the `selectors` wrapper builds a key per ready socket, about a microsecond of Python."""

    def __init__(self) -> None:
        self._selector: selectors.BaseSelector | None = None
        self._poll: Any = None
        self.wait: Callable[[float], list[tuple[int, int]]]
        self.close: Callable[[], None]
        if hasattr(select, "epoll"):
            epoll = self._poll = select.epoll()
            self.wait, self.close = epoll.poll, epoll.close
        elif hasattr(select, "poll"):
            poll = self._poll = select.poll()
            self.wait = lambda timeout: poll.poll(timeout * 1000)  # milliseconds
            self.close = lambda: None
        else:
            selector = self._selector = selectors.DefaultSelector()
            self.wait, self.close = self._select, selector.close

    def register(self, fd: int, events: int) -> None:
        if self._selector is not None:
            self._selector.register(fd, _selector_events(events))
        else:
            self._poll.register(fd, events)

    def modify(self, fd: int, events: int) -> None:
        if self._selector is not None:
            self._selector.modify(fd, _selector_events(events))
        else:
            self._poll.modify(fd, events)

    def unregister(self, fd: int) -> None:
        if self._selector is not None:
            self._selector.unregister(fd)
        else:
            self._poll.unregister(fd)

    def _select(self, timeout: float) -> list[tuple[int, int]]:
        assert self._selector is not None
        return [
            (
                key.fd,
                (_READ if events & selectors.EVENT_READ else 0)
                | (_WRITE if events & selectors.EVENT_WRITE else 0),
            )
            for key, events in self._selector.select(timeout)
        ]


def _selector_events(events: int) -> int:
    return (selectors.EVENT_READ if events & _READ else 0) | (
        selectors.EVENT_WRITE if events & _WRITE else 0
    )


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
        self._openings: dict[int, bytes] = {}  # status -> head up to the fields, this second
        self._opening_second = -1
        # Every read lands here first: the loop reads one connection at a time.
        self.read_buffer = memoryview(bytearray(READ_SIZE))
        self._listeners: list[_Listener] = []
        self._readers: list[tuple[socket.socket, _Reader]] = []
        self._connections: set[_Connection] = set()
        self._poll: _Poll | None = None
        self._targets: dict[int, object] = {}  # file descriptor -> what to tell when ready
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
        poll = _Poll()
        for listener in self._listeners:
            self._watch(poll, listener.sock.fileno(), listener)
        for sock, reader in self._readers:
            self._watch(poll, sock.fileno(), reader)
        self._watch(poll, self._wake_reader.fileno(), None)
        self._poll = poll
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

    def _watch(self, poll: _Poll, fd: int, target: object) -> None:
        poll.register(fd, _READ)
        self._targets[fd] = target

    def opening(self, status: int) -> bytes:
        """An answer's head up to its own fields: status line, Server and Date."""
        second = int(time.time())
        if second != self._opening_second:
            self._opening_second = second
            self._openings.clear()
        opening = self._openings.get(status)
        if opening is None:
            date = self.date.at(second)
            opening = f"{status_line(status)}Server: {SERVER_NAME}\r\nDate: {date}\r\n".encode()
            self._openings[status] = opening
        return opening

    @property
    def connections(self) -> int:
        """Connections open now (for tests and diagnostics)."""
        return len(self._connections)

    # -- the loop (its own thread) ---------------------------------------------------------------

    def _run(self) -> None:
        poll = self._poll
        assert poll is not None
        wait, targets, wake = poll.wait, self._targets, self._wake_reader.fileno()
        interval = max(min(1.0, self.timeouts.read / 4, self.timeouts.linger / 4), 0.01)
        window = _PollWindow(self.timeouts.poll)
        clock = time.perf_counter
        now = time.monotonic()
        next_sweep = now + interval
        ready: list[tuple[int, int]] = []
        try:
            while not self._stopping:
                worked, began = bool(ready), clock()
                ready = []
                if worked and window.seconds:  # the next request may be close: poll
                    until = began + window.seconds
                    ready = wait(0)
                    while not ready and clock() < until:
                        ready = wait(0)
                if not ready:
                    try:
                        ready = wait(max(next_sweep - now, 0.0))
                    except InterruptedError:
                        ready = []
                if worked:
                    window.waited(clock() - began, bool(ready))
                for fd, event in ready:
                    target = targets.get(fd)
                    if type(target) is _Connection:
                        # As selectors reports it: a hang-up or an error is ready for what the
                        # connection waits for, and the read or write then says what happened.
                        if event & ~_READ and target.events & _WRITE:
                            target.on_writable()
                        if event & ~_WRITE and target.events & _READ and not target.closed:
                            target.on_readable()
                    elif type(target) is _Reader:
                        target.on_readable()
                    elif type(target) is _Listener:
                        self._accept(target)
                    elif fd == wake:
                        with contextlib.suppress(OSError):
                            self._wake_reader.recv(64)
                now = time.monotonic()
                if now >= next_sweep:
                    for connection in list(self._connections):
                        connection.expire(now)
                    next_sweep = now + interval
        finally:
            for connection in list(self._connections):
                connection.end()
            poll.close()

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
            assert self._poll is not None
            self._watch(self._poll, connection.fd, connection)

    def _forget(self, connection: _Connection) -> None:
        self._connections.discard(connection)
        if self._targets.get(connection.fd) is connection:
            del self._targets[connection.fd]
            if self._poll is not None:
                with contextlib.suppress(KeyError, ValueError, OSError):
                    self._poll.unregister(connection.fd)


class _Connection:
    """One client connection: read requests, answer them in order, close on errors."""

    __slots__ = (
        "closed",
        "closing_since",
        "events",
        "fd",
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
        self.fd = sock.fileno()
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
        self, status: int, fields: bytes, body: bytes, keep_alive: bool, *, head_only: bool
    ) -> None:
        # Head and body in one write: two small writes cost a packet each.
        self._send(
            b"".join(
                (
                    self.owner.opening(status),
                    fields,
                    b"Content-Length: %d\r\n%s\r\n" % (len(body), b"" if keep_alive else _CLOSE),
                    b"" if head_only else body,
                )
            )
        )

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
            assert self.owner._poll is not None
            self.owner._poll.modify(self.fd, events)

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


_CLOSE = b"Connection: close\r\n"


def _report_internal_error(request: ParsedRequest, err: Exception) -> None:
    sys.stderr.write(
        f"connector-harness: internal error answering {request.method} {request.target[:200]}: "
        f"{type(err).__name__}: {err} (answered 500; please report this)\n"
    )
    sys.stderr.flush()


__all__ = ["JSON_FIELDS", "Answer", "HttpServer", "Responder", "Timeouts", "error_body"]
