"""The n8n runner: n8n's node code run with its calls recorded, inside a sandbox that holds.

These tests run real Node.js and n8n's real packages (fetched with npm into the user's
cache); they skip only when Node.js or npm is missing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from harness.n8n.runner import RUNNER, Runner

CLOCK = datetime(2026, 1, 1, tzinfo=UTC)
WORKFLOW = {"id": "w1", "name": "Runner tests"}
LOOP = "={{ (() => { let i = 0; while (i < 1e11) i++; return i })() }}"


@pytest.fixture(scope="module")
def runner(n8n_packages: Path) -> Any:
    with Runner(n8n_packages, CLOCK) as started:
        yield started


def _http(url: str = "https://api.example.com/items", **parameters: Any) -> dict[str, Any]:
    return {
        "name": "Fetch",
        "type": "n8n-nodes-base.httpRequest",
        "typeVersion": 4.2,
        "parameters": {"url": url, **parameters},
    }


def _query(*values: str) -> dict[str, Any]:
    return {
        "sendQuery": True,
        "queryParameters": {
            "parameters": [{"name": f"p{i}", "value": v} for i, v in enumerate(values)]
        },
    }


def _slack(text: str, credential: str = "slackApi") -> dict[str, Any]:
    return {
        "name": "Post",
        "type": "n8n-nodes-base.slack",
        "typeVersion": 2.3,
        "parameters": {
            "select": "channel",
            "channelId": {"__rl": True, "mode": "id", "value": "C0123"},
            "text": text,
        },
        "credentials": {credential: {"id": "c1", "name": "Slack"}},
    }


def test_the_protocol_names_the_pinned_packages_and_the_permission_model(runner: Runner) -> None:
    assert runner.info["packages"] == {"n8n-nodes-base": "2.41.2", "n8n-workflow": "2.41.0"}
    assert runner.info["node"].startswith("v")


def test_a_node_operation_becomes_its_recorded_calls(runner: Runner) -> None:
    result = runner.run(_slack("={{ 'Deploy ' + $json.service + ' failed' }}"), WORKFLOW)
    assert result.status == "ok"
    (call,) = result.calls
    assert (call.credential, call.method, call.url) == (
        "slackApi",
        "POST",
        "https://slack.com/api/chat.postMessage",
    )
    assert call.body["channel"] == "C0123"
    assert call.body["text"].startswith("Deploy n8n.json.service.* failed")
    assert [(e.parameter, e.kind) for e in result.expressions] == [("text", "dynamic")]


def test_the_same_node_gives_the_same_calls_every_time(runner: Runner) -> None:
    node = {
        "name": "Upload",
        "type": "n8n-nodes-base.googleDrive",
        "typeVersion": 3,
        "parameters": {
            "name": "report.pdf",
            "driveId": {"__rl": True, "mode": "list", "value": "My Drive"},
            "folderId": {"__rl": True, "mode": "list", "value": "root"},
        },
        "credentials": {"googleDriveOAuth2Api": {"id": "c1", "name": "Drive"}},
    }
    first, second = runner.run(node, WORKFLOW), runner.run(node, WORKFLOW)
    assert first.status == "ok"
    assert first.calls
    assert first.calls == second.calls  # multipart boundaries, ids and dates included


def test_expressions_see_static_values_and_never_the_environment(runner: Runner) -> None:
    result = runner.run(
        _http(
            **_query(
                "={{ $workflow.name }}",
                "={{ $now.toISO() }}",
                "={{ $env.HOME }}",
                "={{ [1, 2, 3].sum() }}",
            )
        ),
        WORKFLOW,
    )
    (call,) = result.calls
    assert call.url == (
        "https://api.example.com/items?p0=Runner+tests&p1=2026-01-01T00:00:00.000Z"
        "&p2=n8n.env.HOME.*&p3=6"
    )


@pytest.mark.parametrize(
    "expression",
    [
        "={{ this.constructor.constructor('return process')().env }}",
        "={{ Reflect.get(Reflect.get(x => x, 'constr' + 'uctor'), 'call') }}",
        "={{ (() => {}).call.apply.bind }}",
        "={{ $foo(}}",
    ],
)
def test_an_expression_that_reaches_for_the_host_gets_a_placeholder(
    runner: Runner, expression: str
) -> None:
    result = runner.run(_http(**_query(expression)), WORKFLOW)
    (call,) = result.calls
    assert call.url.startswith("https://api.example.com/items?p0=")
    assert "root" not in call.url
    assert "/usr/bin" not in call.url


def test_a_vm_context_of_expressions_cannot_generate_code(n8n_packages: Path) -> None:
    script = f"""
    const load = require('module').createRequire({json.dumps(str(n8n_packages / "package.json"))});
    const {{ Evaluator }} = require({json.dumps(str(RUNNER.parent / "expressions.js"))});
    const evaluator = new Evaluator({json.dumps(str(n8n_packages))}, load, 0);
    const vm = require('vm');
    const out = {{}};
    for (const [name, code] of Object.entries({{
      function: 'Function("return process")()',
      constructor: 'this.constructor.constructor("return process")()',
      eval: 'eval("1 + 1")',
      require: 'typeof require + typeof process + typeof module',
    }})) {{
      try {{ out[name] = String(vm.runInContext(code, evaluator.context)); }}
      catch (error) {{ out[name] = error.name; }}
    }}
    console.log(JSON.stringify(out));
    """
    done = subprocess.run(
        [shutil.which("node") or "node", "-e", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(done.stdout) == {
        "function": "EvalError",
        "constructor": "EvalError",
        "eval": "EvalError",
        "require": "undefinedundefinedundefined",
    }


def test_sockets_dns_processes_files_and_long_timers_are_refused(n8n_packages: Path) -> None:
    lockdown = RUNNER.parent / "lockdown.js"
    script = f"""
    const {{ lockdown, reseed }} = require({json.dumps(str(lockdown))});
    const results = {{}};
    const write = process.stdout.write.bind(process.stdout);
    lockdown({{ clock: Date.UTC(2026, 0, 1) }});
    const attempts = {{
      socket: () => require('net').connect(443, 'example.com'),
      socketMethod: () => new (require('net').Socket)().connect(443, 'example.com'),
      tls: () => require('tls').connect(443, 'example.com'),
      https: () => require('https').get('https://example.com/'),
      http2: () => require('http2').connect('https://example.com'),
      udp: () => require('dgram').createSocket('udp4'),
      dns: () => require('dns').lookup('example.com', () => {{}}),
      dnsPromises: () => require('dns').promises.resolve4('example.com'),
      spawn: () => require('child_process').execSync('id'),
      fork: () => require('child_process').fork('x.js'),
      fetch: () => fetch('https://example.com/'),
      write: () => require('fs').writeFileSync('/tmp/n8n-harness-should-not-exist', 'x'),
      binding: () => process.binding('tcp_wrap'),
      longTimer: () => setTimeout(() => {{}}, 120000),
      interval: () => setInterval(() => {{}}, 10),
      worker: () => new (require('worker_threads').Worker)('1', {{ eval: true }}),
    }};
    for (const [name, attempt] of Object.entries(attempts)) {{
      try {{ attempt(); results[name] = 'allowed'; }}
      catch (error) {{ results[name] = error.code === 'ERR_HARNESS_REFUSED' ? 'refused' : String(error.code || error.message); }}
    }}
    results.env = Object.keys(process.env).filter((k) => !['TZ', 'LANG', 'LC_ALL'].includes(k)).length;
    results.clock = new Date().toISOString() + ' ' + Date.now();
    reseed('a'); const first = [Math.random(), require('crypto').randomBytes(4).toString('hex')];
    reseed('a'); const again = [Math.random(), require('crypto').randomBytes(4).toString('hex')];
    results.seeded = JSON.stringify(first) === JSON.stringify(again);
    const started = process.hrtime.bigint();
    setTimeout(() => {{
      results.shortTimerMs = Number(process.hrtime.bigint() - started) / 1e6 < 500;
      write(JSON.stringify(results));
    }}, 30000);
    """
    done = subprocess.run(
        [shutil.which("node") or "node", "-e", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={"SECRET_TOKEN": "CANARY-env-secret", "PATH": "/usr/bin:/bin"},
    )
    results = json.loads(done.stdout)
    refused = {
        k: v for k, v in results.items() if k not in ("env", "clock", "seeded", "shortTimerMs")
    }
    assert refused == dict.fromkeys(refused, "refused")
    assert results["env"] == 0
    assert results["clock"] == "2026-01-01T00:00:00.000Z 1767225600000"
    assert results["seeded"] is True
    assert results["shortTimerMs"] is True
    assert not Path("/tmp/n8n-harness-should-not-exist").exists()


def test_a_node_past_its_time_budget_is_stopped_and_the_next_one_runs(runner: Runner) -> None:
    process = runner.process
    looping = runner.run(_http(**_query(*[LOOP] * 12)), WORKFLOW, budget_ms=500)
    assert looping.status == "timeout"
    assert looping.reason == "it did not finish within 500 ms (a loop, or a wait); it was stopped"
    after = runner.run(_http(), WORKFLOW)
    assert after.status == "ok"
    assert len(after.calls) == 1
    assert runner.process is process  # the same process: only its worker was replaced


def test_nodes_that_cannot_run_say_why(runner: Runner) -> None:
    cases = {
        "n8n-nodes-base.code": ("not-runnable", "code written in the workflow"),
        "@n8n/n8n-nodes-langchain.agent": ("not-runnable", "an AI node"),
        "n8n-nodes-acme.widget": ("not-runnable", "a community or custom node (n8n-nodes-acme)"),
        "n8n-nodes-base.noSuchNode": (
            "unknown-type",
            "is not a node type of the pinned n8n-nodes-base",
        ),
    }
    for kind, (status, reason) in cases.items():
        result = runner.run(
            {"name": "N", "type": kind, "typeVersion": 1, "parameters": {}}, WORKFLOW
        )
        assert (result.status, reason in result.reason) == (status, True), (kind, result)
        assert result.fix
    old = runner.run({**_slack("hi"), "typeVersion": 9}, WORKFLOW)
    assert old.status == "unknown-version"
    assert (
        "version 9 of n8n-nodes-base.slack is not in the pinned n8n-nodes-base (it has 1, 2, 2.1, 2.2"
        in old.reason
    )


def test_a_node_that_throws_is_one_answer_with_its_message(runner: Runner) -> None:
    result = runner.run(
        {
            "name": "Bad",
            "type": "n8n-nodes-base.discord",
            "typeVersion": 2,
            "parameters": {
                "resource": "message",
                "operation": "send",
                "guildId": {"__rl": True, "mode": "id", "value": "1"},
            },
            "credentials": {"discordBotApi": {"id": "c", "name": "d"}},
        },
        WORKFLOW,
    )
    assert (result.status, result.reason) == ("error", "Channel ID is required")
    assert runner.run(_http(), WORKFLOW).status == "ok"


def test_a_runner_that_dies_is_replaced_and_the_node_reported(n8n_packages: Path) -> None:
    with Runner(n8n_packages, CLOCK) as runner:
        assert runner.process is not None
        runner.process.kill()
        runner.process.wait()
        result = runner.run(_http(), WORKFLOW)
        assert result.status == "error"
        assert "the n8n runner" in result.reason
        assert runner.restarts == 1
        assert runner.run(_http(), WORKFLOW).status == "ok"


def test_a_worker_out_of_memory_is_a_memory_answer(tmp_path: Path) -> None:
    # A package that eats memory while it loads stands for node code that does.
    root = tmp_path / "packages"
    workflow = root / "node_modules" / "n8n-workflow"
    workflow.mkdir(parents=True)
    (workflow / "package.json").write_text(
        '{"name": "n8n-workflow", "version": "0.0.0", "main": "index.js"}'
    )
    (workflow / "index.js").write_text("const a = []; for (;;) a.push({ n: a.length });")
    (root / "n8n-nodes-base").mkdir()
    (root / "n8n-nodes-base" / "package.json").write_text(
        '{"name": "n8n-nodes-base", "version": "0.0.0"}'
    )
    if shutil.which("node") is None:
        pytest.skip("no Node.js: install it with `apt-get install nodejs npm`")
    with Runner(root, CLOCK, memory_mb=32) as runner:
        result = runner.run(_http(), WORKFLOW)
        assert result.status == "memory"
        assert result.reason == "it needed more than the 32 MB memory budget; it was stopped"
