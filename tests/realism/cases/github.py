"""GitHub REST API (PyGithub): both permission models.

`app`: GitHub App and fine-grained token permissions, written PERMISSION:read|write with
the keys GitHub uses (`issues`, `contents`, `pull_requests`, `workflows`, ...); write
includes read. Each endpoint's page lists them under "Fine-grained access tokens for ...":
"The fine-grained token must have the following permission set". Some endpoints accept
either of two permissions (an issue comment: "Issues" or "Pull requests" write).

`oauth`: classic OAuth App and personal-access-token scopes
(https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/scopes-for-oauth-apps):
`repo` is full control of private repositories, `public_repo` "Limits access to public
repositories", narrower ones (`repo:status`, `repo_deployment`, `read:org`,
`write:repo_hook`, `gist`, `user:email`, `delete_repo`, `workflow`) cover one area. Whether
`public_repo` is enough depends on the repository's visibility, so those flows read the
repository first (its `private` field answers it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..case import Answer, Case

REST = "https://docs.github.com/en/rest/"
SCOPES = "https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/scopes-for-oauth-apps"
REPO = "octo-org/hello-world"
ISSUE = Answer(
    json={
        "number": 7,
        "title": "Flaky test",
        "url": f"https://api.github.com/repos/{REPO}/issues/7",
    }
)
PULL = Answer(
    json={
        "number": 3,
        "url": f"https://api.github.com/repos/{REPO}/pulls/3",
        "head": {"sha": "6dcb09b"},
    }
)
WORKFLOW = Answer(
    json={
        "id": 161335,
        "path": ".github/workflows/ci.yml",
        "url": f"https://api.github.com/repos/{REPO}/actions/workflows/161335",
    }
)
FILE = Answer(json={"content": {"sha": "95b966ae"}, "commit": {"sha": "7638417"}})
PRIVATE = Answer(
    json={"full_name": REPO, "private": True, "url": f"https://api.github.com/repos/{REPO}"}
)
PUBLIC = Answer(
    json={"full_name": REPO, "private": False, "url": f"https://api.github.com/repos/{REPO}"}
)


def repo(g: Any) -> Any:
    return g.get_repo(REPO)


def read_then(then: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Read the repository (as a flow that checks its visibility does), then act on it."""

    def call(g: Any) -> Any:
        repository = repo(g)
        _ = repository.private
        return then(repository)

    return call


def app(
    operation: str,
    call: Callable[[Any], Any],
    minimal: tuple[str, ...],
    broader: tuple[str, ...],
    refused: tuple[str, ...],
    page: str,
    **extra: Any,
) -> Case:
    return Case("github", "app", operation, call, minimal, broader, refused, REST + page, **extra)


def oauth(
    operation: str,
    call: Callable[[Any], Any],
    minimal: tuple[str, ...],
    broader: tuple[str, ...],
    refused: tuple[str, ...],
    page: str,
    **extra: Any,
) -> Case:
    return Case("github", "oauth", operation, call, minimal, broader, refused, REST + page, **extra)


def _issue_comment(g: Any) -> Any:
    return repo(g).get_issue(7).create_comment("Reproduced on main")


CASES = (
    app(
        "issues.create",
        lambda g: repo(g).create_issue(title="Flaky test", body="Seen twice", labels=["bug"]),
        ("issues:write",),
        ("issues:write", "contents:write"),
        ("issues:read",),
        "issues/issues#create-an-issue",
        answers=(ISSUE,),
    ),
    app(
        "issues.list(state=open)",
        lambda g: list(repo(g).get_issues(state="open", labels=["bug"])),
        ("issues:read",),
        ("issues:write",),
        ("contents:read",),
        "issues/issues#list-repository-issues",
        answers=(Answer(json=[]),),
    ),
    app(
        "issues.comments.create",
        _issue_comment,
        ("issues:write",),
        ("issues:write", "pull_requests:write"),
        ("issues:read",),
        "issues/comments#create-an-issue-comment",
        answers=(ISSUE,),
        alternatives=(("pull_requests:write",),),
        note="create an issue comment: 'Issues' repository permissions (write) or 'Pull requests' repository permissions (write)",
    ),
    app(
        "issues.labels.add",
        lambda g: repo(g).get_issue(7).add_to_labels("triage"),
        ("issues:write",),
        ("issues:write", "administration:read"),
        ("issues:read",),
        "issues/labels#add-labels-to-an-issue",
        answers=(Answer(json=[]),),
        alternatives=(("pull_requests:write",),),
    ),
    app(
        "labels.create",
        lambda g: repo(g).create_label("needs-review", "ededed"),
        ("issues:write",),
        ("issues:write", "pull_requests:write"),
        ("issues:read",),
        "issues/labels#create-a-label",
        alternatives=(("pull_requests:write",),),
    ),
    app(
        "contents.get(path, ref)",
        lambda g: repo(g).get_contents("docs/guide/intro.md", ref="main"),
        ("contents:read",),
        ("contents:write",),
        ("issues:read",),
        "repos/contents#get-repository-content",
        answers=(
            Answer(
                json={
                    "type": "file",
                    "path": "docs/guide/intro.md",
                    "content": "",
                    "encoding": "base64",
                }
            ),
        ),
    ),
    app(
        "readme.get",
        lambda g: repo(g).get_readme(),
        ("contents:read",),
        ("contents:write",),
        ("metadata:read",),
        "repos/contents#get-a-repository-readme",
        answers=(
            Answer(json={"type": "file", "path": "README.md", "content": "", "encoding": "base64"}),
        ),
    ),
    app(
        "contents.create(file)",
        lambda g: repo(g).create_file(
            "reports/2026-01.md", "Add report", "# Report\n", branch="main"
        ),
        ("contents:write",),
        ("contents:write", "issues:write"),
        ("contents:read",),
        "repos/contents#create-or-update-file-contents",
        answers=(FILE,),
    ),
    app(
        "contents.update(workflow file)",
        lambda g: repo(g).update_file(
            ".github/workflows/ci.yml", "Pin actions", "on: push\n", sha="95b966ae", branch="main"
        ),
        ("contents:write", "workflows:write"),
        ("contents:write", "workflows:write", "actions:write"),
        ("contents:write",),
        "repos/contents#create-or-update-file-contents",
        answers=(FILE,),
        note="a file under .github/workflows also needs the 'Workflows' permission (write)",
    ),
    app(
        "releases.create",
        lambda g: repo(g).create_git_release(
            "v1.4.0", "v1.4.0", "Changelog", target_commitish="main"
        ),
        ("contents:write",),
        ("contents:write", "deployments:write"),
        ("contents:read",),
        "releases/releases#create-a-release",
        answers=(Answer(json={"id": 1, "tag_name": "v1.4.0"}),),
    ),
    app(
        "releases.list",
        lambda g: list(repo(g).get_releases()),
        ("contents:read",),
        ("contents:write",),
        ("issues:read",),
        "releases/releases#list-releases",
        answers=(Answer(json=[]),),
    ),
    app(
        "pulls.create",
        lambda g: repo(g).create_pull(
            title="Bump deps", body="weekly", base="main", head="deps/weekly"
        ),
        ("pull_requests:write",),
        ("pull_requests:write", "contents:write"),
        ("pull_requests:read",),
        "pulls/pulls#create-a-pull-request",
        answers=(PULL,),
    ),
    app(
        "pulls.list",
        lambda g: list(repo(g).get_pulls(state="open", base="main")),
        ("pull_requests:read",),
        ("pull_requests:write",),
        ("issues:read",),
        "pulls/pulls#list-pull-requests",
        answers=(Answer(json=[]),),
    ),
    app(
        "pulls.merge",
        lambda g: repo(g).get_pull(3).merge(merge_method="squash"),
        ("contents:write",),
        ("contents:write", "pull_requests:write"),
        ("pull_requests:write",),
        "pulls/pulls#merge-a-pull-request",
        answers=(Answer(json={"merged": True, "sha": "6dcb09b"}),),
        note="merging needs 'Contents' repository permissions (write); a lazy pull request sends only the PUT",
    ),
    app(
        "commits.list",
        lambda g: list(repo(g).get_commits(sha="main")),
        ("contents:read",),
        ("contents:write",),
        ("statuses:read",),
        "commits/commits#list-commits",
        answers=(Answer(json=[]),),
    ),
    app(
        "statuses.create",
        lambda g: (
            repo(g)
            .get_commit("6dcb09b5b57875f334f61aebed695e2e4193db5e")
            .create_status("success", context="ci/deploy")
        ),
        ("statuses:write",),
        ("statuses:write", "contents:write"),
        ("statuses:read",),
        "commits/statuses#create-a-commit-status",
    ),
    app(
        "check-runs.create",
        lambda g: repo(g).create_check_run(
            name="lint",
            head_sha="6dcb09b5b57875f334f61aebed695e2e4193db5e",
            status="completed",
            conclusion="success",
        ),
        ("checks:write",),
        ("checks:write", "statuses:write"),
        ("checks:read",),
        "checks/runs#create-a-check-run",
        answers=(Answer(json={"id": 4, "name": "lint"}),),
    ),
    app(
        "repository_dispatch",
        lambda g: repo(g).create_repository_dispatch("deploy", {"env": "prod"}),
        ("contents:write",),
        ("contents:write", "actions:write"),
        ("actions:write",),
        "repos/repos#create-a-repository-dispatch-event",
        answers=(Answer(status=204),),
    ),
    app(
        "workflows.get then dispatch",
        lambda g: repo(g).get_workflow("ci.yml").create_dispatch("main", {"reason": "nightly"}),
        ("actions:write",),
        ("actions:write", "contents:write"),
        ("actions:read",),
        "actions/workflows#create-a-workflow-dispatch-event",
        answers=(WORKFLOW, Answer(status=204)),
    ),
    app(
        "workflow-runs.list",
        lambda g: list(repo(g).get_workflow_runs(branch="main")),
        ("actions:read",),
        ("actions:write",),
        ("contents:read",),
        "actions/workflow-runs#list-workflow-runs-for-a-repository",
        answers=(Answer(json={"total_count": 0, "workflow_runs": []}),),
    ),
    app(
        "deployments.create",
        lambda g: repo(g).create_deployment(ref="main", environment="production"),
        ("deployments:write",),
        ("deployments:write", "contents:write"),
        ("deployments:read",),
        "deployments/deployments#create-a-deployment",
        answers=(Answer(json={"id": 42}),),
    ),
    app(
        "hooks.create",
        lambda g: repo(g).create_hook(
            "web",
            {"url": "https://ci.example.com/hook", "content_type": "json"},
            ["push"],
            active=True,
        ),
        ("repository_hooks:write",),
        ("repository_hooks:write", "administration:write"),
        ("repository_hooks:read",),
        "repos/webhooks#create-a-repository-webhook",
        answers=(Answer(json={"id": 1}),),
    ),
    app(
        "git.refs.create",
        lambda g: repo(g).create_git_ref(
            "refs/heads/release-1.4", "6dcb09b5b57875f334f61aebed695e2e4193db5e"
        ),
        ("contents:write",),
        ("contents:write", "pull_requests:write"),
        ("contents:read",),
        "git/refs#create-a-reference",
        answers=(Answer(json={"ref": "refs/heads/release-1.4"}),),
    ),
    app(
        "repos.get",
        lambda g: repo(g).private,
        ("metadata:read",),
        ("contents:read",),
        ("members:read",),
        "repos/repos#get-a-repository",
        answers=(PRIVATE,),
        note="'Metadata' repository permissions (read); every repository permission includes it "
        "('If you set the metadata permission to No access and select a permission that requires "
        "repository access, GitHub will override your selection and set the metadata permission "
        "back to Read-only', https://docs.github.com/en/apps/creating-github-apps/"
        "registering-a-github-app/choosing-permissions-for-a-github-app), so only a grant "
        "without repository access, such as the organization permission members:read, lacks it",
    ),
    app(
        "orgs.members.list",
        lambda g: list(g.get_organization("octo-org").get_members()),
        ("members:read",),
        ("members:write",),
        ("administration:read",),
        "orgs/members#list-organization-members",
        answers=(Answer(json=[]),),
    ),
    app(
        "gists.create",
        lambda g: _create_gist(g),
        ("gists:write",),
        ("gists:write", "contents:write"),
        ("contents:write",),
        "gists/gists#create-a-gist",
        answers=(Answer(json={"id": "aa5a315d"}),),
        note="'Gists' user permissions (write)",
    ),
    oauth(
        "issues.create(private repository)",
        read_then(lambda r: r.create_issue(title="Flaky test")),
        ("repo",),
        ("repo", "admin:org"),
        ("public_repo",),
        "issues/issues#create-an-issue",
        answers=(PRIVATE, ISSUE),
        note="public_repo 'Limits access to public repositories'",
    ),
    oauth(
        "issues.create(public repository)",
        read_then(lambda r: r.create_issue(title="Flaky test")),
        ("public_repo",),
        ("repo",),
        ("read:org",),
        "issues/issues#create-an-issue",
        answers=(PUBLIC, ISSUE),
    ),
    oauth(
        "contents.update(workflow file, private repository)",
        read_then(
            lambda r: r.update_file(
                ".github/workflows/ci.yml", "Pin actions", "on: push\n", sha="95b966ae"
            )
        ),
        ("repo", "workflow"),
        ("repo", "workflow", "admin:repo_hook"),
        ("repo",),
        "repos/contents#create-or-update-file-contents",
        answers=(PRIVATE, FILE),
        note="workflow: 'Grants the ability to add and update GitHub Actions workflow files'",
    ),
    oauth(
        "statuses.create",
        lambda g: (
            repo(g)
            .get_commit("6dcb09b5b57875f334f61aebed695e2e4193db5e")
            .create_status("success", context="ci/deploy")
        ),
        ("repo:status",),
        ("repo",),
        ("read:org",),
        "commits/statuses#create-a-commit-status",
        note="repo:status 'Grants read/write access to commit statuses in public and private repositories'",
    ),
    oauth(
        "deployments.create",
        lambda g: repo(g).create_deployment(ref="main", environment="production"),
        ("repo_deployment",),
        ("repo",),
        ("repo:status",),
        "deployments/deployments#create-a-deployment",
        answers=(Answer(json={"id": 42}),),
    ),
    oauth(
        "hooks.create",
        lambda g: repo(g).create_hook(
            "web", {"url": "https://ci.example.com/hook", "content_type": "json"}, ["push"]
        ),
        ("write:repo_hook",),
        ("admin:repo_hook",),
        ("read:repo_hook",),
        "repos/webhooks#create-a-repository-webhook",
        answers=(Answer(json={"id": 1}),),
    ),
    oauth(
        "hooks.list",
        lambda g: list(repo(g).get_hooks()),
        ("read:repo_hook",),
        ("write:repo_hook",),
        ("repo:status",),
        "repos/webhooks#list-repository-webhooks",
        answers=(Answer(json=[]),),
    ),
    oauth(
        "orgs.members.list",
        lambda g: list(g.get_organization("octo-org").get_members()),
        ("read:org",),
        ("admin:org",),
        ("read:user",),
        "orgs/members#list-organization-members",
        answers=(Answer(json=[]),),
    ),
    oauth(
        "gists.create",
        lambda g: _create_gist(g),
        ("gist",),
        ("gist", "repo"),
        ("read:user",),
        "gists/gists#create-a-gist",
        answers=(Answer(json={"id": "aa5a315d"}),),
    ),
    oauth(
        "user.emails.list",
        lambda g: g.get_user().get_emails(),
        ("user:email",),
        ("user",),
        ("read:user",),
        "users/emails#list-email-addresses-for-the-authenticated-user",
        answers=(Answer(json=[]),),
    ),
    oauth(
        "repos.delete",
        lambda g: repo(g).delete(),
        ("delete_repo",),
        ("delete_repo", "repo"),
        ("repo",),
        "repos/repos#delete-a-repository",
        answers=(Answer(status=204),),
        note="delete_repo: 'Grants access to delete adminable repositories'",
    ),
    app(
        "contents.update(file configured for single_file)",
        lambda g: repo(g).update_file(
            ".github/release.yml", "Pin", "changelog: {}\n", sha="95b966ae", branch="main"
        ),
        ("single_file:write",),
        ("contents:write",),
        ("contents:read",),
        "repos/contents#create-or-update-file-contents",
        answers=(FILE,),
        given={"github": {"repository_file": [".github/release.yml"]}},
        note="'Single file': access to the files the app's settings name (the flow says which)",
    ),
    oauth(
        "contents.update(workflow file, public repository)",
        read_then(
            lambda r: r.update_file(
                ".github/workflows/ci.yml", "Pin actions", "on: push\n", sha="95b966ae"
            )
        ),
        ("public_repo", "workflow"),
        ("repo", "workflow"),
        ("public_repo",),
        "repos/contents#create-or-update-file-contents",
        answers=(PUBLIC, FILE),
        note="workflow: 'Grants the ability to add and update GitHub Actions workflow files'",
    ),
)


def _create_gist(g: Any) -> Any:
    from github import InputFileContent

    return g.get_user().create_gist(False, {"notes.md": InputFileContent("# Notes\n")}, "run notes")
