"""The HTTP side every service has (/healthz, /readyz, /metrics) and the lifespan that runs it."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager

from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse
from faststream.rabbit import RabbitBroker
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from livechat_shared.runtime.api_docs import serve_api_docs
from livechat_shared.runtime.broker import Bus
from livechat_shared.runtime.consumer import InputConsumer
from livechat_shared.runtime.metrics import ServiceMetrics

log = logging.getLogger(__name__)

Hook = Callable[[], Awaitable[None]]
ReadinessCheck = Callable[[], Awaitable[bool]]


async def _nothing() -> None:
    return None


def create_service_app(
    *,
    title: str,
    broker: RabbitBroker,
    bus: Bus,
    consumer: InputConsumer,
    metrics: ServiceMetrics,
    before_consuming: Hook = _nothing,
    ready_when: Sequence[ReadinessCheck] = (),
    after_stopping: Hook = _nothing,
    description: str = "",
    readiness_detail: Callable[[], Mapping[str, str]] = dict,
) -> FastAPI:
    """A FastAPI app whose lifespan declares the topology, prepares the service, then consumes.

    `before_consuming` runs after the broker connected and the queues exist, before the first
    message is taken (the queue manager loads its state there). `ready_when` adds checks to
    readiness (the gateway: the queues it sends commands to exist). `readiness_detail` adds what
    the service wants a reader of /readyz to know (e.g. that its read model started empty).
    """
    state = {"ready": False}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await broker.connect()
        await bus.declare()
        await before_consuming()
        await broker.start()
        await consumer.start()
        state["ready"] = True
        log.info("service started", extra={"service_queue": bus.queues.input_queue})
        try:
            yield
        finally:
            state["ready"] = False
            await consumer.stop()
            await broker.stop()
            await after_stopping()

    app = FastAPI(
        title=title, description=description, lifespan=lifespan, docs_url=None, redoc_url=None
    )
    app.state.consumer = consumer  # for operations and tests (e.g. to cut it like a crash)
    serve_api_docs(app)

    @app.get("/healthz", tags=["operations"])
    async def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"])
    async def readyz() -> Response:
        """Readiness: started, the broker connection is up and the input queue is consumed."""
        checks = {
            "started": state["ready"],
            "consuming": consumer.consuming,
            "broker": state["ready"] and await broker.ping(timeout=1.0),
        }
        for check in ready_when:
            checks[getattr(check, "__name__", "check")] = all(checks.values()) and await check()
        ready = all(checks.values())
        return JSONResponse(
            {"ready": ready, **checks, **readiness_detail()}, status_code=200 if ready else 503
        )

    @app.get("/metrics", tags=["operations"])
    async def metrics_endpoint() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app
