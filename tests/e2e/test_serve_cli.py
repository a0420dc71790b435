"""`connector-harness serve`: loopback services for any client, stopped by Ctrl-C."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from harness.live import HttpSandbox

ROOT = Path(__file__).resolve().parents[2]


def _serve(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "harness.cli", "serve", str(ROOT), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def _banner(process: subprocess.Popen[str]) -> dict[str, str]:
    """Base URLs and tokens from the banner, read up to the environment section's end."""
    assert process.stdout is not None
    found: dict[str, str] = {}
    for line in process.stdout:
        match = re.match(r"^  (\S+)\s+(http://127\.0\.0\.1:\d+|eyJ\S+)", line)
        if match:
            found[match[1]] = match[2]
        if line.startswith("  STORAGE_BASE_URL="):
            return found
    raise AssertionError(f"the banner ended early: {found}")


def test_ctrl_c_while_the_banner_is_written_stops_cleanly() -> None:
    process = _serve()
    assert process.stdout is not None
    process.stdout.readline()  # the server listens: its banner has begun
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert "Traceback" not in err
    assert out.splitlines()[-1] == "stopped after 0 call(s): 0 allowed, 0 denied, 0 blocked"


def test_serve_prints_urls_and_tokens_answers_any_client_and_stops_on_ctrl_c() -> None:
    process = _serve()
    try:
        found = _banner(process)
        request = urllib.request.Request(
            found["crm"] + "/v1/contacts",
            headers={"Authorization": f"Bearer {found['crm-sync@dev']}"},
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert len(json.load(answer)["items"]) == 3
        forbidden = urllib.request.Request(
            found["crm"] + "/v1/contacts/c_1",
            method="DELETE",
            headers={"Authorization": f"Bearer {found['crm-sync@dev']}"},
        )
        with pytest.raises(urllib.error.HTTPError) as denied:
            urllib.request.urlopen(forbidden, timeout=10)
        assert denied.value.code == 403
        denied.value.close()
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert "Traceback" not in err
    lines = out.splitlines()
    assert lines[0].startswith("allowed  GET api.crm.example/v1/contacts  crm:contacts.list")
    assert lines[1].startswith("denied   DELETE api.crm.example/v1/contacts/c_1")
    assert lines[-1] == "stopped after 2 call(s): 1 allowed, 1 denied, 0 blocked"


def test_serve_refuses_a_non_loopback_address() -> None:
    process = _serve("--bind", "0.0.0.0")
    _, err = process.communicate(timeout=20)
    assert process.returncode == 2
    assert "only listens on loopback" in err
    assert "Traceback" not in err


def test_the_http_sandbox_fixture_serves_base_urls_and_judges_the_calls(
    http_sandbox: HttpSandbox,
) -> None:
    handle = http_sandbox.binding("crm-sync", env="dev")
    assert handle.base_urls["crm"].startswith("http://127.0.0.1:")
    request = urllib.request.Request(
        handle.base_urls["crm"] + "/v1/contacts", headers=handle.headers
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200
    assert [d.operation for d in http_sandbox.decisions] == ["contacts.list"]
    with pytest.raises(AssertionError, match=r"excessive|over-broad|missing"):
        http_sandbox.assert_least_privilege()


def test_serve_logs_every_call_of_32_keep_alive_clients_in_whole_lines_and_a_verified_log(
    tmp_path: Path,
) -> None:
    log = tmp_path / "decisions.jsonl"
    process = _serve("--log", str(log), "--anchor", str(tmp_path / "anchor.txt"))
    clients, calls = 32, 25
    out_lines: list[str] = []
    reader = threading.Thread(target=lambda: out_lines.extend(process.stdout or ()))
    try:
        found = _banner(process)
        port = int(found["crm"].rsplit(":", 1)[1])
        token = found["crm-sync@dev"]
        failures: list[BaseException] = []
        reader.start()  # a pipe nobody reads would stall the server's writes

        def client(number: int) -> None:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                for call in range(calls):
                    # alternate allowed and denied calls, so the lines differ in length
                    method = "GET" if (number + call) % 2 else "DELETE"
                    path = "/v1/contacts" if method == "GET" else "/v1/contacts/c_1"
                    connection.request(method, path, headers={"Authorization": f"Bearer {token}"})
                    answer = connection.getresponse()
                    answer.read()
                    assert answer.status == (200 if method == "GET" else 403)
                    assert answer.getheader("Connection") is None  # kept alive throughout
                connection.close()
            except BaseException as err:  # reported in the test's thread
                failures.append(err)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert failures == []
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
        if reader.is_alive():  # stdout is the reader's alone: it ends at the process's exit
            reader.join(timeout=30)
        assert process.stderr is not None
        err = process.stderr.read()
        process.stderr.close()
        if process.stdout is not None:
            process.stdout.close()
    assert process.returncode == 0, err
    assert "Traceback" not in err
    lines = [line.rstrip("\n") for line in out_lines]
    total = clients * calls
    call_lines = lines[:total]
    pattern = re.compile(
        r"^(allowed  GET api\.crm\.example/v1/contacts  crm:contacts\.list  \(crm-sync@dev: .*\)"
        r"|denied   DELETE api\.crm\.example/v1/contacts/c_1  crm:contacts\.delete  \(crm-sync@dev: .*\))$"
    )
    assert [line for line in call_lines if not pattern.match(line)] == []
    assert (
        lines[total]
        == f"stopped after {total} call(s): {total // 2} allowed, {total // 2} denied, 0 blocked"
    )
    assert lines[total + 1] == f"decision log written to {log}: {total} decisions"
    anchor = re.fullmatch(r"decision log anchor: ([0-9a-f]{64})", lines[total + 2])
    assert anchor is not None, lines[total + 2]
    assert (tmp_path / "anchor.txt").read_text() == anchor[1] + "\n"
    verified = subprocess.run(
        [sys.executable, "-m", "harness.cli", "audit", "verify", str(log), "--anchor", anchor[1]],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert verified.returncode == 0, verified.stdout
    assert f"intact, {total} decisions" in verified.stdout
    header, *entries, _ = [json.loads(line) for line in log.read_text().splitlines()]
    assert header["run"]["selection"] == {
        "services": "chat,crm,github,gmail,google-drive,google-sheets,sheets,slack,storage"
    }
    assert [entry["decision"]["sequence"] for entry in entries] == list(range(1, total + 1))


@pytest.mark.parametrize(
    ("where", "problem"),
    [("file/decisions.jsonl", "Not a directory"), (".", "Is a directory")],
)
def test_serve_refuses_a_log_it_cannot_write(tmp_path: Path, where: str, problem: str) -> None:
    (tmp_path / "file").write_text("", "utf-8")  # a file where a folder would be
    process = _serve("--log", str(tmp_path / where))
    out, err = process.communicate(timeout=30)
    assert process.returncode == 2
    assert err.startswith("connector-harness: error: cannot write the decision log ")
    assert problem in err
    assert "Traceback" not in err
    assert out == ""


def test_serve_refuses_a_read_timeout_that_is_not_a_duration() -> None:
    process = _serve("--read-timeout", "soon")
    _, err = process.communicate(timeout=30)
    assert process.returncode == 2
    assert "'soon' is not a number of seconds" in err


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full on this system")
def test_serve_refuses_a_full_log_device_before_it_serves() -> None:
    process = _serve("--log", "/dev/full")
    out, err = process.communicate(timeout=30)
    assert process.returncode == 2
    assert err.startswith("connector-harness: error: cannot write the decision log /dev/full")
    assert "No space left on device" in err
    assert "Traceback" not in err
    assert out == ""


# serve, with writes past argv[1] bytes failing (EFBIG instead of the killing SIGXFSZ)
LIMITED_SERVE = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv.pop(1)),) * 2)
from harness.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_serve_stops_with_exit_2_when_the_log_cannot_grow(tmp_path: Path) -> None:
    log = tmp_path / "decisions.jsonl"
    # room for the header line (under 500 bytes), not for the first decision's (over 700)
    process = subprocess.Popen(
        [sys.executable, "-c", LIMITED_SERVE, "600", "serve", str(ROOT), "--log", str(log)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        found = _banner(process)
        request = urllib.request.Request(
            found["crm"] + "/v1/contacts",
            headers={"Authorization": f"Bearer {found['crm-sync@dev']}"},
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.status == 200  # the call is answered; its decision cannot be kept
        out, err = process.communicate(timeout=30)  # the server stops by itself
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 2
    assert f"writing the decision log {log} failed after 0 decisions" in err
    assert "File too large" in err
    assert "no log was written" in err
    assert "Traceback" not in err
    assert out.splitlines()[-1] == "stopped after 1 call(s): 1 allowed, 0 denied, 0 blocked"
    assert sorted(tmp_path.iterdir()) == []  # no log cut short, nor its partial file


def test_a_killed_server_leaves_the_previous_log_whole(tmp_path: Path) -> None:
    """The log is written beside FILE and renamed into place when sealed: a server killed
    while serving (no seal) leaves FILE as it was, never a log cut short in its place."""
    log = tmp_path / "decisions.jsonl"
    log.write_text("the previous run's log\n", "utf-8")
    process = _serve("--log", str(log))
    try:
        found = _banner(process)
        request = urllib.request.Request(
            found["crm"] + "/v1/contacts",
            headers={"Authorization": f"Bearer {found['crm-sync@dev']}"},
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.status == 200
    finally:
        process.kill()
        process.communicate(timeout=20)
    assert log.read_text("utf-8") == "the previous run's log\n"
    partial = [p for p in tmp_path.iterdir() if p != log]
    assert [p.name.endswith(".partial") for p in partial] == [True]  # the unsealed one


def test_a_server_that_crashes_writes_no_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An internal error while serving is exit 3 and leaves no log at FILE: a sealed log
    would claim the run ended normally."""
    from harness.cli import main

    def broken(*args: object) -> None:
        raise RuntimeError("the banner broke")

    monkeypatch.setattr("harness.commands.serve._print_banner", broken)
    log = tmp_path / "decisions.jsonl"
    assert main(["serve", str(ROOT), "--log", str(log)]) == 3
    assert "internal error: RuntimeError" in capsys.readouterr().err
    assert sorted(tmp_path.iterdir()) == []
