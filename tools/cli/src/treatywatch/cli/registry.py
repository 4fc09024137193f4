"""`treatywatch registry`: maintenance of the registry's database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated

import typer

from treatywatch.cli.output import console
from treatywatch.registry.app import RegistrySettings
from treatywatch.registry.rebuild import RebuildError, rebuild

app = typer.Typer(help="The registry's database.", no_args_is_help=True)


@app.callback()
def registry() -> None:
    """Maintain the registry's database (configured by TREATYWATCH_* variables)."""


@app.command("rebuild")
def rebuild_command(
    into: Annotated[
        str | None, typer.Option(help="The fresh database; default treatywatch_registry_<UTC time>.")
    ] = None,
    group: Annotated[str | None, typer.Option(help="The new consumer group; default the database's name.")] = None,
) -> None:
    """Rebuild every collection from the topic, from the beginning to its end now, into a fresh database."""
    settings = RegistrySettings()
    database = into or f"treatywatch_registry_{datetime.now(UTC):%Y%m%d%H%M%S}"
    try:
        with console.status(f"rebuilding {database} from {settings.topic}") as status:
            result = asyncio.run(
                rebuild(settings, database, group or database, lambda n: status.update(f"{n} records read"))
            )
    except RebuildError as exc:
        console.print(f"[red]cannot rebuild:[/] {exc}")
        raise typer.Exit(1) from exc
    console.print(
        f"rebuilt {result.database}: {result.records} records read, {result.events} events applied, "
        f"{result.dead_letters} dead letters",
        highlight=False,
    )
    console.print(
        f"to switch the registry to it: TREATYWATCH_MONGO_DB={result.database} TREATYWATCH_GROUP_ID={result.group_id}",
        highlight=False,
    )


if __name__ == "__main__":
    app()
