"""The credential lifecycle state machine from harness.strategies, run on generated workspaces."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

from harness.strategies import CredentialLifecycle

CredentialLifecycle.TestCase.settings = settings(
    max_examples=40,
    stateful_step_count=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestCredentialLifecycle = CredentialLifecycle.TestCase
