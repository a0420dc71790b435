"""Microsoft Graph (msgraph-sdk GraphServiceClient): delegated and application permissions.

Every API page on learn.microsoft.com has a permissions table with a row per kind
("Delegated (work or school account)", "Application") naming the "Least privileged
permissions" and the "Higher privileged permissions". A connector holds permissions of
one kind: delegated calls go to /me, application calls to /users/{id}. The least
privileged permissions below were read from those tables (the same content Microsoft
publishes as microsoftgraph/microsoft-graph-devx-content permissions.json).

msgraph-sdk sends /me paths as `/v1.0//me/...` (its URL-replacement middleware turns
`users/me-token-to-replace` into `/me`); that is what Graph receives from it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..case import Answer, Case

REF = "https://learn.microsoft.com/en-us/graph/api/"
DRIVE = Answer(json={"id": "b!x7Hk3", "driveType": "business"})


def page(name: str) -> str:
    return f"{REF}{name}?view=graph-rest-1.0"


def delegated(
    operation: str,
    call: Callable[[Any], Any],
    minimal: tuple[str, ...],
    broader: tuple[str, ...],
    refused: tuple[str, ...],
    name: str,
    **extra: Any,
) -> Case:
    return Case(
        "msgraph", "delegated", operation, call, minimal, broader, refused, page(name), **extra
    )


def application(
    operation: str,
    call: Callable[[Any], Any],
    minimal: tuple[str, ...],
    broader: tuple[str, ...],
    refused: tuple[str, ...],
    name: str,
    **extra: Any,
) -> Case:
    return Case(
        "msgraph", "application", operation, call, minimal, broader, refused, page(name), **extra
    )


def _send_mail_body() -> Any:
    from msgraph.generated.models.body_type import BodyType
    from msgraph.generated.models.email_address import EmailAddress
    from msgraph.generated.models.item_body import ItemBody
    from msgraph.generated.models.message import Message
    from msgraph.generated.models.recipient import Recipient
    from msgraph.generated.users.item.send_mail.send_mail_post_request_body import (
        SendMailPostRequestBody,
    )

    message = Message(
        subject="Nightly report",
        body=ItemBody(content_type=BodyType.Text, content="Attached."),
        to_recipients=[Recipient(email_address=EmailAddress(address="ops@example.com"))],
    )
    return SendMailPostRequestBody(message=message, save_to_sent_items=True)


def _message(**fields: Any) -> Any:
    from msgraph.generated.models.message import Message

    return Message(**fields)


def _select_messages(*fields: str) -> Any:
    from kiota_abstractions.base_request_configuration import RequestConfiguration
    from msgraph.generated.users.item.messages.messages_request_builder import (
        MessagesRequestBuilder,
    )

    query = MessagesRequestBuilder.MessagesRequestBuilderGetQueryParameters(
        select=list(fields), top=25
    )
    return RequestConfiguration(query_parameters=query)


def _select_message(*fields: str) -> Any:
    from kiota_abstractions.base_request_configuration import RequestConfiguration
    from msgraph.generated.users.item.messages.item.message_item_request_builder import (
        MessageItemRequestBuilder,
    )

    query = MessageItemRequestBuilder.MessageItemRequestBuilderGetQueryParameters(
        select=list(fields)
    )
    return RequestConfiguration(query_parameters=query)


def _event() -> Any:
    from msgraph.generated.models.date_time_time_zone import DateTimeTimeZone
    from msgraph.generated.models.event import Event

    return Event(
        subject="Incident review",
        start=DateTimeTimeZone(date_time="2026-02-02T10:00:00", time_zone="UTC"),
        end=DateTimeTimeZone(date_time="2026-02-02T10:30:00", time_zone="UTC"),
    )


def _move() -> Any:
    from msgraph.generated.users.item.messages.item.move.move_post_request_body import (
        MovePostRequestBody,
    )

    return MovePostRequestBody(destination_id="archive")


def _folder() -> Any:
    from msgraph.generated.models.drive_item import DriveItem
    from msgraph.generated.models.folder import Folder

    return DriveItem(
        name="Reports",
        folder=Folder(),
        additional_data={"@microsoft.graph.conflictBehavior": "rename"},
    )


def _link() -> Any:
    from msgraph.generated.drives.item.items.item.create_link.create_link_post_request_body import (
        CreateLinkPostRequestBody,
    )

    return CreateLinkPostRequestBody(type="view", scope="organization")


def _upload_session() -> Any:
    from msgraph.generated.drives.item.items.item.create_upload_session.create_upload_session_post_request_body import (
        CreateUploadSessionPostRequestBody,
    )

    return CreateUploadSessionPostRequestBody()


def _list_item() -> Any:
    from msgraph.generated.models.field_value_set import FieldValueSet
    from msgraph.generated.models.list_item import ListItem

    return ListItem(fields=FieldValueSet(additional_data={"Title": "Laptop", "Owner": "Ada"}))


def _fields() -> Any:
    from msgraph.generated.models.field_value_set import FieldValueSet

    return FieldValueSet(additional_data={"Status": "Returned"})


def _chat_message() -> Any:
    from msgraph.generated.models.chat_message import ChatMessage
    from msgraph.generated.models.item_body import ItemBody

    return ChatMessage(body=ItemBody(content="Deploy finished"))


def _member_ref() -> Any:
    from msgraph.generated.models.reference_create import ReferenceCreate

    return ReferenceCreate(odata_id="https://graph.microsoft.com/v1.0/directoryObjects/7c1f3a9e")


def _group() -> Any:
    from msgraph.generated.models.group import Group

    return Group(
        display_name="Incident 2041",
        mail_enabled=False,
        mail_nickname="incident-2041",
        security_enabled=True,
    )


def _task() -> Any:
    from msgraph.generated.models.todo_task import TodoTask

    return TodoTask(title="Rotate the deploy key")


def _calendar(name: str) -> Any:
    from msgraph.generated.models.calendar import Calendar

    return Calendar(name=name)


def _raw_value(m: Any, url: str) -> Any:
    """GET of an attachment's raw contents (`/$value`): the SDK has no builder for it, so the
    attachment's builder is pointed at the URL (Kiota's `with_url`), as a client does."""
    return (
        m.me.messages.by_message_id("AAMkAGI2")
        .attachments.by_attachment_id("AAMkAGI2AAAB")
        .with_url(url)
        .get()
    )


def _clear_sheet(m: Any) -> Any:
    """`POST .../worksheets/{id}/range/clear` on a workbook addressed as n8n's Excel node does
    (`/me/drive/items/{id}`): the SDK's builder for it is pointed at that URL (`with_url`)."""
    from msgraph.generated.drives.item.items.item.workbook.worksheets.item.range.clear.clear_post_request_body import (
        ClearPostRequestBody,
    )

    url = "https://graph.microsoft.com/v1.0/me/drive/items/01BYE5RZ/workbook/worksheets/Sheet1/range/clear"
    sheet = m.drives.by_drive_id("b!x7Hk3").items.by_drive_item_id("01BYE5RZ")
    clear = sheet.workbook.worksheets.by_workbook_worksheet_id("Sheet1").range.clear
    return clear.with_url(url).post(ClearPostRequestBody(apply_to="All"))


def _in_my_drive(then: Callable[[Any, Any], Any]) -> Callable[[Any], Any]:
    """GET /me/drive for its id, then work in that drive (the SDK's way to reach /me/drive items)."""

    async def call(m: Any) -> Any:
        drive = await m.me.drive.get()
        return await then(m.drives.by_drive_id(drive.id), m)

    return call


CASES = (
    delegated(
        "sendMail",
        lambda m: m.me.send_mail.post(_send_mail_body()),
        ("Mail.Send",),
        ("Mail.Send", "Mail.ReadWrite"),
        ("Mail.ReadWrite",),
        "user-sendmail",
        note="Mail.ReadWrite 'Does not include permission to send mail'",
    ),
    delegated(
        "messages.list($select)",
        lambda m: m.me.messages.get(_select_messages("subject", "from", "receivedDateTime")),
        ("Mail.ReadBasic",),
        ("Mail.Read",),
        ("Mail.Send",),
        "user-list-messages",
    ),
    delegated(
        "mailFolders.list",
        lambda m: m.me.mail_folders.get(),
        ("Mail.ReadBasic",),
        ("Mail.ReadWrite",),
        ("Calendars.Read",),
        "user-list-mailfolders",
    ),
    delegated(
        "messages.attachments.list",
        lambda m: m.me.messages.by_message_id("AAMkAGI2").attachments.get(),
        ("Mail.Read",),
        ("Mail.ReadWrite",),
        ("Mail.ReadBasic",),
        "message-list-attachments",
        note="Mail.ReadBasic covers 'all properties except body, previewBody, attachments and any extended properties'",
    ),
    delegated(
        "messages.create(draft)",
        lambda m: m.me.messages.post(_message(subject="Draft report")),
        ("Mail.ReadWrite",),
        ("Mail.ReadWrite", "Mail.Send"),
        ("Mail.Read",),
        "user-post-messages",
    ),
    delegated(
        "messages.send(draft)",
        lambda m: m.me.messages.by_message_id("AAMkAGI2").send.post(),
        ("Mail.Send",),
        ("Mail.Send", "Mail.ReadWrite"),
        ("Mail.ReadWrite",),
        "message-send",
        answers=(Answer(status=202),),
    ),
    delegated(
        "messages.update(isRead)",
        lambda m: m.me.messages.by_message_id("AAMkAGI2").patch(_message(is_read=True)),
        ("Mail.ReadWrite",),
        ("Mail.ReadWrite", "Mail.Send"),
        ("Mail.Read",),
        "message-update",
    ),
    delegated(
        "messages.move",
        lambda m: m.me.messages.by_message_id("AAMkAGI2").move.post(_move()),
        ("Mail.ReadWrite",),
        ("Mail.ReadWrite", "Mail.Send"),
        ("Mail.ReadBasic",),
        "message-move",
    ),
    delegated(
        "events.list",
        lambda m: m.me.events.get(),
        ("Calendars.ReadBasic",),
        ("Calendars.Read",),
        ("Mail.Read",),
        "user-list-events",
    ),
    delegated(
        "events.create",
        lambda m: m.me.events.post(_event()),
        ("Calendars.ReadWrite",),
        ("Calendars.ReadWrite", "Mail.Send"),
        ("Calendars.Read",),
        "user-post-events",
    ),
    delegated(
        "events.update",
        lambda m: m.me.events.by_event_id("AAMkAGE1").patch(_event()),
        ("Calendars.ReadWrite",),
        ("Calendars.ReadWrite", "Calendars.Read"),
        ("Calendars.ReadBasic",),
        "event-update",
    ),
    delegated(
        "drive.get then root children",
        _in_my_drive(lambda d, m: d.items.by_drive_item_id("root").children.get()),
        ("Files.Read",),
        ("Files.Read.All",),
        ("User.Read",),
        "driveitem-list-children",
        answers=(DRIVE,),
    ),
    delegated(
        "drive.get then upload content (PUT)",
        _in_my_drive(
            lambda d, m: d.items.by_drive_item_id("root:/reports/2026-01.csv:").content.put(
                b"region,total\neu,42\n"
            )
        ),
        ("Files.ReadWrite",),
        ("Files.ReadWrite.All",),
        ("Files.Read",),
        "driveitem-put-content",
        answers=(DRIVE,),
    ),
    delegated(
        "drive.get then createUploadSession",
        _in_my_drive(
            lambda d, m: d.items.by_drive_item_id(
                "root:/backups/db.dump:"
            ).create_upload_session.post(_upload_session())
        ),
        ("Files.ReadWrite",),
        ("Files.ReadWrite.All",),
        ("Files.Read",),
        "driveitem-createuploadsession",
        answers=(
            DRIVE,
            Answer(json={"uploadUrl": "https://contoso.sharepoint.com/upload?tempauth=x"}),
        ),
    ),
    delegated(
        "drive.get then create folder",
        _in_my_drive(lambda d, m: d.items.by_drive_item_id("root").children.post(_folder())),
        ("Files.ReadWrite",),
        ("Files.ReadWrite", "Sites.ReadWrite.All"),
        ("Files.Read",),
        "driveitem-post-children",
        answers=(DRIVE,),
    ),
    delegated(
        "drive.get then createLink",
        _in_my_drive(lambda d, m: d.items.by_drive_item_id("01BYE5RZ").create_link.post(_link())),
        ("Files.ReadWrite",),
        ("Files.ReadWrite.All",),
        ("Files.Read.All",),
        "driveitem-createlink",
        answers=(DRIVE,),
    ),
    delegated(
        "sites.lists.list",
        lambda m: m.sites.by_site_id("contoso.sharepoint.com,2C712604,9b6f4b4f").lists.get(),
        ("Sites.Read.All",),
        ("Sites.ReadWrite.All",),
        ("Files.Read",),
        "list-list",
    ),
    delegated(
        "sites.lists.items.list",
        lambda m: (
            m.sites.by_site_id("contoso.sharepoint.com,2C712604,9b6f4b4f")
            .lists.by_list_id("Assets")
            .items.get()
        ),
        ("Sites.Read.All",),
        ("Sites.ReadWrite.All",),
        ("Files.Read.All",),
        "listitem-list",
    ),
    delegated(
        "sites.lists.items.create",
        lambda m: (
            m.sites.by_site_id("contoso.sharepoint.com,2C712604,9b6f4b4f")
            .lists.by_list_id("Assets")
            .items.post(_list_item())
        ),
        ("Sites.ReadWrite.All",),
        ("Sites.ReadWrite.All", "Files.ReadWrite.All"),
        ("Sites.Read.All",),
        "listitem-create",
    ),
    delegated(
        "sites.lists.items.fields.update",
        lambda m: (
            m.sites.by_site_id("contoso.sharepoint.com,2C712604,9b6f4b4f")
            .lists.by_list_id("Assets")
            .items.by_list_item_id("7")
            .fields.patch(_fields())
        ),
        ("Sites.ReadWrite.All",),
        ("Sites.ReadWrite.All", "Sites.Read.All"),
        ("Sites.Read.All",),
        "listitem-update",
    ),
    delegated(
        "teams.channels.messages.create",
        lambda m: (
            m.teams.by_team_id("fbe2bf47")
            .channels.by_channel_id("19:4a95f7d8@thread.tacv2")
            .messages.post(_chat_message())
        ),
        ("ChannelMessage.Send",),
        ("Group.ReadWrite.All",),
        ("ChannelMessage.Read.All",),
        "chatmessage-post",
    ),
    delegated(
        "teams.channels.messages.list",
        lambda m: (
            m.teams.by_team_id("fbe2bf47")
            .channels.by_channel_id("19:4a95f7d8@thread.tacv2")
            .messages.get()
        ),
        ("ChannelMessage.Read.All",),
        ("ChannelMessage.Read.All", "ChannelMessage.Send"),
        ("ChannelMessage.Send",),
        "channel-list-messages",
    ),
    delegated(
        "teams.channels.list",
        lambda m: m.teams.by_team_id("fbe2bf47").channels.get(),
        ("Channel.ReadBasic.All",),
        ("ChannelSettings.Read.All",),
        ("Team.ReadBasic.All",),
        "channel-list",
    ),
    delegated(
        "chats.messages.create",
        lambda m: m.chats.by_chat_id("19:2da4c29f@thread.v2").messages.post(_chat_message()),
        ("ChatMessage.Send",),
        ("Chat.ReadWrite",),
        ("Chat.Read",),
        "chat-post-messages",
    ),
    delegated(
        "me.get",
        lambda m: m.me.get(),
        ("User.Read",),
        ("User.Read.All",),
        ("Mail.Read",),
        "user-get",
    ),
    delegated(
        "users.list",
        lambda m: m.users.get(),
        ("User.ReadBasic.All",),
        ("User.Read.All",),
        ("User.Read",),
        "user-list",
    ),
    delegated(
        "groups.members.list",
        lambda m: m.groups.by_group_id("02bd9fd6").members.get(),
        ("GroupMember.ReadBasic.All",),
        ("GroupMember.Read.All",),
        ("User.Read",),
        "group-list-members",
    ),
    delegated(
        "groups.members.add",
        lambda m: m.groups.by_group_id("02bd9fd6").members.ref.post(_member_ref()),
        ("GroupMember.ReadWrite.All",),
        ("Group.ReadWrite.All",),
        ("GroupMember.Read.All",),
        "group-post-members",
        answers=(Answer(status=204),),
    ),
    delegated(
        "todo.lists.list",
        lambda m: m.me.todo.lists.get(),
        ("Tasks.Read",),
        ("Tasks.ReadWrite",),
        ("Calendars.Read",),
        "todo-list-lists",
    ),
    delegated(
        "todo.lists.tasks.create",
        lambda m: m.me.todo.lists.by_todo_task_list_id("AAMkADIy").tasks.post(_task()),
        ("Tasks.ReadWrite",),
        ("Tasks.ReadWrite", "Calendars.ReadWrite"),
        ("Tasks.Read",),
        "todotasklist-post-tasks",
    ),
    delegated(
        "contacts.list",
        lambda m: m.me.contacts.get(),
        ("Contacts.Read",),
        ("Contacts.ReadWrite",),
        ("People.Read",),
        "user-list-contacts",
    ),
    application(
        "users.sendMail",
        lambda m: m.users.by_user_id("reports@contoso.com").send_mail.post(_send_mail_body()),
        ("Mail.Send",),
        ("Mail.Send", "Mail.ReadWrite"),
        ("Mail.ReadWrite",),
        "user-sendmail",
    ),
    application(
        "users.messages.list",
        lambda m: m.users.by_user_id("reports@contoso.com").messages.get(),
        ("Mail.ReadBasic.All",),
        ("Mail.Read",),
        ("Mail.Send",),
        "user-list-messages",
    ),
    application(
        "users.mailFolders.messages.list",
        lambda m: (
            m.users.by_user_id("reports@contoso.com")
            .mail_folders.by_mail_folder_id("inbox")
            .messages.get()
        ),
        ("Mail.ReadBasic.All",),
        ("Mail.ReadWrite",),
        ("Mail.Send",),
        "mailfolder-list-messages",
    ),
    application(
        "users.events.list",
        lambda m: m.users.by_user_id("rooms@contoso.com").events.get(),
        ("Calendars.ReadBasic",),
        ("Calendars.Read",),
        ("Mail.Read",),
        "user-list-events",
    ),
    application(
        "users.events.create",
        lambda m: m.users.by_user_id("rooms@contoso.com").events.post(_event()),
        ("Calendars.ReadWrite",),
        ("Calendars.ReadWrite", "Mail.Send"),
        ("Calendars.Read",),
        "user-post-events",
    ),
    application(
        "users.list",
        lambda m: m.users.get(),
        ("User.ReadBasic.All",),
        ("User.Read.All",),
        ("Group.Read.All",),
        "user-list",
    ),
    application(
        "drives.items.children.list",
        lambda m: m.drives.by_drive_id("b!x7Hk3").items.by_drive_item_id("root").children.get(),
        ("Files.Read.All",),
        ("Files.ReadWrite.All",),
        ("User.Read.All",),
        "driveitem-list-children",
    ),
    application(
        "sites.lists.items.list",
        lambda m: (
            m.sites.by_site_id("contoso.sharepoint.com,2C712604,9b6f4b4f")
            .lists.by_list_id("Assets")
            .items.get()
        ),
        ("Sites.Read.All",),
        ("Sites.ReadWrite.All",),
        ("Files.Read.All",),
        "listitem-list",
    ),
    application(
        "sites.lists.items.create",
        lambda m: (
            m.sites.by_site_id("contoso.sharepoint.com,2C712604,9b6f4b4f")
            .lists.by_list_id("Assets")
            .items.post(_list_item())
        ),
        ("Sites.ReadWrite.All",),
        ("Sites.ReadWrite.All", "Files.ReadWrite.All"),
        ("Sites.Read.All",),
        "listitem-create",
    ),
    application(
        "teams.channels.messages.list",
        lambda m: (
            m.teams.by_team_id("fbe2bf47")
            .channels.by_channel_id("19:4a95f7d8@thread.tacv2")
            .messages.get()
        ),
        ("ChannelMessage.Read.Group",),
        ("ChannelMessage.Read.All",),
        ("Team.ReadBasic.All",),
        "channel-list-messages",
        note="ChannelMessage.Read.Group is a resource-specific consent permission, granted per team",
    ),
    application(
        "groups.create",
        lambda m: m.groups.post(_group()),
        ("Group.Create",),
        ("Group.ReadWrite.All",),
        ("Group.Read.All",),
        "group-post-groups",
    ),
    application(
        "groups.members.list",
        lambda m: m.groups.by_group_id("02bd9fd6").members.get(),
        ("GroupMember.ReadBasic.All",),
        ("GroupMember.Read.All",),
        ("User.Read.All",),
        "group-list-members",
    ),
    application(
        "groups.members.add",
        lambda m: m.groups.by_group_id("02bd9fd6").members.ref.post(_member_ref()),
        ("GroupMember.ReadWrite.All",),
        ("Directory.ReadWrite.All",),
        ("GroupMember.Read.All",),
        "group-post-members",
        answers=(Answer(status=204),),
    ),
    # Operations n8n's Microsoft nodes call, corrected against their pages (docs/msgraph-audit.md).
    delegated(
        "todo.lists.delete",
        lambda m: m.me.todo.lists.by_todo_task_list_id("AAMkADIy").delete(),
        ("Tasks.ReadWrite",),
        ("Tasks.ReadWrite", "Calendars.ReadWrite"),
        ("Tasks.Read",),
        "todotasklist-delete",
        answers=(Answer(status=204),),
        note="Tasks.Read 'doesn't include permission to create, delete, or update anything'",
    ),
    delegated(
        "calendars.get",
        lambda m: m.me.calendars.by_calendar_id("AAMkAGI2TGuLAAA=").get(),
        ("Calendars.ReadBasic",),
        ("Calendars.Read",),
        ("Mail.Read",),
        "calendar-get",
    ),
    delegated(
        "calendars.update",
        lambda m: m.me.calendars.by_calendar_id("AAMkAGI2TGuLAAA=").patch(_calendar("On call")),
        ("Calendars.ReadWrite",),
        ("Calendars.ReadWrite", "Mail.Send"),
        ("Calendars.Read",),
        "calendar-update",
    ),
    delegated(
        "messages.attachments.get",
        lambda m: (
            m.me.messages.by_message_id("AAMkAGI2")
            .attachments.by_attachment_id("AAMkAGI2AAAB")
            .get()
        ),
        ("Mail.Read",),
        ("Mail.ReadWrite",),
        ("Mail.ReadBasic",),
        "attachment-get",
    ),
    delegated(
        "messages.attachments.$value",
        lambda m: _raw_value(
            m,
            "https://graph.microsoft.com/v1.0/me/messages/AAMkAGI2/attachments/AAMkAGI2AAAB/$value",
        ),
        ("Mail.Read",),
        ("Mail.ReadWrite",),
        ("Mail.ReadBasic",),
        "attachment-get",
    ),
    application(
        "users.calendars.get",
        lambda m: (
            m.users.by_user_id("rooms@contoso.com")
            .calendars.by_calendar_id("AAMkAGI2TGuLAAA=")
            .get()
        ),
        ("Calendars.ReadBasic",),
        ("Calendars.ReadWrite",),
        ("Mail.Read",),
        "calendar-get",
    ),
    application(
        "users.messages.attachments.get",
        lambda m: (
            m.users.by_user_id("reports@contoso.com")
            .messages.by_message_id("AAMkAGI2")
            .attachments.by_attachment_id("AAMkAGI2AAAB")
            .get()
        ),
        ("Mail.Read",),
        ("Mail.ReadWrite",),
        ("Mail.ReadBasic.All",),
        "attachment-get",
    ),
    delegated(
        "workbook.worksheets.range.clear",
        _clear_sheet,
        ("Files.ReadWrite",),
        ("Files.ReadWrite", "Sites.ReadWrite.All"),
        ("Files.Read",),
        "range-clear",
        note="every workbook page: Files.ReadWrite, work or school accounts, delegated only",
    ),
    delegated(
        "messages.get($select)",
        lambda m: m.me.messages.by_message_id("AAMkAGI2").get(
            _select_message("id", "subject", "from", "toRecipients", "bodyPreview")
        ),
        ("Mail.ReadBasic",),
        ("Mail.Read",),
        ("Mail.Send",),
        "message-get",
    ),
    application(
        "users.messages.get",
        lambda m: (
            m.users.by_user_id("reports@contoso.com").messages.by_message_id("AAMkAGI2").get()
        ),
        ("Mail.ReadBasic.All",),
        ("Mail.Read",),
        ("Mail.Send",),
        "message-get",
    ),
    delegated(
        "users.get(another user)",
        lambda m: m.users.by_user_id("ada@contoso.com").get(),
        ("User.ReadBasic.All",),
        ("User.Read.All",),
        ("User.Read",),
        "user-get",
        note="User.Read reaches 'the signed-in user only'",
    ),
)
