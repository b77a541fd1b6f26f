"""AsyncWorker: the remote worker for asyncio programs, on grpc.aio. Async handlers
run as tasks on the event loop; plain functions run in a thread pool."""
from __future__ import annotations

import asyncio
import inspect
import logging
import random
import signal
import threading
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Optional, Union

import grpc
import grpc.aio

from spool_client._proto import worker_pb2, worker_pb2_grpc
from spool_client.client import CHANNEL_OPTIONS, SpoolError
from spool_client.worker import _FATAL, JobContext, _WorkerSettings, Outgoing, PermanentError, Result, _Attempt, outcome, outcomes_message

log = logging.getLogger("spool_client.worker")


class AsyncJobContext(_Attempt):
    """One attempt of a job, as an AsyncWorker's async handler sees it. A cancel from
    the server (a Cancel call, the attempt's timeout, a lost lease, a drain that ran
    out) cancels the handler's task: it sees CancelledError at its next await."""

    def __init__(self, assignment: worker_pb2.JobAssignment, send: Callable[[worker_pb2.WorkerMessage], None]):
        super().__init__(assignment, send)
        self._cancelled = asyncio.Event()
        self._task: Optional[asyncio.Future[Result]] = None

    async def wait_cancelled(self, timeout: float | None = None) -> bool:
        """Sleeps up to `timeout` seconds, waking early if the attempt is cancelled."""
        try:
            await asyncio.wait_for(self._cancelled.wait(), timeout)
        except asyncio.TimeoutError:
            pass
        return self._cancelled.is_set()

    def _cancel(self, reason: str) -> None:
        super()._cancel(reason)
        self._cancelled.set()
        if self._task is not None:
            self._task.cancel()


AsyncHandler = Callable[[AsyncJobContext], Awaitable[Result]]
SyncHandler = Callable[[JobContext], Result]
Outbox = asyncio.Queue[Outgoing]


class AsyncWorker(_WorkerSettings):
    """Worker for asyncio: takes jobs of the registered types from spoold at
    `address` and runs up to `concurrency` at once.

        worker = AsyncWorker("127.0.0.1:50051", concurrency=64)

        @worker.handler("render")
        async def render(job: AsyncJobContext) -> dict:
            job.progress(0.5, "denoise")
            return {"url": await upload(...)}

        await worker.run()   # until SIGTERM/SIGINT (or stop())

    A handler that is a plain function (not `async def`) gets a JobContext and runs
    in a thread of the worker's own pool. The rest is as Worker: at-least-once
    delivery, reconnects with jittered backoff, drains on stop()."""

    def __init__(self, address: str = "127.0.0.1:50051", *, token: str | None = None, name: str = "",
                 concurrency: int = 1, labels: Mapping[str, str] | None = None, drain_timeout: float = 25.0,
                 credentials: grpc.ChannelCredentials | None = None):
        super().__init__(address, token=token, name=name, concurrency=concurrency, labels=labels,
                         drain_timeout=drain_timeout, credentials=credentials)
        self._handlers: dict[str, Union[AsyncHandler, SyncHandler]] = {}
        self._running: dict[str, _Attempt] = {}  # by lease id
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._stopping: Optional[asyncio.Event] = None
        self._outbox: Optional[Outbox] = None
        self._call: Any = None
        self._pool: Optional[ThreadPoolExecutor] = None
        self._stop_before_run = False

    def handler(self, type: str) -> Callable[[Any], Any]:
        """Registers the decorated function (async or not) for jobs of `type`."""
        def register(function: Any) -> Any:
            self.register(type, function)
            return function
        return register

    def register(self, type: str, function: Union[AsyncHandler, SyncHandler]) -> None:
        self._handlers[type] = function

    def stop(self) -> None:
        """Asks run() to drain and return; from the loop, another thread or a signal handler.
        Before run(), run() then returns at once."""
        loop = self._loop
        if loop is None:
            self._stop_before_run = True
            return
        try:
            on_loop = asyncio.get_running_loop() is loop
        except RuntimeError:
            on_loop = False
        if on_loop:
            self._stop()
        else:
            loop.call_soon_threadsafe(self._stop)

    async def run(self, *, handle_signals: bool = True) -> None:
        """Serves until stop() or SIGTERM/SIGINT; returns after draining. Raises
        SpoolError when the server refuses this worker (bad token, unknown type)."""
        if not self._handlers:
            raise ValueError("register a handler first")
        self._loop = loop = asyncio.get_running_loop()
        self._stopping = stopping = asyncio.Event()
        if self._stop_before_run:
            return
        if any(not inspect.iscoroutinefunction(function) for function in self._handlers.values()):
            self._pool = ThreadPoolExecutor(max_workers=self._concurrency, thread_name_prefix="spool-job")
        signals = []
        if handle_signals and threading.current_thread() is threading.main_thread():
            for number in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(number, self._stop)
                signals.append(number)
        try:
            delay = 0.1
            while not stopping.is_set():
                connected = await self._serve_one_stream()
                if stopping.is_set():
                    break
                delay = 0.1 if connected else min(5.0, delay * 2)
                # Full jitter: restarted servers are not met by every worker at once.
                try:
                    await asyncio.wait_for(stopping.wait(), random.uniform(0, delay))
                except asyncio.TimeoutError:
                    pass
        finally:
            for number in signals:
                loop.remove_signal_handler(number)
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None

    def _stop(self) -> None:
        assert self._stopping is not None
        if self._stopping.is_set():
            return
        self._stopping.set()
        if self._outbox is not None:
            self._outbox.put_nowait(worker_pb2.WorkerMessage(draining=worker_pb2.WorkerDraining()))
            if not self._running:
                self._outbox.put_nowait(None)  # half-close: the server ends the stream
        asyncio.ensure_future(self._drain())

    # The stream

    def _channel(self) -> grpc.aio.Channel:
        if self._credentials is not None:
            return grpc.aio.secure_channel(self._address, self._credentials, CHANNEL_OPTIONS)
        return grpc.aio.insecure_channel(self._address, CHANNEL_OPTIONS)

    async def _serve_one_stream(self) -> bool:
        """One connection, until it ends. Answers whether it got as far as a welcome."""
        assert self._stopping is not None
        outbox: Outbox = asyncio.Queue()
        self._batches = False
        outbox.put_nowait(self._hello(list(self._handlers)))
        if self._stopping.is_set():
            outbox.put_nowait(worker_pb2.WorkerMessage(draining=worker_pb2.WorkerDraining()))
        welcomed = False
        helpers: list[asyncio.Task[None]] = []
        async with self._channel() as channel:
            stub = worker_pb2_grpc.WorkersStub(channel)  # type: ignore[no-untyped-call]
            call = stub.Work(metadata=self._metadata)
            self._call, self._outbox = call, outbox
            helpers.append(asyncio.ensure_future(self._write(call, outbox)))
            try:
                async for command in call:
                    kind = command.WhichOneof("command")
                    if kind == "assign":
                        self._start(command.assign, outbox)
                    elif kind == "assignments":
                        for assignment in command.assignments.assignments:
                            self._start(assignment, outbox)
                    elif kind == "welcome":
                        welcomed = True
                        self._batches = command.welcome.batches
                        self.worker_id = command.welcome.worker_id
                        self.stats["connections"] += 1
                        interval = max(0.05, command.welcome.heartbeat_interval_ms / 1000)
                        helpers.append(asyncio.ensure_future(self._beat(outbox, interval)))
                    elif kind == "cancel":
                        job = self._running.get(command.cancel.lease.lease_id)
                        if job is not None:
                            job._cancel(command.cancel.message or "cancelled")
                    elif kind == "ack":
                        if command.ack.refusal:
                            self.stats["refused"] += 1
                            log.warning("spool: job %s: answer refused: %s", command.ack.lease.job_id,
                                        command.ack.message)
                    elif kind == "drain":
                        log.info("spool: server draining: %s", command.drain.message)
                    if self._stopping.is_set() and not self._running:
                        break
            except grpc.aio.AioRpcError as error:
                if error.code() in _FATAL:
                    raise SpoolError(error.code(), error.details() or "") from None
                if not self._stopping.is_set():
                    log.warning("spool: worker stream ended: %s: %s", error.code().name, error.details())
            finally:
                self._call, self._outbox = None, None
                for helper in helpers:
                    helper.cancel()
                call.cancel()
                # Without the stream, their answers would be refused: stop them.
                for job in list(self._running.values()):
                    job._cancel("the connection to the server was lost")
        return welcomed

    async def _write(self, call: Any, outbox: Outbox) -> None:
        # Outcomes that finished while the last message was written go out as one.
        carried: list[Outgoing] = []
        while (item := carried.pop() if carried else await outbox.get()) is not None:
            if isinstance(item, worker_pb2.WorkerMessage):
                await call.write(item)
                continue
            outcomes = [item]
            while self._batches and len(outcomes) < self._concurrency:
                try:
                    more = outbox.get_nowait()
                except asyncio.QueueEmpty:
                    break
                if not isinstance(more, worker_pb2.JobOutcome):
                    carried.append(more)
                    break
                outcomes.append(more)
            await call.write(outcomes_message(outcomes))
        await call.done_writing()

    @staticmethod
    async def _beat(outbox: Outbox, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            outbox.put_nowait(worker_pb2.WorkerMessage(heartbeat=worker_pb2.WorkerHeartbeat()))

    def _start(self, assignment: worker_pb2.JobAssignment, outbox: Outbox) -> None:
        assert self._stopping is not None and self._loop is not None
        handler = self._handlers.get(assignment.type)
        job: _Attempt
        if handler is not None and not inspect.iscoroutinefunction(handler):
            loop = self._loop

            def send_from_thread(message: worker_pb2.WorkerMessage) -> None:
                loop.call_soon_threadsafe(outbox.put_nowait, message)
            job = JobContext(assignment, send_from_thread)
        else:
            job = AsyncJobContext(assignment, outbox.put_nowait)
        self._running[assignment.lease.lease_id] = job
        if self._stopping.is_set():
            self._answer(outbox, job, worker_pb2.JobOutcome(lease=job._lease, released="the worker is stopping"))
            return
        asyncio.ensure_future(self._run(job, handler, outbox))

    async def _run(self, job: _Attempt, handler: Union[AsyncHandler, SyncHandler, None], outbox: Outbox) -> None:
        try:
            if handler is None:
                raise PermanentError(f"this worker has no handler for {job.type}")
            if isinstance(job, AsyncJobContext):
                task = job._task = asyncio.ensure_future(handler(job))  # type: ignore[arg-type]
                await asyncio.wait((task,))
                if task.cancelled():
                    raise RuntimeError(f"cancelled: {job.cancel_reason}")
                result = task.result()
            else:
                assert self._loop is not None
                result = await self._loop.run_in_executor(self._pool, handler, job)  # type: ignore[arg-type]
            answer = outcome(job._lease, result)
        except Exception as error:  # noqa: BLE001 - any error of a handler fails its attempt
            answer = outcome(job._lease, error=error)
        self.stats["failed" if answer.HasField("failure") else "succeeded"] += 1
        self._answer(outbox, job, answer)

    def _answer(self, outbox: Outbox, job: _Attempt, answer: worker_pb2.JobOutcome) -> None:
        outbox.put_nowait(answer)
        self._running.pop(job._lease.lease_id, None)
        assert self._stopping is not None
        if not self._running and self._stopping.is_set() and self._outbox is outbox:
            # The last answer is queued: half-close, and the server ends the stream.
            outbox.put_nowait(None)

    async def _drain(self) -> None:
        """After stop(): running jobs get drain_timeout to finish, then are cancelled
        (their answers say so, and they are retried); handlers that ignore that get
        five seconds more before the stream is cut."""
        for grace, then in ((self._drain_timeout, "cancel"), (5.0, "cut")):
            loop = asyncio.get_running_loop()
            deadline = loop.time() + grace
            while loop.time() < deadline and self._running:
                await asyncio.sleep(0.05)
            if not self._running:
                return
            if then == "cancel":
                for job in list(self._running.values()):
                    job._cancel("the worker is stopping")
            elif self._call is not None:
                self._call.cancel()
