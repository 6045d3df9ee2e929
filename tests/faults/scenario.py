"""One run under faults: load through the gateway, SIGKILLs and a broker restart, then the audit.

Timeline (seconds after the first visitor): the queue manager is killed at 8, then (each once the
one before is ready again, at the earliest at 15, 21 and 27) the session service, the projector and
offline-messages, and the broker restarts at 31.5 (down 8 s); visitors keep arriving until 45 and,
on a busy machine where restarts are slow, until the broker is back. Then the system drains
(operators keep accepting and ending chats), a last wave of visitors fills every operator (chats
are no longer ended), and the Communication Summary is compared with the audit. Finally the waiting
visitors leave, the operators go offline and every chat still open is ended through the API.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tests.faults.auditor import BETWEEN, CHATTING, ENDED, LEFT, OPEN, WAITING, Auditor, Truth
from tests.faults.edge import Crowd, Edge, Tally
from tests.faults.figures import Figures
from tests.faults.load import Behaviour, OperatorConsole, VisitorWidget
from tests.support.fleet import LocalProcess
from tests.support.rabbit_node import RabbitNode

SITES = {"faults-a": 3, "faults-b": 3, "faults-c": 2, "faults-d": 2}
"""Operators per site: 10 in all, each with up to MAX_CHATS chats."""
MAX_CHATS = 3
MAX_CALLS = 1
OFFER_TIMEOUT_SECONDS = 6.0
VISITORS = 120
ARRIVAL_SECONDS = 45.0
CALL_SHARE = 0.1
LEAVE_SHARE = 0.15
VISITOR_ENDS_SHARE = 0.1
OFFLINE_MESSAGES = 12
BROKER_DOWN_SECONDS = 8.0
"""Longer than the offer and invitation timeouts: timers set just before fall due meanwhile."""
STUCK_GRACE = timedelta(seconds=15)
"""An offer still pending this long after its expiry is stuck (its timer was lost)."""


@dataclass
class Fleet:
    node: RabbitNode
    services: dict[str, LocalProcess]
    gateway: str
    logs: str


Kill = tuple[float, str]
"""A fault of the schedule: seconds after the first visitor, and the service to SIGKILL (and
start again), or "broker" for the broker restart."""
FAULTS: tuple[Kill, ...] = (
    (8, "queue_manager"),
    (15, "session_service"),
    (21, "summary_projector"),
    (27, "offline_messages"),
    (31.5, "broker"),
)


class Run:
    def __init__(
        self,
        fleet: Fleet,
        sites: dict[str, int] = SITES,
        schedule: tuple[Kill, ...] = FAULTS,
        fill_seconds: float = 6.0,
        messages_after_killing: str | None = None,
    ) -> None:
        self.fleet = fleet
        self.messages_after_killing = messages_after_killing
        """A service (name prefix) whose input is sparse: right after each SIGKILL of one of
        its replicas, every site gets an offline message, so each partition the replica held
        has a message for its next owner (a failover shows only with a message)."""
        self.fill_seconds = fill_seconds
        self.sites = sites
        self.schedule = schedule
        self.killed_at: list[tuple[str, float]] = []
        """(service, wall-clock time) of each SIGKILL, to measure failovers from the logs."""
        self.tally = Tally()
        self.edge = Edge(fleet.gateway, self.tally)
        self.crowd = Crowd()
        self.behaviour = Behaviour()
        self.behaviour.ending_chats.set()
        self.auditor = Auditor(fleet.node.url, MAX_CHATS, MAX_CALLS)
        self.operators: dict[tuple[str, str], OperatorConsole] = {}
        self.visitors: list[VisitorWidget] = []
        self.messages_left: Counter[str] = Counter()
        self.invitees: dict[str, VisitorWidget] = {}
        self.figures = Figures()
        self.rng = random.Random(10)
        self.log: list[str] = []
        self.started = time.monotonic()
        self.loop_started = 0.0

    def note(self, text: str) -> None:
        line = f"{time.monotonic() - self.started:6.1f}s {text}"
        self.log.append(line)
        print(f"faults: {line}", flush=True)

    # --- the parts -------------------------------------------------------------------------------

    async def sign_in_operators(self) -> None:
        for site_id, count in self.sites.items():
            for n in range(count):
                console = OperatorConsole(self.edge, self.crowd, self.behaviour, site_id, f"op{n}")
                await console.open()
                assert await console.set_presence("online"), "an operator could not go online"
                self.operators[(site_id, console.id)] = console
        online = await self.auditor.wait_until(
            lambda: (
                sum(p == "online" for p in self.auditor.presence.values()) == len(self.operators)
            ),
            within=30,
        )
        assert online, "the operators did not come online before the load"

    def _site_for(self) -> str:
        return self.rng.choices(list(self.sites), weights=list(self.sites.values()))[0]

    async def visitor(self, site_id: str, channel: str, leave: bool, ends: bool) -> None:
        widget = VisitorWidget(self.edge, self.crowd, site_id)
        self.visitors.append(widget)
        if not await widget.arrive() or not await widget.ask(channel):
            return
        if leave:
            self.crowd.spawn(widget.leave_after(self.rng.uniform(1.0, 6.0)))
        elif ends:
            self.crowd.spawn(widget.end_chat_after(self.rng.uniform(1.0, 3.0)))

    async def offline_message(self, site_id: str) -> None:
        widget = VisitorWidget(self.edge, self.crowd, site_id)
        self.visitors.append(widget)
        if await widget.arrive() and await widget.leave_message():
            self.messages_left[site_id] += 1

    async def arrivals(
        self, count: int, seconds: float, leaving: bool = True, until: asyncio.Event | None = None
    ) -> None:
        """`count` visitors over `seconds`; more at the same pace while `until` is not set (a
        busy machine slows the restarts, and the load must go on through every fault), up to
        twice as many."""
        waves = []
        n = 0
        while n < count or (until is not None and not until.is_set() and n < 2 * count):
            site_id = self._site_for()
            channel = "call" if self.rng.random() < CALL_SHARE else "chat"
            leave = leaving and self.rng.random() < LEAVE_SHARE
            ends = leaving and not leave and self.rng.random() < VISITOR_ENDS_SHARE
            waves.append(asyncio.create_task(self.visitor(site_id, channel, leave, ends)))
            if n % (max(1, count // OFFLINE_MESSAGES)) == 0 and leaving:
                waves.append(asyncio.create_task(self.offline_message(site_id)))
            n += 1
            await asyncio.sleep(seconds / count)
        await asyncio.gather(*waves)

    async def kill_and_restart(self, name: str) -> None:
        service = self.fleet.services[name]
        self.note(f"SIGKILL {name}")
        self.killed_at.append((name, time.time()))
        service.kill()
        restarted = asyncio.create_task(asyncio.to_thread(service.start))
        prefix = self.messages_after_killing
        if prefix is not None and name.startswith(prefix):
            await asyncio.gather(*(self.offline_message(site_id) for site_id in self.sites))
        await restarted
        self.figures.faults.append(f"SIGKILL {name}")
        self.note(f"{name} ready again")

    async def restart_broker(self) -> None:
        loop = asyncio.get_running_loop()
        # offers made just before the outage go unanswered, and each site's first operator invites
        # a visitor who never answers: these timers fall due while the broker is down
        self.behaviour.ignore_window = (loop.time() - 0.1, loop.time() + 1.5)
        await asyncio.gather(*(self.invite(site_id, v) for site_id, v in self.invitees.items()))
        await asyncio.sleep(max(0.0, self.behaviour.ignore_window[1] - loop.time()))
        self.note(f"broker restart ({BROKER_DOWN_SECONDS:.0f} s down)")
        await asyncio.to_thread(self.fleet.node.restart, BROKER_DOWN_SECONDS)
        self.figures.faults.append(f"broker restart, {BROKER_DOWN_SECONDS:.0f} s down")
        self.note("broker back")

    async def invite(self, site_id: str, invitee: VisitorWidget) -> None:
        # to a call, by the operator with the most room: chat slots are mostly full under the
        # load, while calls are few
        _, operator_id = max(
            (self.auditor.free_slots(site_id, op, "call"), op)
            for (site, op) in self.operators
            if site == site_id
        )
        console = self.operators[(site_id, operator_id)]
        await self.edge.request(
            "POST",
            "/v1/operator/invitations",
            console.token,
            {"visitor_id": invitee.id, "channel": "call"},
        )

    async def prepare_invitees(self) -> None:
        """Visitors who browse and will be invited, arrived beforehand so inviting is quick."""
        for site_id in self.sites:
            invitee = VisitorWidget(self.edge, self.crowd, site_id)
            self.visitors.append(invitee)
            assert await invitee.arrive(), "a visitor could not arrive before the load"
            self.invitees[site_id] = invitee

    async def faults(self, done: asyncio.Event) -> None:
        began = time.monotonic()
        for at, name in self.schedule:
            await asyncio.sleep(max(0.0, at - (time.monotonic() - began)))
            if name == "broker":
                await self.restart_broker()
            else:
                await self.kill_and_restart(name)
        done.set()

    # --- settling --------------------------------------------------------------------------------

    def asked(self) -> list[VisitorWidget]:
        return [v for v in self.visitors if v.asked]

    def _now(self) -> datetime:
        return datetime.now(UTC)

    def settled(self) -> bool:
        return not self.unsettled()

    def unsettled(self) -> list[str]:
        """Why the system is not settled yet: an offer pending (but a stuck one), a visitor not
        (yet) in the queue, or one waiting while an online operator has room for it."""
        a = self.auditor
        stuck = {i for i, _ in a.stuck(self._now(), STUCK_GRACE)}
        why = [f"offer {i} pending" for i in a.holds if i not in stuck]
        why += [
            f"{v.site_id}/{v.id} {a.status(v.site_id, v.id)}"
            for v in self.asked()
            if a.status(v.site_id, v.id) in (None, BETWEEN)
        ]
        for site_id in self.sites:
            truth = a.truth(site_id)
            ops = [op for (site, op) in self.operators if site == site_id]
            for channel, waiting in (("chat", truth.waiting_chats), ("call", truth.waiting_calls)):
                free = [op for op in ops if a.free_slots(site_id, op, channel)]
                if waiting and free:
                    why.append(f"{site_id}: {waiting} waiting for a {channel}, room at {free}")
        return why

    async def compare_summaries(self, within: float) -> list[str]:
        """Poll each site's summary until it equals the audit; the sites that never did."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        pending = dict.fromkeys(self.sites, "not read")
        while pending and loop.time() < deadline:
            for site_id in list(pending):
                console = next(c for (s, _), c in self.operators.items() if s == site_id)
                response = await self.edge.request("GET", "/v1/operator/summary", console.token)
                if response is None or response.status_code != 200:
                    pending[site_id] = f"summary answered {response and response.status_code}"
                    continue
                truth = self.auditor.truth(site_id)
                shown = Truth.of_summary(response.json())
                if shown == truth:
                    del pending[site_id]
                else:
                    pending[site_id] = f"summary {shown} but audited {truth}"
            if pending:
                await asyncio.sleep(0.5)
        return [f"{site}: {why}" for site, why in pending.items()]

    async def offline_messages_listed(self) -> list[str]:
        missing = []
        for site_id, left in self.messages_left.items():
            console = next(c for (s, _), c in self.operators.items() if s == site_id)
            response = await self.edge.request(
                "GET", "/v1/operator/offline-messages?status=all&limit=500", console.token
            )
            listed = -1 if response is None else len(response.json()["messages"])
            if listed < left:
                missing.append(f"{site_id}: {left} left, {listed} listed")
                self.figures.offline_lost += left - max(0, listed)
        return missing

    async def end_every_chat(self) -> list[str]:
        """End every chat the audit shows open, through the API; each must end (ChatEnded)."""
        open_chats = dict(self.auditor.chats)
        refused = []
        for session_id, chat in open_chats.items():
            console = self.operators[(chat.site_id, chat.operator_id)]
            response = await self.edge.request(
                "POST", f"/v1/operator/sessions/{session_id}/end", console.token
            )
            if response is None or response.status_code != 202:
                refused.append(f"{session_id}: {response and response.status_code}")
        await self.auditor.wait_until(
            lambda: all(s in self.auditor.ended for s in open_chats), within=30
        )
        unended = [str(s) for s in open_chats if s not in self.auditor.ended]
        self.figures.unended = len(unended)
        return [*(f"not ended: {s}" for s in unended), *(f"end refused: {r}" for r in refused)]

    # --- the whole run ---------------------------------------------------------------------------

    async def run(self) -> Figures:
        f = self.figures
        await self.auditor.start()
        try:
            await self.sign_in_operators()
            await self.prepare_invitees()
            self.note(
                f"{len(self.operators)} operators online on {len(self.sites)} sites; load starts"
            )
            self.started = time.monotonic()
            self.loop_started = asyncio.get_running_loop().time()
            faults_done = asyncio.Event()
            await asyncio.gather(
                self.arrivals(VISITORS, ARRIVAL_SECONDS, until=faults_done),
                self.faults(faults_done),
            )
            self.note(f"arrivals done: {len(self.asked())} visitors asked")
            drained = await self.auditor.wait_until(self.settled, within=60)
            self.note(f"drained: {drained} {self.unsettled()[:5]}")

            # a last wave while chats are no longer ended: every operator fills up, some wait
            self.behaviour.ending_chats.clear()
            capacity = sum(self.sites.values()) * MAX_CHATS
            await self.arrivals(capacity + 10, self.fill_seconds, leaving=False)
            filled = await self.auditor.wait_until(self.settled, within=60)
            # measured now: closing below withdraws every pending offer, stuck ones too
            self.stuck_offers()
            self.note(f"filled: {filled} {self.unsettled()[:5]}; comparing the summary")
            mismatches = await self.compare_summaries(within=20)
            f.details["summary (full)"] = mismatches
            f.details["offline messages"] = await self.offline_messages_listed()
            # a console learns of its presence on its socket (or re-reads it after a Resync)
            await self.auditor.wait_until(lambda: not self.unaware_away(), within=15)
            f.details["unaware away"] = self.unaware_away()

            # close: the waiting leave, operators go offline, every open chat is ended
            self.behaviour.accepting = False
            self.behaviour.keep_online = False
            await asyncio.gather(
                *(
                    v.leave()
                    for v in self.asked()
                    if self.auditor.status(v.site_id, v.id) in (WAITING, OPEN)
                )
            )
            await asyncio.gather(*(c.set_presence("offline") for c in self.operators.values()))
            await self.crowd.cancel()
            f.details["unended"] = await self.end_every_chat()
            self.note("every chat ended; comparing the summary with the audit again")
            mismatches_after = await self.compare_summaries(within=20)
            f.details["summary (empty)"] = mismatches_after
            f.summary_mismatch = len(mismatches) + len(mismatches_after)
            self.audit_figures()
        finally:
            await self.crowd.cancel()
            for console in self.operators.values():
                await console.close()
            await asyncio.gather(*(v.close() for v in self.visitors), return_exceptions=True)
            await self.edge.close()
            await self.auditor.stop()
        f.seconds = round(time.monotonic() - self.started, 1)
        return f

    def loop_time(self) -> float:
        return asyncio.get_running_loop().time()

    def unaware_away(self) -> list[str]:
        """Operators the audit shows away (or offline) whose console still believes otherwise."""
        found = []
        for (site_id, op), console in self.operators.items():
            audited = self.auditor.presence.get((site_id, op))
            if audited != console.presence_seen:
                found.append(
                    f"{site_id}/{op}: audited {audited}, console {console.presence_seen} "
                    f"(from {console.presence_from}, loop time now {self.loop_time():.1f}) "
                    f"(its socket showed {console.away_frames} away frames; it went online "
                    f"again {console.back_online} times)"
                )
        self.figures.unaware_away = len(found)
        return found

    def stuck_offers(self) -> None:
        stuck = self.auditor.stuck(self._now(), STUCK_GRACE)
        self.figures.stuck = len(stuck)
        self.figures.details["stuck"] = [
            f"{h.site_id}/{h.operator_id} {'invitation' if h.invitation else 'offer'} {i} "
            f"for {h.visitor_id}, expired {h.expires_at.isoformat()}"
            for i, h in stuck
        ]

    def audit_figures(self) -> None:
        f, a = self.figures, self.auditor
        asked = self.asked()
        lost = [
            f"{v.site_id}/{v.id}: {a.status(v.site_id, v.id)} "
            f"after {a.trail(v.site_id, v.id).history}"
            for v in asked
            if a.status(v.site_id, v.id) not in (WAITING, CHATTING, ENDED, LEFT, OPEN)
        ]
        f.lost = len(lost)
        f.double = len(a.double)
        f.over_capacity = len(a.over_capacity)
        f.details["lost"] = lost
        f.details["double"] = a.double
        f.details["over capacity"] = a.over_capacity
        f.unexpected_errors = sum(self.tally.unexpected.values())
        f.details["unexpected errors"] = [f"{k}: {n}" for k, n in self.tally.unexpected.items()]
        f.details["gave up"] = [f"{k}: {n}" for k, n in self.tally.gave_up.items()]
        f.visitors_asked = len(asked)
        f.visitors_left = sum(1 for v in asked if a.status(v.site_id, v.id) == LEFT)
        f.chats_started = a.counts["ChatStarted"]
        f.chats_ended = a.counts["ChatEnded"]
        f.offers = a.counts["ChatOffered"]
        f.offers_timed_out = a.counts["OfferTimedOut"]
        f.invitations_unanswered = a.counts["VisitorInvited"]
        consoles = self.operators.values()
        f.offers_unanswered_before_restart = sum(c.ignored_in_window for c in consoles)
        f.offers_declined = sum(c.declined for c in consoles)
        f.back_online = sum(c.back_online for c in consoles)
        f.resyncs = sum(c.resyncs for c in consoles)
        seen = set().union(*(c.offers_seen for c in consoles))
        f.offers_never_on_socket = a.counts["ChatOffered"] - len(
            seen & {str(i) for i in a.offer_ids}
        )
        f.retried_503 = self.tally.retried_503
        f.transport_errors = sum(self.tally.transport_errors.values())
        f.details["transport errors (retried)"] = [
            f"{k}: {n}" for k, n in self.tally.transport_errors.items()
        ]
        f.details["transport errors (retried)"].append(
            "at (s): "
            + ", ".join(f"{t - self.loop_started:.1f}" for t in self.tally.transport_times)
        )
        f.details["rejected commands"] = [r for c in consoles for r in c.rejected]
        f.socket_reconnects = self.tally.socket_reconnects
        f.events_audited = len(a.seen)
        f.events_redelivered = a.redelivered
        f.details["timeline"] = self.log
