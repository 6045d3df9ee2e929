"""The embedded store's database: one SQLite file per service in `.data/`, for running without MongoDB.

One process per file by default: an exclusive lock on `<file>.lock` is taken when the store opens
and held until the process ends (the kernel drops it even on SIGKILL), so a second process (an
accidental second `make run`) refuses to start instead of writing beside the first.

Shared (`shared=True`: the service runs as one of several partitioned replicas, REPLICAS > 1):
the processes of one machine take a shared lock instead, and use the file together, as SQLite's
WAL mode allows on a local filesystem. A process that wants it alone is still refused while they
hold it, and they while it does. Each write is one `BEGIN IMMEDIATE` transaction, which takes the
file's write lock first (waiting up to BUSY_TIMEOUT_SECONDS for another process's transaction),
so the stores' version checks inside it see every commit before theirs; a store that shares its
file keeps nothing of it in memory that another process may change.

Every call runs on one worker thread that owns the connection, so the event loop never blocks
on the disk and the store's operations never interleave: each is one transaction, all or nothing.

Durability: WAL with `synchronous=FULL` by default, so a commit is fsynced before it returns. A
message is acknowledged after its write, and the queue manager's journal fsyncs each line too;
with NORMAL a power cut or OS crash (never a process crash) could lose the last commits of
messages the broker already forgot. A store may choose NORMAL where it says why.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Literal, TypeVar

T = TypeVar("T")

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


BUSY_TIMEOUT_SECONDS = 10.0
"""How long a shared file's transaction waits for another process's to end (they last ms)."""


class EmbeddedStoreLocked(RuntimeError):
    """Another process has this embedded store open (and one of the two wants it alone)."""


def to_micros(moment: datetime) -> int:
    """An instant as whole microseconds since the epoch: exact, and sorts as time does."""
    return (moment - _EPOCH) // timedelta(microseconds=1)


def from_micros(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


class EmbeddedDatabase:
    """A SQLite file opened by this process alone, or `shared` with the other replicas of the
    service on this machine; `schema` is run (idempotently) on opening."""

    def __init__(
        self,
        path: Path,
        schema: str,
        synchronous: Literal["FULL", "NORMAL"] = "FULL",
        *,
        shared: bool = False,
    ) -> None:
        self.path = path
        self.shared = shared
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = _lock(path.with_name(path.name + ".lock"), shared)
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"sqlite-{path.stem}")
        try:
            self._connection = self._worker.submit(_connect, path, schema, synchronous).result()
        except BaseException:
            self._worker.shutdown()
            self._lock.close()
            raise

    async def read(self, query: Callable[[sqlite3.Connection], T]) -> T:
        return await self._on_worker(query)

    async def write(self, change: Callable[[sqlite3.Connection], T]) -> T:
        """Run `change` in one transaction: committed if it returns, rolled back if it raises."""
        return await self._on_worker(lambda c: _transaction(c, change))

    async def _on_worker(self, call: Callable[[sqlite3.Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._worker, call, self._connection)

    async def close(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._worker, self._connection.close)
        self._worker.shutdown()
        self._lock.close()


def _lock(path: Path, shared: bool) -> IO[str]:
    handle = path.open("a+")
    try:
        fcntl.flock(handle.fileno(), (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        who = "only one process may use it" if not shared else "a process uses it alone"
        raise EmbeddedStoreLocked(
            f"the embedded store {path.with_suffix('')} is open in another process "
            f"(pid {holder}, lock {path}): {who}. Stop that process, or give this one its "
            "own path, or set MONGO_URL for a shared store (partitioned replicas on one "
            "machine share the file when <SERVICE>_REPLICAS > 1)."
        ) from None
    if not shared:  # the sharers' pids would overwrite each other: only the sole holder's
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
    return handle


def _connect(path: Path, schema: str, synchronous: str) -> sqlite3.Connection:
    # Transactions are begun explicitly (autocommit off in the driver: isolation_level None).
    connection = sqlite3.connect(
        path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_SECONDS
    )
    _write_ahead_log(connection)
    connection.execute(f"PRAGMA synchronous={synchronous}")
    connection.execute("PRAGMA foreign_keys=ON")
    with contextlib.closing(connection.cursor()) as cursor:
        cursor.executescript(schema)
    return connection


def _write_ahead_log(connection: sqlite3.Connection) -> None:
    """WAL mode. Turning a new file to WAL takes an exclusive lock and does not wait for it:
    replicas that start together on a new file try again, up to the busy timeout."""
    deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
    while True:
        try:
            connection.execute("PRAGMA journal_mode=WAL").fetchall()
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
        time.sleep(0.01)


def _transaction(connection: sqlite3.Connection, change: Callable[[sqlite3.Connection], T]) -> T:
    connection.execute("BEGIN IMMEDIATE")
    try:
        result = change(connection)
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")
    return result
