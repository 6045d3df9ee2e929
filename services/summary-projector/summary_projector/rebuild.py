"""`python -m summary_projector.rebuild`: drop the summaries, rebuild them from the event archive.

RabbitMQ keeps no history, so the projector keeps its own: every event it consumes is appended to
the `event_archive` collection (a table of the same name in the embedded store) (one document per event, `_id` = the event id, so each event is
archived once), beside the read model in `communication_summary` (one document per site). The
rebuild deletes every `communication_summary` document, replays the whole archive in
`occurred_at` order (events of the same instant in the order they were archived) through the
same pure `apply` the live projector uses, and writes one document per site.

When: after a change to the projection rules (`summary_projector/domain`), or whenever the read
model is in doubt. How:
  1. stop the projector (e.g. `kubectl scale deployment/summary-projector --replicas=0`): a change
     it saved during the rebuild would be overwritten;
  2. `MONGO_URL=mongodb://... python -m summary_projector.rebuild`;
  3. start the projector again: events published meanwhile waited in its durable queue. An event
     applied before the rebuild and delivered again after it is still recognised by the archive.
Without MONGO_URL it rebuilds the embedded store (SUMMARY_PROJECTOR_STORE_PATH); a projector
that still has that file open makes it refuse. A projector that starts with an empty read model
and a non-empty archive does the same rebuild by itself. Exit status: 0 rebuilt, 2 the store is
open in another process (stop the projector first).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from livechat_shared.contracts.services import SUMMARY_PROJECTOR
from livechat_shared.runtime.embedded import EmbeddedStoreLocked
from livechat_shared.runtime.logging import configure_logging

from summary_projector.adapters.mongo_store import MongoSummaryStore
from summary_projector.main import build_store
from summary_projector.read_model import Rebuilt, rebuild
from summary_projector.settings import SummaryProjectorSettings

log = logging.getLogger(__name__)


async def _rebuild(settings: SummaryProjectorSettings) -> Rebuilt:
    store = build_store(settings)
    try:
        if isinstance(store, MongoSummaryStore):
            await store.ensure_indexes()
        return await rebuild(store)
    finally:
        await store.close()


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(
        prog="python -m summary_projector.rebuild",
        description="Drop the Communication Summary and rebuild it from the event archive "
        "(MONGO_URL and MONGO_DATABASE, else the embedded SUMMARY_PROJECTOR_STORE_PATH). "
        "Stop the projector first.",
    ).parse_args(argv)
    settings = SummaryProjectorSettings()
    configure_logging(SUMMARY_PROJECTOR.service, settings.log_level)
    try:
        rebuilt = asyncio.run(_rebuild(settings))
    except EmbeddedStoreLocked as error:
        log.error(str(error))
        return 2
    log.info("rebuilt", extra={"events": rebuilt.events, "sites": rebuilt.sites})
    print(f"rebuilt {rebuilt.sites} site summaries from {rebuilt.events} archived events")
    return 0


if __name__ == "__main__":
    sys.exit(main())
