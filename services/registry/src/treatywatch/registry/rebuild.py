"""Rebuild every collection from the topic into a fresh database, as a new consumer group.

The end offsets are taken at the start and the rebuild stops there, so it finishes while producers go
on; the new group's committed offsets let a registry pointed at the new database carry on from there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition

from treatywatch.common import mongo
from treatywatch.common.kafka import connection_options
from treatywatch.common.settings import Settings
from treatywatch.registry.consumer import Applier
from treatywatch.registry.store import create_indexes


class RebuildError(RuntimeError):
    """The rebuild cannot start: the message says why."""


@dataclass(frozen=True)
class Rebuilt:
    database: str
    group_id: str
    records: int
    events: int
    dead_letters: int


async def rebuild(
    settings: Settings, database: str, group_id: str, progress: Callable[[int], None] | None = None
) -> Rebuilt:
    """Read the topic from the beginning to the end offsets seen at start and apply it into `database`.

    `database` must not exist yet; `progress` is called with the number of records read so far.
    """
    client, db = mongo.connect(settings.model_copy(update={"mongo_db": database}), database)
    consumer = AIOKafkaConsumer(
        **connection_options(settings),
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=4 * 1024 * 1024,
    )
    try:
        if await db.list_collection_names():
            raise RebuildError(f"database {database!r} is not empty: a rebuild needs a fresh one")
        await create_indexes(db)
        await consumer.start()
        # `topics()` fetches the metadata that `partitions_for_topic` reads.
        partitions = sorted(consumer.partitions_for_topic(settings.topic) or []) if await consumer.topics() else []
        if not partitions:
            raise RebuildError(f"topic {settings.topic!r} does not exist")
        assigned = [TopicPartition(settings.topic, p) for p in partitions]
        consumer.assign(assigned)
        ends: dict[TopicPartition, int] = await consumer.end_offsets(assigned)
        await consumer.seek_to_beginning(*assigned)
        remaining = {tp for tp in assigned if await consumer.position(tp) < ends[tp]}
        applier = Applier(client, db, None, settings.dead_letter_topic)
        records = 0
        while remaining:
            fetched = await consumer.getmany(*remaining, timeout_ms=500, max_records=500)
            batch = [r for tp, part in fetched.items() for r in part if r.offset < ends[tp]]
            if batch:
                await applier(batch)
                records += len(batch)
                await consumer.commit({tp: min(part[-1].offset + 1, ends[tp]) for tp, part in fetched.items() if part})
                if progress is not None:
                    progress(records)
            remaining = {tp for tp in remaining if await consumer.position(tp) < ends[tp]}
        return Rebuilt(
            database=database,
            group_id=group_id,
            records=records,
            events=await db.events.count_documents({}),
            dead_letters=await db.dead_letters.count_documents({}),
        )
    finally:
        await consumer.stop()
        await client.close()
