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
from spool_client._proto.queue_pb2 import (BatchSummary, EnqueueBatchResponse, GetStatusResponse, Job, JobSpec,
                                           ProgressEvent)

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
             run_at_ms: int = 0, labels: Mapping[str, str] | None = None) -> JobSpec:
    """A JobSpec; zero values mean the queue's defaults (README: The API)."""
    return JobSpec(queue=queue, type=type, payload=_bytes(payload), priority=priority,
                   idempotency_key=idempotency_key, lock_keys=list(lock_keys), rate_key=rate_key,
                   max_attempts=max_attempts, timeout_ms=timeout_ms, run_at_ms=run_at_ms, labels=dict(labels or {}))


def _bytes(payload: Payload) -> bytes:
    if isinstance(payload, bytes):
        return payload
    if isinstance(payload, str):
        return payload.encode()
    return json.dumps(dict(payload), separators=(",", ":")).encode()


class Client:
    """spool.v1.JobQueue on `address` (HOST:PORT, h2c). With `token`, every call
    sends `authorization: Bearer <token>`. `timeout` (seconds) bounds each unary call.
    Use it as a context manager, or call close()."""

    #: Status codes after which watch() reconnects and resumes.
    RESUMABLE = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED)

    def __init__(self, address: str = "127.0.0.1:50051", *, token: str | None = None, timeout: float = 30.0):
        self._channel = grpc.insecure_channel(address)
        # grpcio-tools writes the stub without annotations; every call through it is typed below.
        self._stub = queue_pb2_grpc.JobQueueStub(self._channel)  # type: ignore[no-untyped-call]
        self._metadata = (("authorization", f"Bearer {token}"),) if token else ()
        self._timeout = timeout

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _call(self, method: Any, request: Any) -> Any:
        try:
            return method(request, metadata=self._metadata, timeout=self._timeout)
        except grpc.RpcError as error:
            raise SpoolError(error.code(), error.details() or "") from None

    def enqueue(self, type: str, payload: Payload = b"", **spec: Any) -> Enqueued:
        """Adds one job; answers once it is stored. `spec`: the keywords of job_spec()."""
        answer = self._call(self._stub.Enqueue, queue_pb2.EnqueueRequest(job=job_spec(type, payload, **spec)))
        return Enqueued(job=answer.job, deduplicated=answer.deduplicated)

    def enqueue_batch(self, jobs: Iterable[JobSpec], *, labels: Mapping[str, str] | None = None
                      ) -> EnqueueBatchResponse:
        """Adds every job (build them with job_spec()) in one transaction, or none."""
        request = queue_pb2.EnqueueBatchRequest(jobs=list(jobs), labels=dict(labels or {}))
        answer: EnqueueBatchResponse = self._call(self._stub.EnqueueBatch, request)
        return answer

    def cancel(self, job_id: str = "", *, batch_id: str = "", reason: str = "") -> list[Job]:
        """Cancels a job, or every unfinished job of a batch; returns them as they are now."""
        answer = self._call(self._stub.Cancel, queue_pb2.CancelRequest(job_id=job_id, batch_id=batch_id, reason=reason))
        return list(answer.jobs)

    def status(self, job_ids: Iterable[str] = (), *, batch_id: str = "", queues: Iterable[str] = ()
               ) -> GetStatusResponse:
        """Queues, workers, rate limiters and locks, and the jobs or batch asked for."""
        request = queue_pb2.GetStatusRequest(job_ids=list(job_ids), batch_id=batch_id, queues=list(queues))
        answer: GetStatusResponse = self._call(self._stub.GetStatus, request)
        return answer

    def job(self, job_id: str) -> Job:
        """One job as it is now."""
        return self.status([job_id]).jobs[0]

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
        broken_since: float | None = None
        delay = 0.05
        while True:
            request.after_seq = last_seq
            try:
                for event in self._stub.StreamProgress(request, metadata=self._metadata):
                    broken_since, delay = None, 0.05
                    if event.seq:
                        last_seq = event.seq
                    yield event
                return
            except grpc.RpcError as error:
                if error.code() not in self.RESUMABLE:
                    raise SpoolError(error.code(), error.details() or "") from None
                now = time.monotonic()
                broken_since = broken_since or now
                if now - broken_since > reconnect_for:
                    raise SpoolError(error.code(), f"gave up reconnecting after {reconnect_for:g} s: "
                                     f"{error.details() or ''}") from None
                time.sleep(delay)
                delay = min(1.0, delay * 2)

    def wait(self, job_id: str, *, reconnect_for: float = 60.0) -> Job:
        """Blocks until the job is terminal and returns it."""
        final = None
        for event in self.watch([job_id], reconnect_for=reconnect_for):
            final = event.job
        if final is None or not JobState(final.state).is_terminal:
            raise SpoolError(grpc.StatusCode.UNKNOWN, f"the progress stream of job {job_id} ended before the job did")
        return final


__all__ = ["BatchSummary", "Client", "Enqueued", "Job", "JobSpec", "JobState", "Payload", "ProgressEvent",
           "SpoolError", "job_spec"]
