"""Sharding a check across machines, and merging the shards' reports into one.

`check --shard I/N` judges a deterministic part of the selected bindings: sorted by
name (code point order, the same on every machine), the binding at sorted position k
(from 0) belongs to shard (k mod N) + 1, so shards differ in size by at most one
binding. The shard writes a shard report (harness/schemas/shard.schema.json): every
binding's full result with its place in the single run's order, and what the rendered
report reads besides (the workspace root, clock and fail_on, the filters, the date and
baseline, the need-to-know cells of the HTML matrix). `merge_shards` reads N such
reports back into the Report a single run gives, refusing a missing or repeated shard,
overlapping shards, and shards of different workspaces, runs or harness builds.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import fastjsonschema

from harness import __version__
from harness.analysis import BindingResult, ServiceAnalysis
from harness.baseline import Baseline
from harness.cells import Cell
from harness.cover import CoverMethod
from harness.engine import Selection, select_bindings
from harness.errors import HarnessError, InputError, Location, UsageError
from harness.findings import Finding, FindingKind, WaiverState, WaiverStatus
from harness.fixes import RoleFix
from harness.gate import GateContext
from harness.model import Settings, Workspace
from harness.report import Report
from harness.workspace.cache import harness_digest
from harness.workspace.loader import input_files, load_workspace
from harness.workspace.source_document import (
    PathKey,
    SourceDocument,
    describe_path,
    read_document,
)
from harness.workspace.units import format_instant, parse_instant
from harness.workspace.validation import load_schema

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

SHARD_SCHEMA = "connector-harness/shard-report"
SHARD_VERSION = 1
MAX_SHARD_BYTES = 512 * 1024 * 1024  # a shard of 10,000 bindings is about 40 MB
_SPEC = re.compile(r"\s*(\d{1,6})\s*/\s*(\d{1,6})\s*")


@dataclass(frozen=True, slots=True)
class ShardSpec:
    """Shard `index` (from 1) of `count`."""

    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(text: str) -> ShardSpec:
    """`2/4` -> ShardSpec(2, 4); ValueError saying what to write otherwise."""
    match = _SPEC.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a shard; write I/N, e.g. 2/4 (shard 2 of 4)")
    index, count = int(match[1]), int(match[2])
    if count < 1 or not 1 <= index <= count:
        raise ValueError(
            f"{text!r}: the shard number must be between 1 and the shard count, e.g. 1/{max(count, 1)}"
        )
    return ShardSpec(index, count)


def shard_names(names: Iterable[str], shard: ShardSpec) -> frozenset[str]:
    """The names shard `shard` judges: every count-th of the names in sorted order."""
    ordered = sorted(set(names))
    return frozenset(ordered[shard.index - 1 :: shard.count])


def shard_selection(workspace: Workspace, selection: Selection, shard: ShardSpec) -> Selection:
    """The selection narrowed to the bindings of one shard."""
    names = [binding.name for binding in select_bindings(workspace, selection)]
    return Selection(selection.env, selection.binding, shard_names(names, shard))


def workspace_digest(workspace: Workspace) -> str:
    """SHA-256 of every input file of the workspace, by path relative to its root: the same
    checkout gives the same digest on every machine."""
    root = Path(workspace.root)
    digest = hashlib.sha256()
    for path in input_files(root):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _selection_digest(names: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(sorted(names)).encode()).hexdigest()


def shard_document(
    report: Report,
    shard: ShardSpec,
    selected: Sequence[str],
    cells: Iterable[Cell],
    *,
    baseline_sha256: str | None = None,
) -> dict[str, Any]:
    """The shard report of `report` (the run of one shard). `selected` names every binding
    the unsharded selection holds, in check order; `cells` are the need-to-know cells of
    the shard's bindings (harness.inventory)."""
    workspace = report.workspace
    context = report.context or GateContext(today=date.today())
    position = {name: number for number, name in enumerate(selected)}
    by_binding: dict[str, list[Cell]] = {}
    for cell in cells:
        by_binding.setdefault(cell.binding, []).append(cell)
    return {
        "schema": SHARD_SCHEMA,
        "version": SHARD_VERSION,
        "tool": {"name": "connector-harness", "version": __version__, "digest": harness_digest()},
        "workspace": {
            "root": workspace.root,
            "digest": workspace_digest(workspace),
            "clock": format_instant(workspace.settings.clock),
            "fail_on": list(workspace.settings.fail_on),
        },
        "run": {
            "env": report.env,
            "binding": report.binding,
            "today": context.today.isoformat(),
            "baseline": context.baseline.path if context.baseline else None,
            "baseline_sha256": baseline_sha256,
        },
        "shard": {
            "index": shard.index,
            "count": shard.count,
            "selected": len(selected),
            "selection_sha256": _selection_digest(selected),
        },
        "results": [
            _result_data(position[result.binding], result, by_binding.get(result.binding, ()))
            for result in report.results
        ],
    }


def _result_data(position: int, result: BindingResult, cells: Iterable[Cell]) -> dict[str, Any]:
    return {
        "position": position,
        "binding": result.binding,
        "connector": result.connector,
        "env": result.env,
        "flows": list(result.flows),
        "calls": result.calls,
        "allowed": result.allowed,
        "denied": result.denied,
        "blocked": result.blocked,
        "services": [
            {
                **s.to_data(),
                "needed_for": [[grant, list(operations)] for grant, operations in s.needed_for],
                "target": list(s.target),
                "used_for": [[grant, list(operations)] for grant, operations in s.used_for],
            }
            for s in result.services
        ],
        # the binding's own fixes, before they are settled against the bindings sharing its
        # roles: the merge settles them again, knowing every shard's bindings
        "fixes": [fix.to_data() for fix in result.fixes],
        "findings": [finding.to_data() for finding in result.findings],
        "exercised": result.exercised,
        "granted": result.granted,
        "passed": result.passed,
        "suggested_role": result.suggested_role,
        "waivers": [waiver.to_data() for waiver in result.waivers],
        "cells": [
            {
                "service": c.service,
                "grant": c.grant,
                "state": c.state,
                "operations": list(c.operations),
            }
            for c in cells
        ],
    }


@dataclass(frozen=True, slots=True)
class Merged:
    """The shards read back: the single run's Report and its need-to-know cells."""

    report: Report
    cells: tuple[Cell, ...]


@dataclass(frozen=True, slots=True)
class _Shard:
    document: SourceDocument
    data: dict[str, Any]

    @property
    def name(self) -> str:
        return self.document.name

    def where(self, *path: str | int) -> Location:
        return self.document.location(path)


# What must be equal in every shard of one run: (key path, what differs, what to do).
_SAME: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (
        ("tool",),
        "was written by another build of connector-harness than {other}",
        "run every shard with the same connector-harness (the same version and installation)",
    ),
    (
        ("workspace", "digest"),
        "checked other workspace files than {other}",
        "run every shard on the same commit of the workspace",
    ),
    (
        ("workspace",),
        "names the workspace differently from {other}",
        "pass the same workspace argument to every shard",
    ),
    (
        ("run",),
        "was run with other options than {other} (--env, --binding, --today or --baseline)",
        "run every shard with the same options; give --today YYYY-MM-DD so that a run "
        "across midnight judges waivers on one date",
    ),
    (
        ("shard", "count"),
        "belongs to a run with another shard count than {other}",
        "merge the shards of one run: each of 1/N ... N/N once",
    ),
    (
        ("shard", "selection_sha256"),
        "selected other bindings than {other}",
        "run every shard on the same commit of the workspace, with the same options",
    ),
)


def merge_shards(paths: Sequence[Path]) -> Merged:
    """Read shard reports and merge them into the report of the whole run; InputError
    (exit 2) on a file that is not a shard report or shards that do not make one run."""
    if not paths:
        raise UsageError("name the shard reports to merge, e.g. merge shard-*.json")
    shards = [_read_shard(path) for path in paths]
    first = shards[0]
    for shard in shards[1:]:
        for keys, problem, fix in _SAME:
            if _get(shard.data, keys) != _get(first.data, keys):
                raise InputError(
                    shard.where(*keys),
                    "this shard " + problem.format(other=first.name),
                    fix,
                )
    count = first.data["shard"]["count"]
    seen: dict[int, _Shard] = {}
    for shard in shards:
        index = shard.data["shard"]["index"]
        if index > count:
            raise InputError(
                shard.where("shard", "index"),
                f"shard {index} of {count}: the number is above the count",
                "merge the shards of one run: each of 1/N ... N/N once",
            )
        if index in seen:
            raise InputError(
                shard.where("shard", "index"),
                f"shard {index}/{count} is given twice (also {seen[index].name})",
                "name each shard report once",
            )
        seen[index] = shard
    missing = [index for index in range(1, count + 1) if index not in seen]
    if missing:
        listed = ", ".join(f"{index}/{count}" for index in missing)
        raise UsageError(
            f"shard{'s' if len(missing) > 1 else ''} {listed} missing: the merged report would "
            f"leave out {'their' if len(missing) > 1 else 'its'} bindings; run `connector-harness check --shard {missing[0]}/{count}` "
            "with the other shards' options and merge its report too"
        )
    return _merge(first, [seen[index] for index in range(1, count + 1)])


def _merge(first: _Shard, shards: list[_Shard]) -> Merged:
    header = first.data
    selected = header["shard"]["selected"]
    placed: dict[int, tuple[BindingResult, list[Cell]]] = {}
    owner: dict[str, str] = {}
    for shard in shards:
        for number, entry in enumerate(shard.data["results"]):
            position = entry["position"]
            name = entry["binding"]
            if name in owner or position in placed:
                raise InputError(
                    shard.where("results", number),
                    f"binding {name!r} is also in {owner.get(name, 'another shard')}: the shards "
                    "overlap",
                    "merge the shards of one run, each written by `check --shard I/N`",
                )
            if position >= selected:
                raise InputError(
                    shard.where("results", number, "position"),
                    f"position {position} is outside the run's {selected} bindings",
                    "merge shard reports as `check --shard` wrote them",
                )
            owner[name] = shard.name
            placed[position] = _decode_result(entry)
    if len(placed) != selected:
        raise InputError(
            first.where("shard", "selected"),
            f"the shards hold {len(placed)} of the run's {selected} bindings",
            "merge every shard of one run, as `check --shard I/N` wrote them",
        )
    results = tuple(placed[position][0] for position in range(selected))
    cells = tuple(cell for position in range(selected) for cell in placed[position][1])
    return Merged(_report(header, results), cells)


def _report(header: dict[str, Any], results: tuple[BindingResult, ...]) -> Report:
    """The Report a single run of the same selection gives, as its renderers read it."""
    space = header["workspace"]
    settings = Settings(
        clock=parse_instant(space["clock"]),
        fail_on=tuple(cast(FindingKind, kind) for kind in space["fail_on"]),
    )
    workspace = _judged_workspace(space, settings)
    if not workspace.bindings:
        # without the checkout, each shard's fixes stay as that shard settled them
        results = tuple(replace(result, settled=True) for result in results)
    run = header["run"]
    baseline = Baseline(run["baseline"], {}, {}) if run["baseline"] is not None else None
    context = GateContext(date.fromisoformat(run["today"]), baseline)
    return Report(workspace, run["env"], run["binding"], results, context)


def _judged_workspace(space: dict[str, Any], settings: Settings) -> Workspace:
    """The workspace the shards judged, read again when the merge runs in its checkout (the
    same digest), so that a role shared by bindings of different shards is settled as one
    run settles it; otherwise its root and the two settings a rendered report reads."""
    bare = Workspace(space["root"], settings, (), (), (), (), ())
    try:
        loaded = load_workspace(space["root"])
    except (HarnessError, OSError):
        return bare
    if workspace_digest(loaded) != space["digest"]:
        return bare
    return replace(
        loaded, settings=replace(loaded.settings, clock=settings.clock, fail_on=settings.fail_on)
    )


def _decode_result(entry: dict[str, Any]) -> tuple[BindingResult, list[Cell]]:
    name = entry["binding"]
    services = tuple(
        ServiceAnalysis(
            s["service"],
            tuple(s["granted"]),
            tuple(s["kept"]),
            tuple(s["suggested"]),
            s["granted_breadth"],
            s["suggested_breadth"],
            cast(CoverMethod, s["method"]),
            tuple((grant, tuple(operations)) for grant, operations in s["needed_for"]),
            s["model"],
            tuple(s["target"]),
            tuple((grant, tuple(operations)) for grant, operations in s["used_for"]),
        )
        for s in entry["services"]
    )
    findings = tuple(
        Finding(
            cast(FindingKind, f["kind"]),
            f["binding"],
            f["service"],
            f["subject"],
            f["message"],
            f["location"],
            f["instead"],
            tuple(f["replacement"]),
            tuple(f["evidence"]),
            f["waived_by"],
        )
        for f in entry["findings"]
    )
    waivers = tuple(
        WaiverStatus(
            w["binding"],
            w["ticket"],
            tuple(w["grants"]),
            w["reason"],
            w["owner"],
            w["approved_by"],
            date.fromisoformat(w["expires"]),
            w["days_left"],
            cast(WaiverState, w["status"]),
            w["location"],
        )
        for w in entry["waivers"]
    )
    result = BindingResult(
        name,
        entry["connector"],
        entry["env"],
        tuple(entry["flows"]),
        entry["calls"],
        entry["allowed"],
        entry["denied"],
        entry["blocked"],
        services,
        findings,
        entry["exercised"],
        entry["granted"],
        entry["passed"],
        entry["suggested_role"],
        waivers,
        tuple(RoleFix(f["role"], f["service"], tuple(f["grants"])) for f in entry["fixes"]),
    )
    cells = [
        Cell(name, c["service"], c["grant"], c["state"], tuple(c["operations"]))
        for c in entry["cells"]
    ]
    return result, cells


def _get(data: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        data = data[key]
    return data


def _read_shard(path: Path) -> _Shard:
    document = read_document(path, max_bytes=MAX_SHARD_BYTES)
    if path.suffix.lower() in (".yaml", ".yml"):
        raise InputError(
            Location(document.name),
            "a shard report is JSON",
            "merge the files `check --shard` wrote",
        )
    data = document.data
    if isinstance(data, dict) and data.get("schema") != SHARD_SCHEMA:
        what = (
            "a check report, not a shard report"
            if data.get("schema") == "connector-harness/check-report"
            else "not a shard report"
        )
        raise InputError(
            document.location(("schema",) if "schema" in data else ()),
            f"this file is {what}",
            "merge the reports that `connector-harness check --shard I/N --output FILE` wrote",
        )
    try:
        _fast_check()(data)
    except fastjsonschema.JsonSchemaException:
        raise _explain(document) from None
    _check_dates(document, data)
    return _Shard(document, data)


def _check_dates(document: SourceDocument, data: dict[str, Any]) -> None:
    """The dates the merge parses: a bad one is an input error, not a traceback."""
    dates: list[tuple[PathKey, Any]] = [
        (("run", "today"), date.fromisoformat),
        (("workspace", "clock"), parse_instant),
    ]
    for number, entry in enumerate(data["results"]):
        for index in range(len(entry["waivers"])):
            dates.append((("results", number, "waivers", index, "expires"), date.fromisoformat))
    for path, parse in dates:
        value: Any = data
        for key in path:
            value = value[key]
        try:
            parse(value)
        except ValueError:
            raise InputError(
                document.location(path),
                f"{value!r} is not a date",
                "merge shard reports as `check --shard` wrote them",
            ) from None


@functools.cache
def _fast_check() -> Callable[[Any], Any]:
    check: Callable[[Any], Any] = fastjsonschema.compile(load_schema("shard"))
    return check


def _explain(document: SourceDocument) -> InputError:
    """The first schema violation, located."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(
        load_schema("shard"), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    error: ValidationError = min(
        validator.iter_errors(document.data), key=lambda e: [str(p) for p in e.absolute_path]
    )
    path = tuple(error.absolute_path)
    return InputError(
        document.location(path),
        f"{describe_path(path)}: {error.message}",
        "this is not a shard report as `connector-harness check --shard I/N` writes it; "
        "write it again with the same connector-harness",
    )
