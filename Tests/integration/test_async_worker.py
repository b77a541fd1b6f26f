"""spool_client.AsyncWorker against a live spoold: async and plain handlers,
failures, cancels, drains and restarts."""
import asyncio
import json
import threading
import time

import grpc
import pytest

from spool_client import AsyncJobContext, AsyncWorker, Client, JobState, PermanentError, RetryableError, SpoolError
from test_workers import CONFIG, Spoold, remote, start_server, wait_for  # noqa: F401 (remote is a fixture)


class Running:
    """An AsyncWorker serving on its own event loop in a thread of this test."""

    def __init__(self, worker: AsyncWorker):
        self.worker = worker
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            asyncio.run(self.worker.run(handle_signals=False))
        except BaseException as error:  # noqa: BLE001 - reported to the test
            self.error = error

    def stop(self):
        self.worker.stop()  # from another thread than the worker's loop
        self.thread.join(timeout=30)
        assert not self.thread.is_alive()
        assert self.error is None, self.error


def test_async_and_plain_handlers_run_jobs_with_progress(remote):
    worker = AsyncWorker(remote.address, name="aio", concurrency=8)
    in_threads = set()

    @worker.handler("py.echo")
    async def echo(job: AsyncJobContext):
        job.progress(0.5, "halfway", "async")
        await asyncio.sleep(0.01)
        return {"echo": job.json(), "attempt": job.attempt}

    @worker.handler("py.slow")
    def plain(job):
        in_threads.add(threading.current_thread().name)
        job.progress(0.5, "halfway", "in a thread")
        return b"plain:" + job.payload

    running = Running(worker)
    with Client(remote.address) as client:
        echoes = [client.enqueue("py.echo", {"n": n}).job.id for n in range(20)]
        plains = [client.enqueue("py.slow", f"{n}").job.id for n in range(5)]
        watched = list(client.watch([echoes[0]]))
        for n, job_id in enumerate(echoes):
            job = client.wait(job_id)
            assert job.state == JobState.SUCCEEDED and json.loads(job.result) == {"echo": {"n": n}, "attempt": 1}
        for n, job_id in enumerate(plains):
            job = client.wait(job_id)
            assert job.state == JobState.SUCCEEDED and job.result == f"plain:{n}".encode()
        assert any(e.job.progress.message == "async" for e in watched)
        [info] = client.status().remote_workers
        assert info.name == "aio" and sorted(info.types) == ["py.echo", "py.slow"] and info.capacity == 8
    assert in_threads and all(name.startswith("spool-job") for name in in_threads)
    running.stop()
    assert worker.stats["succeeded"] == 25


def test_failures_keep_their_kind(remote):
    worker = AsyncWorker(remote.address, concurrency=4)

    @worker.handler("py.echo")
    async def handle(job):
        kind = job.json()["kind"]
        if kind == "permanent":
            raise PermanentError("bad input")
        if kind == "flaky" and job.attempt == 1:
            raise RetryableError("try later", retry_after=0.2)
        if kind == "crash":
            raise KeyError("boom")
        return "fine"

    running = Running(worker)
    with Client(remote.address) as client:
        permanent = client.enqueue("py.echo", {"kind": "permanent"}).job.id
        flaky = client.enqueue("py.echo", {"kind": "flaky"}).job.id
        crash = client.enqueue("py.echo", {"kind": "crash"}, max_attempts=2).job.id
        job = client.wait(permanent)
        assert job.state == JobState.FAILED and job.attempt == 1 and job.error.message == "bad input"
        job = client.wait(flaky)
        assert job.state == JobState.SUCCEEDED and job.attempt == 2
        job = client.wait(crash)
        assert job.state == JobState.FAILED and job.attempt == 2 and "KeyError" in job.error.message
    running.stop()


def test_a_cancel_cancels_the_handlers_task(remote):
    worker = AsyncWorker(remote.address)
    started = threading.Event()
    seen = []

    @worker.handler("py.slow")
    async def slow(job):
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            seen.append(job.cancel_reason)
            raise
        return "never"

    running = Running(worker)
    with Client(remote.address) as client:
        job_id = client.enqueue("py.slow").job.id
        assert started.wait(20)
        client.cancel(job_id, reason="changed my mind")
        job = client.wait(job_id)
        assert job.state == JobState.CANCELLED and job.error.message == "changed my mind"
    assert len(seen) == 1 and "changed my mind" in seen[0]
    running.stop()


def test_stop_lets_a_running_job_finish_then_returns(remote):
    worker = AsyncWorker(remote.address, drain_timeout=20)
    started = threading.Event()
    finish = threading.Event()

    @worker.handler("py.slow")
    async def slow(job):
        started.set()
        while not finish.is_set():
            await asyncio.sleep(0.01)
        return "done after stop"

    running = Running(worker)
    with Client(remote.address) as client:
        job_id = client.enqueue("py.slow").job.id
        assert started.wait(20)
        stopper = threading.Thread(target=running.stop)
        stopper.start()
        wait_for(lambda: client.status().remote_workers[0].draining, "the worker to say it drains")
        later = client.enqueue("py.slow").job.id
        finish.set()
        stopper.join(timeout=30)
        job = client.wait(job_id)
        assert job.state == JobState.SUCCEEDED and job.result == b"done after stop"
        assert client.job(later).state == JobState.QUEUED
        wait_for(lambda: not client.status().remote_workers, "the worker to leave")


def test_a_restarted_server_gets_the_async_worker_back(tmp_path):
    spoold = start_server(tmp_path)
    port = spoold.port
    worker = AsyncWorker(spoold.address, name="aio")

    @worker.handler("py.echo")
    async def echo(job):
        return job.payload

    running = Running(worker)
    try:
        with Client(spoold.address) as client:
            assert client.wait(client.enqueue("py.echo", b"before").job.id).result == b"before"
        assert spoold.terminate()[0] == 0
        spoold = Spoold(tmp_path, "--config", str(tmp_path / "spool.yaml"), "--listen", f"127.0.0.1:{port}")
        with Client(spoold.address) as client:
            assert client.wait(client.enqueue("py.echo", b"after").job.id).result == b"after"
        assert worker.stats["connections"] >= 2
    finally:
        running.stop()
        spoold.terminate()


def test_a_refused_worker_raises_from_run(remote):
    worker = AsyncWorker(remote.address)
    worker.register("py.nosuch", lambda job: b"")
    with pytest.raises(SpoolError) as refused:
        asyncio.run(worker.run(handle_signals=False))
    assert refused.value.code == grpc.StatusCode.INVALID_ARGUMENT and "not a remote type" in refused.value.message


def test_stop_before_run_makes_run_return_at_once(remote):
    worker = AsyncWorker(remote.address)
    worker.register("py.echo", lambda job: b"")
    worker.stop()
    asyncio.run(worker.run(handle_signals=False))
    assert worker.stats["connections"] == 0
