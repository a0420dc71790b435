"""Slack Web API (slack_sdk WebClient): bot and user tokens, granular scopes.

Every method page on docs.slack.dev lists the scopes per token type. slack_sdk sends
every method as a POST, form-encoded (or JSON for the chat.* methods that take blocks);
Slack accepts GET or POST, form or JSON, for its methods ("Tokens should be passed as an
HTTP Authorization header or alternatively, as a POST parameter").

Conversation methods need the scope of the conversation's type: channels:* for public
channels, groups:* for private ones, im:* and mpim:* for direct messages. conversations.list
names the types in its `types` argument ("Mix and match channel types by providing a
comma-separated list of any combination of public_channel, private_channel, mpim, im";
"Default: public_channel"), so it needs the read scope of every listed type. The calls
below address public channels (C...) unless they say otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..case import Answer, Case

REF = "https://docs.slack.dev/reference/methods/"
CHANNEL = "C0123ABCDEF"  # a public channel the bot is a member of
OUTSIDE = "C0OUTSIDE77"  # a public channel the bot is not a member of (the flow says it)
PRIVATE = "C0PRIVATE42"  # a private channel (its id looks like any other: the flow says it)
DIRECT = "D0123ABCDEF"  # a direct message with the bot
UPLOAD = (
    Answer(
        json={
            "ok": True,
            "upload_url": "https://files.slack.com/upload/v1/CwABAAAAXwsAAQ",
            "file_id": "F07ABCDEF",
        }
    ),
    Answer(content=b"OK - 19", headers=(("Content-Type", "text/plain"),)),
    Answer(json={"ok": True, "files": [{"id": "F07ABCDEF", "title": "report.csv"}]}),
)


def slack(
    model: str,
    operation: str,
    call: Callable[[Any], Any],
    minimal: tuple[str, ...],
    broader: tuple[str, ...],
    refused: tuple[str, ...],
    method: str,
    **extra: Any,
) -> Case:
    return Case("slack", model, operation, call, minimal, broader, refused, REF + method, **extra)


CASES = (
    slack(
        "bot",
        "chat.postMessage",
        lambda c: c.chat_postMessage(channel=CHANNEL, text="Deploy finished"),
        ("chat:write",),
        ("chat:write", "channels:read"),
        ("channels:read",),
        "chat.postMessage",
    ),
    slack(
        "bot",
        "chat.postMessage(blocks)",
        lambda c: c.chat_postMessage(
            channel=CHANNEL,
            text="fallback",
            blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "*Deploy* done"}}],
        ),
        ("chat:write",),
        ("chat:write", "chat:write.customize"),
        ("chat:write.customize",),
        "chat.postMessage",
        note="chat:write.customize only changes the name and icon of what chat:write posts; "
        "chat:write:bot is a user-token scope a bot token cannot hold at all (the harness "
        "refuses such a role as input, naming chat:write)",
    ),
    slack(
        "bot",
        "chat.postMessage(channel the bot is not in)",
        lambda c: c.chat_postMessage(channel=OUTSIDE, text="Deploy finished"),
        ("chat:write", "chat:write.public"),
        ("chat:write", "chat:write.public", "channels:join"),
        ("chat:write",),
        "chat.postMessage",
        given={"slack": {"channel": {"not_member": [OUTSIDE]}}},
        note="chat:write.public: 'Send messages to channels @your_slack_app isn't a member of' "
        "(https://docs.slack.dev/reference/scopes/chat.write.public); membership is in no "
        "call, so the flow classes the channel not_member",
    ),
    slack(
        "bot",
        "chat.postMessage(channel the bot is in, chat:write.public)",
        lambda c: c.chat_postMessage(channel=CHANNEL, text="Deploy finished"),
        ("chat:write",),
        ("chat:write", "chat:write.public"),
        ("chat:write.public",),
        "chat.postMessage",
        note="a member posts with chat:write alone: chat:write.public is excessive there",
    ),
    slack(
        "bot",
        "chat.postMessage(username, icon_emoji)",
        lambda c: c.chat_postMessage(
            channel=CHANNEL, text="Deploy finished", username="deploy-bot", icon_emoji=":rocket:"
        ),
        ("chat:write", "chat:write.customize"),
        ("chat:write", "chat:write.customize", "chat:write.public"),
        ("chat:write",),
        "chat.postMessage",
        note="username, icon_emoji, icon_url: 'Use with bot tokens requires chat:write.customize'",
    ),
    slack(
        "user",
        "chat.postMessage",
        lambda c: c.chat_postMessage(channel=CHANNEL, text="On my way"),
        ("chat:write",),
        ("chat:write", "channels:history"),
        ("channels:history",),
        "chat.postMessage",
    ),
    slack(
        "bot",
        "chat.update",
        lambda c: c.chat_update(
            channel=CHANNEL, ts="1712345678.000100", text="Deploy finished (edited)"
        ),
        ("chat:write",),
        ("chat:write", "reactions:write"),
        ("reactions:write",),
        "chat.update",
    ),
    slack(
        "bot",
        "chat.delete",
        lambda c: c.chat_delete(channel=CHANNEL, ts="1712345678.000100"),
        ("chat:write",),
        ("chat:write", "channels:manage"),
        ("channels:manage",),
        "chat.delete",
    ),
    slack(
        "bot",
        "chat.postEphemeral",
        lambda c: c.chat_postEphemeral(channel=CHANNEL, user="U0123ABCD", text="Only you see this"),
        ("chat:write",),
        ("chat:write", "users:read"),
        ("users:read",),
        "chat.postEphemeral",
    ),
    slack(
        "bot",
        "chat.scheduleMessage",
        lambda c: c.chat_scheduleMessage(channel=CHANNEL, post_at=1893456000, text="Standup"),
        ("chat:write",),
        ("chat:write", "channels:read"),
        ("channels:history",),
        "chat.scheduleMessage",
    ),
    slack(
        "bot",
        "chat.scheduleMessage(channel the bot is not in)",
        lambda c: c.chat_scheduleMessage(channel=OUTSIDE, post_at=1893456000, text="Standup"),
        ("chat:write", "chat:write.public"),
        ("chat:write", "chat:write.public", "channels:join"),
        ("chat:write",),
        "chat.scheduleMessage",
        given={"slack": {"channel": {"not_member": [OUTSIDE]}}},
        note="'With the exception of the additional post_at argument, this method behaves "
        "identically to chat.postMessage': to a public channel the app is not in, "
        "chat:write.public as well",
    ),
    slack(
        "bot",
        "chat.scheduleMessage(channel the bot is in, chat:write.public)",
        lambda c: c.chat_scheduleMessage(channel=CHANNEL, post_at=1893456000, text="Standup"),
        ("chat:write",),
        ("chat:write", "chat:write.public"),
        ("chat:write.public",),
        "chat.scheduleMessage",
        note="a member schedules with chat:write alone: chat:write.public is excessive there",
    ),
    slack(
        "user",
        "chat.scheduleMessage",
        lambda c: c.chat_scheduleMessage(channel=OUTSIDE, post_at=1893456000, text="Standup"),
        ("chat:write",),
        ("chat:write", "channels:history"),
        ("channels:history",),
        "chat.scheduleMessage",
        given={"slack": {"channel": {"not_member": [OUTSIDE]}}},
        note="chat:write.public is a bot scope; a user token posts as the user, whatever the "
        "app's membership",
    ),
    slack(
        "bot",
        "conversations.list(default types)",
        lambda c: c.conversations_list(limit=200, exclude_archived=True),
        ("channels:read",),
        ("channels:read", "groups:read"),
        ("groups:read",),
        "conversations.list",
        note="types defaults to public_channel: channels:read",
    ),
    slack(
        "bot",
        "conversations.list(types=public_channel,private_channel)",
        lambda c: c.conversations_list(types="public_channel,private_channel"),
        ("channels:read", "groups:read"),
        ("channels:read", "groups:read", "im:read", "mpim:read"),
        ("channels:read",),
        "conversations.list",
        note="each listed type needs its read scope",
    ),
    slack(
        "bot",
        "conversations.list(types=im,mpim)",
        lambda c: c.conversations_list(types="im,mpim"),
        ("im:read", "mpim:read"),
        ("im:read", "mpim:read", "channels:read"),
        ("channels:read",),
        "conversations.list",
    ),
    slack(
        "user",
        "conversations.list(types=private_channel)",
        lambda c: c.conversations_list(types="private_channel"),
        ("groups:read",),
        ("groups:read", "channels:read"),
        ("channels:read",),
        "conversations.list",
    ),
    slack(
        "bot",
        "conversations.history",
        lambda c: c.conversations_history(channel=CHANNEL, limit=100),
        ("channels:history",),
        ("channels:history", "groups:history", "im:history", "mpim:history"),
        ("channels:read",),
        "conversations.history",
        note="'Relevant *:history scope' for the conversation's type: a public channel",
    ),
    slack(
        "bot",
        "conversations.replies",
        lambda c: c.conversations_replies(channel=CHANNEL, ts="1712345678.000100"),
        ("channels:history",),
        ("channels:history", "groups:history"),
        ("channels:read",),
        "conversations.replies",
    ),
    slack(
        "bot",
        "conversations.join",
        lambda c: c.conversations_join(channel=CHANNEL),
        ("channels:join",),
        ("channels:join", "channels:manage"),
        ("channels:read",),
        "conversations.join",
    ),
    slack(
        "bot",
        "conversations.create(public)",
        lambda c: c.conversations_create(name="incident-2041", is_private=False),
        ("channels:manage",),
        ("channels:manage", "groups:write"),
        ("groups:write",),
        "conversations.create",
        note="a public channel needs channels:manage, a private one groups:write",
    ),
    slack(
        "bot",
        "conversations.create(is_private=true)",
        lambda c: c.conversations_create(name="incident-2042", is_private=True),
        ("groups:write",),
        ("groups:write", "channels:manage"),
        ("channels:manage",),
        "conversations.create",
    ),
    slack(
        "bot",
        "conversations.setTopic",
        lambda c: c.conversations_setTopic(channel=CHANNEL, topic="On call: Ada"),
        ("channels:manage",),
        ("channels:manage", "groups:write"),
        ("channels:read",),
        "conversations.setTopic",
    ),
    slack(
        "bot",
        "conversations.open(one user)",
        lambda c: c.conversations_open(users="U0123ABCD"),
        ("im:write",),
        ("im:write", "mpim:write"),
        ("chat:write",),
        "conversations.open",
        note="a direct message with one user: im:write",
    ),
    slack(
        "bot",
        "conversations.open(one user, channels:manage)",
        lambda c: c.conversations_open(users="U0123ABCD"),
        ("im:write",),
        ("im:write", "channels:manage"),
        ("channels:manage",),
        "conversations.open",
        note="the page lists channels:manage among the bot scopes of every conversation method, "
        "but a direct message is opened with im:write; channels:manage opens none",
    ),
    slack(
        "bot",
        "conversations.open(several users)",
        lambda c: c.conversations_open(users=["U0123ABCD", "U0456EFGH"]),
        ("mpim:write",),
        ("mpim:write", "im:write"),
        ("im:write",),
        "conversations.open",
        note="'Providing more than 1 will create a multi-person direct message (mpim)': "
        "mpim:write, read from how many IDs `users` lists (slack_sdk joins them with commas)",
    ),
    slack(
        "bot",
        "conversations.open(several users, classed by the flow)",
        lambda c: c.conversations_open(users=["U0123ABCD", "U0456EFGH"]),
        ("mpim:write",),
        ("mpim:write", "im:write"),
        ("im:write",),
        "conversations.open",
        given={"slack": {"channel": {"mpim": ["U0123ABCD,U0456EFGH"]}}},
        note="a flow written when the pack could not count `users` classed them as an mpim; "
        "the class changes nothing now",
    ),
    slack(
        "user",
        "conversations.open(three users)",
        lambda c: c.conversations_open(users="U0123ABCD,U0456EFGH,U0789IJKL"),
        ("mpim:write",),
        ("mpim:write", "im:write"),
        ("im:write",),
        "conversations.open",
        note="'Provide 1 to 8 user IDs ... Providing more than 1 will create a multi-person "
        "direct message (mpim)': mpim:write with a user token too",
    ),
    slack(
        "bot",
        "conversations.open(channel=direct message)",
        lambda c: c.conversations_open(channel=DIRECT),
        ("im:write",),
        ("im:write", "mpim:write"),
        ("mpim:write",),
        "conversations.open",
        given={"slack": {"channel": {"im": [DIRECT]}}},
        note="'Resume a conversation by supplying an im or mpim's ID'",
    ),
    slack(
        "user",
        "conversations.open(one user)",
        lambda c: c.conversations_open(users="U0123ABCD"),
        ("im:write",),
        ("im:write", "channels:write"),
        ("channels:write",),
        "conversations.open",
    ),
    slack(
        "bot",
        "users.list",
        lambda c: c.users_list(limit=200),
        ("users:read",),
        ("users:read", "users:read.email"),
        ("users.profile:read",),
        "users.list",
    ),
    slack(
        "bot",
        "users.info",
        lambda c: c.users_info(user="U0123ABCD"),
        ("users:read",),
        ("users:read", "users:write"),
        ("channels:read",),
        "users.info",
    ),
    slack(
        "bot",
        "users.lookupByEmail",
        lambda c: c.users_lookupByEmail(email="ada@example.com"),
        ("users:read.email",),
        ("users:read.email", "users:write"),
        ("users:read",),
        "users.lookupByEmail",
    ),
    slack(
        "bot",
        "reactions.add",
        lambda c: c.reactions_add(
            channel=CHANNEL, timestamp="1712345678.000100", name="white_check_mark"
        ),
        ("reactions:write",),
        ("reactions:write", "reactions:read"),
        ("reactions:read",),
        "reactions.add",
    ),
    slack(
        "bot",
        "files.upload v2 (getUploadURLExternal, upload, completeUploadExternal)",
        lambda c: c.files_upload_v2(
            channel=CHANNEL,
            content="region,total\neu,42\n",
            filename="report.csv",
            title="report.csv",
        ),
        ("files:write",),
        ("files:write", "files:read"),
        ("files:read",),
        "files.getUploadURLExternal",
        answers=UPLOAD,
        note="the bytes go to the upload_url files.getUploadURLExternal returned; files.completeUploadExternal also needs files:write",
    ),
    slack(
        "bot",
        "files.delete",
        lambda c: c.files_delete(file="F07ABCDEF"),
        ("files:write",),
        ("files:write", "files:read"),
        ("files:read",),
        "files.delete",
        note="Bot token: files:write (the 2021 data named only the user scope files:write:user)",
    ),
    slack(
        "user",
        "files.delete",
        lambda c: c.files_delete(file="F07ABCDEF"),
        ("files:write",),
        ("files:write", "files:read"),
        ("files:read",),
        "files.delete",
        note="User token: files:write (files:write:user is its legacy name)",
    ),
    slack(
        "bot",
        "files.comments.delete",
        lambda c: c.files_comments_delete(file="F07ABCDEF", id="Fc07ABCDEF"),
        ("files:write",),
        ("files:write", "files:read"),
        ("files:read",),
        "files.comments.delete",
    ),
    slack(
        "user",
        "files.sharedPublicURL",
        lambda c: c.files_sharedPublicURL(file="F07ABCDEF"),
        ("files:write",),
        ("files:write", "files:read"),
        ("files:read",),
        "files.sharedPublicURL",
        note="user tokens only: the page lists no bot token scope",
    ),
    slack(
        "user",
        "files.revokePublicURL",
        lambda c: c.files_revokePublicURL(file="F07ABCDEF"),
        ("files:write",),
        ("files:write", "reactions:write"),
        ("reactions:write",),
        "files.revokePublicURL",
    ),
    slack(
        "bot",
        "files.remote.add",
        lambda c: c.files_remote_add(
            external_id="doc-1", external_url="https://docs.example.com/d/1", title="Runbook"
        ),
        ("remote_files:write",),
        ("remote_files:write", "remote_files:read"),
        ("remote_files:read",),
        "files.remote.add",
        note="bot tokens only: 'remote files must be added by bots with the bot scope, not by an "
        "individual user'",
    ),
    slack(
        "bot",
        "files.info",
        lambda c: c.files_info(file="F07ABCDEF"),
        ("files:read",),
        ("files:read", "files:write"),
        ("channels:history",),
        "files.info",
    ),
    slack(
        "bot",
        "pins.add",
        lambda c: c.pins_add(channel=CHANNEL, timestamp="1712345678.000100"),
        ("pins:write",),
        ("pins:write", "pins:read"),
        ("pins:read",),
        "pins.add",
    ),
    slack(
        "bot",
        "team.info",
        lambda c: c.team_info(),
        ("team:read",),
        ("team:read", "users:read"),
        ("users:read",),
        "team.info",
    ),
    slack(
        "user",
        "search.messages",
        lambda c: c.search_messages(query="incident in:#ops", count=20),
        ("search:read",),
        ("search:read", "channels:history"),
        ("channels:history",),
        "search.messages",
        note="search.messages works with user tokens only",
    ),
    slack(
        "user",
        "reminders.add",
        lambda c: c.reminders_add(text="Review the deploy", time="in 15 minutes"),
        ("reminders:write",),
        ("reminders:write", "reminders:read"),
        ("reminders:read",),
        "reminders.add",
    ),
    slack(
        "user",
        "users.profile.set",
        lambda c: c.users_profile_set(
            profile={"status_text": "In a meeting", "status_emoji": ":calendar:"}
        ),
        ("users.profile:write",),
        ("users.profile:write", "users.profile:read"),
        ("users.profile:read",),
        "users.profile.set",
    ),
    slack(
        "bot",
        "conversations.history(private channel)",
        lambda c: c.conversations_history(channel=PRIVATE, limit=100),
        ("groups:history",),
        ("groups:history", "channels:history"),
        ("channels:history",),
        "conversations.history",
        given={"slack": {"channel": {"private_channel": [PRIVATE]}}},
        note="'Relevant *:history scope' for the conversation's type: groups:history for a "
        "private channel, which the flow says (a channel id does not reliably tell)",
    ),
    slack(
        "bot",
        "conversations.replies(direct message)",
        lambda c: c.conversations_replies(channel=DIRECT, ts="1712345678.000100"),
        ("im:history",),
        ("im:history", "channels:history"),
        ("channels:history",),
        "conversations.replies",
        given={"slack": {"channel": {"im": [DIRECT]}}},
    ),
    slack(
        "bot",
        "conversations.info(private channel)",
        lambda c: c.conversations_info(channel=PRIVATE),
        ("groups:read",),
        ("groups:read", "channels:read"),
        ("channels:read",),
        "conversations.info",
        given={"slack": {"channel": {"private_channel": [PRIVATE]}}},
    ),
    slack(
        "bot",
        "conversations.invite(private channel)",
        lambda c: c.conversations_invite(channel=PRIVATE, users="U0123ABCD"),
        ("groups:write",),
        ("groups:write", "channels:manage"),
        ("channels:manage",),
        "conversations.invite",
        given={"slack": {"channel": {"private_channel": [PRIVATE]}}},
    ),
    slack(
        "user",
        "conversations.setTopic(public channel)",
        lambda c: c.conversations_setTopic(channel=CHANNEL, topic="On call: Ada"),
        ("channels:write",),
        ("channels:write", "groups:write"),
        ("groups:write",),
        "conversations.setTopic",
        note="user tokens manage public channels with channels:write",
    ),
)
