"""AsyncClient: spool.v1.JobQueue for asyncio services, on grpc.aio. The same
calls and semantics as Client, awaited."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from typing import Any, TypeVar

import grpc
import grpc.aio

from spool_client._proto import queue_pb2, queue_pb2_grpc
from spool_client._proto.queue_pb2 import (EnqueueBatchResponse, GetStatusResponse, Job, JobSpec, ListJobsResponse,
                                           ProgressEvent, QueueStatus)
from spool_client.client import CHANNEL_OPTIONS, Client, Enqueued, JobState, Payload, SpoolError, job_spec
from spool_client.client import _Backoff as _SyncBackoff
from spool_client.client import _batch_request, _check_batch_retry
from spool_client.client import _status_code
from spool_client._aio_stream import AsyncEnqueueStream
from spool_client._stream import StreamBroken, StreamUnsupported

T = TypeVar("T")


class _Backoff(_SyncBackoff):
    """Client's backoff, awaited."""

    async def wait_or_give_up(self, error: grpc.aio.AioRpcError, doing: str) -> None:  # type: ignore[override]
        await self.wait_or_give_up_on(error.code(), error.details() or "", doing)

    async def wait_or_give_up_on(self, code: grpc.StatusCode, details: str, doing: str) -> None:  # type: ignore[override]
        await asyncio.sleep(self.next_delay(code, details, doing))


class AsyncClient:
    """Client's calls for asyncio: `async with AsyncClient(address) as spool:` then
    `await spool.enqueue(...)`, `async for event in spool.watch(...)`. Many
    concurrent enqueues on one client share one EnqueueStream, those waiting
    together packed in one message: twice the jobs/s of unary calls
    (scripts/bench-enqueue-python.sh); unary against older servers, or with
    stream_enqueues=False."""

    RESUMABLE = Client.RESUMABLE
    ANSWER_LOST = Client.ANSWER_LOST

    def __init__(self, address: str = "127.0.0.1:50051", *, token: str | None = None, timeout: float = 30.0,
                 credentials: grpc.ChannelCredentials | None = None, stream_enqueues: bool = True):
        self._channel = (grpc.aio.secure_channel(address, credentials, CHANNEL_OPTIONS) if credentials is not None
                         else grpc.aio.insecure_channel(address, CHANNEL_OPTIONS))
        self._stub = queue_pb2_grpc.JobQueueStub(self._channel)  # type: ignore[no-untyped-call]
        self._metadata = (("authorization", f"Bearer {token}"),) if token else ()
        self._timeout = timeout
        self._stream = AsyncEnqueueStream(self._stub, self._metadata) if stream_enqueues else None

    async def close(self) -> None:
        if self._stream is not None:
            await self._stream.close()
        await self._channel.close()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def _call(self, method: Callable[..., Awaitable[T]], request: Any, *, retry_for: float = 0.0) -> T:
        backoff = _Backoff(retry_for)
        while True:
            try:
                return await method(request, metadata=self._metadata, timeout=self._timeout)
            except grpc.aio.AioRpcError as error:
                if error.code() not in self.ANSWER_LOST or retry_for <= 0:
                    raise SpoolError(error.code(), error.details() or "") from None
                await backoff.wait_or_give_up(error, "retrying")

    async def enqueue(self, type: str, payload: Payload = b"", *, retry_for: float = 0.0, **spec: Any) -> Enqueued:
        """Client.enqueue, awaited (retry_for needs an idempotency_key, as there)."""
        if retry_for > 0 and not spec.get("idempotency_key"):
            raise ValueError("enqueue(retry_for=…) needs an idempotency_key: "
                             "without one, a retry after a lost answer would store the job twice")
        job = job_spec(type, payload, **spec)
        if self._stream is not None and not self._stream.unsupported:
            try:
                return await self._enqueue_streamed(job, retry_for)
            except StreamUnsupported:
                pass  # an older server: unary from now on
        answer = await self._call(self._stub.Enqueue, queue_pb2.EnqueueRequest(job=job), retry_for=retry_for)
        return Enqueued(job=answer.job, deduplicated=answer.deduplicated)

    async def _enqueue_streamed(self, job: JobSpec, retry_for: float) -> Enqueued:
        """enqueue() on the shared stream, with the same retries and errors as unary."""
        assert self._stream is not None
        backoff = _Backoff(retry_for)
        while True:
            try:
                answer = await self._stream.enqueue(job, self._timeout)
            except StreamBroken as broken:
                if broken.code not in self.ANSWER_LOST or retry_for <= 0:
                    raise SpoolError(broken.code, broken.details) from None
                await backoff.wait_or_give_up_on(broken.code, broken.details, "retrying")
                continue
            if answer.error_code:
                code = _status_code(answer.error_code)
                if code not in self.ANSWER_LOST or retry_for <= 0:
                    raise SpoolError(code, answer.error_message)
                # Refused as a unary call would be (a server shutting down): tried again the same way.
                await backoff.wait_or_give_up_on(code, answer.error_message, "retrying")
                continue
            return Enqueued(job=answer.job, deduplicated=answer.deduplicated)

    async def enqueue_batch(self, jobs: Iterable[JobSpec], *, labels: Mapping[str, str] | None = None,
                            callback: JobSpec | None = None, parent_id: str = "", idempotency_key: str = "",
                            retry_for: float = 0.0) -> EnqueueBatchResponse:
        """Client.enqueue_batch, awaited."""
        request = _batch_request(jobs, labels, callback, parent_id, idempotency_key)
        _check_batch_retry(request, retry_for)
        answer: EnqueueBatchResponse = await self._call(self._stub.EnqueueBatch, request, retry_for=retry_for)
        return answer

    async def cancel(self, job_id: str = "", *, batch_id: str = "", reason: str = "", retry_for: float = 0.0) -> list[Job]:
        answer = await self._call(self._stub.Cancel, queue_pb2.CancelRequest(job_id=job_id, batch_id=batch_id, reason=reason),
                                  retry_for=retry_for)
        return list(answer.jobs)

    async def status(self, job_ids: Iterable[str] = (), *, batch_id: str = "", queues: Iterable[str] = (),
                     only_selected: bool = False, retry_for: float = 0.0) -> GetStatusResponse:
        request = queue_pb2.GetStatusRequest(job_ids=list(job_ids), batch_id=batch_id, queues=list(queues),
                                             only_selected=only_selected)
        answer: GetStatusResponse = await self._call(self._stub.GetStatus, request, retry_for=retry_for)
        return answer

    async def job(self, job_id: str, *, retry_for: float = 0.0) -> Job:
        return (await self.status([job_id], only_selected=True, retry_for=retry_for)).jobs[0]

    async def list_jobs(self, *, queue: str = "", states: Iterable[JobState] = (), type: str = "", batch_id: str = "",
                        labels: Mapping[str, str] | None = None, created_after_ms: int = 0, created_before_ms: int = 0,
                        oldest_first: bool = False, page_size: int = 0, page_token: str = "",
                        retry_for: float = 0.0) -> ListJobsResponse:
        request = queue_pb2.ListJobsRequest(
            queue=queue, states=[queue_pb2.JobState.Name(int(state)) for state in states], type=type, batch_id=batch_id,
            labels=dict(labels or {}), created_after_ms=created_after_ms, created_before_ms=created_before_ms,
            oldest_first=oldest_first, page_size=page_size, page_token=page_token)
        answer: ListJobsResponse = await self._call(self._stub.ListJobs, request, retry_for=retry_for)
        return answer

    async def retry(self, job_id: str, *, reason: str = "") -> Job:
        answer = await self._call(self._stub.Retry, queue_pb2.RetryRequest(job_id=job_id, reason=reason))
        job: Job = answer.job
        return job

    async def pause(self, queue: str, *, retry_for: float = 0.0) -> QueueStatus:
        request = queue_pb2.UpdateQueueRequest(queue=queue, pause=queue_pb2.UpdateQueueRequest.PAUSE_PAUSE)
        status: QueueStatus = (await self._call(self._stub.UpdateQueue, request, retry_for=retry_for)).queue
        return status

    async def resume(self, queue: str, *, retry_for: float = 0.0) -> QueueStatus:
        request = queue_pb2.UpdateQueueRequest(queue=queue, pause=queue_pb2.UpdateQueueRequest.PAUSE_RESUME)
        status: QueueStatus = (await self._call(self._stub.UpdateQueue, request, retry_for=retry_for)).queue
        return status

    async def watch(self, job_ids: Iterable[str] = (), *, batch_id: str = "", queue: str = "", after_seq: int = 0,
                    reconnect_for: float = 60.0) -> AsyncIterator[ProgressEvent]:
        """Client.watch, as an async iterator: resumes by itself after the last seq seen."""
        request = queue_pb2.StreamProgressRequest(job_ids=list(job_ids), batch_id=batch_id, queue=queue)
        last_seq = after_seq
        backoff = _Backoff(reconnect_for)
        while True:
            request.after_seq = last_seq
            try:
                async for event in self._stub.StreamProgress(request, metadata=self._metadata):
                    backoff.reset()
                    if event.seq:
                        last_seq = event.seq
                    yield event
                return
            except grpc.aio.AioRpcError as error:
                if error.code() not in self.RESUMABLE:
                    raise SpoolError(error.code(), error.details() or "") from None
                await backoff.wait_or_give_up(error, "reconnecting")

    async def wait(self, job_id: str, *, reconnect_for: float = 60.0) -> Job:
        """The job once it is terminal."""
        final: Job | None = None
        async for event in self.watch([job_id], reconnect_for=reconnect_for):
            final = event.job
        if final is None or not JobState(final.state).is_terminal:
            raise SpoolError(grpc.StatusCode.UNKNOWN, f"the progress stream of job {job_id} ended before the job did")
        return final


__all__ = ["AsyncClient"]
