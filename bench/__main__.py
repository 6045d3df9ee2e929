"""`python -m bench`: the broker floor and the system's figures against it, in one run.

    python -m bench                 # the full run, about 10 minutes on 2 cores
    python -m bench --tiny          # small sizes, about a minute (the smoke test runs this)
    python -m bench --only floor,domain --out /tmp/bench

Unless --amqp-url is given, the run creates a vhost of its own on the broker at AMQP_URL (with
rabbitmqctl) and deletes it afterwards, so it never touches anyone's queues. Results go to
<out>/latest.json and latest.md, plus a timestamped copy of each.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aio_pika
from livechat_shared.contracts.services import OFFLINE_MESSAGES, SESSION_SERVICE

from bench import assignment, floor, memory, partitions, profile, routing, summary
from bench.config import FULL, TINY, Sizes
from bench.processes import Service, broker_pid, cpu_seconds, machine_cpu_seconds
from bench.rabbit import DEFAULT_AMQP_URL, temporary_vhost
from bench.report import write

PHASES = (
    "floor",
    "domain",
    "routing",
    "memory",
    "assignment",
    "summary",
    "profile",
    "partitions",
    "floor_after",
)
"""In this order: the floor is measured again at the end, and the run is marked noisy when the
two differ by more than 1.5x. The memory phase comes before any other service declares a queue
bound to the queue manager's events, so its 100,000 VisitorQueued pile up nowhere."""
PROFILED = {"queue_manager": "queue-manager", "gateway": "gateway"}
"""Profiled services: their key among the five, and the name in the profile files."""
TOKEN_SECRET = "bench-token-secret-0123456789-0123456789"
RESULTS = Path(__file__).resolve().parent / "results"


def say(text: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


class Run:
    def __init__(
        self,
        url: str,
        sizes: Sizes,
        work: Path,
        phases: set[str],
        http_client: str,
        out: Path,
        stamp: str,
    ) -> None:
        self.url = url
        self.out = out
        self.stamp = stamp
        """Results go to `out`: latest-* and <stamp>-* copies (the profiles too)."""
        self.http_client = http_client
        self.sizes = sizes
        self.work = work
        self.phases = phases
        self.raw: dict[str, Any] = {}
        self.broker = broker_pid(urlsplit(url).port or 5672)
        self.env = {
            "AMQP_URL": url,
            "VISITOR_GATEWAY_TOKEN_SECRET": TOKEN_SECRET,
            "QUEUE_MANAGER_MAX_CHATS": str(sizes.max_chats),
            # Nobody answers offers in the bench: none may time out and mark operators away.
            "QUEUE_MANAGER_OFFER_TIMEOUT_SECONDS": "3600",
            "QUEUE_MANAGER_LOG_LEVEL": "WARNING",
            "VISITOR_GATEWAY_LOG_LEVEL": "WARNING",
            "SUMMARY_PROJECTOR_LOG_LEVEL": "WARNING",
            # The load comes from one address: the per-address limit would only measure itself.
            "VISITOR_GATEWAY_ADDRESS_REQUESTS_PER_SECOND": "100000",
            "VISITOR_GATEWAY_ADDRESS_REQUEST_BURST": "1000000",
        }

    def service(
        self, package: str, name: str, env: dict[str, str] | None = None, profile: bool = False
    ) -> Service:
        # Each service's embedded store in the run's folder, never in `.data/` (make run's).
        env = {
            **self.env,
            "QUEUE_MANAGER_JOURNAL_PATH": str(self.work / f"{name}.jsonl"),
            "SESSION_SERVICE_STORE_PATH": str(self.work / f"{name}.sqlite3"),
            "OFFLINE_MESSAGES_STORE_PATH": str(self.work / f"{name}.sqlite3"),
            "SUMMARY_PROJECTOR_STORE_PATH": str(self.work / f"{name}.sqlite3"),
            **(env or {}),
        }
        speedscope = self.work / f"profile-{name}.speedscope.json" if profile else None
        return Service(package, env, self.work / f"{name}.log", profile=speedscope)

    async def all_five(
        self, tag: str, profiled: bool = False, url: str | None = None, partitions: int = 1
    ) -> dict[str, Service]:
        """The five services on this run's vhost (or `url`'s) with PARTITIONS `partitions`,
        the gateway last (it needs the others' URLs and command queues). With `profiled`, the
        queue manager and the gateway run under py-spy."""
        url = url or self.url
        env = {"AMQP_URL": url, "PARTITIONS": str(partitions)}
        others = {
            "queue_manager": self.service(
                "queue_manager", f"queue-manager-{tag}", env, profile=profiled
            ),
            "session_service": self.service("session_service", f"session-service-{tag}", env),
            "offline_messages": self.service("offline_messages", f"offline-messages-{tag}", env),
            "summary_projector": self.service("summary_projector", f"summary-projector-{tag}", env),
        }
        started: dict[str, Service] = {}
        try:
            for name, service in others.items():
                started[name] = await service.start()
            await routing.declare_queue_manager_topology(
                url, SESSION_SERVICE, OFFLINE_MESSAGES, partitions=partitions
            )
            urls = {
                **env,
                "VISITOR_GATEWAY_SESSION_SERVICE_URL": started["session_service"].url,
                "VISITOR_GATEWAY_OFFLINE_MESSAGES_URL": started["offline_messages"].url,
                "VISITOR_GATEWAY_SUMMARY_PROJECTOR_URL": started["summary_projector"].url,
            }
            gateway = self.service("visitor_gateway", f"gateway-{tag}", urls, profile=profiled)
            started["gateway"] = await gateway.start()
        except BaseException:
            await _stop_all(started)
            raise
        return started

    def clocks(self, services: dict[str, Service]) -> assignment.Clocks:
        """CPU seconds so far of each service, the bench client, the broker node and the
        whole machine (what the other users of a shared machine take shows as the rest)."""
        found: assignment.Clocks = {name: service.cpu for name, service in services.items()}
        found["bench_client"] = time.process_time
        if self.broker is not None:
            broker = self.broker
            found["broker"] = lambda: cpu_seconds(broker)
        found["machine"] = lambda: machine_cpu_seconds()[0]
        return found

    async def phase(self, name: str, measure: Callable[[], Awaitable[dict[str, Any]]]) -> None:
        if name not in self.phases:
            self.raw[name] = {"error": "skipped (--only)"}
            return
        say(f"{name} ...")
        started = time.monotonic()
        try:
            self.raw[name] = await measure()
        except Exception as error:
            traceback.print_exc()
            self.raw[name] = {"error": f"{type(error).__name__}: {error}"[:500]}
        say(f"{name} done in {time.monotonic() - started:.1f} s")

    async def run(self) -> dict[str, Any]:
        sizes = self.sizes
        await self.phase("floor", lambda: floor.measure(self.url, sizes))
        await self.phase("domain", self.domain)
        await self.phase("routing", self.routing)
        await self.phase("memory", self.memory)
        await self.phase("assignment", self.assignment)
        await self.phase("summary", self.summary)
        await self.phase("profile", self.profile)
        await self.phase("partitions", self.partitions)
        await self.phase("floor_after", lambda: floor.measure(self.url, sizes))
        return self.raw

    async def domain(self) -> dict[str, Any]:
        s = self.sizes
        found = await memory.domain_probe(s.scaling_small, s.scaling_large, s.scaling_repeats)
        return {"small": s.scaling_small, "large": s.scaling_large, **found}

    async def routing(self) -> dict[str, Any]:
        queue_manager = self.service("queue_manager", "queue-manager-routing")
        try:
            return await self.drain(queue_manager, self.sizes.routing_visitors)
        finally:
            await queue_manager.stop()

    async def drain(self, queue_manager: Service, visitors: int) -> dict[str, Any]:
        """Start the queue manager on a backlog of `visitors` and time its offers."""
        sites, operators = await routing.publish_backlog(self.url, visitors, self.sizes.max_chats)
        tap = await routing.Tap(self.url, "ChatOffered", *sites).open(visitors)
        try:
            started = time.perf_counter()
            if queue_manager.process is None:  # else it takes the backlog as it comes
                await queue_manager.start()
            cpu_before = queue_manager.cpu()
            timeout = max(30.0, visitors / 20)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(tap.done.wait(), timeout)
            found = routing.result(tap, visitors, operators, started, timeout)
            busy = queue_manager.cpu() - cpu_before
            found["queue_manager_cpu_seconds"] = round(busy, 2)
            if found["seconds_to_drain"]:
                found["queue_manager_cpu_share"] = round(busy / found["seconds_to_drain"], 2)
            return found
        finally:
            await tap.close()

    async def assignment(self) -> dict[str, Any]:
        s = self.sizes
        return await self.assign("assignment", s.arrival_rates, s.arrival_seconds)

    async def assign(
        self,
        tag: str,
        rates: tuple[float, ...],
        seconds: tuple[float, ...],
        url: str | None = None,
        partitions: int = 1,
    ) -> dict[str, Any]:
        """Chat requests at the gateway with all five services running, as in production:
        every service's CPU per assigned visitor is counted."""
        services = await self.all_five(tag, url=url, partitions=partitions)
        try:
            s = self.sizes
            found = await assignment.measure(
                services["gateway"].url,
                TOKEN_SECRET,
                rates,
                seconds,
                s.max_chats,
                s.offer_wait_seconds,
                clocks=self.clocks(services),
                client=self.http_client,
            )
            return {"services": sorted(services), "broker_pid": self.broker, **found}
        finally:
            await _stop_all(services)

    async def partitions(self) -> dict[str, Any]:
        """Issue 15: routing throughput with 1, 2, 3... queue-manager replicas over partitioned
        sites, then the assignment latency with one partition and with `partitions` (one
        replica). Each measurement on a vhost of its own: the queues of another partition
        count (or of the phases before) would receive copies of its messages."""
        s = self.sizes
        found: dict[str, Any] = {
            "partitions": s.partitions,
            "cores": os.cpu_count(),
            "throughput": {},
            "latency": {"rate_per_s": s.partition_latency_rate},
        }
        for replicas in s.partition_replicas:
            with temporary_vhost(self.url) as url:
                found["throughput"][str(replicas)] = await partitions.throughput(
                    url,
                    replicas,
                    s,
                    self.service,
                    self.clocks({}),
                    self.work / f"queue-manager-{replicas}-replicas.jsonl",
                )
        found["latency"].update(await self.partitioned_latency())
        return found

    async def partitioned_latency(self) -> dict[str, dict[str, Any]]:
        """The five services twice, each on a vhost of its own: with one partition and with
        `partitions`; chat requests at the same rate to each in turn, in blocks."""
        s = self.sizes
        stacks: dict[str, dict[str, Service]] = {}
        with contextlib.ExitStack() as vhosts:
            try:
                for count in (1, s.partitions):
                    url = vhosts.enter_context(temporary_vhost(self.url))
                    stacks[str(count)] = await self.all_five(
                        f"partitions-{count}", url=url, partitions=count
                    )
                    await partitions.touch_every_partition(url, count)
                return await assignment.alternating(
                    {
                        count: (services["gateway"].url, self.clocks(services))
                        for count, services in stacks.items()
                    },
                    TOKEN_SECRET,
                    s.partition_latency_rate,
                    s.partition_latency_seconds,
                    s.partition_latency_rounds,
                    s.max_chats,
                    s.offer_wait_seconds,
                    client=self.http_client,
                )
            finally:
                for services in stacks.values():
                    await _stop_all(services)

    async def memory(self) -> dict[str, Any]:
        queue_manager = await self.service("queue_manager", "queue-manager-memory").start()
        s = self.sizes
        try:
            return await memory.real_process(
                queue_manager, self.url, s.memory_visitors, s.memory_wait_seconds
            )
        finally:
            await queue_manager.stop()
            await self._purge("queue-manager.input")

    async def profile(self) -> dict[str, Any]:
        """py-spy on the queue manager and the gateway at saturation: the queue manager
        draining a backlog, then the gateway taking chat requests at the highest rate."""
        services = await self.all_five("profile", profiled=True)
        s = self.sizes
        rate = max(s.arrival_rates)
        found: dict[str, Any] = {}
        try:
            # Each load on its own: the profiles are kept whatever happens to either.
            try:
                drained = await self.drain(services["queue_manager"], s.profile_visitors)
                found["queue_manager_drain"] = {
                    k: drained.get(k) for k in ("decisions_per_s", "visitors")
                }
            except Exception as error:
                found["queue_manager_drain"] = {"error": f"{type(error).__name__}: {error}"}
            try:
                requests = await assignment.measure(
                    services["gateway"].url,
                    TOKEN_SECRET,
                    (rate,),
                    (s.profile_seconds,),
                    s.max_chats,
                    s.offer_wait_seconds,
                    clocks=self.clocks(services),
                    client=self.http_client,
                )
                found["gateway_requests"] = {
                    k: requests[f"{int(rate)}"].get(k) for k in ("rate_per_s", "visitors", "p99")
                }
            except Exception as error:
                found["gateway_requests"] = {"error": f"{type(error).__name__}: {error}"}
        finally:
            await _stop_all(services)
        self.out.mkdir(parents=True, exist_ok=True)
        for package, name in PROFILED.items():
            speedscope = services[package].profile
            assert speedscope is not None
            if not speedscope.exists():
                found[name] = {"error": "py-spy wrote no profile"}
                continue
            text, summary = profile.top_functions(speedscope)
            for stem in ("latest", self.stamp):
                target = self.out / f"{stem}-profile-{name}"
                shutil.copyfile(speedscope, target.with_suffix(".speedscope.json"))
                target.with_suffix(".txt").write_text(text)
            found[name] = {
                "speedscope": f"latest-profile-{name}.speedscope.json",
                "top_functions": f"latest-profile-{name}.txt",
                **summary,
            }
        return found

    async def summary(self) -> dict[str, Any]:
        # The assignment phase's projector may have stopped behind: its backlog is not this
        # phase's events, and counting it would measure the previous phase's rate.
        await self._purge("summary-projector.input")
        projector = await self.service("summary_projector", "summary-projector").start()
        try:
            s = self.sizes
            wait = max(10.0, s.summary_seconds * 3)
            return await summary.measure(
                projector.url, self.url, s.summary_rate, s.summary_seconds, wait
            )
        finally:
            await projector.stop()
            await self._purge("summary-projector.input")

    async def _purge(self, queue: str) -> None:
        """Drop a backlog the bench left behind (matters only on a vhost it did not create)."""
        connection = await aio_pika.connect(self.url)
        async with connection:
            channel = await connection.channel()
            with contextlib.suppress(aio_pika.exceptions.ChannelClosed):
                await (await channel.get_queue(queue, ensure=True)).purge()


async def _stop_all(services: dict[str, Service]) -> None:
    await asyncio.gather(*(service.stop() for service in services.values()))


@contextlib.contextmanager
def _broker(explicit: str | None) -> Iterator[tuple[str, str]]:
    if explicit:
        yield explicit, "given by --amqp-url"
        return
    with temporary_vhost(os.environ.get("AMQP_URL", DEFAULT_AMQP_URL)) as url:
        yield url, "created for this run and deleted after it"


def _runner() -> asyncio.Runner:
    try:
        import uvloop  # the services run on it (uvicorn picks it), so the client does too
    except ImportError:
        return asyncio.Runner()
    return asyncio.Runner(loop_factory=uvloop.new_event_loop)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--tiny", action="store_true", help="small sizes, about 30 s")
    parser.add_argument("--out", type=Path, default=RESULTS, help=f"default {RESULTS}")
    parser.add_argument("--amqp-url", help="use this broker and vhost as they are")
    parser.add_argument("--only", help=f"comma-separated phases of {','.join(PHASES)}")
    parser.add_argument(
        "--http-client",
        choices=("lean", "httpx"),
        default="lean",
        help="client of the timed chat requests (default lean: see bench/http1.py)",
    )
    args = parser.parse_args(argv)
    sizes = TINY if args.tiny else FULL
    phases = set(args.only.split(",")) if args.only else set(PHASES)
    if unknown := phases - set(PHASES):
        parser.error(f"unknown phases: {', '.join(sorted(unknown))}")
    started_at = datetime.now(UTC)
    stamp = started_at.strftime("%Y%m%dT%H%M%SZ")
    started = time.monotonic()
    load_start = os.getloadavg()
    with (
        _broker(args.amqp_url) as (url, vhost),
        tempfile.TemporaryDirectory(prefix="livechat-bench-") as work,
        _runner() as runner,
    ):
        say(f"{sizes.name} run on {url.rsplit('/', 1)[-1]!r} ({vhost}); logs in {work}")
        run = Run(url, sizes, Path(work), phases, args.http_client, args.out, stamp)
        raw = runner.run(run.run())
    meta = {
        "mode": sizes.name,
        "started_at": started_at.isoformat(timespec="seconds"),
        "duration_s": round(time.monotonic() - started, 1),
        "cpu_count": os.cpu_count(),
        "load_average_start": [round(x, 2) for x in load_start],
        "load_average_end": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "vhost": vhost,
        "http_client": args.http_client,
        "sizes": vars(sizes),
    }
    json_path, md_path = write(args.out, stamp, meta, raw)
    print(md_path.read_text())
    say(f"wrote {json_path} and {md_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
