"""CSV downloads of the tables the API answers: one writer (RFC 4180, a header row), one way to ask for one.

A route that answers a table also answers it as CSV when asked with `?format=csv` or `Accept: text/csv`: dates
ISO, lists joined with "; ", absent values empty. A text cell that a spreadsheet would read as a formula (one that
starts with =, +, -, @, a tab or a carriage return) gets a leading apostrophe; numbers and dates are never text.
The CSV is the page the JSON would be; a `Link` header (rel="next") asks for the next one.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import Query, Request, Response

from treatywatch.registry.domain import ParticipantStatus
from treatywatch.registry.service import Owed

Cell = str | int | bool | date | Sequence[str] | None
Format = Annotated[
    Literal["json", "csv"] | None,
    Query(alias="format", description="`csv` answers the table as a CSV download, as `Accept: text/csv` does"),
]

CSV_MEDIA = "text/csv; charset=utf-8; header=present"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


def csv_responses(description: str, example: str) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI entry of a route's CSV answer, beside its JSON one."""
    return {
        200: {"description": description, "content": {"text/csv": {"schema": {"type": "string"}, "example": example}}}
    }


def _cell(value: Cell) -> str | int:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return value
    if isinstance(value, date):
        return value.isoformat()
    text = value if isinstance(value, str) else "; ".join(value)
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


def csv_text(columns: Sequence[str], rows: Iterable[Sequence[Cell]]) -> str:
    """The table as RFC 4180 text: a header row, then one line (CRLF-ended) per row, quoted only where needed."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows([_cell(value) for value in row] for row in rows)
    return out.getvalue()


def _quality(accept: str, media: str) -> float:
    """The q-value `accept` gives `media`, from its most specific range that matches (0 when none does)."""
    wanted = media.partition("/")[0]
    best, q = -1, 0.0
    for item in accept.split(","):
        name, *params = (part.strip() for part in item.split(";"))
        name = name.lower()
        rank = 2 if name == media else 1 if name == f"{wanted}/*" else 0 if name == "*/*" else -1
        if rank <= best:
            continue
        best, q = rank, 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
    return q


def wants_csv(request: Request, fmt: str | None) -> bool:
    """Whether the request asks for CSV: `?format=csv`, or an Accept header preferring text/csv to JSON."""
    if fmt is not None:
        return fmt == "csv"
    accept = (request.headers.get("accept") or "").lower()
    # Most requests name neither CSV nor any text: they skip the parsing.
    if "csv" not in accept and "text/*" not in accept:
        return False
    return _quality(accept, "text/csv") > _quality(accept, "application/json")


def filename(*parts: str | date | None) -> str:
    """A download's file name from its parts ("XXVI-5", "participants", as of), safe in any file system."""
    words = [_UNSAFE_FILENAME.sub("-", p.isoformat() if isinstance(p, date) else p).strip("-") for p in parts if p]
    return "-".join(w for w in words if w) + ".csv"


def next_url(request: Request, after: str | None) -> str | None:
    """The URL of the page after this one (the request with `after` set), or None on the last page."""
    return None if after is None else str(request.url.include_query_params(after=after))


def csv_response(
    name: str, columns: Sequence[str], rows: Iterable[Sequence[Cell]], next_page: str | None = None
) -> Response:
    """The table as a CSV attachment named `name`; with `next_page`, a `Link` to it (RFC 8288)."""
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Vary": "Accept"}
    if next_page is not None:
        headers["Link"] = f'<{next_page}>; rel="next"'
    return Response(csv_text(columns, rows), media_type=CSV_MEDIA, headers=headers)


# The tables' columns and rows, shared by the routes that answer them.

STATUS_COLUMNS = (
    "status",
    "signature",
    "consent_action",
    "consent_date",
    "in_force_on",
    "in_force",
    "stated_in_force_on",
    "withdrawal_date",
    "withdrawal_effective_on",
    "warnings",
    "signature_notification",
    "consent_notification",
    "withdrawal_notification",
)
REPORT_COLUMNS = ("in_force_on", "period", "due_on", "submitted_on", "status")


def _notification(status: ParticipantStatus, action: str, day: date | None) -> str | None:
    """The C.N. reference of the `action` dated `day` among the status's actions (the depositary's notification)."""
    return next(
        (a.notification for a in status.actions if (a.action, a.date) == (action, day) and a.notification), None
    )


def status_cells(status: ParticipantStatus | None) -> list[Cell]:
    """A status as the cells of `STATUS_COLUMNS` (all empty for none)."""
    if status is None:
        return [None] * len(STATUS_COLUMNS)
    consent, withdrawal = status.consent, status.withdrawal
    return [
        status.status,
        status.signature,
        consent.action if consent else None,
        consent.date if consent else None,
        status.in_force_on,
        status.in_force,
        status.stated_in_force_on,
        withdrawal.date if withdrawal else None,
        withdrawal.effective_on if withdrawal else None,
        status.warnings,
        _notification(status, "signature", status.signature),
        _notification(status, consent.action, consent.date) if consent else None,
        _notification(status, "withdrawal", withdrawal.date) if withdrawal else None,
    ]


def report_rows(owed: Owed, *head: Cell) -> list[list[Cell]]:
    """One row per report a party owes, each opening with `head`, then the cells of `REPORT_COLUMNS`."""
    return [[*head, owed.in_force_on, r.period, r.due_on, r.submitted_on, r.status] for r in owed.reports]
