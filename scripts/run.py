"""`make run`: start the five services, wait until each is ready, say what to try; Ctrl-C or
SIGTERM stops them all and exits 0."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

from livechat_shared.runtime.serving import (
    GRACEFUL_SHUTDOWN_SECONDS,
    SERVICES,
    ServiceProcessSpec,
    uvicorn_command,
)

EMBEDDED_STORES = {
    "QUEUE_MANAGER_JOURNAL_PATH": ".data/queue-manager-journal.jsonl",
    "SESSION_SERVICE_STORE_PATH": ".data/session-service.sqlite3",
    "OFFLINE_MESSAGES_STORE_PATH": ".data/offline-messages.sqlite3",
    "SUMMARY_PROJECTOR_STORE_PATH": ".data/summary-projector.sqlite3",
}
"""Each service's embedded store, used without MONGO_URL; a variable already set wins."""

READY_WITHIN_SECONDS = float(os.environ.get("RUN_READY_WITHIN_SECONDS", "90"))
READY_LINE = "ready: all five services answer /readyz"
"""Printed once every service is ready (the test of `make run` waits for it)."""

_stop_requested: list[int] = []


def _request_stop(signum: int, _frame: object) -> None:
    _stop_requested.append(signum)


def _address(spec: ServiceProcessSpec) -> tuple[str, int]:
    host = os.environ.get(f"{spec.env_prefix}HTTP_HOST", "127.0.0.1")
    return host, int(os.environ.get(f"{spec.env_prefix}HTTP_PORT", str(spec.default_port)))


def _url(spec: ServiceProcessSpec) -> str:
    host, port = _address(spec)
    return f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/readyz", timeout=1.0) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _operator_token(env: dict[str, str], operator: str = "ann", role: str = "operator") -> str:
    mint = ["-m", "visitor_gateway.tokens", "--site", "acme", "--operator", operator]
    minted = subprocess.run(
        [sys.executable, *mint, "--role", role],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return minted.stdout.strip() if minted.returncode == 0 else "(make token failed: see above)"


def _next_steps(env: dict[str, str]) -> str:
    gateway = _url(SERVICES[0])
    ann = _operator_token(env)
    lines = [
        READY_LINE,
        "",
        f"  console       {gateway}/console/#token={_operator_token(env, 'ann', 'admin')}"
        "   (ann, an administrator of site acme)",
        f"  2nd operator  {gateway}/console/#token={_operator_token(env, 'bob')}   (bob)",
        f"  widget demo   {gateway}/widget/demo   (a visitor: open it in another browser window)",
        "",
        f"  API docs      {gateway}/docs   (each service has its own /docs)",
        f"  OpenAPI       {gateway}/openapi.json",
        "  AsyncAPI      docs/asyncapi.yaml (events and commands on the broker)",
        "  metrics       " + "  ".join(f"{_url(s)}/metrics" for s in SERVICES[:2]) + "  …",
        f"  a token for operator ann of site acme (12 h): {ann}",
        "",
        "Try it, each in a new terminal in this folder (README: 'Try the flow by hand'):",
        "  .venv/bin/python -m examples.livechat_cli operator --site acme --operator ann"
        "   # console: goes online, prints events; type 'accept'",
        "  .venv/bin/python -m examples.livechat_cli visitor --site acme --name Ada"
        "       # a visitor asks for a chat; type to talk",
        "  bash scripts/hand-flow.sh      # or the whole flow, scripted, end to end",
        "",
        "Ctrl-C stops everything.",
    ]
    return "\n".join(lines)


def _start(env: dict[str, str]) -> list[tuple[ServiceProcessSpec, subprocess.Popen[bytes]]]:
    started = []
    for spec in SERVICES:
        host, port = _address(spec)
        # A process group of their own: the terminal's Ctrl-C reaches only this runner, which
        # then stops each service once with SIGTERM (a second signal would cut uvicorn short).
        process = subprocess.Popen(
            uvicorn_command(spec.package, host, port), env=env, process_group=0
        )
        started.append((spec, process))
        print(f"{spec.name:18} {_url(spec)}  (/healthz /readyz /metrics /docs)", flush=True)
    return started


def _stop(processes: list[tuple[ServiceProcessSpec, subprocess.Popen[bytes]]]) -> None:
    for _, process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + GRACEFUL_SHUTDOWN_SECONDS + 15
    for spec, process in processes:
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"{spec.name} did not stop in time: killed", file=sys.stderr, flush=True)
            process.kill()
            process.wait()


def _exited(processes: list[tuple[ServiceProcessSpec, subprocess.Popen[bytes]]]) -> list[str]:
    return [spec.name for spec, process in processes if process.poll() is not None]


def main() -> int:
    signal.signal(signal.SIGINT, _request_stop)
    signal.signal(signal.SIGTERM, _request_stop)
    env = {**EMBEDDED_STORES, **os.environ}
    if not os.environ.get("MONGO_URL"):
        print(
            "MONGO_URL is not set: each service keeps its state in its embedded store in .data/ "
            "(one process per store; a restart keeps everything)",
            flush=True,
        )
    processes = _start(env)
    return_code = 0
    waiting = {spec.name: _url(spec) for spec, _ in processes}
    deadline = time.monotonic() + READY_WITHIN_SECONDS
    while not _stop_requested:
        if exited := _exited(processes):
            print(f"stopping: {', '.join(exited)} exited", file=sys.stderr, flush=True)
            return_code = 1
            break
        if waiting:
            waiting = {name: url for name, url in waiting.items() if not _ready(url)}
            if not waiting:
                print(_next_steps(env), flush=True)
            elif time.monotonic() > deadline:
                print(f"stopping: not ready: {', '.join(waiting)}", file=sys.stderr, flush=True)
                return_code = 1
                break
        time.sleep(0.3)
    print("stopping all services…", flush=True)
    _stop(processes)
    print("stopped", flush=True)
    return return_code


if __name__ == "__main__":
    sys.exit(main())
