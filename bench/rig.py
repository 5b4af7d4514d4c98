"""The fault rig shared by bench/faults.py, bench/scale.py and tests/faults: a dedicated PostgreSQL cluster to
restart, `rapport` processes to SIGKILL and start again, and the real Segment client counting what it saw
acknowledged.

Loopback only. Nothing here touches the machine's shared PostgreSQL (5432) or NATS server beyond creating and
deleting streams of its own.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zlib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from subprocess import DEVNULL, PIPE
from typing import Any

import segment.analytics as analytics
import segment.analytics.consumer as segment_consumer

RAPPORT = str(Path(sys.executable).parent / "rapport")
# A `rapport` process that has loaded the whole command (imports take ~8 s on this machine), says so, and runs the
# real command line once its start line arrives on stdin: a supervisor's warm spare, so a restart after a SIGKILL is
# the time the command needs to open the store and listen, not the interpreter's import time.
_WARM = (
    "import os, sys\n"
    "from rapport.cli.main import app\n"
    "import uvicorn, rapport.api.app, rapport.web.customer_side, rapport.stream.worker, rapport.stream.trigger\n"
    "print('ready', flush=True)\n"
    "os.dup2(os.open(os.devnull, os.O_WRONLY), 1)\n"
    "if sys.stdin.readline().strip() == 'go':\n"
    "    app(sys.argv[1:], prog_name='rapport')\n"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


class DedicatedPostgres:
    """A PostgreSQL cluster of our own on a free port, created for a run and dropped afterwards.

    As root (CI, these machines) it is a Debian cluster (``pg_createcluster``; it runs as the postgres user and is
    restarted with ``pg_ctlcluster … restart``); as another user, ``initdb`` + ``pg_ctl`` under a temporary
    directory. Trust authentication on loopback, like the shared test server.
    """

    def __init__(self, version: str | None = None) -> None:
        self.version = version or sorted(os.listdir("/usr/lib/postgresql"), key=int)[-1]
        self.port = free_port()
        self.name = f"rapport_faults_{uuid.uuid4().hex[:8]}"
        self.debian = os.geteuid() == 0 and shutil.which("pg_createcluster") is not None
        self._dir = None if self.debian else Path(tempfile.mkdtemp(prefix="rapport-pg-"))

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def database(self) -> str:
        """A new, empty database on the cluster; its URL."""
        import psycopg

        name = f"rapport_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def create(self) -> DedicatedPostgres:
        if self.debian:
            subprocess.run(
                ["pg_createcluster", self.version, self.name, "-p", str(self.port), "--", "--auth=trust"],
                check=True,
                capture_output=True,
            )
        else:
            assert self._dir is not None
            subprocess.run(
                [self._bin("initdb"), "-D", str(self._dir / "data"), "-U", "postgres", "--auth=trust"],
                check=True,
                capture_output=True,
            )
        self.start()
        return self

    def start(self) -> None:
        self._ctl("start")

    def stop(self) -> None:
        self._ctl("stop")

    def restart(self) -> None:
        """A restart as an operator does it (fast shutdown: open connections are cut, transactions roll back)."""
        self._ctl("restart")

    def drop(self) -> None:
        if self.debian:
            subprocess.run(["pg_dropcluster", "--stop", self.version, self.name], check=False, capture_output=True)
        else:
            assert self._dir is not None
            self._ctl("stop", check=False)
            shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> DedicatedPostgres:
        return self.create()

    def __exit__(self, *exc: object) -> None:
        self.drop()

    def _bin(self, name: str) -> str:
        return f"/usr/lib/postgresql/{self.version}/bin/{name}"

    def _ctl(self, action: str, check: bool = True) -> None:
        if self.debian:
            command = ["pg_ctlcluster", "--skip-systemctl-redirect", self.version, self.name, action]
            if action in ("stop", "restart"):
                command += ["-m", "fast"]
        else:
            assert self._dir is not None
            command = [self._bin("pg_ctl"), "-D", str(self._dir / "data"), "-w", "-m", "fast", action]
            command += ["-o", f"-p {self.port} -k {self._dir} -c listen_addresses=127.0.0.1"]
            command += ["-l", str(self._dir / "log")]
        subprocess.run(command, check=check, capture_output=True)
        if action != "stop":
            deadline = time.monotonic() + 30
            while not _listening(self.port) and time.monotonic() < deadline:
                time.sleep(0.05)


class RapportProcess:
    """A `rapport …` command that is SIGKILLed and started again from a pool of warm spares (see _WARM).

    Args:
        args: the command line after ``rapport``.
        env: its environment (RAPPORT_DATABASE_URL and friends).
        port: the port it listens on (the API), to wait for; None for a worker.
        spares: warm processes kept loading ahead (0: every start is a cold ``rapport …``).
    """

    def __init__(self, args: list[str], env: dict[str, str], port: int | None = None, spares: int = 2) -> None:
        self.args, self.env, self.port, self.spares = args, env, port, spares
        self.proc: subprocess.Popen[bytes] | None = None
        self._pool: list[subprocess.Popen[bytes]] = [self._spawn() for _ in range(spares)]
        self._ready: set[int] = set()
        self.restart_seconds: list[float] = []

    def _spawn(self) -> subprocess.Popen[bytes]:
        # RAPPORT_BENCH_LOGS=DIR keeps each process's stderr (its log and any traceback) in DIR.
        logs = os.environ.get("RAPPORT_BENCH_LOGS")
        err: Any = DEVNULL
        if logs:
            Path(logs).mkdir(parents=True, exist_ok=True)
            err = open(Path(logs) / f"{self.args[0]}-{time.time_ns()}.log", "wb")  # noqa: SIM115 (the child owns it)
        if not self.spares:
            return subprocess.Popen([RAPPORT, *self.args], env=self.env, stdout=DEVNULL, stderr=err)
        command = [sys.executable, "-c", _WARM, *self.args]
        return subprocess.Popen(command, env=self.env, stdin=PIPE, stdout=PIPE, stderr=err)

    def spare_ready(self, wait: float = 0.0) -> bool:
        """Whether the next spare has loaded its imports (waiting up to ``wait`` seconds)."""
        if not self.spares:
            return True
        spare = self._pool[0]
        if spare.pid not in self._ready:
            assert spare.stdout is not None
            readable, _, _ = select.select([spare.stdout], [], [], wait)
            if not readable:
                return False
            if spare.stdout.readline().strip() != b"ready":
                raise RuntimeError(f"a warm `rapport {' '.join(self.args)}` died while loading")
            self._ready.add(spare.pid)
        return True

    def start(self) -> float:
        """Start the command; return once it listens (the API) or at once (a worker). Seconds it took."""
        began = time.monotonic()
        if self.spares:
            self.spare_ready(wait=300)
            self.proc = self._pool.pop(0)
            assert self.proc.stdin is not None
            self.proc.stdin.write(b"go\n")
            self.proc.stdin.flush()
            self._pool.append(self._spawn())  # loads while this one serves
        else:
            self.proc = self._spawn()
        deadline = time.monotonic() + 120
        while self.port and not _listening(self.port) and time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"rapport {' '.join(self.args)} exited with {self.proc.returncode}")
            time.sleep(0.01)
        return time.monotonic() - began

    def kill(self) -> None:
        """SIGKILL: no handler runs, nothing is flushed or closed."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def restart_after_kill(self) -> float:
        """SIGKILL the running process and start the next; seconds from the kill until it listens again."""
        began = time.monotonic()
        self.kill()
        self.start()
        self.restart_seconds.append(time.monotonic() - began)
        return self.restart_seconds[-1]

    def stop(self) -> None:
        for proc in [self.proc, *self._pool]:
            if proc is None or proc.poll() is not None:
                continue
            if proc is not self.proc and proc.stdin is not None:
                proc.stdin.close()  # a spare reads EOF and exits without running the command
            else:
                proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def rss_mib(self) -> float:
        """Resident memory of the running process (MiB), from /proc."""
        assert self.proc is not None
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0


@dataclass
class Acknowledgements:
    """What the Segment client saw: the events of every batch answered 2xx, each status, what it gave up on."""

    acked: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)  # seconds from track() to the batch's 2xx
    request_latencies: list[float] = field(default_factory=list)  # seconds from a batch's POST to its 2xx
    statuses: Counter[str] = field(default_factory=Counter)
    unavailable_without_retry_after: int = 0
    given_up: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


_HOOKED: dict[str, Acknowledgements] = {}  # by write key: the client module posts through one function


def _recording_post(original: Callable[..., Any]) -> Callable[..., Any]:
    def post(write_key: str, host: str | None = None, **kwargs: Any) -> Any:
        record = _HOOKED.get(write_key)
        batch = kwargs.get("batch") or []
        posted = time.monotonic()
        try:
            response = original(write_key, host, **kwargs)
        except segment_consumer.APIError as exc:
            if record is not None:
                with record.lock:
                    record.statuses[str(exc.status)] += 1
                    if exc.status == 503 and not (exc.response is not None and exc.response.headers.get("Retry-After")):
                        record.unavailable_without_retry_after += 1
            raise
        except Exception as exc:
            if record is not None:
                with record.lock:
                    record.statuses[type(exc).__name__] += 1
            raise
        if record is not None:  # 2xx: post() raises on anything else
            now = time.monotonic()
            with record.lock:
                record.statuses[str(response.status_code)] += 1
                record.acked.extend(m["messageId"] for m in batch)
                record.request_latencies.append(now - posted)
                record.latencies.extend(now - m["properties"]["t"] for m in batch if "t" in m.get("properties", {}))
        return response

    return post


segment_consumer.post = _recording_post(segment_consumer.post)


class SegmentSender:
    """The real segment-analytics-python client in its normal mode: a queue, a consumer thread uploading batches of
    ``upload_size`` to /v1/batch, retrying with back-off (and waiting out Retry-After) on failures.

    An event counts as acknowledged only once the client saw a 2xx for its batch (recorded where the client posts);
    batches the client gave up on arrive through its ``on_error`` callback.
    """

    def __init__(self, write_key: str, port: int, upload_size: int = 500, record: Acknowledgements | None = None):
        self.record = record or Acknowledgements()
        _HOOKED[write_key] = self.record
        self.client = analytics.Client(
            write_key,
            host=f"http://127.0.0.1:{port}",
            upload_size=upload_size,
            upload_interval=0.05,
            max_queue_size=0,  # unbounded: the bench enqueues everything at once
            timeout=15,
            max_retries=10,
            on_error=self._gave_up,
        )

    def _gave_up(self, error: Exception, batch: list[dict[str, Any]]) -> None:
        with self.record.lock:
            self.record.given_up.extend(m["messageId"] for m in batch)

    def send(self, ids: Iterable[str], users: int = 997, stamp: bool = False, prefix: str = "user") -> None:
        """Enqueue one track call per id from one of ``users`` people, the same for the same id whatever the order
        (a replay sends the very same events); ``stamp`` carries the enqueue time, for latency."""
        for message_id in ids:
            properties: dict[str, Any] = {"t": time.monotonic()} if stamp else {}
            user = f"{prefix}-{zlib.crc32(message_id.encode()) % users}"
            self.client.track(user_id=user, event="Viewed", properties=properties, message_id=message_id)

    def flush(self) -> None:
        self.client.flush()

    def close(self) -> None:
        self.client.join()
