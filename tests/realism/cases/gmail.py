"""Gmail API (google-api-python-client, gmail v1): one model, OAuth scopes.

Each method's reference page lists the scopes any one of which authorizes it; the minimal
grant is the narrowest of them that the arguments allow. Two argument rules come from the
pages themselves:

- `q` (messages.list, threads.list): "Parameter cannot be used when accessing the api
  using the gmail.metadata scope."
- `format` (messages.get, threads.get, drafts.get): full and raw "cannot be used when
  accessing the api using the gmail.metadata scope"; the default format is full.

Breadth between scopes of one list follows Google's own classes and descriptions
(https://developers.google.com/workspace/gmail/api/auth/scopes): gmail.labels is
non-sensitive, gmail.send sensitive, the others restricted; gmail.metadata reads headers
and labels but no body; https://mail.google.com/ is full access, including permanent delete.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

from googleapiclient.http import MediaInMemoryUpload

from ..case import Case

G = "https://www.googleapis.com/auth/"
FULL = "https://mail.google.com/"
METADATA, READONLY, MODIFY = G + "gmail.metadata", G + "gmail.readonly", G + "gmail.modify"
SEND, COMPOSE, INSERT, LABELS = (
    G + "gmail.send",
    G + "gmail.compose",
    G + "gmail.insert",
    G + "gmail.labels",
)
SETTINGS_BASIC, SETTINGS_SHARING = G + "gmail.settings.basic", G + "gmail.settings.sharing"
REF = "https://developers.google.com/workspace/gmail/api/reference/rest/v1/"


def _mime(attachment: bool = False) -> bytes:
    message = EmailMessage()
    message["To"], message["From"], message["Subject"] = (
        "ops@example.com",
        "me@example.com",
        "Report",
    )
    message.set_content("The nightly report is attached.")
    if attachment:
        message.add_attachment(b"a,b\n1,2\n", maintype="text", subtype="csv", filename="report.csv")
    return message.as_bytes()


def _raw() -> str:
    return base64.urlsafe_b64encode(_mime()).decode()


def gmail(
    operation: str,
    call: Callable[[Any], Any],
    minimal: tuple[str, ...],
    broader: tuple[str, ...],
    refused: tuple[str, ...],
    page: str,
    **extra: Any,
) -> Case:
    return Case("gmail", "", operation, call, minimal, broader, refused, REF + page, **extra)


CASES = (
    gmail(
        "messages.list",
        lambda g: g.users().messages().list(userId="me", maxResults=50).execute(),
        (METADATA,),
        (READONLY,),
        (SEND,),
        "users.messages/list",
    ),
    gmail(
        "messages.list(labelIds=INBOX,UNREAD)",
        lambda g: g.users().messages().list(userId="me", labelIds=["INBOX", "UNREAD"]).execute(),
        (METADATA,),
        (MODIFY,),
        (LABELS,),
        "users.messages/list",
    ),
    gmail(
        "messages.list(q)",
        lambda g: (
            g.users()
            .messages()
            .list(userId="me", q="from:billing@example.com has:attachment")
            .execute()
        ),
        (READONLY,),
        (MODIFY,),
        (METADATA,),
        "users.messages/list",
        note="q: 'Parameter cannot be used when accessing the api using the gmail.metadata scope.'",
    ),
    gmail(
        "messages.get(format=metadata)",
        lambda g: (
            g.users()
            .messages()
            .get(
                userId="me",
                id="18c1f0a2b3c4d5e6",
                format="metadata",
                metadataHeaders=["From", "Subject"],
            )
            .execute()
        ),
        (METADATA,),
        (READONLY,),
        (LABELS,),
        "users.messages/get",
    ),
    gmail(
        "messages.get(format=minimal)",
        lambda g: (
            g.users().messages().get(userId="me", id="18c1f0a2b3c4d5e6", format="minimal").execute()
        ),
        (METADATA,),
        (FULL,),
        (SEND,),
        "users.messages/get",
    ),
    gmail(
        "messages.get(format=full)",
        lambda g: (
            g.users().messages().get(userId="me", id="18c1f0a2b3c4d5e6", format="full").execute()
        ),
        (READONLY,),
        (MODIFY,),
        (METADATA,),
        "users.messages/get",
        note="format full: 'Format cannot be used when accessing the api using the gmail.metadata scope.'",
    ),
    gmail(
        "messages.get(format=raw)",
        lambda g: (
            g.users().messages().get(userId="me", id="18c1f0a2b3c4d5e6", format="raw").execute()
        ),
        (READONLY,),
        (FULL,),
        (METADATA,),
        "users.messages/get",
        note="format raw: 'Format cannot be used when accessing the api using the gmail.metadata scope.'",
    ),
    gmail(
        "messages.get(default format)",
        lambda g: g.users().messages().get(userId="me", id="18c1f0a2b3c4d5e6").execute(),
        (READONLY,),
        (MODIFY,),
        (METADATA,),
        "users.messages/get",
        note="format defaults to full, which gmail.metadata cannot use",
    ),
    gmail(
        "messages.attachments.get",
        lambda g: (
            g.users()
            .messages()
            .attachments()
            .get(userId="me", messageId="18c1f0a2b3c4d5e6", id="ANGjdJ8")
            .execute()
        ),
        (READONLY,),
        (MODIFY,),
        (METADATA,),
        "users.messages.attachments/get",
    ),
    gmail(
        "messages.send(raw)",
        lambda g: g.users().messages().send(userId="me", body={"raw": _raw()}).execute(),
        (SEND,),
        (COMPOSE,),
        (READONLY,),
        "users.messages/send",
    ),
    gmail(
        "messages.send(multipart upload with attachment)",
        lambda g: (
            g.users()
            .messages()
            .send(
                userId="me",
                body={},
                media_body=MediaInMemoryUpload(_mime(attachment=True), mimetype="message/rfc822"),
            )
            .execute()
        ),
        (SEND,),
        (MODIFY,),
        (INSERT,),
        "users.messages/send",
    ),
    gmail(
        "messages.modify(addLabelIds)",
        lambda g: (
            g.users()
            .messages()
            .modify(
                userId="me",
                id="18c1f0a2b3c4d5e6",
                body={"addLabelIds": ["Label_7"], "removeLabelIds": ["UNREAD"]},
            )
            .execute()
        ),
        (MODIFY,),
        (FULL,),
        (LABELS,),
        "users.messages/modify",
    ),
    gmail(
        "messages.batchModify",
        lambda g: (
            g.users()
            .messages()
            .batchModify(userId="me", body={"ids": ["18c1", "18c2"], "removeLabelIds": ["INBOX"]})
            .execute()
        ),
        (MODIFY,),
        (FULL,),
        (READONLY,),
        "users.messages/batchModify",
    ),
    gmail(
        "messages.trash",
        lambda g: g.users().messages().trash(userId="me", id="18c1f0a2b3c4d5e6").execute(),
        (MODIFY,),
        (FULL,),
        (COMPOSE,),
        "users.messages/trash",
    ),
    gmail(
        "messages.delete",
        lambda g: g.users().messages().delete(userId="me", id="18c1f0a2b3c4d5e6").execute(),
        (FULL,),
        (FULL, SEND),
        (MODIFY,),
        "users.messages/delete",
        note="permanent deletion is allowed by https://mail.google.com/ only",
    ),
    gmail(
        "messages.insert",
        lambda g: (
            g.users()
            .messages()
            .insert(userId="me", body={"raw": _raw(), "labelIds": ["INBOX"]})
            .execute()
        ),
        (INSERT,),
        (MODIFY,),
        (SEND,),
        "users.messages/insert",
    ),
    gmail(
        "messages.import",
        lambda g: (
            g.users()
            .messages()
            .import_(userId="me", body={"raw": _raw()}, neverMarkSpam=True)
            .execute()
        ),
        (INSERT,),
        (FULL,),
        (COMPOSE,),
        "users.messages/import",
    ),
    gmail(
        "labels.list",
        lambda g: g.users().labels().list(userId="me").execute(),
        (LABELS,),
        (READONLY,),
        (SEND,),
        "users.labels/list",
        note="gmail.labels is non-sensitive, gmail.metadata restricted (scopes page): labels is the narrower",
    ),
    gmail(
        "labels.create",
        lambda g: (
            g.users()
            .labels()
            .create(userId="me", body={"name": "Invoices", "labelListVisibility": "labelShow"})
            .execute()
        ),
        (LABELS,),
        (MODIFY,),
        (READONLY,),
        "users.labels/create",
    ),
    gmail(
        "labels.delete",
        lambda g: g.users().labels().delete(userId="me", id="Label_7").execute(),
        (LABELS,),
        (FULL,),
        (METADATA,),
        "users.labels/delete",
    ),
    gmail(
        "drafts.create",
        lambda g: (
            g.users().drafts().create(userId="me", body={"message": {"raw": _raw()}}).execute()
        ),
        (COMPOSE,),
        (MODIFY,),
        (SEND,),
        "users.drafts/create",
    ),
    gmail(
        "drafts.send",
        lambda g: g.users().drafts().send(userId="me", body={"id": "r-5821"}).execute(),
        (COMPOSE,),
        (FULL,),
        (SEND,),
        "users.drafts/send",
        note="gmail.send is not among drafts.send's scopes",
    ),
    gmail(
        "drafts.list",
        lambda g: g.users().drafts().list(userId="me").execute(),
        (COMPOSE,),
        (MODIFY,),
        (METADATA,),
        "users.drafts/list",
        alternatives=((READONLY,),),
        note="gmail.compose and gmail.readonly are both restricted and neither includes the other",
    ),
    gmail(
        "threads.list(q)",
        lambda g: g.users().threads().list(userId="me", q="label:support is:unread").execute(),
        (READONLY,),
        (MODIFY,),
        (METADATA,),
        "users.threads/list",
        note="q: 'Parameter cannot be used when accessing the api using the gmail.metadata scope.'",
    ),
    gmail(
        "threads.get(format=metadata)",
        lambda g: (
            g.users().threads().get(userId="me", id="18c1f0a2b3c4d5e6", format="metadata").execute()
        ),
        (METADATA,),
        (READONLY,),
        (LABELS,),
        "users.threads/get",
    ),
    gmail(
        "threads.get(format=full)",
        lambda g: (
            g.users().threads().get(userId="me", id="18c1f0a2b3c4d5e6", format="full").execute()
        ),
        (READONLY,),
        (MODIFY,),
        (METADATA,),
        "users.threads/get",
    ),
    gmail(
        "threads.modify",
        lambda g: (
            g.users()
            .threads()
            .modify(userId="me", id="18c1f0a2b3c4d5e6", body={"removeLabelIds": ["UNREAD"]})
            .execute()
        ),
        (MODIFY,),
        (FULL,),
        (LABELS,),
        "users.threads/modify",
    ),
    gmail(
        "history.list",
        lambda g: (
            g.users()
            .history()
            .list(userId="me", startHistoryId="9876", historyTypes="messageAdded")
            .execute()
        ),
        (METADATA,),
        (READONLY,),
        (LABELS,),
        "users.history/list",
    ),
    gmail(
        "users.watch",
        lambda g: (
            g.users()
            .watch(
                userId="me", body={"topicName": "projects/acme/topics/gmail", "labelIds": ["INBOX"]}
            )
            .execute()
        ),
        (METADATA,),
        (MODIFY,),
        (SEND,),
        "users/watch",
    ),
    gmail(
        "settings.filters.create",
        lambda g: (
            g.users()
            .settings()
            .filters()
            .create(
                userId="me",
                body={
                    "criteria": {"from": "noreply@example.com"},
                    "action": {"addLabelIds": ["Label_7"]},
                },
            )
            .execute()
        ),
        (SETTINGS_BASIC,),
        (SETTINGS_BASIC, MODIFY),
        (MODIFY,),
        "users.settings.filters/create",
    ),
    gmail(
        "settings.updateVacation",
        lambda g: (
            g.users()
            .settings()
            .updateVacation(userId="me", body={"enableAutoReply": True, "responseSubject": "Away"})
            .execute()
        ),
        (SETTINGS_BASIC,),
        (SETTINGS_BASIC, SETTINGS_SHARING),
        (FULL,),
        "users.settings/updateVacation",
        note="settings methods list only their settings scope, not https://mail.google.com/",
    ),
    gmail(
        "settings.forwardingAddresses.create",
        lambda g: (
            g.users()
            .settings()
            .forwardingAddresses()
            .create(userId="me", body={"forwardingEmail": "archive@example.com"})
            .execute()
        ),
        (SETTINGS_SHARING,),
        (SETTINGS_SHARING, SETTINGS_BASIC),
        (SETTINGS_BASIC,),
        "users.settings.forwardingAddresses/create",
    ),
)
