"""A remote worker for spool.v1.Workers: runs jobs of the types it registers, N at a time."""
from __future__ import annotations

import json
import logging
import queue
import random
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Optional, Union

import grpc

from spool_client._proto import queue_pb2, worker_pb2, worker_pb2_grpc
from spool_client.client import CHANNEL_OPTIONS, Payload, SpoolError, _bytes

log = logging.getLogger("spool_client.worker")

Result = Union[Payload, None]
"""What a handler returns: bytes as they are, text as UTF-8, a mapping as JSON, None as empty."""


class RetryableError(Exception):
    """Raise to fail this attempt and have it retried while attempts are left. With
    `retry_after` (seconds) the downstream said "rate limited": the job waits that long
    and the job's rate limiters slow down. Any other exception a handler raises is
    retryable too."""

    def __init__(self, message: str, *, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(Exception):
    """Raise when no attempt can succeed (bad input): the job fails now."""


class _Attempt:
    """What a handler sees of one attempt of a job, sync or async."""

    def __init__(self, assignment: worker_pb2.JobAssignment, send: Callable[[worker_pb2.WorkerMessage], None]):
        self.id: str = assignment.lease.job_id
        self.type: str = assignment.type
        self.queue: str = assignment.queue
        self.attempt: int = assignment.lease.attempt
        self.max_attempts: int = assignment.max_attempts
        self.payload: bytes = assignment.payload
        self.labels: dict[str, str] = dict(assignment.labels)
        self.batch_id: str = assignment.batch_id
        #: A batch callback's summary: how the batches it waited for ended (JSON), or "".
        self.dependency_summary: str = assignment.dependency_summary
        #: When this attempt times out (Unix ms); 0: never.
        self.deadline_ms: int = assignment.deadline_ms
        self._lease = worker_pb2.Lease()
        self._lease.CopyFrom(assignment.lease)
        self._send = send
        self._is_cancelled = False
        self.cancel_reason = ""
        self._last_progress = 0.0

    def json(self) -> Any:
        """The payload, parsed as JSON."""
        return json.loads(self.payload or b"null")

    def progress(self, fraction: float, step: str = "", message: str = "") -> None:
        """Tells watchers how far the job is (0…1). Sent at most every 100 ms, except 1.0."""
        now = time.monotonic()
        if fraction < 1 and now - self._last_progress < 0.1:
            return
        self._last_progress = now
        update = worker_pb2.JobProgressUpdate(
            lease=self._lease, progress=queue_pb2.JobProgress(fraction=fraction, step=step, message=message))
        self._send(worker_pb2.WorkerMessage(progress=update))

    @property
    def cancelled(self) -> bool:
        """True once the server asked this attempt to stop (a cancel, its timeout, a
        shutdown, a lost lease): a handler should return or raise soon."""
        return self._is_cancelled

    def _cancel(self, reason: str) -> None:
        self.cancel_reason = reason
        self._is_cancelled = True


class JobContext(_Attempt):
    """One attempt of a job, as a Worker's handler sees it."""

    def __init__(self, assignment: worker_pb2.JobAssignment, send: Callable[[worker_pb2.WorkerMessage], None]):
        super().__init__(assignment, send)
        self._cancelled = threading.Event()

    def wait_cancelled(self, timeout: float | None = None) -> bool:
        """Sleeps up to `timeout` seconds, waking early if the attempt is cancelled."""
        return self._cancelled.wait(timeout)

    def _cancel(self, reason: str) -> None:
        super()._cancel(reason)
        self._cancelled.set()


def outcome(lease: worker_pb2.Lease, result: Result = None, error: BaseException | None = None) -> worker_pb2.JobOutcome:
    """The answer for a run that returned `result` or raised `error`."""
    if error is None:
        return worker_pb2.JobOutcome(lease=lease, result=b"" if result is None else _bytes(result))
    if isinstance(error, PermanentError):
        return worker_pb2.JobOutcome(lease=lease, failure=worker_pb2.JobFailure(
            message=str(error) or type(error).__name__, permanent=True))
    if isinstance(error, RetryableError):
        after = int(error.retry_after * 1000) if error.retry_after else 0
        return worker_pb2.JobOutcome(lease=lease, failure=worker_pb2.JobFailure(
            message=str(error) or type(error).__name__, retry_after_ms=after))
    return worker_pb2.JobOutcome(lease=lease, failure=worker_pb2.JobFailure(message=f"{type(error).__name__}: {error}"))


Handler = Callable[[JobContext], Result]

#: What a worker's writer sends: messages, and outcomes it may pack together;
#: None half-closes the stream.
Outgoing = Union[worker_pb2.WorkerMessage, worker_pb2.JobOutcome, None]


def outcomes_message(outcomes: list[worker_pb2.JobOutcome]) -> worker_pb2.WorkerMessage:
    """One message for finished runs: `outcomes` when there are several."""
    if len(outcomes) == 1:
        return worker_pb2.WorkerMessage(outcome=outcomes[0])
    return worker_pb2.WorkerMessage(outcomes=worker_pb2.JobOutcomes(outcomes=outcomes))

_FATAL = (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.INVALID_ARGUMENT,
          grpc.StatusCode.UNIMPLEMENTED, grpc.StatusCode.FAILED_PRECONDITION)


class _WorkerSettings:
    """What Worker and AsyncWorker share: where and as whom they connect, and
    what they say in their hello."""

    def __init__(self, address: str, *, token: str | None, name: str, concurrency: int,
                 labels: Mapping[str, str] | None, drain_timeout: float, credentials: grpc.ChannelCredentials | None):
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self._address = address
        self._credentials = credentials
        self._metadata = (("authorization", f"Bearer {token}"),) if token else ()
        self._name = name or f"python-{threading.get_native_id()}"
        self._concurrency = concurrency
        self._labels = dict(labels or {})
        self._drain_timeout = drain_timeout
        self._batches = False  # the server takes `outcomes`
        #: Counts of what happened, for tests and logs.
        self.stats = {"succeeded": 0, "failed": 0, "refused": 0, "connections": 0}
        #: The id the server gave this worker's current connection.
        self.worker_id = ""

    def _hello(self, types: list[str]) -> worker_pb2.WorkerMessage:
        return worker_pb2.WorkerMessage(hello=worker_pb2.WorkerHello(
            name=self._name, types=sorted(types), capacity=self._concurrency, labels=self._labels, batches=True))


class Worker(_WorkerSettings):
    """Takes jobs of the registered types from spoold at `address` and runs up to
    `concurrency` at once, each in its own thread.

        worker = Worker("127.0.0.1:50051", concurrency=4)

        @worker.handler("render")
        def render(job: JobContext) -> dict:
            job.progress(0.5, "denoise")
            return {"url": "..."}

        worker.run()   # until SIGTERM/SIGINT (or stop())

    Delivery is at least once: a job whose worker dies is run again after its lease
    (docs/workers.md), so handlers with outside effects should be idempotent.
    run() reconnects with backoff (and jitter) when spoold restarts. With `credentials`
    (grpc.ssl_channel_credentials(...)) it connects over TLS. On SIGTERM, or
    stop(), it takes no new jobs, lets running ones finish for up to `drain_timeout`
    seconds, then cancels the rest (they are retried) and returns."""

    def __init__(self, address: str = "127.0.0.1:50051", *, token: str | None = None, name: str = "",
                 concurrency: int = 1, labels: Mapping[str, str] | None = None, drain_timeout: float = 25.0,
                 credentials: grpc.ChannelCredentials | None = None):
        super().__init__(address, token=token, name=name, concurrency=concurrency, labels=labels,
                         drain_timeout=drain_timeout, credentials=credentials)
        self._handlers: dict[str, Handler] = {}
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._running: dict[str, JobContext] = {}  # by lease id
        self._outbox: Optional[queue.Queue[Outgoing]] = None
        self._call: Any = None

    def handler(self, type: str) -> Callable[[Handler], Handler]:
        """Registers the decorated function for jobs of `type`."""
        def register(function: Handler) -> Handler:
            self.register(type, function)
            return function
        return register

    def register(self, type: str, function: Handler) -> None:
        self._handlers[type] = function

    def stop(self) -> None:
        """Asks run() to drain and return (from any thread or a signal handler)."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        outbox = self._outbox
        if outbox is not None:
            outbox.put(worker_pb2.WorkerMessage(draining=worker_pb2.WorkerDraining()))
            with self._lock:
                idle = not self._running
            if idle:
                outbox.put(None)  # half-close: the server ends the stream
        threading.Thread(target=self._drain, daemon=True, name="spool-drain").start()

    def run(self, *, handle_signals: bool = True) -> None:
        """Serves until stop() or SIGTERM/SIGINT; returns after draining. Raises
        SpoolError when the server refuses this worker (bad token, unknown type)."""
        if not self._handlers:
            raise ValueError("register a handler first")
        previous = {}
        if handle_signals and threading.current_thread() is threading.main_thread():
            for number in (signal.SIGTERM, signal.SIGINT):
                previous[number] = signal.signal(number, lambda *_: self.stop())
        pool = ThreadPoolExecutor(max_workers=self._concurrency, thread_name_prefix="spool-job")
        try:
            delay = 0.1
            while not self._stopping.is_set():
                connected = self._serve_one_stream(pool)
                if self._stopping.is_set():
                    break
                delay = 0.1 if connected else min(5.0, delay * 2)
                # Full jitter: restarted servers are not met by every worker at once.
                self._stopping.wait(random.uniform(0, delay))
        finally:
            pool.shutdown(wait=True)
            for number, handler in previous.items():
                signal.signal(number, handler)

    # The stream

    def _channel(self) -> grpc.Channel:
        if self._credentials is not None:
            return grpc.secure_channel(self._address, self._credentials, CHANNEL_OPTIONS)
        return grpc.insecure_channel(self._address, CHANNEL_OPTIONS)

    def _serve_one_stream(self, pool: ThreadPoolExecutor) -> bool:
        """One connection, until it ends. Answers whether it got as far as a welcome."""
        outbox: queue.Queue[Outgoing] = queue.Queue()
        outbox.put(self._hello(list(self._handlers)))
        welcomed = False
        heartbeat_stop = threading.Event()
        self._batches = False

        def requests() -> Iterator[worker_pb2.WorkerMessage]:
            # Outcomes that finished while the last message was written go out as one.
            carried: list[Outgoing] = []
            while True:
                item = carried.pop() if carried else outbox.get()
                if item is None:
                    return
                if isinstance(item, worker_pb2.WorkerMessage):
                    yield item
                    continue
                outcomes = [item]
                while self._batches and len(outcomes) < self._concurrency:
                    try:
                        more = outbox.get_nowait()
                    except queue.Empty:
                        break
                    if not isinstance(more, worker_pb2.JobOutcome):
                        carried.append(more)
                        break
                    outcomes.append(more)
                yield outcomes_message(outcomes)

        with self._channel() as channel:
            stub = worker_pb2_grpc.WorkersStub(channel)  # type: ignore[no-untyped-call]
            call = stub.Work(requests(), metadata=self._metadata)
            self._call, self._outbox = call, outbox
            if self._stopping.is_set():
                outbox.put(worker_pb2.WorkerMessage(draining=worker_pb2.WorkerDraining()))
            try:
                for command in call:
                    kind = command.WhichOneof("command")
                    if kind == "assign":
                        self._start(command.assign, outbox, pool)
                    elif kind == "assignments":
                        for assignment in command.assignments.assignments:
                            self._start(assignment, outbox, pool)
                    elif kind == "welcome":
                        welcomed = True
                        self._batches = command.welcome.batches
                        self.worker_id = command.welcome.worker_id
                        self._count("connections")
                        interval = max(0.05, command.welcome.heartbeat_interval_ms / 1000)
                        threading.Thread(target=self._beat, args=(outbox, interval, heartbeat_stop),
                                         daemon=True, name="spool-heartbeat").start()
                    elif kind == "cancel":
                        with self._lock:
                            job = self._running.get(command.cancel.lease.lease_id)
                        if job is not None:
                            job._cancel(command.cancel.message or "cancelled")
                    elif kind == "ack":
                        if command.ack.refusal:
                            self._count("refused")
                            log.warning("spool: job %s: answer refused: %s", command.ack.lease.job_id,
                                        command.ack.message)
                    elif kind == "drain":
                        log.info("spool: server draining: %s", command.drain.message)
                    if self._stopping.is_set() and not self._running:
                        break
            except grpc.RpcError as error:
                if error.code() in _FATAL:
                    raise SpoolError(error.code(), error.details() or "") from None
                if not self._stopping.is_set():
                    log.warning("spool: worker stream ended: %s: %s", error.code().name, error.details())
            finally:
                heartbeat_stop.set()
                outbox.put(None)
                self._call, self._outbox = None, None
                call.cancel()
                # Without the stream, their answers would be refused: stop them.
                with self._lock:
                    for job in self._running.values():
                        job._cancel("the connection to the server was lost")
        return welcomed

    def _count(self, what: str) -> None:
        with self._lock:
            self.stats[what] += 1

    def _beat(self, outbox: queue.Queue[Outgoing], interval: float,
              stop: threading.Event) -> None:
        # Its own thread: a busy or blocked handler never holds up the heartbeats.
        while not stop.wait(interval):
            outbox.put(worker_pb2.WorkerMessage(heartbeat=worker_pb2.WorkerHeartbeat()))

    def _start(self, assignment: worker_pb2.JobAssignment,
               outbox: queue.Queue[Outgoing], pool: ThreadPoolExecutor) -> None:
        job = JobContext(assignment, outbox.put)
        with self._lock:
            self._running[assignment.lease.lease_id] = job
        if self._stopping.is_set():
            self._answer(outbox, job, worker_pb2.JobOutcome(lease=job._lease, released="the worker is stopping"))
            return
        pool.submit(self._run, job, outbox)

    def _run(self, job: JobContext, outbox: queue.Queue[Outgoing]) -> None:
        handler = self._handlers.get(job.type)
        try:
            if handler is None:
                raise PermanentError(f"this worker has no handler for {job.type}")
            answer = outcome(job._lease, handler(job))
        except Exception as error:  # noqa: BLE001 - any error of a handler fails its attempt
            answer = outcome(job._lease, error=error)
        self._count("failed" if answer.HasField("failure") else "succeeded")
        self._answer(outbox, job, answer)

    def _answer(self, outbox: queue.Queue[Outgoing], job: JobContext,
                outcome: worker_pb2.JobOutcome) -> None:
        outbox.put(outcome)
        with self._lock:
            self._running.pop(job._lease.lease_id, None)
            idle = not self._running
        if idle and self._stopping.is_set() and self._call is not None:
            # The last answer is queued: half-close, and the server ends the stream.
            outbox.put(None)

    def _drain(self) -> None:
        """After stop(): running jobs get drain_timeout to finish, then are cancelled
        (their answers say so, and they are retried); handlers that ignore that get
        five seconds more before the stream is cut."""
        for grace, then in ((self._drain_timeout, "cancel"), (5.0, "cut")):
            deadline = time.monotonic() + grace
            while time.monotonic() < deadline:
                with self._lock:
                    if not self._running:
                        return
                time.sleep(0.05)
            with self._lock:
                jobs = list(self._running.values())
            if then == "cancel":
                for job in jobs:
                    job._cancel("the worker is stopping")
            elif self._call is not None:
                self._call.cancel()


__all__ = ["Handler", "JobContext", "PermanentError", "Result", "RetryableError", "Worker"]
