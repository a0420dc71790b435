"""Google Sheets API (google-api-python-client, sheets v4): one model, OAuth scopes.

Each method's reference page lists the scopes any one of which authorizes it. Reading
methods accept spreadsheets.readonly, writing ones need spreadsheets; drive.file reaches
only spreadsheets the app created or was given, so it is the minimal grant of a flow that
creates its spreadsheet and is refused on a spreadsheet that already existed
(https://developers.google.com/workspace/sheets/api/scopes: drive.file is "Per-file
access to files created or opened by the app").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..case import Answer, Case

G = "https://www.googleapis.com/auth/"
SHEETS, SHEETS_READONLY = G + "spreadsheets", G + "spreadsheets.readonly"
DRIVE, FILE, DRIVE_READONLY = G + "drive", G + "drive.file", G + "drive.readonly"
REF = "https://developers.google.com/workspace/sheets/api/reference/rest/v4/"
SHEET = "1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms"  # an existing spreadsheet of the user
CREATED = Answer(
    json={"spreadsheetId": "1CreatedByThisFlow", "sheets": [{"properties": {"sheetId": 0}}]}
)


def _created_then(then: Callable[[Any, str], Any]) -> Callable[[Any], Any]:
    def call(s: Any) -> Any:
        created = s.spreadsheets().create(body={"properties": {"title": "Weekly totals"}}).execute()
        return then(s, created["spreadsheetId"])

    return call


def sheets(
    operation: str,
    call: Callable[[Any], Any],
    minimal: tuple[str, ...],
    broader: tuple[str, ...],
    refused: tuple[str, ...],
    page: str,
    **extra: Any,
) -> Case:
    return Case(
        "google-sheets", "", operation, call, minimal, broader, refused, REF + page, **extra
    )


def values(s: Any) -> Any:
    return s.spreadsheets().values()


CASES = (
    sheets(
        "values.get",
        lambda s: values(s).get(spreadsheetId=SHEET, range="Totals!A1:D50").execute(),
        (SHEETS_READONLY,),
        (SHEETS,),
        (FILE,),
        "spreadsheets.values/get",
        note="drive.file does not reach a spreadsheet the app neither created nor was given",
    ),
    sheets(
        "values.get(valueRenderOption=FORMULA, majorDimension=COLUMNS)",
        lambda s: (
            values(s)
            .get(
                spreadsheetId=SHEET,
                range="Totals!A:A",
                valueRenderOption="FORMULA",
                majorDimension="COLUMNS",
            )
            .execute()
        ),
        (SHEETS_READONLY,),
        (DRIVE_READONLY,),
        (G + "drive.metadata.readonly",),
        "spreadsheets.values/get",
    ),
    sheets(
        "values.batchGet",
        lambda s: (
            values(s).batchGet(spreadsheetId=SHEET, ranges=["Totals!A1:B2", "Notes!A:A"]).execute()
        ),
        (SHEETS_READONLY,),
        (DRIVE,),
        (FILE,),
        "spreadsheets.values/batchGet",
    ),
    sheets(
        "values.update(USER_ENTERED)",
        lambda s: (
            values(s)
            .update(
                spreadsheetId=SHEET,
                range="Totals!B2",
                valueInputOption="USER_ENTERED",
                body={"values": [["=SUM(A1:A9)"]]},
            )
            .execute()
        ),
        (SHEETS,),
        (DRIVE,),
        (SHEETS_READONLY,),
        "spreadsheets.values/update",
    ),
    sheets(
        "values.update(RAW)",
        lambda s: (
            values(s)
            .update(
                spreadsheetId=SHEET,
                range="Totals!A2:C2",
                valueInputOption="RAW",
                body={"values": [["eu", 42, "ok"]]},
            )
            .execute()
        ),
        (SHEETS,),
        (SHEETS, DRIVE_READONLY),
        (FILE,),
        "spreadsheets.values/update",
    ),
    sheets(
        "values.append(INSERT_ROWS)",
        lambda s: (
            values(s)
            .append(
                spreadsheetId=SHEET,
                range="Leads!A1",
                valueInputOption="RAW",
                insertDataOption="INSERT_ROWS",
                body={"values": [["Ada", "ada@example.com"]]},
            )
            .execute()
        ),
        (SHEETS,),
        (DRIVE,),
        (SHEETS_READONLY,),
        "spreadsheets.values/append",
    ),
    sheets(
        "values.append(includeValuesInResponse)",
        lambda s: (
            values(s)
            .append(
                spreadsheetId=SHEET,
                range="Leads",
                valueInputOption="USER_ENTERED",
                includeValuesInResponse=True,
                body={"values": [["Grace"]]},
            )
            .execute()
        ),
        (SHEETS,),
        (SHEETS, SHEETS_READONLY),
        (FILE,),
        "spreadsheets.values/append",
    ),
    sheets(
        "values.clear",
        lambda s: values(s).clear(spreadsheetId=SHEET, range="Staging!A2:Z", body={}).execute(),
        (SHEETS,),
        (DRIVE,),
        (DRIVE_READONLY,),
        "spreadsheets.values/clear",
    ),
    sheets(
        "values.batchUpdate",
        lambda s: (
            values(s)
            .batchUpdate(
                spreadsheetId=SHEET,
                body={
                    "valueInputOption": "RAW",
                    "data": [
                        {"range": "A1", "values": [["x"]]},
                        {"range": "B1", "values": [["y"]]},
                    ],
                },
            )
            .execute()
        ),
        (SHEETS,),
        (DRIVE,),
        (SHEETS_READONLY,),
        "spreadsheets.values/batchUpdate",
    ),
    sheets(
        "values.batchClear",
        lambda s: (
            values(s)
            .batchClear(spreadsheetId=SHEET, body={"ranges": ["Staging!A:A", "Staging!C:C"]})
            .execute()
        ),
        (SHEETS,),
        (SHEETS, DRIVE_READONLY),
        (SHEETS_READONLY,),
        "spreadsheets.values/batchClear",
    ),
    sheets(
        "values.batchGetByDataFilter",
        lambda s: (
            values(s)
            .batchGetByDataFilter(
                spreadsheetId=SHEET, body={"dataFilters": [{"a1Range": "Totals!A1:B9"}]}
            )
            .execute()
        ),
        (SHEETS,),
        (DRIVE,),
        (SHEETS_READONLY,),
        "spreadsheets.values/batchGetByDataFilter",
        note="a read, but its page lists only drive, drive.file and spreadsheets: readonly scopes are refused",
    ),
    sheets(
        "values.batchUpdateByDataFilter",
        lambda s: (
            values(s)
            .batchUpdateByDataFilter(
                spreadsheetId=SHEET,
                body={
                    "valueInputOption": "RAW",
                    "data": [{"dataFilter": {"a1Range": "A1"}, "values": [["z"]]}],
                },
            )
            .execute()
        ),
        (SHEETS,),
        (DRIVE,),
        (DRIVE_READONLY,),
        "spreadsheets.values/batchUpdateByDataFilter",
    ),
    sheets(
        "values.batchClearByDataFilter",
        lambda s: (
            values(s)
            .batchClearByDataFilter(
                spreadsheetId=SHEET, body={"dataFilters": [{"a1Range": "Staging!A:A"}]}
            )
            .execute()
        ),
        (SHEETS,),
        (SHEETS, DRIVE_READONLY),
        (SHEETS_READONLY,),
        "spreadsheets.values/batchClearByDataFilter",
    ),
    sheets(
        "spreadsheets.get",
        lambda s: s.spreadsheets().get(spreadsheetId=SHEET, fields="sheets.properties").execute(),
        (SHEETS_READONLY,),
        (SHEETS,),
        (FILE,),
        "spreadsheets/get",
    ),
    sheets(
        "spreadsheets.get(ranges, includeGridData)",
        lambda s: (
            s.spreadsheets()
            .get(spreadsheetId=SHEET, ranges=["Totals!A1:C3"], includeGridData=True)
            .execute()
        ),
        (SHEETS_READONLY,),
        (DRIVE_READONLY,),
        (G + "drive.metadata.readonly",),
        "spreadsheets/get",
    ),
    sheets(
        "spreadsheets.getByDataFilter",
        lambda s: (
            s.spreadsheets()
            .getByDataFilter(
                spreadsheetId=SHEET,
                body={"dataFilters": [{"a1Range": "Totals"}], "includeGridData": False},
            )
            .execute()
        ),
        (SHEETS,),
        (DRIVE,),
        (SHEETS_READONLY,),
        "spreadsheets/getByDataFilter",
    ),
    sheets(
        "spreadsheets.batchUpdate(addSheet)",
        lambda s: (
            s.spreadsheets()
            .batchUpdate(
                spreadsheetId=SHEET,
                body={"requests": [{"addSheet": {"properties": {"title": "2027"}}}]},
            )
            .execute()
        ),
        (SHEETS,),
        (DRIVE,),
        (SHEETS_READONLY,),
        "spreadsheets/batchUpdate",
    ),
    sheets(
        "spreadsheets.batchUpdate(repeatCell format)",
        lambda s: (
            s.spreadsheets()
            .batchUpdate(
                spreadsheetId=SHEET,
                body={
                    "requests": [
                        {
                            "repeatCell": {
                                "range": {"sheetId": 0, "startRowIndex": 0, "endRowIndex": 1},
                                "cell": {"userEnteredFormat": {"textFormat": {"bold": True}}},
                                "fields": "userEnteredFormat.textFormat.bold",
                            }
                        }
                    ]
                },
            )
            .execute()
        ),
        (SHEETS,),
        (SHEETS, DRIVE_READONLY),
        (FILE,),
        "spreadsheets/batchUpdate",
    ),
    sheets(
        "spreadsheets.create",
        lambda s: (
            s.spreadsheets().create(body={"properties": {"title": "Weekly totals"}}).execute()
        ),
        (FILE,),
        (SHEETS,),
        (SHEETS_READONLY,),
        "spreadsheets/create",
        answers=(CREATED,),
        note="a created spreadsheet is the app's own: drive.file suffices and is narrower than spreadsheets",
    ),
    sheets(
        "spreadsheets.create then values.update",
        _created_then(
            lambda s, sid: (
                values(s)
                .update(
                    spreadsheetId=sid,
                    range="A1:B1",
                    valueInputOption="RAW",
                    body={"values": [["week", "total"]]},
                )
                .execute()
            )
        ),
        (FILE,),
        (SHEETS,),
        (SHEETS_READONLY,),
        "spreadsheets.values/update",
        answers=(CREATED,),
    ),
    sheets(
        "spreadsheets.create then values.append",
        _created_then(
            lambda s, sid: (
                values(s)
                .append(
                    spreadsheetId=sid,
                    range="A1",
                    valueInputOption="RAW",
                    body={"values": [["w1", 3]]},
                )
                .execute()
            )
        ),
        (FILE,),
        (DRIVE,),
        (DRIVE_READONLY,),
        "spreadsheets.values/append",
        answers=(CREATED,),
    ),
    sheets(
        "spreadsheets.create then batchUpdate",
        _created_then(
            lambda s, sid: (
                s.spreadsheets()
                .batchUpdate(
                    spreadsheetId=sid,
                    body={"requests": [{"addSheet": {"properties": {"title": "Raw"}}}]},
                )
                .execute()
            )
        ),
        (FILE,),
        (SHEETS,),
        (SHEETS_READONLY,),
        "spreadsheets/batchUpdate",
        answers=(CREATED,),
    ),
    sheets(
        "spreadsheets.create then values.get",
        _created_then(lambda s, sid: values(s).get(spreadsheetId=sid, range="A1:B9").execute()),
        (FILE,),
        (SHEETS,),
        (SHEETS_READONLY,),
        "spreadsheets.values/get",
        answers=(CREATED,),
    ),
    sheets(
        "sheets.copyTo",
        lambda s: (
            s.spreadsheets()
            .sheets()
            .copyTo(
                spreadsheetId=SHEET,
                sheetId=0,
                body={"destinationSpreadsheetId": "1OtherSpreadsheetOfTheUser"},
            )
            .execute()
        ),
        (SHEETS,),
        (DRIVE,),
        (SHEETS_READONLY,),
        "spreadsheets.sheets/copyTo",
    ),
    sheets(
        "developerMetadata.search",
        lambda s: (
            s.spreadsheets()
            .developerMetadata()
            .search(
                spreadsheetId=SHEET,
                body={"dataFilters": [{"developerMetadataLookup": {"metadataKey": "sync-id"}}]},
            )
            .execute()
        ),
        (SHEETS,),
        (DRIVE,),
        (SHEETS_READONLY,),
        "spreadsheets.developerMetadata/search",
    ),
    sheets(
        "developerMetadata.get",
        lambda s: (
            s.spreadsheets().developerMetadata().get(spreadsheetId=SHEET, metadataId=17).execute()
        ),
        (SHEETS,),
        (SHEETS, DRIVE_READONLY),
        (FILE,),
        "spreadsheets.developerMetadata/get",
    ),
)
