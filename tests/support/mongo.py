"""Which MongoDB the store tests use: MONGO_URL, else a testcontainer, else an in-process stand-in.

The stand-in wraps mongomock (a pure-Python MongoDB imitation) in the small async surface the
adapters use, so the very same adapter code runs when no real server can.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import mongomock
from pymongo import AsyncMongoClient, InsertOne, UpdateOne
from pymongo.errors import BulkWriteError, DuplicateKeyError


class _Cursor:
    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor

    def sort(self, *args: Any, **kwargs: Any) -> _Cursor:
        return _Cursor(self._cursor.sort(*args, **kwargs))

    def skip(self, count: int) -> _Cursor:
        return _Cursor(self._cursor.skip(count))

    def limit(self, count: int) -> _Cursor:
        return _Cursor(self._cursor.limit(count))

    async def to_list(self, length: int | None = None) -> list[dict[str, Any]]:
        docs = list(self._cursor)
        return docs if length is None else docs[:length]

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        async def iterate() -> AsyncIterator[dict[str, Any]]:
            for doc in self._cursor:
                yield doc

        return iterate()


class _BulkResult:
    def __init__(self) -> None:
        self.inserted_count = 0
        self.matched_count = 0
        self.modified_count = 0


class _Collection:
    def __init__(self, collection: Any) -> None:
        self._c = collection

    async def create_index(self, *args: Any, **kwargs: Any) -> str:
        return str(self._c.create_index(*args, **kwargs))

    async def insert_one(self, doc: dict[str, Any]) -> Any:
        return self._c.insert_one(doc)

    async def insert_many(self, docs: list[dict[str, Any]], ordered: bool = True) -> Any:
        return self._c.insert_many(docs, ordered=ordered)

    async def find_one(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self._c.find_one(*args, **kwargs)
        return found

    def find(self, *args: Any, **kwargs: Any) -> _Cursor:
        return _Cursor(self._c.find(*args, **kwargs))

    async def update_one(self, *args: Any, **kwargs: Any) -> Any:
        return self._c.update_one(*args, **kwargs)

    async def bulk_write(self, operations: list[Any], ordered: bool = True) -> _BulkResult:
        """mongomock's own bulk_write does not take this pymongo's operations: each in turn."""
        result = _BulkResult()
        errors: list[dict[str, Any]] = []
        for index, operation in enumerate(operations):
            try:
                if isinstance(operation, InsertOne):
                    self._c.insert_one(operation._doc)
                    result.inserted_count += 1
                elif isinstance(operation, UpdateOne):
                    found = self._c.update_one(operation._filter, operation._doc)
                    result.matched_count += found.matched_count
                    result.modified_count += found.modified_count
                else:
                    raise NotImplementedError(type(operation).__name__)
            except DuplicateKeyError as error:
                errors.append({"index": index, "code": 11000, "errmsg": str(error)})
                if ordered:
                    break
        if errors:
            raise BulkWriteError({"writeErrors": errors, "nInserted": result.inserted_count})
        return result

    async def delete_many(self, *args: Any, **kwargs: Any) -> Any:
        return self._c.delete_many(*args, **kwargs)

    async def find_one_and_update(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self._c.find_one_and_update(*args, **kwargs)
        return found

    async def count_documents(self, *args: Any, **kwargs: Any) -> int:
        return int(self._c.count_documents(*args, **kwargs))

    async def aggregate(self, *args: Any, **kwargs: Any) -> _Cursor:
        # pymongo's async aggregate is a coroutine that returns a cursor; so is this one.
        return _Cursor(self._c.aggregate(*args, **kwargs))


class StandInDatabase:
    def __init__(self) -> None:
        self._db: Any = mongomock.MongoClient(tz_aware=True)["livechat"]

    def __getitem__(self, name: str) -> _Collection:
        return _Collection(self._db[name])


def mongo_kind() -> str:
    if os.environ.get("MONGO_URL"):
        return "real MongoDB at MONGO_URL"
    if shutil.which("docker") and _docker_engine_up():
        return "real MongoDB in a testcontainer"
    return "in-process stand-in (mongomock)"


def _docker_engine_up() -> bool:
    try:
        import docker  # type: ignore[import-untyped]

        docker.from_env().ping()
        return True
    except Exception:
        return False


@asynccontextmanager
async def fresh_database() -> AsyncIterator[Any]:
    """A fresh database for one store test: in the stand-in, at MONGO_URL, or in a container.

    A real database is dropped afterwards.
    """
    if mongo_kind().startswith("in-process"):
        yield StandInDatabase()
        return
    container = None
    url = os.environ.get("MONGO_URL")
    if not url:
        from testcontainers.mongodb import MongoDbContainer

        container = MongoDbContainer("mongo:7").start()
        url = container.get_connection_url()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url, tz_aware=True)
    database = client[f"livechat_test_{uuid.uuid4().hex[:8]}"]
    try:
        yield database
    finally:
        await client.drop_database(database.name)
        await client.close()
        if container is not None:
            container.stop()
