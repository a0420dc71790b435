"""The network boundary: a Linux network namespace with no route out, where the sandbox's
loopback servers listen and flow programs run, and every packet sent is watched.

What the in-process guard (harness.egress_guard) cannot see, a child process (`curl`),
a C extension opening its own sockets, another language, the kernel can: inside a new
network namespace the only interface is loopback, so nothing sent there leaves the
machine, whoever sends it. The namespace is held by one thread of this process
(`NetworkNamespace`): sockets made on that thread, and processes started from it, live
in the namespace; every other thread of the process stays outside.

Inside, every address is made local (the route `local default dev lo`, for IPv4 and
IPv6), so a connection to any host is refused at once instead of hanging, and every
packet a program sends is seen on the loopback interface. `PacketObserver` reads each
one (harness.transports.packets) into an attempt (a DNS query, a TCP connection, a UDP
datagram, a ping) and reports it; the sandbox records it as a blocked decision. It reads
from the sandbox server's own loop thread, so decisions are made by one thread in the
order the packets were sent; `flush()` waits until every packet sent before it is read.

Creating a network namespace needs CAP_SYS_ADMIN (root, as in CI);
`boundary_unavailable()` says why it cannot be had here, if it cannot.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import functools
import os
import pwd
import secrets
import shutil
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from harness.egress_guard import Attempt
from harness.errors import SandboxError
from harness.transports.packets import attempt_of

T = TypeVar("T")
Report = Callable[[str, str, str], None]  # (method, host, path) of one attempt

CLONE_NEWNET = 0x40000000
_SIOCGIFFLAGS, _SIOCSIFFLAGS, _IFF_UP = 0x8913, 0x8914, 0x1
_RTM_NEWROUTE, _NLMSG_ERROR = 24, 2
_NLM_F_REQUEST, _NLM_F_ACK, _NLM_F_EXCL, _NLM_F_CREATE = 0x1, 0x4, 0x200, 0x400
_RT_TABLE_LOCAL, _RTPROT_BOOT, _RT_SCOPE_HOST, _RTN_LOCAL, _RTA_OIF = 255, 3, 254, 2, 4
_ETH_P_ALL, _SOL_PACKET, _PACKET_STATISTICS, _PACKET_OUTGOING = 0x0003, 263, 6, 4
_SO_RCVBUFFORCE = 33
_RECEIVE_BUFFER = 32 * 1024 * 1024
_SNAPSHOT = 2048  # bytes read of each packet: the headers and a DNS question fit
_BATCH = 512  # packets read before the loop serves its connections again
FLUSH_TIMEOUT = 10.0


class _NoNamespace(SandboxError):
    """This machine cannot make a network namespace at all (no privilege, no support)."""


@functools.cache
def boundary_unavailable() -> str | None:
    """Why a network boundary cannot be made here (None: it can), in words a person acts
    on. A namespace that can be made but not set up raises SandboxError: that is a fault
    to fix, not a component that is absent."""
    if not sys.platform.startswith("linux"):
        return f"network namespaces exist on Linux only, not on {sys.platform}"
    try:
        NetworkNamespace().close()
    except _NoNamespace as absent:
        return str(absent)
    return None


class NetworkNamespace:
    """A new network namespace with loopback up and every address local, held by one
    thread of this process: `call(fn)` runs `fn` on that thread (in the namespace)."""

    def __init__(self) -> None:
        self._thread = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="connector-harness-netns"
        )
        try:
            self.ipv6 = self._thread.submit(_enter).result()
        except BaseException:
            self._thread.shutdown(wait=True)
            raise

    def call(self, function: Callable[[], T]) -> T:
        """`function()` run on the namespace's thread: its sockets and processes are inside."""
        return self._thread.submit(function).result()

    def start(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: str | None = None,
        capture_output: bool = True,
        user: str | None = None,
    ) -> subprocess.Popen[str]:
        """Start `argv` inside the namespace, in a process group of its own, holding no
        capabilities (`_UNPRIVILEGED_EXEC`), as `user` (a name or a number) when given. A
        program that is not there, or not executable, raises FileNotFoundError or
        PermissionError here, as Popen would; an unknown user, SandboxError."""
        executable = _program_path(argv[0], env.get("PATH", os.defpath), cwd)
        identity = _identity(user) if user is not None else ""
        output = subprocess.PIPE if capture_output else None
        command = [
            sys.executable, "-I", "-S", "-c", _UNPRIVILEGED_EXEC, identity, executable, *argv,
        ]  # fmt: skip
        return self.call(
            lambda: subprocess.Popen(
                command,
                env=dict(env),
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=output,
                text=True,
                start_new_session=True,  # its own process group: stopped whole at the end
            )
        )

    def close(self) -> None:
        self._thread.shutdown(wait=True)


def _identity(user: str) -> str:
    """`UID:GID` of a user named by name or number, for the program to run as."""
    try:
        entry = pwd.getpwuid(int(user)) if user.isdigit() else pwd.getpwnam(user)
    except (KeyError, OverflowError):
        raise SandboxError(
            f"no user {user!r} on this machine; name an existing user (e.g. nobody) or a uid"
        ) from None
    return f"{entry.pw_uid}:{entry.pw_gid}"


def _program_path(program: str, path: str, cwd: str | None) -> str:
    """The file `program` names: a path (relative to `cwd`), or a name found on `path`."""
    if os.sep in program:
        candidate = os.path.join(cwd or os.getcwd(), program)
        if not os.path.isfile(candidate):
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), program)
        if not os.access(candidate, os.X_OK):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), program)
        return candidate
    found = shutil.which(program, path=path)
    if found is None:
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), program)
    return found


# Run in the child before the program (python -I -S -c THIS UID:GID EXECUTABLE ARGV...). A process
# inside the namespace must hold no capability that would let it leave: CAP_SYS_ADMIN
# enters another network namespace (this process's own, through /proc), CAP_NET_ADMIN
# reconfigures the interfaces, CAP_NET_RAW sends raw packets. Every capability leaves the
# bounding, inheritable and ambient sets and no_new_privs is set, so that after exec the
# program holds none, even as root, and no set-user-ID program gives one back.
_UNPRIVILEGED_EXEC = r"""
import ctypes, os, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
def fail(what):
    reason = os.strerror(ctypes.get_errno())
    os.write(2, f"connector-harness: cannot {what}: {reason}\n".encode())
    os._exit(126)
with open("/proc/sys/kernel/cap_last_cap") as last:
    highest = int(last.read())
for capability in range(highest + 1):
    if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
        fail(f"drop capability {capability}")
if libc.prctl(47, 4, 0, 0, 0) != 0:  # PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL
    fail("clear the ambient capabilities")
header = ctypes.create_string_buffer(struct.pack("Ii", 0x20080522, 0), 8)
sets = ctypes.create_string_buffer(24)  # effective, permitted, inheritable; twice (64 bits)
if libc.capget(header, sets) != 0:
    fail("read the capabilities")
effective, permitted, _, effective_high, permitted_high, _ = struct.unpack("6I", sets.raw)
cleared = struct.pack("6I", effective, permitted, 0, effective_high, permitted_high, 0)
if libc.capset(header, ctypes.create_string_buffer(cleared, 24)) != 0:
    fail("clear the inheritable capabilities")
if sys.argv[1]:  # UID:GID to run as; leaving root drops the permitted set too
    uid, gid = (int(part) for part in sys.argv[1].split(":"))
    try:
        os.setgroups([gid])
        os.setgid(gid)
        os.setuid(uid)
    except OSError:
        fail(f"become user {uid}")
if libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS
    fail("set no_new_privs")
try:
    os.execv(sys.argv[2], sys.argv[3:])
except OSError as error:
    os.write(2, f"connector-harness: cannot run {sys.argv[3]}: {error.strerror}\n".encode())
    os._exit(126)
"""


def _enter() -> bool:
    """Move this thread into a new network namespace and set it up; whether IPv6 is there."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNET) != 0:
        code = ctypes.get_errno()
        why = os.strerror(code)
        if code in (errno.EPERM, errno.EACCES):
            raise _NoNamespace(
                "creating a network namespace needs CAP_SYS_ADMIN (run as root, as CI does): "
                f"unshare(CLONE_NEWNET) failed: {why}"
            )
        if code in (errno.EINVAL, errno.ENOSYS):
            raise _NoNamespace(f"this kernel has no network namespaces: unshare failed: {why}")
        raise SandboxError(
            f"cannot create a network namespace: unshare(CLONE_NEWNET) failed: {why}"
        )
    try:
        _loopback_up()
        _route_everything_locally(socket.AF_INET)
    except OSError as err:
        raise SandboxError(f"cannot set up the network namespace's loopback: {err}") from err
    try:
        _route_everything_locally(socket.AF_INET6)
    except OSError:
        return False  # IPv6 is disabled here: an IPv6 connection then fails unseen
    return True


def _loopback_up() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as control:
        request = struct.pack("16sH22x", b"lo", 0)
        flags = struct.unpack_from("16sH", fcntl.ioctl(control, _SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(control, _SIOCSIFFLAGS, struct.pack("16sH22x", b"lo", flags | _IFF_UP))


def _route_everything_locally(family: int) -> None:
    """`ip route add local default dev lo`: every address of `family` is this namespace's."""
    route = struct.pack(
        "BBBBBBBBI",
        family, 0, 0, 0, _RT_TABLE_LOCAL, _RTPROT_BOOT, _RT_SCOPE_HOST, _RTN_LOCAL, 0,
    )  # fmt: skip
    route += struct.pack("HHI", 8, _RTA_OIF, socket.if_nametoindex("lo"))
    flags = _NLM_F_REQUEST | _NLM_F_ACK | _NLM_F_EXCL | _NLM_F_CREATE
    message = struct.pack("IHHII", 16 + len(route), _RTM_NEWROUTE, flags, 1, 0) + route
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0) as netlink:
        netlink.bind((0, 0))
        netlink.send(message)
        answer = netlink.recv(4096)
    if len(answer) < 20 or struct.unpack_from("H", answer, 4)[0] != _NLMSG_ERROR:
        raise OSError(errno.EIO, "the kernel did not acknowledge the route")
    code = -struct.unpack_from("i", answer, 16)[0]
    if code:
        raise OSError(code, f"adding the local route failed: {os.strerror(code)}")


class PacketObserver:
    """Every packet sent on the namespace's loopback, read into attempts and reported.

    Made on the namespace's thread (`NetworkNamespace.call(lambda: PacketObserver(r))`);
    `socket` and `on_readable` are handed to the server loop that reads it. Each distinct
    attempt is reported once between two `begin()` calls: one lookup sends several
    queries (A and AAAA, to each name server, again on failure), and a program that
    retries, or floods, one destination has made one attempt, not thousands.
    """

    def __init__(self, report: Report) -> None:
        self.report = report
        self.socket = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(_ETH_P_ALL))
        # The flush marker goes from this socket to itself: no ICMP error comes back.
        self._marker = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            try:
                self.socket.setsockopt(socket.SOL_SOCKET, _SO_RCVBUFFORCE, _RECEIVE_BUFFER)
            except OSError:
                self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _RECEIVE_BUFFER)
            self._marker.bind(("127.0.0.1", 0))
            self._marker.setblocking(False)
            _attach_filter(self.socket)
            self.socket.bind(("lo", _ETH_P_ALL))
            self.socket.setblocking(False)
        except BaseException:
            self.close()
            raise
        self._attempts: set[Attempt] = set()
        self._read = 0  # packets read so far: how a flush knows the loop is still at work
        self._awaited: bytes | None = None
        self._seen = threading.Event()

    def begin(self) -> None:
        """Start a new run: attempts made before are reported again."""
        self._attempts = set()

    def on_readable(self) -> None:
        """Read the packets waiting (on the server loop's thread), at most a batch at a time
        so that a program flooding the interface does not keep the loop from its calls."""
        for _ in range(_BATCH):
            try:
                packet, address = self.socket.recvfrom(_SNAPSHOT)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return  # closed while stopping
            if address[2] != _PACKET_OUTGOING:
                continue  # loopback shows each packet twice: as sent, and as received
            awaited = self._awaited
            if awaited is not None and packet.endswith(awaited):
                self._seen.set()
                continue
            self._read += 1
            attempt = attempt_of(packet)
            if attempt is None or attempt in self._attempts:
                continue
            self._attempts.add(attempt)
            self.report(*attempt)

    def flush(self, timeout: float = FLUSH_TIMEOUT) -> None:
        """Return once every packet sent before this call has been read and reported."""
        marker = b"connector-harness flush " + secrets.token_hex(16).encode()
        self._seen.clear()
        self._awaited = marker
        self._marker.sendto(marker, self._marker.getsockname())
        progress = self._read
        while not self._seen.wait(timeout):
            if self._read == progress:  # a backlog is being read: wait while it shrinks
                raise SandboxError(
                    f"the network boundary read none of its packets for {timeout:g} s; "
                    "its server loop is not running"
                )
            progress = self._read
        self._awaited = None
        with contextlib.suppress(OSError):
            while self._marker.recv(64):  # the markers it sent itself
                pass
        lost = self.lost_packets()
        if lost:
            raise SandboxError(
                f"the network boundary lost {lost} packets (its receive buffer overflowed), so "
                "some attempts to leave may be unrecorded; the run cannot be judged. Send less "
                "traffic per run"
            )

    @property
    def packets_read(self) -> int:
        """Packets the kernel's filter let through and this observer read (not its markers)."""
        return self._read

    def lost_packets(self) -> int:
        """Packets dropped since last asked (the kernel resets its count when read)."""
        statistics = self.socket.getsockopt(_SOL_PACKET, _PACKET_STATISTICS, 8)
        return int(struct.unpack("II", statistics)[1])

    def close(self) -> None:
        for sock in (self.socket, self._marker):
            with contextlib.suppress(OSError):
                sock.close()


# The kernel's filter of the observer's socket (classic BPF, run on each packet before it
# is queued): keep each packet as sent, not its second copy as received, and never TCP
# to 127.0.0.0/8 (the calls to the mocks, the bulk of the traffic); cut each to
# _SNAPSHOT bytes. The offsets are from the IP header (a SOCK_DGRAM packet socket).
_BPF_LD_W_ABS, _BPF_LD_B_ABS, _BPF_JEQ_K, _BPF_AND_K, _BPF_RET_K = 0x20, 0x30, 0x15, 0x54, 0x06
_SKF_AD_PKTTYPE = 0xFFFFF000 + 4  # SKF_AD_OFF + SKF_AD_PKTTYPE: the packet's direction
_FILTER = (
    (_BPF_LD_W_ABS, 0, 0, _SKF_AD_PKTTYPE),  # 0
    (_BPF_JEQ_K, 0, 8, _PACKET_OUTGOING),  # 1: a received copy: drop (10)
    (_BPF_LD_B_ABS, 0, 0, 0),  # 2: version and header length
    (_BPF_AND_K, 0, 0, 0xF0),  # 3
    (_BPF_JEQ_K, 0, 4, 0x40),  # 4: not IPv4: keep (9)
    (_BPF_LD_B_ABS, 0, 0, 9),  # 5: protocol
    (_BPF_JEQ_K, 0, 2, 6),  # 6: not TCP: keep (9)
    (_BPF_LD_B_ABS, 0, 0, 16),  # 7: the destination's first byte
    (_BPF_JEQ_K, 1, 0, 127),  # 8: TCP to loopback: drop (10), else keep (9)
    (_BPF_RET_K, 0, 0, _SNAPSHOT),  # 9: keep
    (_BPF_RET_K, 0, 0, 0),  # 10: drop
)
_SO_ATTACH_FILTER = 26


def _attach_filter(sock: socket.socket) -> None:
    program = b"".join(struct.pack("HBBI", *instruction) for instruction in _FILTER)
    buffer = ctypes.create_string_buffer(program, len(program))
    # struct sock_fprog {unsigned short len; struct sock_filter *filter;}; the kernel
    # copies the program, so the buffer need only outlive this call.
    sock.setsockopt(
        socket.SOL_SOCKET,
        _SO_ATTACH_FILTER,
        struct.pack("HL", len(_FILTER), ctypes.addressof(buffer)),
    )
