"""Google Drive API (google-api-python-client, drive v3): one model, OAuth scopes.

Each method's reference page lists the scopes any one of which authorizes it. Which of
them reaches the file is the vendor's rule on the scope itself
(https://developers.google.com/workspace/drive/api/guides/api-specific-auth):

- `drive.file`: "Create new Drive files, or modify existing files, that you open with an
  app or that the user shares with an app" -- only files the app created or was given.
  A flow that creates a file and then works on it needs no more; a flow that reads a file
  it did not create is refused with drive.file.
- `drive.appdata`: only the hidden application data folder; "Before you can access the
  application data folder, you must request access to the
  https://www.googleapis.com/auth/drive.appdata scope"
  (https://developers.google.com/workspace/drive/api/guides/appdata).
- `drive.metadata.readonly`: metadata only, never the content (`alt=media`, export).

Uploads: simple (`uploadType=media`), multipart (`uploadType=multipart`) and resumable
(a POST `?uploadType=resumable` opening a session, then a PUT of the bytes to the session
URI) are the same files.create/update method
(https://developers.google.com/workspace/drive/api/guides/manage-uploads).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from googleapiclient.http import MediaInMemoryUpload

from ..case import Answer, Case

G = "https://www.googleapis.com/auth/"
DRIVE, FILE, APPDATA = G + "drive", G + "drive.file", G + "drive.appdata"
READONLY, METADATA_READONLY, METADATA = (
    G + "drive.readonly",
    G + "drive.metadata.readonly",
    G + "drive.metadata",
)
APPS_READONLY = G + "drive.apps.readonly"
MEET_READONLY = G + "drive.meet.readonly"
REF = "https://developers.google.com/workspace/drive/api/reference/rest/v3/"
EXISTING = "1PreExistingQuarterlyReport"  # a file of the user's the app did not create
SHARED = "1SharedWithTheAppByPicker"  # a file the user opened with the app (Picker)
RECORDING = "1MeetRecordingOfStandup"  # a recording Google Meet saved in the user's Drive
CREATED = Answer(json={"id": "1CreatedByThisFlow", "name": "report.csv"})
SESSION = Answer(
    headers=(
        (
            "Location",
            "https://www.googleapis.com/upload/drive/v3/files?uploadType=resumable&upload_id=ADPycdvX9",
        ),
    )
)


def _csv(resumable: bool = False) -> MediaInMemoryUpload:
    return MediaInMemoryUpload(b"region,total\neu,42\n", mimetype="text/csv", resumable=resumable)


def _created_then(then: Callable[[Any, str], Any]) -> Callable[[Any], Any]:
    """Create a file, then act on the id the API answered with (a file the app created)."""

    def call(d: Any) -> Any:
        created = (
            d.files().create(body={"name": "report.csv"}, media_body=_csv(), fields="id").execute()
        )
        return then(d, created["id"])

    return call


def drive(
    operation: str,
    call: Callable[[Any], Any],
    minimal: tuple[str, ...],
    broader: tuple[str, ...],
    refused: tuple[str, ...],
    page: str,
    **extra: Any,
) -> Case:
    return Case("google-drive", "", operation, call, minimal, broader, refused, REF + page, **extra)


CASES = (
    drive(
        "files.create(folder, metadata only)",
        lambda d: (
            d.files()
            .create(
                body={"name": "Reports", "mimeType": "application/vnd.google-apps.folder"},
                fields="id",
            )
            .execute()
        ),
        (FILE,),
        (DRIVE,),
        (READONLY,),
        "files/create",
        answers=(CREATED,),
    ),
    drive(
        "files.create(uploadType=media)",
        lambda d: d.files().create(media_body=_csv()).execute(),
        (FILE,),
        (DRIVE,),
        (METADATA,),
        "files/create",
        answers=(CREATED,),
    ),
    drive(
        "files.create(uploadType=multipart)",
        lambda d: (
            d.files()
            .create(
                body={"name": "report.csv", "parents": ["1FolderId"]},
                media_body=_csv(),
                fields="id",
            )
            .execute()
        ),
        (FILE,),
        (DRIVE,),
        (READONLY,),
        "files/create",
        answers=(CREATED,),
        note="a parent folder given by id: the app was given it or created it",
    ),
    drive(
        "files.create(uploadType=resumable)",
        lambda d: (
            d.files()
            .create(body={"name": "report.csv"}, media_body=_csv(resumable=True), fields="id")
            .execute()
        ),
        (FILE,),
        (DRIVE,),
        (READONLY,),
        "files/create",
        answers=(SESSION, CREATED),
        note="POST ?uploadType=resumable opens the session; PUT to the session URI sends the bytes",
    ),
    drive(
        "files.create(appDataFolder, multipart)",
        lambda d: (
            d.files()
            .create(
                body={"name": "config.json", "parents": ["appDataFolder"]},
                media_body=MediaInMemoryUpload(b"{}", mimetype="application/json"),
                fields="id",
            )
            .execute()
        ),
        (APPDATA,),
        (APPDATA, FILE),
        (FILE,),
        "files/create",
        answers=(CREATED,),
        note="appdata guide: 'you must request access to the .../auth/drive.appdata scope'",
    ),
    drive(
        "files.create(appDataFolder, resumable)",
        lambda d: (
            d.files()
            .create(
                body={"name": "state.json", "parents": ["appDataFolder"]},
                media_body=MediaInMemoryUpload(b"{}", mimetype="application/json", resumable=True),
            )
            .execute()
        ),
        (APPDATA,),
        (APPDATA, DRIVE),
        (DRIVE,),
        "files/create",
        answers=(SESSION, CREATED),
        note="the application data folder needs drive.appdata; the drive scope does not reach it",
    ),
    drive(
        "files.list(spaces=appDataFolder)",
        lambda d: d.files().list(spaces="appDataFolder", fields="files(id,name)").execute(),
        (APPDATA,),
        (APPDATA, READONLY),
        (FILE,),
        "files/list",
    ),
    drive(
        "files.list(q)",
        lambda d: (
            d.files()
            .list(
                q="name contains 'invoice' and trashed = false",
                fields="files(id,name)",
                pageSize=100,
            )
            .execute()
        ),
        (FILE,),
        (METADATA_READONLY,),
        (APPS_READONLY,),
        "files/list",
        note="files.list's page lists drive.file among its authorization scopes: the call "
        "succeeds and lists the files the app can reach. Which files a flow means to see is "
        "not in the call, so the vendor's minimal grant is drive.file; a flow that must see "
        "every file holds a Drive-wide scope, drive.metadata.readonly the narrowest",
    ),
    drive(
        "files.get(metadata, created by the app)",
        _created_then(
            lambda d, file_id: (
                d.files().get(fileId=file_id, fields="id,name,modifiedTime").execute()
            )
        ),
        (FILE,),
        (DRIVE,),
        (READONLY,),
        "files/get",
        answers=(CREATED,),
    ),
    drive(
        "files.get(metadata, pre-existing file)",
        lambda d: d.files().get(fileId=EXISTING, fields="id,name,owners").execute(),
        (METADATA_READONLY,),
        (READONLY,),
        (FILE,),
        "files/get",
        note="drive.file reaches only files the app created or was given",
    ),
    drive(
        "files.get(alt=media, pre-existing file)",
        lambda d: d.files().get_media(fileId=EXISTING).execute(),
        (READONLY,),
        (DRIVE,),
        (METADATA_READONLY,),
        "files/get",
        answers=(Answer(content=b"region,total\n"),),
        note="alt=media downloads content, which drive.metadata.readonly ('See information about your Google Drive files') does not reach",
    ),
    drive(
        "files.export(pre-existing Google Doc)",
        lambda d: d.files().export(fileId=EXISTING, mimeType="application/pdf").execute(),
        (READONLY,),
        (DRIVE,),
        (METADATA_READONLY,),
        "files/export",
        answers=(Answer(content=b"%PDF-1.7"),),
    ),
    drive(
        "files.update(rename, created by the app)",
        _created_then(
            lambda d, file_id: (
                d.files().update(fileId=file_id, body={"name": "report-final.csv"}).execute()
            )
        ),
        (FILE,),
        (DRIVE,),
        (READONLY,),
        "files/update",
        answers=(CREATED,),
    ),
    drive(
        "files.update(new content, created by the app)",
        _created_then(
            lambda d, file_id: d.files().update(fileId=file_id, media_body=_csv()).execute()
        ),
        (FILE,),
        (DRIVE,),
        (METADATA_READONLY,),
        "files/update",
        answers=(CREATED,),
    ),
    drive(
        "files.update(content, pre-existing file)",
        lambda d: d.files().update(fileId=EXISTING, media_body=_csv()).execute(),
        (DRIVE,),
        (DRIVE, READONLY),
        (FILE,),
        "files/update",
        note="of files.update's scopes only drive writes content of a file the app did not create",
    ),
    drive(
        "files.copy(created by the app)",
        _created_then(
            lambda d, file_id: d.files().copy(fileId=file_id, body={"name": "copy.csv"}).execute()
        ),
        (FILE,),
        (DRIVE,),
        (READONLY,),
        "files/copy",
        answers=(CREATED,),
    ),
    drive(
        "files.delete(created by the app)",
        _created_then(lambda d, file_id: d.files().delete(fileId=file_id).execute()),
        (FILE,),
        (DRIVE,),
        (READONLY,),
        "files/delete",
        answers=(CREATED, Answer(status=204)),
    ),
    drive(
        "files.emptyTrash",
        lambda d: d.files().emptyTrash().execute(),
        (DRIVE,),
        (DRIVE, READONLY),
        (FILE,),
        "files/emptyTrash",
        answers=(Answer(status=204),),
    ),
    drive(
        "files.generateIds",
        lambda d: d.files().generateIds(count=5, space="drive").execute(),
        (FILE,),
        (DRIVE,),
        (READONLY,),
        "files/generateIds",
    ),
    drive(
        "permissions.create(created by the app)",
        _created_then(
            lambda d, file_id: (
                d.permissions()
                .create(
                    fileId=file_id,
                    body={"type": "user", "role": "reader", "emailAddress": "ops@example.com"},
                    sendNotificationEmail=False,
                )
                .execute()
            )
        ),
        (FILE,),
        (DRIVE,),
        (READONLY,),
        "permissions/create",
        answers=(CREATED,),
    ),
    drive(
        "permissions.create(pre-existing file)",
        lambda d: (
            d.permissions()
            .create(
                fileId=EXISTING, body={"type": "domain", "role": "reader", "domain": "example.com"}
            )
            .execute()
        ),
        (DRIVE,),
        (DRIVE, METADATA_READONLY),
        (FILE,),
        "permissions/create",
    ),
    drive(
        "permissions.list(pre-existing file)",
        lambda d: d.permissions().list(fileId=EXISTING).execute(),
        (METADATA_READONLY,),
        (METADATA,),
        (FILE,),
        "permissions/list",
    ),
    drive(
        "comments.create(pre-existing file)",
        lambda d: (
            d.comments()
            .create(fileId=EXISTING, body={"content": "Approved"}, fields="id")
            .execute()
        ),
        (DRIVE,),
        (DRIVE, READONLY),
        (FILE,),
        "comments/create",
    ),
    drive(
        "comments.list(pre-existing file)",
        lambda d: d.comments().list(fileId=EXISTING, fields="comments(id,content)").execute(),
        (READONLY,),
        (DRIVE,),
        (METADATA_READONLY,),
        "comments/list",
    ),
    drive(
        "revisions.list(pre-existing file)",
        lambda d: d.revisions().list(fileId=EXISTING).execute(),
        (METADATA_READONLY,),
        (READONLY,),
        (FILE,),
        "revisions/list",
    ),
    drive(
        "drives.list",
        lambda d: d.drives().list(pageSize=50).execute(),
        (READONLY,),
        (DRIVE,),
        (FILE,),
        "drives/list",
    ),
    drive(
        "drives.create",
        lambda d: d.drives().create(requestId="2f0b7c1e", body={"name": "Finance"}).execute(),
        (DRIVE,),
        (DRIVE, READONLY),
        (FILE,),
        "drives/create",
    ),
    drive(
        "apps.list",
        lambda d: d.apps().list().execute(),
        (APPS_READONLY,),
        (APPS_READONLY, READONLY),
        (READONLY,),
        "apps/list",
    ),
    drive(
        "files.get(metadata, file given to the app)",
        lambda d: d.files().get(fileId=SHARED, fields="id,name").execute(),
        (FILE,),
        (READONLY,),
        (APPDATA,),
        "files/get",
        given={"google-drive": {"file": [SHARED]}},
        note="drive.file: 'files ... that the user shares with an app' (the flow says which)",
    ),
    drive(
        "files.update(content, file given to the app)",
        lambda d: d.files().update(fileId=SHARED, media_body=_csv()).execute(),
        (FILE,),
        (DRIVE,),
        (READONLY,),
        "files/update",
        given={"google-drive": {"file": [SHARED]}},
    ),
    drive(
        "files.get(alt=media, Meet recording)",
        lambda d: d.files().get_media(fileId=RECORDING).execute(),
        (MEET_READONLY,),
        (READONLY,),
        (METADATA_READONLY,),
        "files/get",
        answers=(Answer(content=b"\x00\x00\x00 ftypmp42"),),
        given={"google-drive": {"file": {"meet": [RECORDING]}}},
        note="drive.meet.readonly: 'See and download your Google Drive files that were created "
        "or edited by Google Meet'",
    ),
)
