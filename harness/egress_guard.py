"""The in-process guard: while active, every way out of this process that is not one of
the sandbox's mocked clients is refused, and reported so that it becomes a Decision.

The guard listens to Python's audit events (PEP 578), which the interpreter raises in
C before a socket connects or sends, a name is looked up or a process starts, in every
thread and through every library built on them (`urllib`, `http.client`, `asyncio`,
`ssl`, the `_socket` module, `subprocess`, `os.system`, `os.exec*`, `os.spawn*`,
`os.posix_spawn`, `os.fork`, `pty`). An attempt is reported as (method, host, path):
the method names its channel (harness.authorization.CHANNELS), the path is `:PORT` or
empty. A few calls are also wrapped while the guard is active, where the audit event
comes too late or not at all: a host name given to `connect`/`sendto` is resolved by
the C library before the `socket.connect` event, and `_posixsubprocess.fork_exec`
starts a process with no event.

Loopback stays reachable: addresses in 127.0.0.0/8 and ::1 (also IPv4-mapped), the
unspecified address (which Linux connects to this host), the names `localhost`,
unix-domain and netlink sockets.

An audit hook cannot be removed, so it is added once, on first use, and does nothing
while no guard is active: one check of a module global per audited event. What the
guard cannot see (code that calls the C library itself, child processes started
before it, other languages) is listed in docs/security.md with the boundary that does.
"""

from __future__ import annotations

import _posixsubprocess
import _socket
import ipaddress
import os
import shlex
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any
from unittest import mock

# An attempt: the method naming its channel, the host (a name, an address, a program)
# and the path (`:PORT`, or empty).
Attempt = tuple[str, str, str]
# Records an attempt (a Decision) and gives the exception the refused call raises.
Reporter = Callable[[str, str, str], BaseException]

LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ksh", "busybox"})
_LOCAL_FAMILIES = frozenset(
    family
    for family in (getattr(socket, "AF_UNIX", None), getattr(socket, "AF_NETLINK", None))
    if family is not None
)
_INTERNET = frozenset({socket.AF_INET, socket.AF_INET6})

_active: tuple[Reporter, ...] = ()  # innermost guard last; replaced whole, never mutated
_changes = threading.Lock()
_reporting = threading.local()  # set while a reporter runs: its own work is not judged
_hook_added = False


@contextmanager
def guarded(reporter: Reporter) -> Iterator[None]:
    """Refuse every way out while the block runs, reporting each attempt to `reporter`."""
    global _active, _hook_added
    with _changes:
        if not _hook_added:
            sys.addaudithook(_hook)
            _hook_added = True
        _active = (*_active, reporter)
    try:
        with _wrapped_calls():
            yield
    finally:
        with _changes:
            remaining = list(_active)
            remaining.remove(reporter)
            _active = tuple(remaining)


def hook_added() -> bool:
    """The audit hook is in this process (it stays once a guard has been used)."""
    return _hook_added


def is_loopback(host: str) -> bool:
    """`host` is this machine: a loopback or unspecified address, or a local name."""
    if host.lower().rstrip(".") in LOCAL_NAMES or host == "":
        return True
    address = _address(host)
    if address is None:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback or address.is_unspecified


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP address `host` spells, or None for a name (one that needs a lookup)."""
    try:
        return ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return None


def _text(value: Any) -> str | None:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "replace")
    return value if isinstance(value, str) else None


def _refuse(attempt: Attempt) -> None:
    """Report the attempt to the innermost guard and raise what it gives; nothing when no
    guard is active or the attempt comes from a reporter's own work."""
    active = _active
    if not active or getattr(_reporting, "busy", False):
        return
    _reporting.busy = True
    try:
        error = active[-1](*attempt)
    finally:
        _reporting.busy = False
    raise error


# -- judging the audit events ---------------------------------------------------------


def _lookup(args: tuple[Any, ...]) -> Attempt | None:
    """socket.getaddrinfo (host, port, ...), socket.gethostbyname (host,)."""
    name = _text(args[0]) if args else None
    if name is None or is_loopback(name) or _address(name) is not None:
        return None  # nothing to look up: a numeric address is judged when it is used
    return ("RESOLVE", name.lower().rstrip("."), "")


def _reverse_lookup(args: tuple[Any, ...]) -> Attempt | None:
    """socket.gethostbyaddr (address,), socket.getnameinfo (sockaddr,)."""
    target = args[0] if args else None
    host = _text(target[0] if isinstance(target, tuple) and target else target)
    if host is None or is_loopback(host):
        return None
    return ("RESOLVE", host.lower(), "")


def _destination(args: tuple[Any, ...]) -> Attempt | None:
    """socket.connect, socket.sendto, socket.sendmsg (sock, address): None for a sendmsg
    on a connected socket, whose connect was judged."""
    sock, address = args[0], args[1]
    if address is None or sock.family in _LOCAL_FAMILIES:
        return None
    if sock.family not in _INTERNET or not isinstance(address, tuple) or not address:
        return ("RAW", _family_name(sock.family), "")
    host = _text(address[0]) or ""
    if is_loopback(host):
        return None
    shown = f"[{host}]" if ":" in host else host
    if sock.type == socket.SOCK_STREAM:
        return ("CONNECT", shown, f":{address[1]}")
    if sock.type == socket.SOCK_DGRAM:
        return ("SEND", shown, f":{address[1]}")
    return ("RAW", shown, "")


def _new_socket(args: tuple[Any, ...]) -> Attempt | None:
    """socket.__new__ (sock, family, type, proto): a packet or raw IP socket can send
    anything to anywhere, past every address check."""
    family, kind = args[1], args[2]
    packet = family == getattr(socket, "AF_PACKET", object())
    if packet or (family in _INTERNET and kind == socket.SOCK_RAW):
        return ("RAW", _family_name(family), "")
    return None


def _family_name(family: int) -> str:
    try:
        return socket.AddressFamily(family).name
    except ValueError:
        return f"address family {family}"


def _program(path: Any) -> str:
    text = _text(os.fspath(path)) if isinstance(path, (str, bytes, os.PathLike)) else None
    return os.path.basename(text) if text else "?"


def _command(command: Any) -> str:
    """The program a shell command line runs first (past `NAME=value` assignments)."""
    text = _text(command) or ""
    try:
        words = shlex.split(text)
    except ValueError:
        words = text.split()
    words = [word for word in words if not (word.partition("=")[0].isidentifier() and "=" in word)]
    return _program(words[0]) if words else "?"


def _argv(argv: Any, executable: Any = None) -> str:
    """The program of an argument vector; for `sh -c COMMAND`, the command's program."""
    if isinstance(argv, (str, bytes)):
        argv = [argv]
    words = list(argv) if isinstance(argv, (list, tuple)) else []
    first = executable if executable is not None else (words[0] if words else None)
    program = _program(first)
    if program in SHELLS and len(words) >= 3 and _text(words[1]) == "-c":
        return _command(words[2])
    return program


def _process(program: str) -> Attempt:
    return ("EXEC", program, "")


_JUDGES: dict[str, Callable[[tuple[Any, ...]], Attempt | None]] = {
    "socket.getaddrinfo": _lookup,
    "socket.gethostbyname": _lookup,
    "socket.gethostbyaddr": _reverse_lookup,
    "socket.getnameinfo": _reverse_lookup,
    "socket.connect": _destination,
    "socket.sendto": _destination,
    "socket.sendmsg": _destination,
    "socket.__new__": _new_socket,
    "subprocess.Popen": lambda args: _process(_argv(args[1], args[0])),
    "os.system": lambda args: _process(_command(args[0])),
    "os.exec": lambda args: _process(_program(args[0])),
    "os.spawn": lambda args: _process(_program(args[1])),
    "os.posix_spawn": lambda args: _process(_program(args[0])),
    "os.fork": lambda args: _process("(fork)"),
    "os.forkpty": lambda args: _process("(forkpty)"),
    "pty.spawn": lambda args: _process(_argv(args[0])),
}


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if not _active:
        return
    judge = _JUDGES.get(event)
    if judge is not None:
        attempt = judge(args)
        if attempt is not None:
            _refuse(attempt)


# -- calls wrapped while a guard is active ------------------------------------------------


def _named(sock: Any, address: Any) -> None:
    """Refuse a host *name* given to connect or sendto before the C library looks it up
    (the audit event comes after the lookup); addresses are judged by the audit hook."""
    if sock.family not in _INTERNET or not isinstance(address, tuple) or not address:
        return
    host = _text(address[0])
    if host is None or is_loopback(host) or _address(host) is not None:
        return
    method = {socket.SOCK_STREAM: "CONNECT", socket.SOCK_DGRAM: "SEND"}.get(sock.type, "RAW")
    _refuse((method, host.lower().rstrip("."), f":{address[1]}" if method != "RAW" else ""))


def _guarded_methods(base: type[Any]) -> dict[str, Any]:
    """connect, connect_ex, sendto and sendmsg of `base`, with host names judged first."""

    def connect(self: Any, address: Any) -> None:
        _named(self, address)
        base.connect(self, address)

    def connect_ex(self: Any, address: Any) -> int:
        _named(self, address)
        return int(base.connect_ex(self, address))

    def sendto(self: Any, data: Any, *rest: Any) -> int:  # (data, [flags,] address)
        _named(self, rest[-1] if rest else None)
        return int(base.sendto(self, data, *rest))

    def sendmsg(self: Any, buffers: Any, *rest: Any) -> int:  # (buffers, anc, flags, address)
        _named(self, rest[2] if len(rest) > 2 else None)
        return int(base.sendmsg(self, buffers, *rest))

    return {"connect": connect, "connect_ex": connect_ex, "sendto": sendto, "sendmsg": sendmsg}


class _GuardedCSocket(_socket.socket):
    """`_socket.socket` while a guard is active: host names are judged before the lookup."""


for _name, _method in _guarded_methods(_socket.socket).items():
    setattr(_GuardedCSocket, _name, _method)


def _fork_exec(real: Callable[..., int]) -> Callable[..., int]:
    def fork_exec(args: Any, *rest: Any) -> int:
        _refuse(_process(_argv(args)))
        return real(args, *rest)

    return fork_exec


@contextmanager
def _wrapped_calls() -> Iterator[None]:
    with ExitStack() as stack:
        for name, method in _guarded_methods(_socket.socket).items():
            stack.enter_context(mock.patch.object(socket.socket, name, method))
        stack.enter_context(mock.patch.object(_socket, "socket", _GuardedCSocket))
        stack.enter_context(
            mock.patch.object(_posixsubprocess, "fork_exec", _fork_exec(_posixsubprocess.fork_exec))
        )
        yield
