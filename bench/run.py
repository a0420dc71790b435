"""connector-harness benchmarks: `make bench` (or `.venv/bin/python bench/run.py`).

1. Direct transport throughput: calls/s through `Sandbox.handle` (token validation,
   authorization, decision recording) over two mixes, the example services and the
   bundled vendor packs (bench/vendor_mix.py), each call's outcome checked first; beside
   it the reference, the same calls made with `requests` against `responses` callback
   mocks that only compare the bearer token, and the floor, a plain dict dispatch of
   the same calls; contenders interleaved round by round, timed in CPU time, single
   process pinned to one core. Targets on both mixes: >= 40x the reference, and the
   floor at most 60x faster.
1b. The egress guard (harness/egress_guard.py) on the direct path: the same calls with no
   audit hook in the process, with the guard's hook added, and inside an active guard.
   Target: throughput at least 0.95 of the first.
2. Scale: a full `check --format json` of synthetic workspaces (bench/generate.py)
   with N = 50, 100, 200 connectors, each in a fresh interpreter, with wall time and
   peak RSS. Target at N = 200: under 20 s and under 500 MB.

Every figure and ratio is measured in the same run; nothing here compares against a
stored number. Options: --quick (small sizes, a smoke test), --sizes 50,100,200,
--only direct|scale, --profile (cProfile hotspots of the direct calls and of a check of
--profile-size connectors), --strict (exit 1 on MISS).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import responses
import vendor_mix
from generate import generate_workspace

from harness import egress_guard
from harness.audit import RunHeader, write_log
from harness.calls import CallContext, Request, Response
from harness.decisions import ALLOWED, BLOCKED, DENIED
from harness.engine import run_check
from harness.sandbox import Sandbox
from harness.workspace.loader import load_workspace

REPO = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent

REFERENCE_TARGET = 40.0  # direct calls/s over those of the requests + responses reference
FLOOR_TARGET = 60.0  # dict-dispatch floor calls/s over direct calls/s, at most
GUARD_TARGET = 0.95  # direct throughput with the egress guard / without it
SCALE_TARGET_N = 200
SCALE_TARGET_SECONDS = 20.0
SCALE_TARGET_MB = 500.0  # 10^6 bytes
SCALE_LINEAR_SPREAD = 0.15  # per-connector CPU time and memory: max / min - 1 over N >= 50
SCALE_LARGE_N = 400
SCALE_LARGE_MB = 1000.0
CHILD_TIMEOUT = 900  # seconds for one full check
# The throughput contenders run in this process, one thread each, so they are timed by
# the CPU time they use: on a machine shared with other work, the wall clock also counts
# the time the bench waited for a CPU, which falls on the contenders unevenly.
CLOCK = time.process_time

# -- the call mix ------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One call of the mix: which binding's token, what request, and the expected outcome."""

    binding: str
    method: str
    url: str
    json: Any = None
    expect: str = ALLOWED
    flow: str = "bench-mix"
    recorded: Response | None = None  # what a `recorded` answer gives (a created file's id)


CRM = "https://api.crm.example"
CHAT = "https://api.chat.example"
SHEETS = "https://sheets.example"
STORAGE = "https://storage.eu.example"

# Bindings of the bundled scenarios/: crm-sync@dev (crm.contacts.read, sheets@S-revenue),
# lead-intake@prod (crm.contacts.write, crm.deals.write), deal-alerts@prod (crm.deals.read,
# crm.contacts.read, chat:write:bot@channel=C0DEALS), storage-backup@dev
# (sheets.readonly@S-finance, storage.objects.write@bucket=backups), support-digest@prod
# (channels:read@channel=C0SUPPORT, users:read, sheets@S-support).
MIX: tuple[Call, ...] = (
    Call("crm-sync@dev", "GET", f"{CRM}/v1/contacts?limit=100&page=1&sort=created_at"),
    Call("crm-sync@dev", "GET", f"{SHEETS}/v4/spreadsheets/S-revenue?fields=sheets.properties"),
    Call(
        "crm-sync@dev",
        "POST",
        f"{SHEETS}/v4/spreadsheets/S-revenue/values:append?range=Contacts!A2&valueInputOption=RAW",
        {"majorDimension": "ROWS", "values": [["c_1", "Ada Lovelace", "ada@analytical.example"]]},
    ),
    Call(
        "crm-sync@dev",
        "POST",
        f"{CRM}/v1/contacts",
        {"name": "Eve Intruder", "email": "eve@example.com"},
        DENIED,  # read-only grant
    ),
    Call(
        "lead-intake@prod",
        "POST",
        f"{CRM}/v1/contacts",
        {"name": "Hedy Lamarr", "email": "hedy@frequency-hopping.example", "company": "FH GmbH"},
    ),
    Call(
        "lead-intake@prod",
        "POST",
        f"{CRM}/v1/deals",
        {"title": "FH GmbH - inbound", "contact_id": "c_2", "amount": 12000, "currency": "EUR"},
    ),
    Call("lead-intake@prod", "PATCH", f"{CRM}/v1/contacts/c_2", {"lifecycle_stage": "customer"}),
    Call("lead-intake@prod", "DELETE", f"{CRM}/v1/contacts/c_3", expect=DENIED),  # no delete
    Call("deal-alerts@prod", "GET", f"{CRM}/v1/deals?stage=new"),
    Call("deal-alerts@prod", "GET", f"{CRM}/v1/deals/d_1"),
    Call(
        "deal-alerts@prod",
        "POST",
        f"{CHAT}/api/chat.postMessage",
        {"channel": "C0DEALS", "text": "New deal: FH GmbH - inbound (12,000 EUR)"},
    ),
    Call(
        "deal-alerts@prod",
        "POST",
        f"{CHAT}/api/chat.postMessage",
        {"channel": "C0GENERAL", "text": "should never arrive"},
        DENIED,  # grant narrowed to channel=C0DEALS
    ),
    Call(
        "storage-backup@dev",
        "PUT",
        f"{STORAGE}/v1/buckets/backups/objects/ledger-2026-01-01.json",
        {"spreadsheet": "S-finance", "rows": 3, "values": [["date", "account", "balance"]]},
    ),
    Call("storage-backup@dev", "GET", f"{STORAGE}/v1/buckets/backups/objects?prefix=ledger-"),
    Call(
        "storage-backup@dev",
        "DELETE",
        f"{STORAGE}/v1/buckets/backups/objects/ledger-2025-12-01.json",
        expect=DENIED,  # opaque service: a bare 403
    ),
    Call("storage-backup@dev", "GET", f"{SHEETS}/v4/spreadsheets/S-finance/values/Ledger!A1:F500"),
    Call("support-digest@prod", "GET", f"{CHAT}/api/users.list?limit=200"),
    Call("support-digest@prod", "GET", f"{CHAT}/api/conversations.info?channel=C0SUPPORT"),
    Call(
        "support-digest@prod",
        "POST",
        f"{CHAT}/api/conversations.history",
        {"channel": "C0SUPPORT", "oldest": "1767139200"},
        DENIED,  # prod lacks channels:history
    ),
    Call("crm-sync@dev", "GET", f"{CRM}/v1/users", expect=DENIED),
)


def _headers(token: str, call: Call) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    if call.json is not None:
        headers["Content-Type"] = "application/json"
    return headers


# -- output ------------------------------------------------------------------------------


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], indent: int = 2) -> str:
    """An aligned text table: text columns left-aligned, numbers right-aligned."""
    cells = [[str(c) for c in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    numeric = [
        all(_looks_numeric(row[i]) for row in cells[1:] if row[i]) for i in range(len(headers))
    ]
    lines = []
    for number, row in enumerate(cells):
        parts = [
            cell.rjust(width) if numeric[i] and number else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append(" " * indent + "  ".join(parts).rstrip())
        if number == 0:
            lines.append(" " * indent + "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _looks_numeric(text: str) -> bool:
    stripped = text.replace(",", "").replace(".", "").replace("x", "").replace("-", "")
    return stripped.isdigit()


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def heading(text: str) -> None:
    print()
    print(text)
    print("=" * len(text))


# -- 1. direct transport -----------------------------------------------------------------


@contextmanager
def one_core() -> Iterator[str]:
    """Pin this process to a single CPU for the throughput figures (Linux)."""
    if not hasattr(os, "sched_setaffinity"):
        yield "not pinned"
        return
    before = os.sched_getaffinity(0)
    cpu = min(before)
    os.sched_setaffinity(0, {cpu})
    try:
        yield f"pinned to CPU {cpu}"
    finally:
        os.sched_setaffinity(0, before)


@dataclass
class DirectSetup:
    """One mix, prepared: its sandbox, its calls as Requests, and the tokens they carry."""

    name: str
    calls: tuple[Call, ...]
    sandbox: Sandbox
    prepared: list[tuple[Request, CallContext]]
    tokens: dict[str, str]


def prepare_mix(name: str, root: Path, calls: Sequence[Call]) -> DirectSetup:
    """Load the workspace at `root`, issue the tokens, build the Requests, and check that
    every call is allowed, denied or blocked as declared before anything is timed."""
    workspace = load_workspace(root)
    sandbox = Sandbox(workspace)
    bindings = {binding.name: binding for binding in workspace.bindings}
    tokens = {name: sandbox.issue_token(bindings[name]) for name in {c.binding for c in calls}}
    prepared = [
        (
            Request(call.method, call.url, _headers(tokens[call.binding], call), call.json),
            CallContext(call.flow, index, f"{call.method} {call.url}", call.recorded),
        )
        for index, call in enumerate(calls)
    ]
    sandbox.reset()
    for request, context in prepared:
        sandbox.handle(request, context)
    outcomes = [decision.outcome for decision in sandbox.decisions]
    if outcomes != [call.expect for call in calls]:
        wrong = [
            f"{call.binding} {call.method} {call.url}: {got} (expected {call.expect})"
            for call, got in zip(calls, outcomes, strict=True)
            if got != call.expect
        ]
        raise SystemExit(
            f"bench mix {name!r} does not behave as declared:\n  " + "\n  ".join(wrong)
        )
    sandbox.decisions.clear()
    sandbox.reset()
    return DirectSetup(name, tuple(calls), sandbox, prepared, tokens)


def direct_setup() -> DirectSetup:
    """The small mix over the bundled example services (mocks/)."""
    return prepare_mix("examples", REPO, MIX)


def vendor_setup(root: Path) -> DirectSetup:
    """The vendor-pack mix (bench/vendor_mix.py), its workspace written at `root`."""
    vendor_mix.write_workspace(root)
    calls = [
        Call(binding, method, url, body, expect, flow, recorded)
        for flow, binding, method, url, body, recorded, expect in vendor_mix.calls()
    ]
    return prepare_mix("vendor packs", root, calls)


def write_mix_log(setup: DirectSetup, path: Path) -> None:
    """The decision log of one pass over the mix, with a fixed header: the same bytes
    before and after a change to the direct path (compare two runs' files)."""
    sandbox = setup.sandbox
    sandbox.decisions.clear()
    sandbox.reset()
    for request, context in setup.prepared:
        sandbox.handle(request, context)
    header = RunHeader(
        "bench", "sha256:" + "0" * 64, "2026-01-01T00:00:00Z", (("mix", setup.name),)
    )
    write_log(path, sandbox.decisions, header)
    sandbox.decisions.clear()
    sandbox.reset()


def time_direct(setup: DirectSetup, cycles: int) -> float:
    """Seconds spent inside Sandbox.handle for `cycles` passes over the mix.

    Between passes the sandbox is reset (fresh collections, as every flow replay
    does), outside the clock, so list calls do not slow down as creates pile up.
    """
    sandbox = setup.sandbox
    sandbox.decisions.clear()
    handle = sandbox.handle
    prepared = setup.prepared
    clock = CLOCK
    elapsed = 0.0
    for _ in range(cycles):
        start = clock()
        for request, context in prepared:
            handle(request, context)
        elapsed += clock() - start
        sandbox.reset()
    recorded = len(sandbox.decisions)
    if recorded != cycles * len(prepared):
        raise SystemExit(f"expected {cycles * len(prepared)} decisions, found {recorded}")
    sandbox.decisions.clear()
    return elapsed


def _checker(accepted: frozenset[str]) -> Callable[[Any], tuple[int, dict[str, str], str]]:
    """A responses callback that authorizes by comparing the bearer token, nothing else."""

    def callback(request: Any) -> tuple[int, dict[str, str], str]:
        header = request.headers.get("Authorization", "")
        token = header[7:].strip() if header[:7].lower() == "bearer " else ""
        if token in accepted:
            return 200, {}, '{"ok": true}'
        return 403, {}, '{"error": "insufficient_scope"}'

    return callback


def _route(url: str) -> str:
    return url.split("?", 1)[0]


def _accepted(
    setup: DirectSetup, key: Callable[[Call], tuple[str, str]]
) -> dict[tuple[str, str], frozenset[str]]:
    """The tokens a token-only check accepts per route: those of the calls the mix allows."""
    accepted: dict[tuple[str, str], set[str]] = {}
    for call in setup.calls:
        tokens = accepted.setdefault(key(call), set())
        if call.expect == ALLOWED:
            tokens.add(setup.tokens[call.binding])
    return {route: frozenset(tokens) for route, tokens in accepted.items()}


def time_reference(setup: DirectSetup, cycles: int) -> tuple[float, list[int]]:
    """Seconds for `cycles` passes over the mix through requests + responses; last statuses."""
    accepted = _accepted(setup, lambda call: (call.method, _route(call.url)))
    calls = [
        (call.method, call.url, call.json, _headers(setup.tokens[call.binding], call))
        for call in setup.calls
    ]
    statuses: list[int] = []
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        for (method, route), tokens in accepted.items():
            mock.add_callback(
                method, route, callback=_checker(tokens), content_type="application/json"
            )
        session = requests.Session()
        clock = CLOCK
        start = clock()
        for _ in range(cycles):
            for method, url, body, headers in calls:
                session.request(method, url, json=body, headers=headers)
        elapsed = clock() - start
        statuses = [
            session.request(method, url, json=body, headers=headers).status_code
            for method, url, body, headers in calls
        ]
        session.close()
    return elapsed, statuses


def time_floor(setup: DirectSetup, cycles: int) -> tuple[float, list[int]]:
    """Seconds for `cycles` passes over the same prepared Requests through a plain dict
    dispatch: the (method, URL) looked up in a dict of accepted tokens, the bearer token
    read from the header and compared, a status appended to a log. The floor no Python
    authorizer of these calls can go under."""
    accepted = _accepted(setup, lambda call: (call.method, call.url))
    prepared = [request for request, _ in setup.prepared]
    log: list[int] = []
    append = log.append
    clock = CLOCK
    start = clock()
    for _ in range(cycles):
        for request in prepared:
            tokens = accepted[request.method, request.url]
            append(200 if request.headers["Authorization"][7:] in tokens else 403)
    elapsed = clock() - start
    return elapsed, log[-len(prepared) :]


def best_of(runs: int, measure: Callable[[], float]) -> tuple[float, list[float]]:
    times = [measure() for _ in range(runs)]
    return min(times), times


@dataclass
class MixTimes:
    """Per-round seconds of each contender on one mix."""

    direct: list[float]
    reference: list[float]
    floor: list[float]
    statuses: list[int]
    floor_statuses: list[int]


def time_mixes(setups: Sequence[DirectSetup], args: argparse.Namespace) -> dict[str, MixTimes]:
    """Every contender on every mix, interleaved round by round: in each round each mix's
    direct, reference and floor runs follow one another, their order rotated between
    rounds, so that a slow spell of the machine falls on all of them alike."""
    times = {setup.name: MixTimes([], [], [], [], []) for setup in setups}
    for setup in setups:  # warm-up: caches (grant sets, closures, routes) and the interpreter
        time_direct(setup, max(1, args.direct_cycles(setup) // 10))
        time_reference(setup, 2)
        time_floor(setup, max(1, args.floor_cycles(setup) // 10))
    for round_number in range(args.runs):
        for setup in setups:
            kept = times[setup.name]

            def direct(setup: DirectSetup = setup, kept: MixTimes = kept) -> None:
                kept.direct.append(time_direct(setup, args.direct_cycles(setup)))

            def reference(setup: DirectSetup = setup, kept: MixTimes = kept) -> None:
                elapsed, kept.statuses = time_reference(setup, args.reference_cycles(setup))
                kept.reference.append(elapsed)

            def floor(setup: DirectSetup = setup, kept: MixTimes = kept) -> None:
                elapsed, kept.floor_statuses = time_floor(setup, args.floor_cycles(setup))
                kept.floor.append(elapsed)

            contenders = [direct, reference, floor]
            shift = round_number % len(contenders)
            for contender in contenders[shift:] + contenders[:shift]:
                contender()
    return times


def bench_direct(args: argparse.Namespace) -> list[tuple[str, str, str, bool]]:
    heading("1. Direct transport throughput")
    with tempfile.TemporaryDirectory(prefix="harness-bench-mix-") as tmp:
        setups = [direct_setup(), vendor_setup(Path(tmp) / "vendor")]
    for setup in setups:
        calls = setup.calls
        allowed = sum(1 for call in calls if call.expect == ALLOWED)
        blocked = sum(1 for call in calls if call.expect == BLOCKED)
        hosts = sorted({call.url.split("/")[2] for call in calls})
        print(
            f"  {setup.name}: {len(calls)} calls per pass over {len(hosts)} hosts, "
            f"{len({c.binding for c in calls})} bindings; {allowed} allowed, "
            f"{len(calls) - allowed - blocked} denied, {blocked} blocked"
        )
        if args.mix_log:
            path = Path(args.mix_log) / f"{setup.name.replace(' ', '-')}.jsonl"
            path.parent.mkdir(parents=True, exist_ok=True)
            write_mix_log(setup, path)
            print(f"    decision log of one pass written to {path}")
    with one_core() as pinning:
        times = time_mixes(setups, args)
    print(
        f"  single process, {pinning}; {args.runs} rounds, the contenders interleaved "
        "round by round; rates from each contender's best round, in CPU time"
    )
    print()
    rows: list[tuple[object, ...]] = []
    verdicts: list[tuple[str, str, str, bool]] = []
    agreements: list[str] = []
    for setup in setups:
        kept = times[setup.name]
        per = len(setup.calls)
        direct_calls = args.direct_cycles(setup) * per
        reference_calls = args.reference_cycles(setup) * per
        floor_calls = args.floor_cycles(setup) * per
        direct_rate = direct_calls / min(kept.direct)
        reference_rate = reference_calls / min(kept.reference)
        floor_rate = floor_calls / min(kept.floor)
        speedup = direct_rate / reference_rate
        gap = floor_rate / direct_rate
        round_speedups = sorted(
            (direct_calls / d) / (reference_calls / r)
            for d, r in zip(kept.direct, kept.reference, strict=True)
        )
        round_gaps = sorted(
            (floor_calls / f) / (direct_calls / d)
            for d, f in zip(kept.direct, kept.floor, strict=True)
        )
        rows += [
            (setup.name, "direct: Sandbox.handle", f"{direct_calls:,}",
             f"{1e6 / direct_rate:.2f}", f"{direct_rate:,.0f}", "", "", ""),
            ("", "reference: requests + responses", f"{reference_calls:,}",
             f"{1e6 / reference_rate:.2f}", f"{reference_rate:,.0f}", "", "", ""),
            ("", "floor: dict dispatch", f"{floor_calls:,}",
             f"{1e6 / floor_rate:.3f}", f"{floor_rate:,.0f}", "", "", ""),
            ("", "direct / reference", "", "", f"{speedup:.1f}x",
             f"{round_speedups[0]:.1f}x / {round_speedups[-1]:.1f}x",
             f">= {REFERENCE_TARGET:.0f}x", verdict(speedup >= REFERENCE_TARGET)),
            ("", "floor / direct", "", "", f"{gap:.1f}x",
             f"{round_gaps[0]:.1f}x / {round_gaps[-1]:.1f}x",
             f"<= {FLOOR_TARGET:.0f}x", verdict(gap <= FLOOR_TARGET)),
        ]  # fmt: skip
        verdicts += [
            (f"{setup.name}: direct / reference", f"{speedup:.1f}x ({direct_rate:,.0f} calls/s)",
             f">= {REFERENCE_TARGET:.0f}x", speedup >= REFERENCE_TARGET),
            (f"{setup.name}: floor / direct", f"{gap:.1f}x", f"<= {FLOOR_TARGET:.0f}x",
             gap <= FLOOR_TARGET),
        ]  # fmt: skip
        for contender, statuses in (("reference", kept.statuses), ("floor", kept.floor_statuses)):
            agree = sum(
                1
                for call, status in zip(setup.calls, statuses, strict=True)
                if (status == 403) == (call.expect != ALLOWED)
            )
            agreements.append(f"{setup.name}, {contender}: {agree}/{per}")
    print(
        table(
            ("mix", "contender", "calls", "us/call", "calls/s", "per round min / max", "target",
             "result"),
            rows,
        )
    )  # fmt: skip
    print()
    print(
        "  the token-only contenders agree with the sandbox on "
        + "; ".join(agreements)
        + " outcomes (they cannot see narrowed grants, conditions, egress)"
    )
    if args.profile:
        for setup in setups:
            profile_direct(setup, args.direct_cycles(setup))
    return [*verdicts, *bench_guard(setups[0], args.direct_cycles(setups[0]), args.runs)]


def bench_guard(setup: DirectSetup, cycles: int, runs: int) -> list[tuple[str, str, str, bool]]:
    """The direct calls with no audit hook in the process, with the egress guard's hook
    added but no guard active (every process after its first LiveSandbox), and inside
    an active guard (a LiveSandbox's code replaying flows)."""
    heading("1b. The egress guard on the direct path")
    calls = cycles * len(setup.prepared)
    earlier = egress_guard.hook_added()
    with one_core():
        time_direct(setup, max(1, cycles // 10))
        bare, _ = best_of(runs, lambda: time_direct(setup, cycles))
        with egress_guard.guarded(_no_attempt):
            pass  # adds the audit hook, for the rest of the process
        added, _ = best_of(runs, lambda: time_direct(setup, cycles))
        with egress_guard.guarded(_no_attempt):
            active, _ = best_of(runs, lambda: time_direct(setup, cycles))
    first = "audit hook already added before the run" if earlier else "no audit hook"
    rows = [
        (label, f"{calls:,}", f"{best:.3f}", f"{calls / best:,.0f}", f"{bare / best:.3f}")
        for label, best in (
            (f"direct calls, {first}", bare),
            ("guard's hook added, no guard active", added),
            ("inside an active guard", active),
        )
    ]
    print(f"  best of {runs} runs each, in this order, in one process pinned to one CPU")
    print()
    print(table(("direct calls", "calls", "best s", "calls/s", "throughput vs first"), rows))
    ratio = min(bare / added, bare / active)
    return [
        (
            "guard on the direct path",
            f"{ratio:.3f}x throughput",
            f">= {GUARD_TARGET:.2f}x",
            ratio >= GUARD_TARGET,
        )
    ]


def _no_attempt(method: str, host: str, path: str) -> BaseException:
    raise AssertionError(f"the bench's direct calls tried to leave: {method} {host}{path}")


def profile_direct(setup: DirectSetup, cycles: int) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    time_direct(setup, cycles)
    profiler.disable()
    print_profile(
        profiler, f"cProfile of {cycles * len(setup.prepared):,} direct calls, {setup.name}"
    )


def print_profile(profiler: cProfile.Profile, title: str, limit: int = 15) -> None:
    for order in ("tottime", "cumulative"):
        stream = io.StringIO()
        stats = pstats.Stats(profiler, stream=stream)
        stats.strip_dirs().sort_stats(order).print_stats(limit)
        text = stream.getvalue()
        body = text[text.find("ncalls") :] if "ncalls" in text else text
        print()
        print(f"  {title}, top {limit} by {order}:")
        for line in body.rstrip().splitlines():
            print("    " + line)


# -- 2. scale ----------------------------------------------------------------------------


@dataclass
class ScaleResult:
    connectors: int
    steps: int
    megabytes: float
    generate_s: float
    wall_s: float
    cpu_s: float
    peak_mb: float
    figures: dict[str, Any]
    error: str = ""


def run_child(workspace: Path, output: Path) -> tuple[float, float, float, dict[str, Any], str]:
    """Run bench/check_once.py in a fresh interpreter: wall seconds, CPU seconds, peak RSS
    (MB), figures.

    The child is reaped with os.wait4, which returns the resource usage of exactly
    that child (its ru_maxrss is the peak resident set size, in KiB on Linux; its user
    and system time are the CPU it used, which a busy machine inflates far less than
    the wall clock).
    """
    command = [sys.executable, str(BENCH / "check_once.py"), str(workspace), str(output)]
    log = output.with_suffix(".log")
    with log.open("w") as stdout, log.with_suffix(".err").open("w") as stderr:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=stdout, stderr=stderr, cwd=REPO)
        timer = threading.Timer(CHILD_TIMEOUT, process.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    peak_mb = usage.ru_maxrss * 1024 / 1e6
    cpu = usage.ru_utime + usage.ru_stime
    if process.returncode != 0:
        problem = log.with_suffix(".err").read_text().strip()[-500:]
        if wall >= CHILD_TIMEOUT:
            problem = f"killed after {CHILD_TIMEOUT} s"
        return wall, cpu, peak_mb, {}, f"exit {process.returncode}: {problem}"
    figures: dict[str, Any] = json.loads(log.read_text().strip().splitlines()[-1])
    return wall, cpu, peak_mb, figures, ""


def bench_scale(args: argparse.Namespace) -> list[tuple[str, str, str, bool]]:
    heading("2. Scale: full check --format json of synthetic workspaces")
    print(
        f"  bench/generate.py: N connectors x {args.flows} flows x {args.calls} calls, "
        "dev + prod bindings each; one fresh interpreter per N"
    )
    print()
    results: list[ScaleResult] = []
    with tempfile.TemporaryDirectory(prefix="harness-bench-") as tmp:
        for n in args.sizes:
            root = Path(tmp) / f"n{n}"
            start = time.perf_counter()
            made = generate_workspace(root, n, flows=args.flows, calls=args.calls)
            generated = time.perf_counter() - start
            wall, cpu, peak_mb, figures, error = run_child(root, Path(tmp) / f"report-{n}.json")
            results.append(
                ScaleResult(
                    n, made.steps, made.bytes / 1e6, generated, wall, cpu, peak_mb, figures, error
                )
            )
    base = results[0]  # N = 1: the interpreter, imports and services every check pays once
    rows = []
    for result in results:
        f = result.figures
        if result.error:
            rows.append((result.connectors, *[""] * 12, result.error))
            continue
        marginal = result is not base and not base.error
        rows.append(
            (
                result.connectors,
                f["bindings"],
                f"{f['calls']:,}",
                f"{result.megabytes:.1f}",
                f"{f['load_cpu_s']:.2f}",
                f"{f['check_cpu_s']:.2f}",
                f"{result.wall_s:.2f}",
                f"{result.cpu_s:.2f}",
                f"{_per_connector(result, base, 'cpu_s') * 1000:.1f}" if marginal else "",
                f"{result.peak_mb:.0f}",
                f"{_per_connector(result, base, 'peak_mb'):.2f}" if marginal else "",
                f"{f['findings']:,}",
                f"{f['failed']:,}",
            )
        )
    print(
        table(
            ("N", "bindings", "calls", "YAML MB", "load CPU s", "check CPU s", "wall s", "CPU s",
             "CPU ms/conn", "peak RSS MB", "MB/conn", "findings", "failing"),
            rows,
        )
    )  # fmt: skip
    print()
    print(
        "  load = load_workspace (YAML + schema + model), check = run_check (replay + analysis),"
        "\n  both CPU seconds of the child; wall and CPU s = the whole subprocess, interpreter"
        "\n  start included; CPU ms/conn and MB/conn = above the N = 1 row, per further connector"
    )
    if args.profile:
        with tempfile.TemporaryDirectory(prefix="harness-profile-") as tmp:
            root = Path(tmp) / f"n{args.profile_size}"
            generate_workspace(root, args.profile_size, flows=args.flows, calls=args.calls)
            profile_check(root)
    return _scale_targets(results, base)


def _per_connector(result: ScaleResult, base: ScaleResult, figure: str) -> float:
    """CPU seconds or peak MB per connector beyond the N = 1 run's."""
    extra: float = getattr(result, figure) - getattr(base, figure)
    return extra / (result.connectors - base.connectors)


def _scale_targets(
    results: list[ScaleResult], base: ScaleResult
) -> list[tuple[str, str, str, bool]]:
    verdicts: list[tuple[str, str, str, bool]] = []
    sized = [r for r in results if r.connectors >= 50 and not r.error and not base.error]
    if len(sized) >= 2:
        for figure, name in (("cpu_s", "CPU time"), ("peak_mb", "peak memory")):
            each = [_per_connector(r, base, figure) for r in sized]
            spread = max(each) / min(each) - 1
            verdicts.append(
                (
                    f"{name} per connector, N = {sized[0].connectors}..{sized[-1].connectors}",
                    f"spread {spread:.0%}",
                    f"<= {SCALE_LINEAR_SPREAD:.0%}",
                    spread <= SCALE_LINEAR_SPREAD,
                )
            )
    large = next((r for r in results if r.connectors == SCALE_LARGE_N), None)
    if large is not None:
        verdicts.append(
            (
                f"check N={SCALE_LARGE_N}: peak RSS",
                f"{large.peak_mb:.0f} MB" if not large.error else large.error,
                f"< {SCALE_LARGE_MB:.0f} MB",
                not large.error and large.peak_mb < SCALE_LARGE_MB,
            )
        )
    target = next((r for r in results if r.connectors == SCALE_TARGET_N), None)
    if target is not None:
        ok_time = not target.error and target.wall_s < SCALE_TARGET_SECONDS
        ok_rss = not target.error and target.peak_mb < SCALE_TARGET_MB
        verdicts += [
            (f"check N={SCALE_TARGET_N}: wall", f"{target.wall_s:.1f} s", f"< {SCALE_TARGET_SECONDS:.0f} s", ok_time),
            (f"check N={SCALE_TARGET_N}: peak RSS", f"{target.peak_mb:.0f} MB", f"< {SCALE_TARGET_MB:.0f} MB", ok_rss),
        ]  # fmt: skip
    if verdicts:
        print()
        rows = [(name, measured, goal, verdict(ok)) for name, measured, goal, ok in verdicts]
        print(table(("scale target", "measured", "goal", "result"), rows))
    return verdicts


def profile_check(root: Path) -> None:
    """cProfile of the two phases of a full check, separately: load, then check + render."""
    from harness.render.jsonfmt import render_json

    loading = cProfile.Profile()
    loading.enable()
    workspace = load_workspace(root)
    loading.disable()
    checking = cProfile.Profile()
    checking.enable()
    render_json(run_check(workspace).to_data())
    checking.disable()
    print_profile(loading, f"cProfile of load_workspace({root.name})")
    print_profile(checking, f"cProfile of run_check + render_json on {root.name}")


# -- main --------------------------------------------------------------------------------


def environment() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"Python {platform.python_version()} ({platform.python_implementation()}), "
        f"{platform.system()} {platform.machine()}, {cpu}, {os.cpu_count()} CPUs"
    )


def load_average(flag_busy: bool = True) -> str:
    """The 1-minute load average: figures taken on a busy machine are not comparable.

    After the run the bench's own process counts for about 1, so only the figure
    taken before it is flagged.
    """
    if not hasattr(os, "getloadavg"):
        return "unknown"
    load = os.getloadavg()[0]
    busy = flag_busy and load > 0.5 * (os.cpu_count() or 1)
    return f"{load:.2f}" + (" (busy machine: figures are pessimistic)" if busy else "")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="connector-harness benchmarks")
    parser.add_argument("--only", choices=("direct", "scale"), help="run one benchmark")
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke test")
    parser.add_argument(
        "--sizes", help="connector counts for the scale table (default 50,100,200,400)"
    )
    parser.add_argument("--runs", type=int, default=3, help="runs per throughput figure")
    parser.add_argument(
        "--direct-calls", type=int, help="calls per direct run and mix (default 40,000)"
    )
    parser.add_argument(
        "--reference-calls", type=int, help="calls per reference run and mix (default 3,000)"
    )
    parser.add_argument(
        "--floor-calls", type=int, help="calls per dict-floor run and mix (default 2,000,000)"
    )
    parser.add_argument(
        "--mix-log", metavar="DIR", help="write the decision log of one pass over each mix"
    )
    parser.add_argument("--flows", type=int, default=5, help="flows per connector")
    parser.add_argument("--calls", type=int, default=100, help="calls per flow")
    parser.add_argument("--profile", action="store_true", help="print cProfile hotspots")
    parser.add_argument(
        "--profile-size", type=int, default=20, help="connectors of the profiled check (20)"
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    quick = args.quick
    args.direct_calls = args.direct_calls or (4_000 if quick else 40_000)
    args.reference_calls = args.reference_calls or (400 if quick else 3_000)
    args.floor_calls = args.floor_calls or (200_000 if quick else 2_000_000)

    def cycles(calls: int) -> Callable[[DirectSetup], int]:
        return lambda setup: max(1, calls // len(setup.prepared))

    args.direct_cycles = cycles(args.direct_calls)
    args.reference_cycles = cycles(args.reference_calls)
    args.floor_cycles = cycles(args.floor_calls)
    args.sizes = args.sizes or ("2,4" if quick else "50,100,200,400")
    # N = 1 is always run first: the per-connector figures are taken above it
    args.sizes = sorted({1, *(int(s) for s in args.sizes.split(","))})
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    print("connector-harness benchmarks")
    print(f"  {environment()}")
    print(f"  load average before the run: {load_average()}")
    verdicts: list[tuple[str, str, str, bool]] = []
    if args.only in (None, "direct"):
        verdicts += bench_direct(args)
    if args.only in (None, "scale"):
        verdicts += bench_scale(args)
    heading("Summary")
    if verdicts:
        print(
            table(
                ("target", "measured", "goal", "result"),
                [(name, measured, goal, verdict(ok)) for name, measured, goal, ok in verdicts],
            )
        )
    else:
        print("  no target was measured in this run")
    print()
    print(
        f"  bench finished in {time.perf_counter() - started:.0f} s; "
        f"load average after the run: {load_average(flag_busy=False)}"
    )
    missed = [name for name, _, _, ok in verdicts if not ok]
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())
