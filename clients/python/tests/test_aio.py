"""AsyncClient against a live spoold (each test runs its own event loop)."""
import asyncio

import grpc
import pytest

from live_spoold import Spoold, server  # noqa: F401 (server is a fixture)
from spool_client import AsyncClient, JobState, SpoolError, job_spec


def test_enqueue_watch_and_wait(server):
    async def main():
        async with AsyncClient(server.address) as spool:
            job = (await spool.enqueue("spool.sleep", {"steps": 2, "step_ms": 20}, labels={"suite": "aio"})).job
            kinds = [event.kind async for event in spool.watch([job.id])]
            assert kinds[0] == 1 and len(kinds) >= 3  # a snapshot, then progress and the end
            final = await spool.wait(job.id)
            assert JobState(final.state) is JobState.SUCCEEDED
            assert (await spool.job(job.id)).id == job.id

    asyncio.run(main())


def test_many_concurrent_enqueues_on_one_client(server):
    async def main():
        async with AsyncClient(server.address) as spool:
            answers = await asyncio.gather(*(spool.enqueue("spool.echo", {"n": n}, labels={"suite": "aio-many"})
                                             for n in range(300)))
            assert len({answer.job.id for answer in answers}) == 300
            assert (await spool.list_jobs(labels={"suite": "aio-many"})).total == 300

    asyncio.run(main())


def test_refusals_batches_cancel_retry_and_pause(server):
    async def main():
        async with AsyncClient(server.address) as spool:
            with pytest.raises(SpoolError) as raised:
                await spool.enqueue("no.such.type")
            assert raised.value.code == grpc.StatusCode.INVALID_ARGUMENT
            batch = await spool.enqueue_batch([job_spec("spool.echo", run_at_ms=4102444800000) for _ in range(3)])
            cancelled = await spool.cancel(batch_id=batch.batch_id)
            assert {JobState(job.state) for job in cancelled} == {JobState.CANCELLED}
            retried = await spool.retry(cancelled[0].id)
            assert retried.id == cancelled[0].id and retried.attempt == 0
            assert (await spool.pause("aio-queue")).paused
            assert not (await spool.resume("aio-queue")).paused
            assert (await spool.status(queues=["aio-queue"], only_selected=True)).queues[0].name == "aio-queue"
            with pytest.raises(ValueError, match="needs an idempotency_key"):
                await spool.enqueue("spool.echo", retry_for=5)

    asyncio.run(main())


@pytest.mark.parametrize("streamed", [True, False])
def test_a_call_with_retry_for_waits_for_a_server_to_come_back(tmp_path, monkeypatch, streamed):
    spoold = Spoold(tmp_path)
    port = spoold.port
    assert spoold.stop() == 0
    import spool_client.aio
    real_wait = spool_client.aio._Backoff.wait_or_give_up_on
    failed = []
    signal = {}

    async def wait_after_a_failure(self, code, details, doing):
        failed.append(code)
        signal["event"].set()
        await real_wait(self, code, details, doing)

    monkeypatch.setattr(spool_client.aio._Backoff, "wait_or_give_up_on", wait_after_a_failure)

    async def main():
        signal["event"] = asyncio.Event()
        async with AsyncClient(f"127.0.0.1:{port}", stream_enqueues=streamed) as spool:
            call = asyncio.ensure_future(spool.enqueue("spool.echo", "kept", idempotency_key="aio-1", retry_for=60))
            # The first attempt fails (nothing listens); the server comes up while it waits.
            await asyncio.wait_for(signal["event"].wait(), timeout=60)
            assert failed[0] == grpc.StatusCode.UNAVAILABLE
            restarted = await asyncio.to_thread(Spoold, tmp_path, port=port)
            try:
                enqueued = await call
                assert enqueued.job.id and not enqueued.deduplicated
                again = await spool.enqueue("spool.echo", "kept", idempotency_key="aio-1")
                assert again.deduplicated and again.job.id == enqueued.job.id
            finally:
                await asyncio.to_thread(restarted.stop)

    asyncio.run(main())


def test_async_producers_keep_enqueuing_through_a_server_restart(tmp_path):
    spoold = Spoold(tmp_path)
    port = spoold.port
    holder = {"server": spoold}

    async def main():
        ids: dict[str, str] = {}
        answered = asyncio.Event()

        async def produce(spool, task):
            for n in range(150):
                key = f"aio-restart-{task}-{n}"
                ids[key] = (await spool.enqueue("spool.echo", {"n": n}, idempotency_key=key, labels={"run": "aio"},
                                                retry_for=60)).job.id
                if len(ids) >= 100:
                    answered.set()

        async with AsyncClient(spoold.address) as spool:
            producers = asyncio.gather(*(produce(spool, t) for t in range(4)))
            await asyncio.wait_for(answered.wait(), 60)
            assert await asyncio.to_thread(spoold.stop) == 0
            holder["server"] = await asyncio.to_thread(Spoold, tmp_path, port=port)
            await asyncio.wait_for(producers, 120)
            assert len(ids) == 600 and len(set(ids.values())) == 600
            assert (await spool.list_jobs(labels={"run": "aio"})).total == 600

    try:
        asyncio.run(main())
    finally:
        assert holder["server"].stop() == 0
