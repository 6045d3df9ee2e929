"""`make run` as a newcomer meets it: it says "ready" only once all five services are, the
README's hand flow then works with no uv on PATH, /docs works offline, and Ctrl-C or SIGTERM
stops everything quietly."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from livechat_shared.runtime.serving import SERVICES

from tests.support.embedded import embedded_store_env
from tests.support.processes import free_port
from tests.unit.test_readme_commands import README, bash_blocks

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
READY_LINE = "ready: all five services answer /readyz"


def path_without_uv() -> str:
    """This PATH less every folder that holds a `uv`, as in a fresh shell after `make run`."""
    folders = os.environ.get("PATH", "").split(os.pathsep)
    kept = [f for f in folders if f and not (Path(f) / "uv").exists()]
    return os.pathsep.join(dict.fromkeys(kept))


@dataclass
class Running:
    process: subprocess.Popen[str]
    output: Path
    urls: dict[str, str]

    def text(self) -> str:
        return self.output.read_text(errors="replace")


def _environment(tmp_path: Path) -> tuple[dict[str, str], dict[str, str]]:
    ports = {spec.name: free_port() for spec in SERVICES}
    # A fresh shell: no MongoDB, and not inside a make (as under `make test`).
    fresh = {"MONGO_URL", "MAKELEVEL", "MAKEFLAGS", "MFLAGS"}
    env = {k: v for k, v in os.environ.items() if k not in fresh}
    env |= embedded_store_env(tmp_path)
    env |= {f"{s.env_prefix}HTTP_PORT": str(ports[s.name]) for s in SERVICES}
    env |= {
        "VISITOR_GATEWAY_SESSION_SERVICE_URL": f"http://127.0.0.1:{ports['session-service']}",
        "VISITOR_GATEWAY_OFFLINE_MESSAGES_URL": f"http://127.0.0.1:{ports['offline-messages']}",
        "VISITOR_GATEWAY_SUMMARY_PROJECTOR_URL": f"http://127.0.0.1:{ports['summary-projector']}",
        "RUN_READY_WITHIN_SECONDS": "150",
        "PATH": path_without_uv(),
    }
    return env, {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}


def _start(command: list[str], tmp_path: Path) -> Running:
    env, urls = _environment(tmp_path)
    output = tmp_path / "run.out"
    with output.open("w") as sink:
        # A session of its own, like a terminal's foreground job: a signal to the group is Ctrl-C.
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT, text=True,
            start_new_session=True,
        )  # fmt: skip
    running = Running(process, output, urls)
    deadline = time.monotonic() + 160
    while READY_LINE not in running.text():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"no ready line:\n{running.text()[-4000:]}")
        time.sleep(0.2)
    return running


def _stopped(running: Running, send: signal.Signals, to_group: bool) -> int:
    if to_group:
        os.killpg(running.process.pid, send)
    else:
        running.process.send_signal(send)
    try:
        return running.process.wait(60)
    except subprocess.TimeoutExpired:
        os.killpg(running.process.pid, signal.SIGKILL)
        pytest.fail(f"still running 60 s after {send.name}:\n{running.text()[-4000:]}")


@pytest.fixture
def runner(tmp_path: Path) -> Iterator[Running]:
    running = _start([sys.executable, "scripts/run.py"], tmp_path)
    yield running
    if running.process.poll() is None:
        os.killpg(running.process.pid, signal.SIGKILL)


def test_run_says_ready_only_when_all_five_are_and_the_hand_flow_works_without_uv(
    runner: Running, tmp_path: Path, site_id: str
) -> None:
    with httpx.Client(timeout=10.0) as http:
        for name, url in runner.urls.items():
            assert http.get(f"{url}/readyz").status_code == 200, name
            page = http.get(f"{url}/docs").text
            links = re.findall(r"""(?:src|href)=["']([^"']+)["']|url: ["']([^"']+)["']""", page)
            assert links, page
            for link in (a or b for a, b in links):
                assert link.startswith("/"), f"{name}'s /docs loads {link} from elsewhere"
                assert http.get(f"{url}{link}").status_code == 200, link
    printed = runner.text()
    token = re.search(r"a token for operator ann of site acme \(12 h\): (\S+)", printed)
    assert token and token.group(1).count(".") == 2, printed[-3000:]
    console = re.search(r"console +(\S+/console/)#token=(\S+)", printed)
    demo = re.search(r"widget demo +(\S+/widget/demo)", printed)
    assert console and demo and console.group(2).count(".") == 2, printed[-3000:]
    with httpx.Client(timeout=10.0) as http:  # built by `make web`, which `make test` runs
        assert '<div id="app">' in http.get(console.group(1)).text
        assert 'src="/widget.js" data-site="acme"' in http.get(demo.group(1)).text

    env, _ = _environment(tmp_path)
    flow = subprocess.run(
        ["bash", "scripts/hand-flow.sh"],
        cwd=ROOT,
        env=env | {"GATEWAY": runner.urls["visitor-gateway"], "SITE": site_id},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert flow.returncode == 0, flow.stdout[-3000:] + flow.stderr[-3000:]
    assert "hand flow done" in flow.stdout
    assert '"type":"ChatEnded"' in flow.stdout.replace(" ", "")

    # The README's curl block as written, only pointed at this system's gateway and site.
    (block,) = [b for b in bash_blocks(README) if "make token" in b]
    gateway = runner.urls["visitor-gateway"].removeprefix("http://")
    script = block.replace("localhost:8001", gateway).replace("acme", f"{site_id}-readme")
    readme = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert readme.returncode == 0, readme.stdout[-3000:] + readme.stderr[-3000:]
    answers = [json.loads(line) for line in readme.stdout.replace("}{", "}\n{").splitlines()]
    assert [a.get("status") for a in answers[:2]] == ["accepted", "accepted"], answers
    assert {"visitors", "pending_offers", "queues"} <= {k for a in answers for k in a}, answers

    assert _stopped(runner, signal.SIGTERM, to_group=False) == 0
    after = runner.text()
    assert "stopped" in after.splitlines()[-1]
    assert "Traceback" not in after


def test_ctrl_c_on_make_run_stops_everything_quietly(tmp_path: Path) -> None:
    running = _start(["make", "--no-print-directory", "run"], tmp_path)
    _stopped(running, signal.SIGINT, to_group=True)  # make itself always ends by the signal
    after = running.text()
    assert after.rstrip().splitlines()[-1] == "stopped", after[-3000:]
    assert "Traceback" not in after
    assert "***" not in after, "make reported the runner failing or killed"
    with httpx.Client(timeout=2.0) as http:
        for url in running.urls.values():
            with pytest.raises(httpx.ConnectError):
                http.get(f"{url}/healthz")
