"""The `treatywatch` command: run the platform, serve one service, manage API keys."""

from __future__ import annotations

import json
import os
import secrets
import signal
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress, TextColumn
from rich.table import Table

from treatywatch.cli.client import (
    ImportSummary,
    Ingest,
    IngestError,
    NotificationSummary,
    ResolutionSummary,
    document_files,
    status_files,
)
from treatywatch.cli.output import console
from treatywatch.cli.registry import app as registry_app
from treatywatch.cli.seed import DATA_DIR, Data, Seeded, SeedError, load_seed, wait_verified
from treatywatch.cli.stack import REPLICA_PORT_STEP, SERVICES, Broker, Ports, Stack, StackError
from treatywatch.common.settings import SCOPES, Settings, hash_key

app = typer.Typer(help="Treaty Watch: a live, auditable record of multilateral treaties.", no_args_is_help=True)
keys = typer.Typer(help="API keys.", no_args_is_help=True)
imports = typer.Typer(help="Import files through ingest.", no_args_is_help=True)
ingest = typer.Typer(help="Send documents to ingest.", no_args_is_help=True)
app.add_typer(keys, name="keys")
app.add_typer(imports, name="import")
app.add_typer(ingest, name="ingest")
app.add_typer(registry_app, name="registry")
IngestUrl = Annotated[str, typer.Option(envvar="TREATYWATCH_INGEST_URL", help="Ingest's base URL.")]
DataOption = Annotated[
    Path, typer.Option(envvar="TREATYWATCH_SEED_DATA", help="The data folder with untc/ and resolutions/.")
]
ApiKey = Annotated[
    str, typer.Option(envvar=["TREATYWATCH_API_KEY", "TREATYWATCH_DEV_API_KEY"], help="A key with ingest:write.")
]


SHOWN = 50
# One consumer per partition at most: more replicas than the event topic's partitions would idle.
MAX_REPLICAS: int = Settings.model_fields["topic_partitions"].default


def print_table(title: str, row: Mapping[str, int], seconds: float) -> None:
    """A one-row summary table: each column's name and figure, then the time taken."""
    table = Table(title=title)
    for column in (*row, "time"):
        table.add_column(column, justify="right")
    table.add_row(*(str(v) for v in row.values()), f"{seconds:.1f} s")
    console.print(table)


def print_lines(lines: list[str], what: str) -> None:
    """At most SHOWN lines, then how many more there were."""
    for line in lines[:SHOWN]:
        console.print(f"  {line}", highlight=False)
    if len(lines) > SHOWN:
        console.print(f"  ... and {len(lines) - SHOWN} more {what}")


def print_failures(failed: list[tuple[str, str]]) -> None:
    for name, reason in failed:
        console.print(f"  [red]failed[/] {name}: {reason}", highlight=False)


def print_summary(summary: ImportSummary) -> None:
    """The table that ends an import, then what was rejected or left unresolved."""
    figures = {"files": summary.files, "rows": summary.rows, "events": summary.events}
    counts = {"rejected": summary.rejected, "unresolved names": summary.unresolved, "failed files": summary.failed}
    print_table("UNTC import", {**figures, **{k: len(v) for k, v in counts.items()}}, summary.seconds)
    print_lines([f"rejected {name}:{line}: {reason}" for name, line, reason in summary.rejected], "rejected rows")
    if summary.unresolved:
        console.print("  names kept without an ISO code:", ", ".join(sorted(summary.unresolved)), highlight=False)
    print_failures(summary.failed)


@imports.command("untc")
def import_untc(
    paths: Annotated[list[Path], typer.Argument(help="Status files (CSV) or folders of them.", exists=True)],
    ingest_url: IngestUrl = "http://127.0.0.1:8001",
    api_key: ApiKey = "",
) -> None:
    """Import UN Treaty Collection status files; titles come from an index.csv beside them."""
    files = status_files(paths)
    client = Ingest(ingest_url, api_key)
    try:
        with Progress(*Progress.get_default_columns(), TextColumn("{task.fields[file]}"), console=console) as bar:
            task = bar.add_task("importing", total=len(files), file="")
            summary = client.import_files(files, lambda p: bar.update(task, advance=1, file=p.name))
    finally:
        client.close()
    print_summary(summary)
    if summary.failed:
        raise typer.Exit(1)


def print_resolutions(summary: ResolutionSummary, dry_run: bool) -> None:
    """The table that ends sending resolutions, then each warning, each field not found and each failure."""
    row = {
        "files": summary.files,
        "complete" if dry_run else "published": summary.published,
        "warnings": len(summary.warnings),
        "missing fields": len(summary.missing),
        "failures": len(summary.failed),
    }
    print_table("Resolutions" + (" (dry run)" if dry_run else ""), row, summary.seconds)
    print_lines([f"[yellow]warning[/] {name}: {warning}" for name, warning in summary.warnings], "warnings")
    for name, missing, reason in summary.missing:
        console.print(f"  [yellow]missing[/] {name}: {missing}: {reason}", highlight=False)
    print_failures(summary.failed)
    if dry_run:
        console.print("dry run: nothing was published")


def ingest_one_resolution(client: Ingest, path: Path, dry_run: bool) -> None:
    """One file: print what ingest read (on a dry run, complete or not), or why it was refused."""
    try:
        result = client.resolution(path, dry_run=dry_run)
    except IngestError as exc:
        console.print(f"[red]refused:[/] {exc}", highlight=False)
        raise typer.Exit(1) from exc
    console.print_json(data=result)


@ingest.command("resolution")
def ingest_resolution(
    paths: Annotated[list[Path], typer.Argument(help="Resolutions (.txt or .pdf) or folders of them.", exists=True)],
    dry_run: Annotated[bool, typer.Option(help="Parse only; publish nothing.")] = False,
    ingest_url: IngestUrl = "http://127.0.0.1:8001",
    api_key: ApiKey = "",
) -> None:
    """Send General Assembly resolutions to ingest, which publishes each one it reads whole.

    One file prints what was read; several files, or a folder, show a progress bar and end with a summary. Exits
    with 1 when ingest refused any (a resolution lacking a required field among them).
    """
    client = Ingest(ingest_url, api_key)
    try:
        if len(paths) == 1 and paths[0].is_file():
            ingest_one_resolution(client, paths[0], dry_run)
            return
        files = document_files(paths)
        with Progress(*Progress.get_default_columns(), TextColumn("{task.fields[file]}"), console=console) as bar:
            task = bar.add_task("sending", total=len(files), file="")
            summary = client.send_resolutions(
                files, lambda p: bar.update(task, advance=1, file=p.name), dry_run=dry_run
            )
    finally:
        client.close()
    print_resolutions(summary, dry_run)
    if summary.failed:
        raise typer.Exit(1)


def print_notifications(summary: NotificationSummary, dry_run: bool) -> None:
    """The table that ends sending notifications, then each warning and each failure with its reason."""
    row = {
        "files": summary.files,
        "events": summary.events,
        "warnings": len(summary.warnings),
        "failures": len(summary.failed),
    }
    print_table("Depositary notifications" + (" (dry run)" if dry_run else ""), row, summary.seconds)
    print_lines([f"[yellow]warning[/] {name}: {warning}" for name, warning in summary.warnings], "warnings")
    print_failures(summary.failed)
    if dry_run:
        console.print("dry run: nothing was published")


@ingest.command("notification")
def ingest_notification(
    paths: Annotated[list[Path], typer.Argument(help="Notifications (.txt or .pdf) or folders of them.", exists=True)],
    dry_run: Annotated[bool, typer.Option(help="Parse only; publish nothing.")] = False,
    ingest_url: IngestUrl = "http://127.0.0.1:8001",
    api_key: ApiKey = "",
) -> None:
    """Send depositary notifications (C.N.s) to ingest, which publishes the acts they announce."""
    files = document_files(paths)
    client = Ingest(ingest_url, api_key)
    try:
        with Progress(*Progress.get_default_columns(), TextColumn("{task.fields[file]}"), console=console) as bar:
            task = bar.add_task("sending", total=len(files), file="")
            summary = client.send_notifications(
                files, lambda p: bar.update(task, advance=1, file=p.name), dry_run=dry_run
            )
    finally:
        client.close()
    print_notifications(summary, dry_run)
    if summary.failed:
        raise typer.Exit(1)


def print_seeded(seeded: Seeded) -> None:
    summary = seeded.summary
    console.print(
        f"Loaded: XXVI-5 (Mine Ban Convention) rules; {summary.rows} rows, {summary.events} events, "
        f"{len(summary.rejected)} rejected; resolution {seeded.symbol} ({seeded.warnings} parser warnings)",
        highlight=False,
    )


def load_and_verify(stack: Stack, data: Data) -> None:
    """`run`'s seed: a missing or unverified seed is reported, and the platform keeps running."""
    client = Ingest(stack.url("ingest"), stack.api_key)
    try:
        seeded = load_seed(client, data)
        print_seeded(seeded)
        found = wait_verified(stack.url("registry"), seeded.symbol, 60)
        console.print(f"The registry verifies the seed's claim: {found} parties on 2009-12-02")
    except (SeedError, IngestError) as exc:
        console.print(f"[yellow]seed:[/] {exc}", highlight=False)
    finally:
        client.close()


@app.command("seed")
def seed_command(
    data: DataOption = DATA_DIR,
    ingest_url: IngestUrl = "http://127.0.0.1:8001",
    api_key: ApiKey = "",
    registry_url: Annotated[
        str | None,
        typer.Option(envvar="TREATYWATCH_REGISTRY_URL", help="Wait until this registry verifies the seed's claim."),
    ] = None,
    wait: Annotated[float, typer.Option(help="Seconds to wait for the registry.")] = 120,
) -> None:
    """Load the Mine Ban Convention and resolution 64/56 through ingest; running it again doubles nothing."""
    client = Ingest(ingest_url, api_key)
    try:
        seeded = load_seed(client, Data(data))
        print_seeded(seeded)
        if registry_url:
            found = wait_verified(registry_url, seeded.symbol, wait)
            console.print(f"The registry verifies the seed's claim: {found} parties on 2009-12-02")
    except (SeedError, IngestError) as exc:
        console.print(f"[red]seed failed:[/] {exc}", highlight=False)
        raise typer.Exit(1) from exc
    finally:
        client.close()


def port(what: str) -> Any:
    """A port option of `run`, also read from TREATYWATCH_<WHAT>_PORT."""
    return typer.Option(f"--{what}-port", envvar=f"TREATYWATCH_{what.upper()}_PORT", min=1, max=65535)


@app.command()
def run(
    data_dir: Annotated[
        Path, typer.Option(envvar="TREATYWATCH_STATE_DIR", help="Where the embedded servers keep their data.")
    ] = Path(".data"),
    seed: Annotated[bool, typer.Option(help="Load the Mine Ban Convention and resolution 64/56.")] = True,
    seed_data: DataOption = DATA_DIR,
    ingest_port: Annotated[int, port("ingest")] = Ports.ingest,
    registry_port: Annotated[int, port("registry")] = Ports.registry,
    notify_port: Annotated[int, port("notify")] = Ports.notify,
    kafka_port: Annotated[int, port("kafka")] = Ports.kafka,
    mongo_port: Annotated[int, port("mongo")] = Ports.mongo,
    replicas: Annotated[
        int,
        typer.Option(
            min=1,
            max=MAX_REPLICAS,
            envvar="TREATYWATCH_REPLICAS",
            help=f"Processes of each service; replica i listens on its service's port + {REPLICA_PORT_STEP} x i.",
        ),
    ] = 1,
    broker: Annotated[
        Broker,
        typer.Option(
            envvar="TREATYWATCH_BROKER",
            help="The embedded Kafka-protocol broker; tansu keeps nothing across restarts (see the README's Brokers).",
        ),
    ] = "noida-db",
) -> None:
    """Run the whole platform on the embedded default until Ctrl-C; data is kept for next time.

    A second platform beside a running one needs other ports and another data folder.
    """
    started = time.monotonic()
    api_key = os.environ.get("TREATYWATCH_DEV_API_KEY") or "twdev_" + secrets.token_urlsafe(24)
    stack = Stack(
        data_dir=data_dir,
        ports=Ports(kafka_port, mongo_port, ingest_port, registry_port, notify_port),
        api_key=api_key,
        kafka_bootstrap=os.environ.get("TREATYWATCH_KAFKA_BOOTSTRAP"),
        mongo_url=os.environ.get("TREATYWATCH_MONGO_URL"),
        replicas=replicas,
        broker=broker,
    )
    stopping = False

    def on_signal(signum: int, _: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    try:
        with console.status("starting the broker and the database"):
            stack.start_servers()
        with console.status(f"starting ingest, registry and notify ({replicas} of each)"):
            stack.start_services()
            stack.wait_ready()
        if seed:
            with console.status("loading the seed"):
                load_and_verify(stack, Data(seed_data))
        console.print(f"[green]Treaty Watch is ready[/] in {time.monotonic() - started:.1f} s\n")
        console.print(f"  [bold]dashboard[/] {stack.url('registry')}/ui/", highlight=False)
        for service in SERVICES:
            console.print(f"  {service:<9} {stack.url(service)}   (docs: {stack.url(service)}/docs)")
            for replica in range(1, replicas):
                console.print(f"  {'':<9} {stack.url(service, replica)}   (replica {replica})")
        console.print(f"  broker    {stack.kafka_bootstrap}\n  database  {stack.mongo_url}")
        console.print(f"  logs      {stack.log_dir}/\n\nDevelopment API key (every scope): [bold]{api_key}[/]\n")
        console.print("Try:", highlight=False)
        console.print(f"  curl -s '{stack.url('registry')}/v1/treaties/XXVI-5/stats?as_of=2009-12-02'", highlight=False)
        console.print(
            f"  curl -s -X POST {stack.url('ingest')}/v1/events -H 'Authorization: Bearer {api_key}' "
            "-H 'Content-Type: application/json' -d '"
            + json.dumps(
                {
                    "type": "treaty.action.recorded",
                    "source": "/cli/example",
                    "data": {
                        "treaty_id": "XXVI-5",
                        "participant": "USA",
                        "action": "signature",
                        "date": "2026-11-27",
                    },
                }
            )
            + "'\n",
            highlight=False,
        )
        console.print("Ctrl-C stops everything (data is kept in the data folder).")
        while not stopping:
            for name, process in stack.processes.items():
                if process.poll() is not None:
                    raise StackError(f"{name} exited with code {process.returncode}:\n{stack.log_tail(name)}")
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    except StackError as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from exc
    finally:
        with console.status("stopping"):
            stack.stop()
        console.print("stopped; data kept in", str(data_dir))


@app.command()
def serve(service: Annotated[str, typer.Argument(help="ingest, registry or notify")]) -> None:
    """Run one service in the foreground (configured by TREATYWATCH_* variables)."""
    if service not in SERVICES:
        raise typer.BadParameter(f"choose one of {', '.join(SERVICES)}")
    module = __import__(f"treatywatch.{service}.app", fromlist=["main"])
    module.main()


@keys.command("new")
def new_key(
    name: Annotated[str, typer.Option(help="Who the key is for.")],
    scope: Annotated[list[str], typer.Option(help=f"Scopes: {', '.join(SCOPES)}.")],
) -> None:
    """Make an API key: print it once, and the hashed entry for TREATYWATCH_API_KEYS."""
    unknown = set(scope) - set(SCOPES)
    if unknown:
        raise typer.BadParameter(f"unknown scopes {sorted(unknown)}; choose from {', '.join(SCOPES)}")
    raw = "tw_" + secrets.token_urlsafe(32)
    console.print(f"key (shown once): {raw}")
    console.print(
        "entry for TREATYWATCH_API_KEYS:",
        json.dumps({"name": name, "sha256": hash_key(raw), "scopes": scope}),
    )


if __name__ == "__main__":
    app()
