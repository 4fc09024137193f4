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
    """Ingest refused a request; the message carries its problem details."""


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


NOTIFICATION_SUFFIXES = (".txt", ".pdf")


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
                raise IngestError(f"{response.status_code} {detail}" + (f" ({errors})" if errors else ""))
            return response.json()

    def import_untc(self, path: Path, titles: dict[str, tuple[str, str]]) -> Any:
        treaty_id = treaty_id_of(path)
        params = {"treaty_id": treaty_id}
        if treaty_id in titles:
            params["title"], params["url"] = titles[treaty_id]
        return self._post("/v1/imports/untc", path.read_bytes(), "text/csv", params)

    def resolution(self, path: Path, dry_run: bool = False) -> Any:
        params = {"dry_run": "true"} if dry_run else None
        return self._post("/v1/resolutions", path.read_bytes(), "text/plain", params)

    def notification(self, path: Path, dry_run: bool = False) -> Any:
        """Send one notification file: a PDF (by its name or its `%PDF-` header) as application/pdf, else as text."""
        content = path.read_bytes()
        pdf = path.suffix.lower() == ".pdf" or content.startswith(b"%PDF-")
        params = {"dry_run": "true"} if dry_run else None
        return self._post("/v1/notifications", content, "application/pdf" if pdf else "text/plain", params)

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


def notification_files(paths: list[Path]) -> list[Path]:
    """The files named, and the `.txt` and `.pdf` files inside the folders named (sorted, subfolders too)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in NOTIFICATION_SUFFIXES)
        else:
            found.append(path)
    return found
