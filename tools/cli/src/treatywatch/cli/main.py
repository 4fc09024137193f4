"""The `treatywatch` command: run the platform, serve one service, manage API keys."""

from __future__ import annotations

import json
import os
import secrets
import signal
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from treatywatch.cli.stack import SERVICES, Stack, StackError
from treatywatch.common.settings import SCOPES, hash_key

app = typer.Typer(help="Treaty Watch: a live, auditable record of multilateral treaties.", no_args_is_help=True)
keys = typer.Typer(help="API keys.", no_args_is_help=True)
app.add_typer(keys, name="keys")
console = Console()


@app.command()
def run(
    data_dir: Annotated[Path, typer.Option(help="Where the embedded servers keep their data.")] = Path(".data"),
) -> None:
    """Run the whole platform on the embedded default until Ctrl-C; data is kept for next time."""
    started = time.monotonic()
    api_key = os.environ.get("TREATYWATCH_DEV_API_KEY") or "twdev_" + secrets.token_urlsafe(24)
    stack = Stack(
        data_dir=data_dir,
        api_key=api_key,
        kafka_bootstrap=os.environ.get("TREATYWATCH_KAFKA_BOOTSTRAP"),
        mongo_url=os.environ.get("TREATYWATCH_MONGO_URL"),
    )
    stopping = False

    def on_signal(signum: int, _: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    try:
        with console.status("starting the broker and the database"):
            stack.start_servers()
        with console.status("starting ingest, registry and notify"):
            stack.start_services()
            stack.wait_ready()
        console.print(f"[green]Treaty Watch is ready[/] in {time.monotonic() - started:.1f} s\n")
        for service in SERVICES:
            console.print(f"  {service:<9} {stack.url(service)}   (docs: {stack.url(service)}/docs)")
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
                    "data": {"treaty_id": "XXVI-5", "participant": "USA", "action": "signature", "date": "2026-11-27"},
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
    console.print("entry for TREATYWATCH_API_KEYS:", json.dumps({"name": name, "sha256": hash_key(raw), "scopes": scope}))
if __name__ == "__main__":
    app()
