"""Start, supervise and stop the local stack under var/: Postgres, Redis, anvil and the app processes."""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_PY = ROOT / ".venv" / "bin" / "python"
ANVIL = ROOT / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"
# Unix socket paths are limited to about 107 bytes; deeper project folders use a short temp dir.
MAX_SOCKET_DIR = 80
READY_TIMEOUT_S = 30


def log(message: str) -> None:
    print(f"[stack] {message}", flush=True)


def free_port(preferred: int | None = None) -> int:
    """A TCP port nobody listens on now; `preferred` when it is free."""
    candidates = [preferred] if preferred else []
    for port in [*candidates, 0]:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(s.getsockname()[1])
    raise RuntimeError("no free TCP port")


def postgres_bindir() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise SystemExit("PostgreSQL server binaries not found; run scripts/bootstrap.sh (it installs them).")


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    stop_signal: int = signal.SIGTERM


@dataclass
class Stack:
    base: Path
    persistent: bool
    procs: list[Proc] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    _short_dir: Path | None = None

    # -- process plumbing -------------------------------------------------------------------
    def spawn(self, name: str, argv: list[str], *, stop_signal: int = signal.SIGTERM, **kwargs: object) -> Proc:
        logfile = open(self.base / "logs" / f"{name}.log", "ab")  # noqa: SIM115 - lives as long as the child
        popen = subprocess.Popen(  # noqa: S603 - argv is ours
            argv,
            stdout=logfile,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C reaches only us; we stop children in order
            cwd=ROOT,
            **kwargs,  # type: ignore[arg-type]
        )
        proc = Proc(name, popen, stop_signal)
        self.procs.append(proc)
        return proc

    def stop(self) -> None:
        """Stop app processes first, then the services they use; SIGKILL whatever lingers."""
        for proc in reversed(self.procs):
            if proc.popen.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.popen.pid, proc.stop_signal)
        deadline = time.monotonic() + 15
        for proc in reversed(self.procs):
            remaining = max(0.1, deadline - time.monotonic())
            try:
                proc.popen.wait(timeout=remaining)
            except subprocess.TimeoutExpired:
                log(f"{proc.name} did not stop in time; killing it")
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.popen.pid, signal.SIGKILL)
                proc.popen.wait()
        self.procs.clear()
        if self._short_dir is not None:
            shutil.rmtree(self._short_dir, ignore_errors=True)

    def check_alive(self) -> Proc | None:
        for proc in self.procs:
            if proc.popen.poll() is not None:
                return proc
        return None

    # -- services ---------------------------------------------------------------------------
    def socket_dir(self) -> Path:
        wanted = self.base / "sock"
        if len(str(wanted)) <= MAX_SOCKET_DIR:
            wanted.mkdir(parents=True, exist_ok=True)
            return wanted
        self._short_dir = Path(tempfile.mkdtemp(prefix="exos-"))
        return self._short_dir

    def start_postgres(self) -> str:
        bindir = postgres_bindir()
        data = self.base / "pgdata"
        sock = self.socket_dir()
        as_root = os.geteuid() == 0
        run_as: dict[str, object] = {}
        if as_root:
            # Postgres refuses to run as root; the Debian image has a postgres user for this.
            pw = pwd.getpwnam("postgres")
            run_as = {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}
            os.chown(sock, pw.pw_uid, pw.pw_gid)
        if not (data / "PG_VERSION").exists():
            data.mkdir(parents=True, exist_ok=True)
            if as_root:
                os.chown(data, run_as["user"], run_as["group"])  # type: ignore[arg-type]
            subprocess.run(  # noqa: S603
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    "exchange",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--no-instructions",
                    "--locale=C",
                ],
                check=True,
                stdout=subprocess.DEVNULL,
                cwd="/",
                **run_as,  # type: ignore[arg-type]
            )
        port = "5432"  # names the socket file only: TCP is off, so no port can clash
        self.spawn(
            "postgres",
            [
                str(bindir / "postgres"),
                "-D",
                str(data),
                "-k",
                str(sock),
                "-p",
                port,
                "-c",
                "listen_addresses=",
                "-c",
                "fsync=off" if not self.persistent else "fsync=on",
                "-c",
                "max_connections=200",
            ],
            stop_signal=signal.SIGINT,  # "fast" shutdown: SIGTERM would wait for clients to leave
            **run_as,
        )
        url = f"postgres://exchange@{str(sock).replace('/', '%2F')}:{port}/exchange"
        self._wait_postgres(sock, port)
        return url

    def _wait_postgres(self, sock: Path, port: str) -> None:
        import psycopg

        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            try:
                with psycopg.connect(
                    host=str(sock), port=port, user="exchange", dbname="postgres", autocommit=True
                ) as conn:
                    exists = conn.execute("select 1 from pg_database where datname='exchange'").fetchone()
                    if not exists:
                        conn.execute("create database exchange")
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline or self.check_alive():
                    raise SystemExit(f"Postgres did not start; see {self.base / 'logs' / 'postgres.log'}") from None
                time.sleep(0.1)

    def start_redis(self) -> str:
        redis = shutil.which("redis-server")
        if not redis:
            raise SystemExit("redis-server not found; run scripts/bootstrap.sh (it installs it).")
        port = free_port()
        (self.base / "redis").mkdir(exist_ok=True)
        save = ["--save", "60", "1"] if self.persistent else ["--save", "", "--appendonly", "no"]
        self.spawn(
            "redis", [redis, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(self.base / "redis"), *save]
        )
        wait_tcp("redis", port, self, probe=b"PING\r\n", expect=b"+PONG")
        return f"redis://127.0.0.1:{port}/0"

    def start_anvil(self) -> str:
        if not ANVIL.exists():
            raise SystemExit("anvil not found; run scripts/bootstrap.sh (npm installs it).")
        port = free_port()
        argv = [str(ANVIL), "--port", str(port), "--host", "127.0.0.1", "--chain-id", "31337", "--silent"]
        if self.persistent:
            # The chain survives restarts alongside the database that indexes it.
            argv += ["--state", str(self.base / "anvil-state.json")]
        self.spawn("anvil", argv, stop_signal=signal.SIGINT)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            try:
                body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}).encode()
                req = urllib.request.Request(url, body, {"Content-Type": "application/json"})
                with urllib.request.urlopen(req, timeout=1) as resp:  # noqa: S310 - loopback only
                    if json.loads(resp.read())["result"]:
                        return url
            except OSError:
                if time.monotonic() > deadline or self.check_alive():
                    raise SystemExit(f"anvil did not start; see {self.base / 'logs' / 'anvil.log'}") from None
                time.sleep(0.05)

    def start_services(self) -> None:
        (self.base / "logs").mkdir(parents=True, exist_ok=True)
        self.env["DATABASE_URL"] = self.start_postgres()
        self.env["REDIS_URL"] = self.start_redis()
        self.env["CHAIN_RPC_URL"] = self.start_anvil()
        self.env["CHAIN_ID"] = "31337"
        (self.base / "stack.env").write_text("".join(f"{k}={v}\n" for k, v in sorted(self.env.items())))


def wait_tcp(name: str, port: int, stack: Stack, *, probe: bytes, expect: bytes) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(probe)
                if s.recv(64).startswith(expect):
                    return
        except OSError:
            pass
        if time.monotonic() > deadline or stack.check_alive():
            raise SystemExit(f"{name} did not start; see {stack.base / 'logs' / (name + '.log')}")
        time.sleep(0.05)


def wait_healthy(port: int, stack: Stack) -> None:
    """Wait until /healthz reports every part ok: the web answers before the Celery worker's first
    heartbeat, and "up" should mean what /healthz says. Past the deadline, say which parts are
    not ok and carry on, so their logs can be read with the rest running."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    waiting: list[str] = []
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as resp:  # noqa: S310 - loopback only
                report = json.loads(resp.read())
        except OSError as exc:  # a 503 (some part not ok) carries the same report
            report = json.loads(exc.read()) if isinstance(exc, urllib.error.HTTPError) else {"parts": {}}
        if report.get("ok"):
            return
        now = sorted(name for name, part in report.get("parts", {}).items() if not part.get("ok"))
        if now != waiting:
            waiting = now
            log(f"waiting for: {', '.join(now) or 'the web'}")
        if time.monotonic() > deadline or stack.check_alive():
            log(f"not all parts are ok after {READY_TIMEOUT_S} s ({', '.join(now)}); see {stack.base / 'logs'}")
            return
        time.sleep(0.5)


def child_env(stack: Stack, settings: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(stack.env)
    env["DJANGO_SETTINGS_MODULE"] = settings
    env["PYTHONUNBUFFERED"] = "1"
    env["PATH"] = f"{ROOT / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return env


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([str(VENV_PY), "manage.py", *args], check=True, cwd=ROOT, env=env)  # noqa: S603


def has_command(name: str) -> bool:
    return any(ROOT.glob(f"*/management/commands/{name}.py"))


def cmd_run(args: argparse.Namespace) -> int:
    stack = Stack(base=ROOT / "var" / "run", persistent=True)
    stack.base.mkdir(parents=True, exist_ok=True)
    # One stack per folder: a second `make run` would fight the first over the same cluster.
    lock = open(stack.base / "stack.lock", "a+")  # noqa: SIM115 - held for the whole run
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.seek(0)
        raise SystemExit(f"Another `make run` is already running here (pid {lock.read().strip() or '?'}).") from None
    lock.seek(0)
    lock.truncate()
    lock.write(str(os.getpid()))
    lock.flush()
    stopping = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        stack.start_services()
        env = child_env(stack, "exchange_os_web.settings.local")
        manage(env, "migrate", "--noinput")
        for command in ("deploy_contracts", "seed_demo"):
            if has_command(command):
                manage(env, command)
        port = free_port(args.port)
        stack.spawn(
            "web",
            [
                str(ROOT / ".venv/bin/uvicorn"),
                "exchange_os_web.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--lifespan",
                "off",
            ],
            env=env,
        )
        stack.spawn(
            "worker",
            [
                str(ROOT / ".venv/bin/celery"),
                "-A",
                "exchange_os_web",
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                "2",
                "-n",
                "worker@%h",
            ],
            env=env,
        )
        stack.spawn(
            "beat",
            [
                str(ROOT / ".venv/bin/celery"),
                "-A",
                "exchange_os_web",
                "beat",
                "--loglevel",
                "INFO",
                "--schedule",
                str(stack.base / "celerybeat-schedule"),
            ],
            env=env,
        )
        if has_command("run_engine"):
            stack.spawn("sequencer", [str(VENV_PY), "manage.py", "run_engine"], env=env)
        wait_tcp("web", port, stack, probe=b"GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n", expect=b"HTTP/1.1")
        wait_healthy(port, stack)
        log(f"Exchange OS is up: open http://localhost:{port}/  (status: http://localhost:{port}/healthz)")
        log(f"logs in {stack.base / 'logs'}; Ctrl-C stops everything")
        while not stopping:
            dead = stack.check_alive()
            if dead is not None:
                log(f"{dead.name} exited with code {dead.popen.returncode}; see {stack.base / 'logs' / dead.name}.log")
                return 1
            time.sleep(0.5)
        return 0
    finally:
        log("stopping…")
        stack.stop()
        log("stopped")


def cmd_test(args: argparse.Namespace) -> int:
    base = ROOT / "var" / "test" / f"{os.getpid()}"
    stack = Stack(base=base, persistent=False)
    base.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        stack.start_services()
        env = child_env(stack, "exchange_os_web.settings.test")
        env["STACK_LOG_DIR"] = str(base / "logs")
        result = subprocess.run([str(VENV_PY), "-m", "pytest", *args.pytest_args], cwd=ROOT, env=env)  # noqa: S603
        return result.returncode
    except KeyboardInterrupt:
        return 130
    finally:
        stack.stop()
        shutil.rmtree(base, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the whole product until Ctrl-C")
    run.add_argument("--port", type=int, default=8000, help="preferred web port (another is chosen if taken)")
    test = sub.add_parser("test", help="run pytest against throwaway services")
    test.add_argument("pytest_args", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    return cmd_run(args) if args.command == "run" else cmd_test(args)


if __name__ == "__main__":
    sys.exit(main())
