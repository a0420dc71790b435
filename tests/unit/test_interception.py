from __future__ import annotations

import sys

import pytest
from workspaces import build, policy, service

from harness.errors import SandboxError
from harness.interception import Interceptor
from harness.sandbox import Sandbox


def test_without_responses_the_sandbox_refuses_to_start_rather_than_let_requests_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sandbox = Sandbox(build([service()], [policy(["svc.read"], [("GET", "/items")])]))
    monkeypatch.setitem(sys.modules, "responses", None)  # as if it were not installed
    with pytest.raises(SandboxError, match="pip install responses"), Interceptor(sandbox):
        pass
