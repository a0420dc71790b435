"""Flow programs run behind a real network boundary: BoundarySandbox.

    with BoundarySandbox(workspace) as sandbox:
        crm = sandbox.binding("crm-sync", env="prod")
        sandbox.run(["./sync.sh"], binding=crm)        # any program, any language
        sandbox.assert_least_privilege()

The mocks are served on loopback ports, as by HttpSandbox, but inside a Linux network
namespace with no route out (harness.transports.netns); `run` starts programs there,
with the binding's token and the services' base URLs in their environment. Whatever a
program does, nothing it sends leaves the machine; what it tries (a DNS lookup, a TCP
connection, a UDP datagram, a ping) is seen in the packets it sends and recorded as a
blocked decision, so that it fails `assert_least_privilege`. Its calls to the mocks are
judged as any call. Needs root (CAP_SYS_ADMIN); see docs/security.md.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from typing import Self

from harness.audit import KEY_VARIABLE
from harness.calls import CallContext, Request, Response
from harness.decisions import Exchange
from harness.errors import SandboxError
from harness.live import BindingHandle, HttpSandbox
from harness.model import Workspace
from harness.transports.loopback import LoopbackServer
from harness.transports.netns import NetworkNamespace, PacketObserver, boundary_unavailable
from harness.transports.wire import SIGNING_KEY_VARIABLE

__all__ = ["HARNESS_KEYS", "PROXY_VARIABLES", "BoundarySandbox", "boundary_unavailable"]

# Proxy settings are dropped from a program's environment: no proxy is reachable from the
# boundary, and a client told to use one would send even its calls to the mocks there.
PROXY_VARIABLES = frozenset({"http_proxy", "https_proxy", "all_proxy", "no_proxy", "ftp_proxy"})
# The harness's own keys are dropped too: a program that held the decision log's key could
# write a log that verifies, and one that held the token key could mint its own grants.
HARNESS_KEYS = frozenset({KEY_VARIABLE, SIGNING_KEY_VARIABLE})


class BoundarySandbox(HttpSandbox):
    """HttpSandbox inside a network namespace: `run` starts programs there, and every
    attempt of theirs to leave is a blocked decision."""

    def __init__(self, workspace: Workspace, *, name: str = "live") -> None:
        super().__init__(workspace, name=name)
        self.namespace: NetworkNamespace | None = None
        self.observer: PacketObserver | None = None

    def __enter__(self) -> Self:
        namespace = NetworkNamespace()  # SandboxError naming why, where none can be made
        self.namespace = namespace
        try:
            observer = namespace.call(lambda: PacketObserver(self._refuse))
            self.observer = observer
            self.server = namespace.call(
                lambda: LoopbackServer(
                    self.sandbox,
                    listeners=(self.interceptor.exchanges.append,),
                    readers=((observer.socket, observer.on_readable),),
                ).start()
            )
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        super().__exit__(*exc_info)
        if self.observer is not None:
            self.observer.close()
            self.observer = None
        if self.namespace is not None:
            self.namespace.close()
            self.namespace = None

    def _refuse(self, method: str, host: str, path: str) -> None:
        """Record an attempt seen leaving (on the server loop's thread, like every call),
        named by its place among the calls."""
        number = len(self.interceptor.exchanges)
        context = CallContext(self.name, number, f"call {number + 1}")
        decision = self.sandbox.judge_attempt(method, host, path, context)
        request = Request(method, f"{host}{path}")
        self.interceptor.exchanges.append(Exchange(request, Response(0, blocked=True), decision))

    def environment(
        self, binding: BindingHandle | None = None, extra: Mapping[str, str] | None = None
    ) -> dict[str, str]:
        """A program's environment: this process's, without proxy settings and the
        harness's keys, with the binding's token and base URLs
        (harness.live.BindingHandle.environ), then `extra`."""
        variables = {
            name: value
            for name, value in os.environ.items()
            if name.lower() not in PROXY_VARIABLES and name not in HARNESS_KEYS
        }
        if binding is not None:
            variables.update(binding.environ)
        else:
            for service, url in self.base_urls.items():
                variables[f"{service.upper().replace('-', '_')}_BASE_URL"] = url
        variables.update(extra or {})
        return variables

    def run(
        self,
        argv: Sequence[str],
        *,
        binding: BindingHandle | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float = 60.0,
        capture_output: bool = True,
        cwd: str | None = None,
        user: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run `argv` inside the boundary, as `user` when given, and wait for it (raising
        subprocess.TimeoutExpired after `timeout` seconds, the program stopped); when it
        returns, every packet the program (and any process it started) sent has been
        judged. The program holds no capability, whoever it runs as."""
        namespace, observer = self.namespace, self.observer
        if namespace is None or observer is None:
            raise SandboxError("BoundarySandbox.run works only inside `with BoundarySandbox(...)`")
        observer.begin()
        variables = self.environment(binding, env)
        process = namespace.start(
            argv, env=variables, cwd=cwd, capture_output=capture_output, user=user
        )
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _stop_group(process.pid)
            process.communicate()
            raise
        finally:
            _stop_group(process.pid)
            observer.flush()
        return subprocess.CompletedProcess(list(argv), process.returncode, stdout, stderr)


def _stop_group(group: int) -> None:
    """Stop what is left of the process group a run started (its own, by its id)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, signal.SIGKILL)
