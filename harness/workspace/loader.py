"""Loading a workspace: find files, parse, validate, build the model, cross-check references.

Errors are collected rather than raised one at a time, so a user sees every
problem of a workspace in one run; they are raised together as InputErrors.
Each kind of content has its section in harness/workspace/: services.py (service
specs), policy.py (connectors, roles, bindings, waivers, the policy) and
flows.py (flows and their steps), on the shared state of base.py.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import Any

from harness.errors import InputError, InputErrors, Location
from harness.model import Binding, Service, Settings, Workspace
from harness.paths import outside
from harness.permission_models import check_binding_models
from harness.workspace import cache
from harness.workspace.base import defined_names, suggest
from harness.workspace.flows import FlowSection
from harness.workspace.pack_loading import with_packs
from harness.workspace.policy import PolicySection
from harness.workspace.services import ServiceSection
from harness.workspace.settings import SettingsErrors, load_settings
from harness.workspace.validation import validate
from harness.workspace.yaml_source import YamlDocument


def load_workspace(root: Path | str, *, settings: Settings | None = None) -> Workspace:
    """Load and cross-check the workspace at `root`; raise InputErrors listing every problem.

    `settings` saves reading the settings file again when the caller already has them."""
    root = Path(root)
    if not root.is_dir():
        raise InputError(
            Location(str(root)),
            "the workspace is a file, not a directory"
            if root.exists()
            else "the workspace directory does not exist",
            "pass the directory that holds mocks/ and scenarios/",
        )
    if settings is None:
        try:
            settings = load_settings(root)
        except SettingsErrors as problems:
            raise InputErrors(every_problem(root, problems)) from None
    loader = _Loader(root, settings)
    # Loading builds millions of small acyclic objects that all stay alive; the cyclic
    # garbage collector would walk the growing heap again and again for nothing.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return loader.load()
    finally:
        if collecting:
            gc.enable()


def every_problem(root: Path | str, problems: SettingsErrors) -> list[InputError]:
    """The settings file's problems and, when the files to read are still known, the
    workspace's own: a broken settings key hides none of the workspace's problems."""
    if problems.usable is None:
        return problems.errors
    try:
        load_workspace(root, settings=problems.usable)
    except InputErrors as more:
        return [*problems.errors, *more.errors]
    except InputError as more:
        return [*problems.errors, more]
    return problems.errors


def input_files(root: Path | str, *, settings: Settings | None = None) -> list[Path]:
    """Every file the workspace at `root` may read (specs, documents, bodies, settings)."""
    root = Path(root)
    return _Loader(root, settings if settings is not None else load_settings(root))._inputs()


def workspace_from_data(
    services: list[dict[str, Any]],
    policies: list[dict[str, Any]],
    settings: Settings | None = None,
) -> Workspace:
    """Build a workspace from in-memory data, with the same validation as files get.

    Errors point at `<service N>` / `<policy N>` pseudo-files; tests and
    Hypothesis strategies use this to skip the file system.
    """
    loader = _Loader(Path("<memory>"), settings or Settings())
    documents: list[list[YamlDocument]] = [[], []]
    for group, (kind, items) in enumerate((("service", services), ("policy", policies))):
        for index, data in enumerate(items):
            document = YamlDocument(path=Path(f"<{kind} {index}>"), data=data)
            problems = validate(document, kind, what=f"a {kind} document")
            loader.errors.extend(problems)
            if problems:
                loader.maybe_defined.update(defined_names(data))
            else:
                documents[group].append(document)
    return loader.build(documents[0], documents[1])


def _n8n() -> ModuleType:
    """harness.n8n.collect, imported when a workspace is loaded: it imports the loader too."""
    from harness.n8n import collect

    return collect


def scenario_files(root: Path | str, *, settings: Settings | None = None) -> list[Path]:
    """The policy documents of the workspace at `root` (its configured scenario directories),
    exported n8n workflows included."""
    root = Path(root)
    settings = settings if settings is not None else load_settings(root)
    return sorted({*_yaml_files(root, settings.scenarios), *_n8n().workflow_files(root, settings)})


def _yaml_files(root: Path, directories: Iterable[str]) -> list[Path]:
    """The YAML files under the configured directories; a directory or file that leads
    outside the workspace (a symbolic link, `..`) is an InputError, never read."""
    files: list[Path] = []
    for directory in directories:
        base = root / directory
        _refuse_outside(root, base, "the configured directory")
        if base.is_dir():
            for path in base.rglob("*"):
                if path.suffix in (".yaml", ".yml"):
                    _refuse_outside(root, path, "the file")
                    if path.is_file():
                        files.append(path)
                    elif not path.is_dir():
                        raise InputError(
                            Location(str(path)),
                            "the file is not a regular file (a pipe, socket or device is "
                            "never read)",
                            "replace it with a regular file, or remove it",
                        )
    return sorted(set(files))


def _refuse_outside(root: Path, path: Path, what: str) -> None:
    target = outside(root, path)
    if target is not None:
        raise InputError(
            Location(str(path)),
            f"{what} leads outside the workspace (to {target})",
            "keep workspace files inside the workspace directory: copy them in "
            "instead of linking to them",
        )


class _Loader(ServiceSection, PolicySection, FlowSection):
    """A workspace's loader: each section (harness/workspace/) reads its part of the files."""

    workflow_files: list[Path] = []  # noqa: RUF012 - set per loader by load()

    def _workflow_documents(
        self, services: dict[str, Service], documents: list[YamlDocument]
    ) -> list[YamlDocument]:
        """Policy documents derived from the workspace's exported n8n workflows (docs/n8n.md)."""
        if not self.workflow_files:
            return []
        defined = {
            entry["name"] for doc in documents for entry in (doc.data or {}).get("connectors", ())
        }
        derived, errors = _n8n().workflow_documents(
            self.workflow_files,
            [str(self._relative(p)) for p in self.workflow_files],
            self.settings,
            self.root,
            services,
            defined,
        )
        self.errors.extend(errors)
        kept = []
        for document in derived:
            problems = validate(document, "policy", what="the policy derived from an n8n export")
            self.errors.extend(problems)
            if not problems:
                kept.append(document)
        return kept

    def load(self) -> Workspace:
        service_files = _yaml_files(self.root, self.settings.mocks)
        policy_files = _yaml_files(self.root, self.settings.scenarios)
        self.workflow_files = _n8n().workflow_files(self.root, self.settings)
        empty = not service_files and not policy_files and not self.workflow_files
        if empty and not self.settings.packs:
            raise InputError(
                Location(str(self.root)),
                "no workspace files found",
                f"put service specs under {', '.join(self.settings.mocks)}/ and policy documents "
                f"under {', '.join(self.settings.scenarios)}/, or configure them in "
                "connector-harness.yaml",
            )
        key = cache.cache_key(str(self.root), self._inputs(), self.settings.max_file_bytes)
        cached = cache.lookup(key)
        if cached is not None:
            return cached
        workspace = self._build_from(service_files, policy_files)
        # The parsed documents are freed by now (_build_from returned): storing the model
        # reuses their memory rather than adding to it.
        cache.store(key, workspace)
        return workspace

    def _build_from(self, service_files: list[Path], policy_files: list[Path]) -> Workspace:
        service_documents = [self._read(p, "service", "a service spec") for p in service_files]
        documents = [self._read(p, "policy", "a policy document") for p in policy_files]
        return self.build(
            [d for d in service_documents if d is not None], [d for d in documents if d is not None]
        )

    def _check_selection(self, bindings: Iterable[Binding]) -> None:
        """The settings' `env` and `binding` select some binding (a typo would select none,
        in every run: the CLI's, the API's and the plugin's)."""
        settings = self.settings
        known = list(bindings)
        if settings.env is not None and settings.env_location is not None:
            envs = sorted({b.env for b in known})
            if settings.env not in envs:
                self._dangling(
                    "policy",
                    settings.env_location,
                    f"`env: {settings.env}` names an environment no binding is in",
                    suggest(settings.env, envs),
                    name=settings.env,
                )
        if settings.binding is not None and settings.binding_location is not None:
            names = sorted({name for b in known for name in (b.name, b.connector)})
            if settings.binding not in names:
                self._dangling(
                    "policy",
                    settings.binding_location,
                    f"`binding: {settings.binding}` names no binding",
                    f"write CONNECTOR@ENV or a connector name ({suggest(settings.binding, names)})",
                    name=settings.binding,
                )

    def _inputs(self) -> list[Path]:
        """Every file the workspace may read: specs, documents, sidecar bodies, settings."""
        files = [self.root / name for name in ("connector-harness.yaml", "pyproject.toml")]
        for directory in (*self.settings.mocks, *self.settings.scenarios):
            files.extend((self.root / directory).rglob("*"))
        files.extend(_n8n().extra_inputs(self.root, self.settings))
        return sorted({f for f in files if f.is_file() and outside(self.root, f) is None})

    def build(
        self, service_documents: list[YamlDocument], documents: list[YamlDocument]
    ) -> Workspace:
        """The model from parsed documents; raise InputErrors listing every problem."""
        service_documents = with_packs(self.settings, service_documents, self.errors)
        services = self._services(service_documents)
        documents = [*documents, *self._workflow_documents(services, documents)]
        connectors = self._connectors(documents, services)
        roles = self._roles(documents, services)
        bindings = self._bindings(documents, connectors, roles)
        flows = self._flows(documents, connectors, services)
        for name, statements in self._statements.items():
            services[name] = replace(services[name], statements=tuple(statements.values()))
        waivers = self._waivers(documents, services, {b.name for b in bindings})
        policy = self._policy(documents, services)
        self._check_selection(bindings)
        workspace = Workspace(
            root=str(self.root),
            settings=self.settings,
            services=tuple(sorted(services.values(), key=lambda s: s.name)),
            connectors=tuple(sorted(connectors.values(), key=lambda c: c.name)),
            roles=tuple(sorted(roles.values(), key=lambda r: r.name)),
            bindings=tuple(sorted(bindings, key=lambda b: (b.connector, b.env))),
            flows=tuple(sorted(flows, key=lambda f: (f.connector, f.name))),
            waivers=tuple(waivers),
            policy=policy,
            model_views=tuple(self._model_views),
        )
        # The last stage runs even when an earlier one found problems, on the bindings whose
        # connector and roles loaded, so that one run reports every problem.
        errors = [*self.errors, *check_binding_models(_sound_bindings(workspace))]
        if errors:
            raise InputErrors(errors)
        return workspace


def _sound_bindings(workspace: Workspace) -> Workspace:
    """The workspace with only the bindings whose connector and roles (and the roles they
    extend, without a cycle) loaded: those a later stage can follow without a gap."""
    roles = {role.name: role for role in workspace.roles}
    connectors = {connector.name for connector in workspace.connectors}

    def sound(name: str, seen: tuple[str, ...] = ()) -> bool:
        role = roles.get(name)
        return (
            role is not None
            and name not in seen
            and all(sound(parent, (*seen, name)) for parent in role.extends)
        )

    bindings = tuple(
        binding
        for binding in workspace.bindings
        if binding.connector in connectors and all(sound(role) for role in binding.roles)
    )
    return replace(workspace, bindings=bindings)
