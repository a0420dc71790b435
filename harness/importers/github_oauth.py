"""GitHub's classic OAuth App scopes (`repo`, `public_repo`, `admin:org` ...): the `oauth`
permission model of the GitHub pack, derived from the GitHub App permission each operation
needs, by the rules of GitHub's "Scopes for OAuth apps" page.

Every rule here follows SCOPES_PAGE (quoted where it matters); the few from another page cite
it. A scope nested under another on that page is included in it ("the access granted with
`user:email` scope is included in the `user` scope"): that is the `implies` of each scope.
"""

from __future__ import annotations

from typing import Any

SCOPES_PAGE = "https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/scopes-for-oauth-apps"
DISCUSSIONS_PAGE = "https://docs.github.com/en/rest/teams/discussions"

# scope -> (description, scopes it includes), as SCOPES_PAGE lists them
SCOPES: dict[str, tuple[str, tuple[str, ...]]] = {
    "repo": (
        "Full access to public and private repositories: code, commit statuses, invitations, "
        "collaborators, deployment statuses, repository webhooks; organization projects, "
        "invitations, team memberships and webhooks",
        ("repo:status", "repo_deployment", "public_repo", "repo:invite", "security_events"),
    ),
    "repo:status": ("Read/write access to commit statuses", ()),
    "repo_deployment": ("Access to deployment statuses", ()),
    "public_repo": ("The access of `repo`, limited to public repositories", ()),
    "repo:invite": ("Accept or decline invitations to collaborate on a repository", ()),
    "security_events": ("Read and write security events (code scanning)", ()),
    "admin:repo_hook": ("Read, write, ping and delete repository hooks", ("write:repo_hook",)),
    "write:repo_hook": ("Read, write and ping repository hooks", ("read:repo_hook",)),
    "read:repo_hook": ("Read and ping repository hooks", ()),
    "admin:org": (
        "Fully manage the organization, its teams, projects and memberships",
        ("write:org",),
    ),
    "write:org": ("Read and write organization membership and projects", ("read:org",)),
    "read:org": ("Read organization membership, projects and team membership", ()),
    "admin:public_key": ("Fully manage public keys", ("write:public_key",)),
    "write:public_key": ("Create, list and view public keys", ("read:public_key",)),
    "read:public_key": ("List and view public keys", ()),
    "admin:org_hook": ("Read, write, ping and delete organization hooks", ()),
    "gist": ("Write access to gists", ()),
    "notifications": ("Notifications, thread subscriptions, watching repositories", ()),
    "user": ("Read/write access to profile info", ("read:user", "user:email", "user:follow")),
    "read:user": ("Read a user's profile data", ()),
    "user:email": ("Read a user's email addresses", ()),
    "user:follow": ("Follow or unfollow other users", ()),
    "project": ("Read/write access to user and organization projects", ("read:project",)),
    "read:project": ("Read access to user and organization projects", ()),
    "delete_repo": ("Delete adminable repositories", ()),
    "write:packages": ("Upload or publish packages", ()),
    "read:packages": ("Download or install packages", ()),
    "delete:packages": ("Delete packages", ()),
    "admin:gpg_key": ("Fully manage GPG keys", ("write:gpg_key",)),
    "write:gpg_key": ("Create, list and view GPG keys", ("read:gpg_key",)),
    "read:gpg_key": ("List and view GPG keys", ()),
    "codespace": ("Create and manage codespaces", ()),
    "workflow": ("Add and update GitHub Actions workflow files", ()),
    "read:audit_log": ("Read audit log data", ()),
    # DISCUSSIONS_PAGE: "OAuth app tokens ... need the read:discussion scope" (write: to change)
    "read:discussion": ("Read team discussions", ()),
    "write:discussion": ("Read and write team discussions", ()),
}

# App permissions of a repository whose calls `repo` allows, and `public_repo` for a public
# repository (SCOPES_PAGE, `repo` and `public_repo`).
REPOSITORY_PERMISSIONS = frozenset(
    {
        "actions", "administration", "checks", "contents", "deployments", "environments",
        "issues", "pages", "pull_requests", "repository_projects", "secrets", "security_events",
        "single_file", "statuses", "variables", "vulnerability_alerts", "workflows",
    }
)  # fmt: skip
# ... and a narrower scope that allows them too, on any repository
ALSO: dict[str, tuple[str, ...]] = {
    "statuses": ("repo:status",),
    "deployments": ("repo_deployment",),
    "security_events": ("security_events",),
}
PUBLIC = {"repository": {"class": ["public"]}}  # a repository the flow says is public
REPOSITORY_ARGUMENT = {
    "repository": {"in": "path", "template": "{owner}/{repo}", "resource": "repository"}
}


def oauth_requirement(
    method: str, path: str, permissions: list[tuple[str, str]]
) -> tuple[Any, dict[str, Any], str] | None:
    """(requirement, arguments, source) of an operation in the `oauth` model, from the app
    permissions (permission, access) that allow it; None when no rule covers it."""
    repository = path.startswith("/repos/{owner}/{repo}")
    alternatives: list[Any] = []
    source = SCOPES_PAGE

    def add(*items: Any) -> None:
        for item in items:
            if item not in alternatives:
                alternatives.append(item)

    for permission, access in permissions:
        if permission == "metadata":
            # "(no scope): read-only access to public information"
            if repository:
                add({"when": PUBLIC, "then": "authenticated", "else": "repo"})
            else:
                add("authenticated")
        elif "/discussions" in path:
            source = DISCUSSIONS_PAGE
            add("write:discussion") if access == "write" else add(
                "read:discussion", "write:discussion"
            )
        elif method == "POST" and path in ("/orgs/{org}/repos", "/user/repos"):
            # creating a repository: `repo`, or `public_repo` for a public one (`private`
            # false, the default: https://docs.github.com/en/rest/repos/repos#create-an-organization-repository)
            add("repo", {"when": {"private": ["false"]}, "then": "public_repo"})
        elif path.startswith("/user/repository_invitations"):
            add("repo:invite", "repo")  # "repo:invite: accept/decline ... invitations"
        elif path.startswith("/teams/{team_id}/repos/"):
            add("admin:org", "repo")  # team repositories: organization and repository management
        elif path == "/repos/{owner}/{repo}" and method == "DELETE":
            add("delete_repo")  # "delete_repo: Grants access to delete adminable repositories"
        elif repository and "/hooks" in path:
            # "The repo and public_repo scopes grant full access to repositories, including
            # repository hooks"; admin/write/read:repo_hook limit access to hooks
            hooks = {"GET": "read:repo_hook", "DELETE": "admin:repo_hook"}.get(
                method, "write:repo_hook"
            )
            add("repo", {"when": PUBLIC, "then": "public_repo"}, hooks)
        elif permission in REPOSITORY_PERMISSIONS and (
            repository or path.startswith("/repositories/")
        ):
            add("repo", *ALSO.get(permission, ()))
            if repository:
                add({"when": PUBLIC, "then": "public_repo"})
        elif permission == "members":
            add("read:org" if access == "read" else "write:org")
            if "/invitations" in path or "/memberships" in path:
                add("repo")  # `repo` also manages organization invitations and team memberships
        elif permission == "organization_projects" or (
            permission == "repository_projects" and not repository
        ):
            add("read:org" if access == "read" else "write:org", "repo")
        elif (
            permission in ("organization_administration", "organization_user_blocking")
            or permission == "secrets"
        ):
            add("admin:org")
        elif permission == "security_events":
            add("security_events", "repo")
        else:
            return None
    if not alternatives:
        return None
    arguments: dict[str, Any] = {}
    if any(isinstance(a, dict) and "repository" in a.get("when", {}) for a in alternatives):
        arguments = dict(REPOSITORY_ARGUMENT)
    if any(isinstance(a, dict) and "private" in a.get("when", {}) for a in alternatives):
        arguments["private"] = {"in": "body", "default": "false"}
    requirement = alternatives[0] if len(alternatives) == 1 else {"any_of": alternatives}
    return requirement, arguments, source


def oauth_scopes() -> dict[str, dict[str, Any]]:
    """The `oauth` model's scopes, as a spec writes them."""
    return {
        name: {
            "description": description,
            **({"implies": list(includes)} if includes else {}),
            "source": DISCUSSIONS_PAGE if "discussion" in name else SCOPES_PAGE,
        }
        for name, (description, includes) in sorted(SCOPES.items())
    }
