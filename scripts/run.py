"""`make run`: start the five services as processes, print where each listens, stop all on Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

EMBEDDED_STORES = {
    "QUEUE_MANAGER_JOURNAL_PATH": ".data/queue-manager-journal.jsonl",
    "SESSION_SERVICE_STORE_PATH": ".data/session-service.sqlite3",
    "OFFLINE_MESSAGES_STORE_PATH": ".data/offline-messages.sqlite3",
    "SUMMARY_PROJECTOR_STORE_PATH": ".data/summary-projector.sqlite3",
}
"""Each service's embedded store, used without MONGO_URL; a variable already set wins."""

SERVICES = [
    ("visitor-gateway", "visitor_gateway", "VISITOR_GATEWAY_HTTP_PORT", 8001),
    ("queue-manager", "queue_manager", "QUEUE_MANAGER_HTTP_PORT", 8002),
    ("session-service", "session_service", "SESSION_SERVICE_HTTP_PORT", 8003),
    ("offline-messages", "offline_messages", "OFFLINE_MESSAGES_HTTP_PORT", 8004),
    ("summary-projector", "summary_projector", "SUMMARY_PROJECTOR_HTTP_PORT", 8005),
]


def main() -> int:
    env = {**EMBEDDED_STORES, **os.environ}
    if not os.environ.get("MONGO_URL"):
        print(
            "MONGO_URL is not set: each service keeps its state in its embedded store in .data/ "
            "(one process per store; a restart keeps everything)"
        )
    processes: list[tuple[str, subprocess.Popen[bytes]]] = []
    for name, package, port_variable, default_port in SERVICES:
        port = os.environ.get(port_variable, str(default_port))
        host = os.environ.get(port_variable.replace("_PORT", "_HOST"), "127.0.0.1")
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            f"{package}.main:create_app",
            "--host",
            host,
            "--port",
            port,
            "--no-access-log",
            "--ws-per-message-deflate",
            "false",
            "--timeout-graceful-shutdown",
            "10",
        ]
        processes.append((name, subprocess.Popen(command, env=env)))
        print(f"{name:18} http://{host}:{port}  (/healthz /readyz /metrics /docs)")
    print("all services started; Ctrl-C stops them")

    def stop(*_: object) -> None:
        for _name, process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    try:
        while all(process.poll() is None for _, process in processes):
            time.sleep(0.5)
        failed = [name for name, process in processes if process.poll() is not None]
        print(f"stopped: {', '.join(failed)} exited; stopping the others", file=sys.stderr)
        return_code = 1
    except KeyboardInterrupt:
        return_code = 0
    stop()
    for _, process in processes:
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
    return return_code


if __name__ == "__main__":
    sys.exit(main())
