"""A typed client for spool.v1.JobQueue over grpcio."""
from __future__ import annotations

import enum
import json
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Union

import grpc

from spool_client._proto import queue_pb2, queue_pb2_grpc
from spool_client._stream import EnqueueStream, StreamBroken, StreamUnsupported
from spool_client._proto.queue_pb2 import (BatchSummary, EnqueueBatchResponse, GetStatusResponse, Job, JobSpec,
                                           ListJobsResponse, ProgressEvent, QueueStatus)

Payload = Union[bytes, str, Mapping[str, Any]]
"""Bytes as they are, text as UTF-8, a mapping as JSON."""


class JobState(enum.IntEnum):
    UNSPECIFIED = queue_pb2.JOB_STATE_UNSPECIFIED
    SCHEDULED = queue_pb2.JOB_STATE_SCHEDULED
    QUEUED = queue_pb2.JOB_STATE_QUEUED
    RUNNING = queue_pb2.JOB_STATE_RUNNING
    SUCCEEDED = queue_pb2.JOB_STATE_SUCCEEDED
    FAILED = queue_pb2.JOB_STATE_FAILED
    CANCELLED = queue_pb2.JOB_STATE_CANCELLED
    BLOCKED = queue_pb2.JOB_STATE_BLOCKED

    @property
    def is_terminal(self) -> bool:
        return self in (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED)


class SpoolError(Exception):
    """A call the server refused or could not finish: the gRPC status and its message."""

    def __init__(self, code: grpc.StatusCode, message: str):
        super().__init__(f"{code.name}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Enqueued:
    job: Job
    deduplicated: bool
    """True when the idempotency key matched a job the server already had."""


def job_spec(type: str, payload: Payload = b"", *, queue: str = "", priority: int = 0, idempotency_key: str = "",
             lock_keys: Iterable[str] = (), rate_key: str = "", max_attempts: int = 0, timeout_ms: int = 0,
             run_at_ms: int = 0, labels: Mapping[str, str] | None = None, expire_at_ms: int = 0,
             depends_on: Iterable[str] = (), depends_on_batches: Iterable[str] = (), depends_on_items: Iterable[int] = (),
             run_if_dependencies_fail: bool = False, parent_id: str = "", rate_cost: int = 0) -> JobSpec:
    """A JobSpec; zero values mean the queue's defaults (docs/api.md).

    The job waits BLOCKED until every job of `depends_on` and every job of each batch
    of `depends_on_batches` succeeded (`depends_on_items`: earlier jobs of the same
    enqueue_batch, by index); it is cancelled if one failed, unless
    `run_if_dependencies_fail`. `parent_id` (e.g. the running job's id) joins that
    job's batch. `rate_cost`: tokens the job takes from its rate key's bucket (0: 1)."""
    return JobSpec(queue=queue, type=type, payload=_bytes(payload), priority=priority,
                   idempotency_key=idempotency_key, lock_keys=list(lock_keys), rate_key=rate_key,
                   max_attempts=max_attempts, timeout_ms=timeout_ms, run_at_ms=run_at_ms, labels=dict(labels or {}),
                   expire_at_ms=expire_at_ms, depends_on=list(depends_on), depends_on_batches=list(depends_on_batches),
                   depends_on_items=list(depends_on_items), run_if_dependencies_fail=run_if_dependencies_fail,
                   parent_id=parent_id, rate_cost=rate_cost)


def _check_batch_retry(request: queue_pb2.EnqueueBatchRequest, retry_for: float) -> None:
    if retry_for > 0 and not request.idempotency_key and not all(job.idempotency_key for job in request.jobs):
        raise ValueError("enqueue_batch(retry_for=…) needs an idempotency_key, or one on every job: "
                         "without, a retry after a lost answer would store the jobs twice")


def _batch_request(jobs: Iterable[JobSpec], labels: Mapping[str, str] | None, callback: JobSpec | None,
                   parent_id: str, idempotency_key: str) -> queue_pb2.EnqueueBatchRequest:
    request = queue_pb2.EnqueueBatchRequest(jobs=list(jobs), labels=dict(labels or {}), parent_id=parent_id,
                                            idempotency_key=idempotency_key)
    if callback is not None:
        request.callback.CopyFrom(callback)
    return request


def _bytes(payload: Payload) -> bytes:
    if isinstance(payload, bytes):
        return payload
    if isinstance(payload, str):
        return payload.encode()
    return json.dumps(dict(payload), separators=(",", ":")).encode()


#: Every channel keeps its own connections. grpcio otherwise shares them between
#: channels to the same address, so a Client made just after a server restart
#: would inherit another channel's reconnect backoff and fail its first calls with
#: UNAVAILABLE although the server is up. Reconnects back off to 5 s at most, not
#: grpcio's 120 s: a restarted spoold is found again within seconds.
CHANNEL_OPTIONS = (("grpc.use_local_subchannel_pool", 1), ("grpc.max_reconnect_backoff_ms", 5000))


class Client:
    """spool.v1.JobQueue on `address` (HOST:PORT): h2c, or TLS with `credentials`
    (grpc.ssl_channel_credentials(...)). With `token`, every call sends
    `authorization: Bearer <token>`. `timeout` (seconds) bounds each call.
    enqueue() from any number of threads shares one EnqueueStream (unary Enqueue
    with stream_enqueues=False, or against a server without it). Use it as a
    context manager, or call close()."""

    #: Status codes after which watch() reconnects and resumes.
    RESUMABLE = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED)
    #: Status codes after which enqueue(retry_for=…) tries again: the call may have
    #: ended without its answer, its job stored or not.
    ANSWER_LOST = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)

    def __init__(self, address: str = "127.0.0.1:50051", *, token: str | None = None, timeout: float = 30.0,
                 credentials: grpc.ChannelCredentials | None = None, stream_enqueues: bool = True):
        self._channel = (grpc.secure_channel(address, credentials, CHANNEL_OPTIONS) if credentials is not None
                         else grpc.insecure_channel(address, CHANNEL_OPTIONS))
        # grpcio-tools writes the stub without annotations; every call through it is typed below.
        self._stub = queue_pb2_grpc.JobQueueStub(self._channel)  # type: ignore[no-untyped-call]
        self._metadata = (("authorization", f"Bearer {token}"),) if token else ()
        self._timeout = timeout
        # enqueue() rides one shared EnqueueStream, jobs waiting together packed in one
        # message (scripts/bench-enqueue-python.sh, 8 threads a process: as fast as unary
        # calls from one process, a third faster from eight); unary against older servers.
        self._stream = EnqueueStream(self._stub, self._metadata) if stream_enqueues else None

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
        self._channel.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _call(self, method: Any, request: Any, *, retry_for: float = 0.0) -> Any:
        """One unary call; with `retry_for`, tried again after ANSWER_LOST codes."""
        backoff = _Backoff(retry_for)
        while True:
            try:
                return method(request, metadata=self._metadata, timeout=self._timeout)
            except grpc.RpcError as error:
                if error.code() not in self.ANSWER_LOST or retry_for <= 0:
                    raise SpoolError(error.code(), error.details() or "") from None
                backoff.wait_or_give_up(error, "retrying")

    def enqueue(self, type: str, payload: Payload = b"", *, retry_for: float = 0.0, **spec: Any) -> Enqueued:
        """Adds one job; answers once it is stored. `spec`: the keywords of job_spec().

        With `retry_for` (seconds), a call that ends without its answer (no server, a
        restart, a dropped connection, a passed deadline) is tried again until that long
        has passed. The job may have been stored before the answer was lost, so this
        needs an `idempotency_key`: the retry is then answered with that job
        (`deduplicated`) instead of storing a second one."""
        if retry_for > 0 and not spec.get("idempotency_key"):
            raise ValueError("enqueue(retry_for=…) needs an idempotency_key: "
                             "without one, a retry after a lost answer would store the job twice")
        job = job_spec(type, payload, **spec)
        if self._stream is not None and not self._stream.unsupported:
            try:
                return self._enqueue_streamed(job, retry_for)
            except StreamUnsupported:
                pass  # an older server: unary from now on
        answer = self._call(self._stub.Enqueue, queue_pb2.EnqueueRequest(job=job), retry_for=retry_for)
        return Enqueued(job=answer.job, deduplicated=answer.deduplicated)

    def _enqueue_streamed(self, job: JobSpec, retry_for: float) -> Enqueued:
        """enqueue() on the shared stream, with the same retries and errors as unary."""
        assert self._stream is not None
        backoff = _Backoff(retry_for)
        while True:
            try:
                answer = self._stream.enqueue(job, self._timeout)
            except StreamBroken as broken:
                if broken.code not in self.ANSWER_LOST or retry_for <= 0:
                    raise SpoolError(broken.code, broken.details) from None
                backoff.wait_or_give_up_on(broken.code, broken.details, "retrying")
                continue
            if answer.error_code:
                code = _status_code(answer.error_code)
                if code not in self.ANSWER_LOST or retry_for <= 0:
                    raise SpoolError(code, answer.error_message)
                # Refused as a unary call would be (a server shutting down): tried again the same way.
                backoff.wait_or_give_up_on(code, answer.error_message, "retrying")
                continue
            return Enqueued(job=answer.job, deduplicated=answer.deduplicated)

    def enqueue_batch(self, jobs: Iterable[JobSpec], *, labels: Mapping[str, str] | None = None,
                      callback: JobSpec | None = None, parent_id: str = "", idempotency_key: str = "",
                      retry_for: float = 0.0) -> EnqueueBatchResponse:
        """Adds every job (build them with job_spec()) in one transaction, or none.

        `callback` runs once every job of the batch ended, with the batch's summary
        (Job.dependency_summary); `parent_id` adds the jobs to that running job's batch;
        `idempotency_key` answers the same batch again to a retry. `retry_for` needs it
        (or, for jobs joining a parent's batch, an idempotency key on every job)."""
        request = _batch_request(jobs, labels, callback, parent_id, idempotency_key)
        _check_batch_retry(request, retry_for)
        answer: EnqueueBatchResponse = self._call(self._stub.EnqueueBatch, request, retry_for=retry_for)
        return answer

    def cancel(self, job_id: str = "", *, batch_id: str = "", reason: str = "", retry_for: float = 0.0) -> list[Job]:
        """Cancels a job, or every unfinished job of a batch; returns them as they are now.
        A cancel may be repeated safely, so `retry_for` (seconds) tries again, as
        enqueue's does, while the server cannot be reached."""
        answer = self._call(self._stub.Cancel, queue_pb2.CancelRequest(job_id=job_id, batch_id=batch_id, reason=reason),
                            retry_for=retry_for)
        return list(answer.jobs)

    def status(self, job_ids: Iterable[str] = (), *, batch_id: str = "", queues: Iterable[str] = (),
               only_selected: bool = False, retry_for: float = 0.0) -> GetStatusResponse:
        """Queues, workers, rate limiters and locks, and the jobs or batch asked for;
        with `only_selected`, only what is asked for (the server builds nothing else).
        With `retry_for` (seconds), a call that cannot reach the server (a restart)
        is tried again until that long has passed."""
        request = queue_pb2.GetStatusRequest(job_ids=list(job_ids), batch_id=batch_id, queues=list(queues),
                                             only_selected=only_selected)
        answer: GetStatusResponse = self._call(self._stub.GetStatus, request, retry_for=retry_for)
        return answer

    def job(self, job_id: str, *, retry_for: float = 0.0) -> Job:
        """One job as it is now (`retry_for` as in status())."""
        return self.status([job_id], only_selected=True, retry_for=retry_for).jobs[0]

    def list_jobs(self, *, queue: str = "", states: Iterable[JobState] = (), type: str = "", batch_id: str = "",
                  labels: Mapping[str, str] | None = None, created_after_ms: int = 0, created_before_ms: int = 0,
                  oldest_first: bool = False, page_size: int = 0, page_token: str = "",
                  retry_for: float = 0.0) -> ListJobsResponse:
        """One page of the retained jobs every given filter matches, newest first (or
        oldest), with `total` (all that match) and `next_page_token` ("" on the last
        page). `retry_for` as in status()."""
        request = queue_pb2.ListJobsRequest(
            queue=queue, states=[queue_pb2.JobState.Name(int(state)) for state in states], type=type, batch_id=batch_id, labels=dict(labels or {}),
            created_after_ms=created_after_ms, created_before_ms=created_before_ms, oldest_first=oldest_first,
            page_size=page_size, page_token=page_token)
        answer: ListJobsResponse = self._call(self._stub.ListJobs, request, retry_for=retry_for)
        return answer

    def jobs(self, **filters: Any) -> Iterator[Job]:
        """Every job list_jobs(**filters) matches, page after page."""
        token = ""
        while True:
            page = self.list_jobs(**filters, page_token=token)
            yield from page.jobs
            token = page.next_page_token
            if not token:
                return

    def retry(self, job_id: str, *, reason: str = "") -> Job:
        """Runs a FAILED or CANCELLED job again, under its id, with fresh attempts; any
        other state is FAILED_PRECONDITION. (Not retried on UNAVAILABLE by itself: a
        second Retry of a job that the first one already queued is refused.)"""
        answer = self._call(self._stub.Retry, queue_pb2.RetryRequest(job_id=job_id, reason=reason))
        job: Job = answer.job
        return job

    def update_queue(self, queue: str, *, paused: bool | None = None, concurrency: int = 0,
                     rate_per_second: float | None = None, burst: float = 0.0, reset: bool = False,
                     retry_for: float = 0.0) -> QueueStatus:
        """Pauses or resumes a queue, or sets its concurrency (0: unchanged) or rate
        (0: no limit; None: unchanged), kept across restarts; `reset` first returns it
        to the config file's settings. The same update may be repeated safely, so
        `retry_for` (seconds) tries again while the server cannot be reached."""
        request = queue_pb2.UpdateQueueRequest(queue=queue, concurrency=concurrency, reset=reset)
        if paused is not None:
            request.pause = queue_pb2.UpdateQueueRequest.PAUSE_PAUSE if paused else queue_pb2.UpdateQueueRequest.PAUSE_RESUME
        if rate_per_second is not None:
            request.rate.CopyFrom(queue_pb2.QueueRate(per_second=rate_per_second, burst=burst))
        answer = self._call(self._stub.UpdateQueue, request, retry_for=retry_for)
        status: QueueStatus = answer.queue
        return status

    def pause(self, queue: str, *, retry_for: float = 0.0) -> QueueStatus:
        """The queue takes jobs and starts none until resume()."""
        return self.update_queue(queue, paused=True, retry_for=retry_for)

    def resume(self, queue: str, *, retry_for: float = 0.0) -> QueueStatus:
        return self.update_queue(queue, paused=False, retry_for=retry_for)

    def watch(self, job_ids: Iterable[str] = (), *, batch_id: str = "", queue: str = "", after_seq: int = 0,
              reconnect_for: float = 60.0) -> Iterator[ProgressEvent]:
        """The progress events of the selected jobs (exactly one of job ids, a batch or a
        queue): a snapshot of each (seq 0), then live events with increasing seqs. Ends
        when every selected job is terminal (a queue's stream never does).

        When the stream breaks (the server restarts, the network drops, or this reader
        fell too far behind) it reconnects with the last seq seen as after_seq, so no
        state change is lost: replayed events, then a fresh snapshot, then live events.
        It gives up, raising SpoolError, after `reconnect_for` seconds without a stream."""
        request = queue_pb2.StreamProgressRequest(job_ids=list(job_ids), batch_id=batch_id, queue=queue)
        last_seq = after_seq
        backoff = _Backoff(reconnect_for)
        while True:
            request.after_seq = last_seq
            try:
                for event in self._stub.StreamProgress(request, metadata=self._metadata):
                    backoff.reset()
                    if event.seq:
                        last_seq = event.seq
                    yield event
                return
            except grpc.RpcError as error:
                if error.code() not in self.RESUMABLE:
                    raise SpoolError(error.code(), error.details() or "") from None
                backoff.wait_or_give_up(error, "reconnecting")

    def wait(self, job_id: str, *, reconnect_for: float = 60.0) -> Job:
        """Blocks until the job is terminal and returns it."""
        final = None
        for event in self.watch([job_id], reconnect_for=reconnect_for):
            final = event.job
        if final is None or not JobState(final.state).is_terminal:
            raise SpoolError(grpc.StatusCode.UNKNOWN, f"the progress stream of job {job_id} ended before the job did")
        return final


class _Backoff:
    """Waits between attempts, 50 ms doubling up to 1 s; gives up `limit` seconds
    after the first failure since the last reset()."""

    def __init__(self, limit: float):
        self._limit = limit
        self.reset()

    def reset(self) -> None:
        self._failing_since: float | None = None
        self._delay = 0.05

    def wait_or_give_up(self, error: grpc.RpcError, doing: str) -> None:
        self.wait_or_give_up_on(error.code(), error.details() or "", doing)

    def wait_or_give_up_on(self, code: grpc.StatusCode, details: str, doing: str) -> None:
        time.sleep(self.next_delay(code, details, doing))

    def next_delay(self, code: grpc.StatusCode, details: str, doing: str) -> float:
        """How long to wait before the next attempt; raises SpoolError once `limit` has passed."""
        now = time.monotonic()
        self._failing_since = self._failing_since or now
        if now - self._failing_since > self._limit:
            raise SpoolError(code, f"gave up {doing} after {self._limit:g} s: {details}") from None
        delay = self._delay
        self._delay = min(1.0, self._delay * 2)
        return delay


def _status_code(number: int) -> grpc.StatusCode:
    """The grpc.StatusCode of an EnqueueStream answer's number (UNKNOWN for one it does not know)."""
    for code in grpc.StatusCode:
        if code.value[0] == number:
            return code
    return grpc.StatusCode.UNKNOWN


__all__ = ["BatchSummary", "Client", "Enqueued", "Job", "JobSpec", "JobState", "ListJobsResponse", "Payload",
           "ProgressEvent", "QueueStatus",
           "SpoolError", "job_spec"]
