"""A small client of ingest's HTTP API, with retries while the broker is unavailable."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from treatywatch.ingest.untc import read_index, untc_treaty_id


class IngestError(RuntimeError):
    """Ingest refused a request; the message carries its problem details, `problem` the whole document."""

    def __init__(self, message: str, problem: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.problem = problem or {}


@dataclass
class ImportSummary:
    files: int = 0
    rows: int = 0
    events: int = 0
    rejected: list[tuple[str, int, str]] = field(default_factory=list)
    unresolved: set[str] = field(default_factory=set)
    failed: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class NotificationSummary:
    """What sending depositary notifications did: files read, events published, warnings and failures by file."""

    files: int = 0
    events: int = 0
    warnings: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class ResolutionSummary:
    """What sending resolutions did: files read, resolutions published (on a dry run, complete), and by file the
    warnings, the required fields not found (file, field, reason) and the failures."""

    files: int = 0
    published: int = 0
    warnings: list[tuple[str, str]] = field(default_factory=list)
    missing: list[tuple[str, str, str]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0


# Documents (resolutions, notifications) are sent as text or as their PDF.
DOCUMENT_SUFFIXES = (".txt", ".pdf")


def document(path: Path) -> tuple[bytes, str]:
    """A document file's bytes and media type: a PDF (by its name or its `%PDF-` header), else text."""
    content = path.read_bytes()
    pdf = path.suffix.lower() == ".pdf" or content.startswith(b"%PDF-")
    return content, "application/pdf" if pdf else "text/plain"


def treaty_id_of(path: Path) -> str:
    """The UNTC id of a status file by its name (`26-5.csv` -> `XXVI-5`)."""
    return untc_treaty_id(path.stem)


def read_titles(folder: Path) -> dict[str, tuple[str, str]]:
    """Titles and URLs from the snapshot's `index.csv`, where there is one beside the treaties folder."""
    for candidate in (folder / "index.csv", folder.parent / "index.csv"):
        if candidate.exists():
            return {k: (v.title, v.url) for k, v in read_index(candidate.read_text(encoding="utf-8")).items()}
    return {}


class Ingest:
    """Posts to ingest; a 503 (broker down) is retried with its Retry-After until `patience_s` runs out."""

    def __init__(self, base_url: str, api_key: str, patience_s: float = 120) -> None:
        self._http = httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {api_key}"}, timeout=60)
        self._patience = patience_s

    def close(self) -> None:
        self._http.close()

    def _post(self, path: str, content: bytes, media: str, params: dict[str, str] | None = None) -> Any:
        deadline = time.monotonic() + self._patience
        while True:
            try:
                response = self._http.post(path, content=content, params=params, headers={"Content-Type": media})
            except httpx.TransportError as exc:
                if time.monotonic() > deadline:
                    raise IngestError(f"ingest is unreachable: {exc}") from exc
                time.sleep(1)
                continue
            if response.status_code == 503 and time.monotonic() < deadline:
                time.sleep(float(response.headers.get("Retry-After", "2")))
                continue
            if response.status_code >= 400:
                body = response.json() if "json" in response.headers.get("content-type", "") else {}
                detail = body.get("detail", response.text)
                # What the detail already says (a notification's missing parts) is not repeated.
                listed = [e for e in body.get("errors", []) if str(e.get("message")) not in detail]
                errors = "; ".join(f"{e.get('path')}: {e.get('message')}" for e in listed[:5])
                raise IngestError(f"{response.status_code} {detail}" + (f" ({errors})" if errors else ""), body)
            return response.json()

    def import_untc(self, path: Path, titles: dict[str, tuple[str, str]]) -> Any:
        treaty_id = treaty_id_of(path)
        params = {"treaty_id": treaty_id}
        if treaty_id in titles:
            params["title"], params["url"] = titles[treaty_id]
        return self._post("/v1/imports/untc", path.read_bytes(), "text/csv", params)

    def resolution(self, path: Path, dry_run: bool = False) -> Any:
        """Send one resolution file, its text or its PDF."""
        params = {"dry_run": "true"} if dry_run else None
        return self._post("/v1/resolutions", *document(path), params)

    def send_resolutions(
        self, paths: list[Path], progress: Callable[[Path], None] | None = None, dry_run: bool = False
    ) -> ResolutionSummary:
        """Send resolution files one by one; a file ingest refuses is listed with the reason (and, for one that lacks
        required fields, each of them), and the rest go on."""
        started = time.monotonic()
        summary = ResolutionSummary()
        for path in paths:
            try:
                result = self.resolution(path, dry_run=dry_run)
            except (IngestError, OSError) as exc:
                problem = exc.problem if isinstance(exc, IngestError) else {}
                # A text that is no resolution at all names the parts it lacks, not fields.
                missing = [m for m in problem.get("missing", []) if isinstance(m, dict)]
                # The fields not found are listed apart: the failure only says that it was refused.
                reason = f"{problem.get('status')} {problem.get('detail')}" if missing else str(exc)
                summary.failed.append((path.name, reason))
            else:
                summary.files += 1
                missing = result["missing"]
                summary.published += 0 if missing else 1
                # The parser also warns of each field it did not find, which `missing` lists already.
                listed = {m["reason"] for m in missing}
                summary.warnings += [(path.name, w) for w in result["warnings"] if w not in listed]
            summary.missing += [(path.name, m["field"], m["reason"]) for m in missing]
            if progress:
                progress(path)
        summary.seconds = time.monotonic() - started
        return summary

    def notification(self, path: Path, dry_run: bool = False) -> Any:
        """Send one notification file, its text or its PDF."""
        params = {"dry_run": "true"} if dry_run else None
        return self._post("/v1/notifications", *document(path), params)

    def send_notifications(
        self, paths: list[Path], progress: Callable[[Path], None] | None = None, dry_run: bool = False
    ) -> NotificationSummary:
        """Send notification files one by one; a file ingest refuses is listed with the reason, and the rest go on."""
        started = time.monotonic()
        summary = NotificationSummary()
        for path in paths:
            try:
                result = self.notification(path, dry_run=dry_run)
            except (IngestError, OSError) as exc:
                summary.failed.append((path.name, str(exc)))
            else:
                summary.files += 1
                summary.events += len(result["events"])
                summary.warnings += [(path.name, warning) for warning in result["warnings"]]
            if progress:
                progress(path)
        summary.seconds = time.monotonic() - started
        return summary

    def import_files(self, paths: list[Path], progress: Callable[[Path], None] | None = None) -> ImportSummary:
        """Import status files one by one; a file ingest refuses is listed, and the rest go on."""
        started = time.monotonic()
        summary = ImportSummary()
        titles: dict[Path, dict[str, tuple[str, str]]] = {}
        for path in paths:
            folder_titles = titles.setdefault(path.parent, read_titles(path.parent))
            try:
                result = self.import_untc(path, folder_titles)
            except (IngestError, ValueError) as exc:
                summary.failed.append((path.name, str(exc)))
            else:
                summary.files += 1
                summary.rows += result["rows"]
                summary.events += result["events"]
                summary.rejected += [(path.name, r["line"], r["reason"]) for r in result["rejected"]]
                summary.unresolved |= set(result["unresolved"])
            if progress:
                progress(path)
        summary.seconds = time.monotonic() - started
        return summary


def status_files(paths: list[Path]) -> list[Path]:
    """The CSV files named, and those inside the folders named, in a stable order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*.csv") if p.name != "index.csv")
        else:
            found.append(path)
    return found


def document_files(paths: list[Path]) -> list[Path]:
    """The files named, and the `.txt` and `.pdf` files inside the folders named (sorted, subfolders too)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in DOCUMENT_SUFFIXES)
        else:
            found.append(path)
    return found
