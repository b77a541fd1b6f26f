"""AsyncClient.enqueue's shared EnqueueStream: every task's jobs on one
bidirectional call, packed together while the last message is being sent,
each answered by its correlation id once the server has stored it."""
from __future__ import annotations

import asyncio
import itertools
from collections.abc import Sequence
from typing import Any, Optional

import grpc
import grpc.aio

from spool_client._proto import queue_pb2
from spool_client._proto.queue_pb2 import EnqueueStreamResponse, JobSpec
from spool_client._stream import MAX_PACKED, StreamBroken, StreamUnsupported, answers_in, pack


class _Call:
    """One open EnqueueStream on grpc.aio: a writer task packing what waits, a
    reader task settling the answers' futures."""

    def __init__(self, stub: Any, metadata: Sequence[tuple[str, str]]):
        self.requests: asyncio.Queue[Optional[queue_pb2.EnqueueStreamRequest]] = asyncio.Queue()
        self.pending: dict[int, asyncio.Future[EnqueueStreamResponse]] = {}
        self.ended: Optional[Exception] = None
        self.packs = False
        self.call = stub.EnqueueStream(metadata=metadata)
        self.tasks = [asyncio.ensure_future(self._write()), asyncio.ensure_future(self._read())]

    async def _write(self) -> None:
        try:
            while (request := await self.requests.get()) is not None:
                if self.packs:
                    # Turns of the loop while they bring more jobs: tasks woken with this
                    # one, and by answers arriving meanwhile, add theirs to this message.
                    while True:
                        waiting_before = self.requests.qsize()
                        await asyncio.sleep(0)
                        if self.requests.qsize() == waiting_before or waiting_before >= MAX_PACKED:
                            break
                waiting = [request]
                closing = False
                while self.packs and len(waiting) < MAX_PACKED:
                    try:
                        more = self.requests.get_nowait()
                    except asyncio.QueueEmpty:
                        break
                    if more is None:
                        closing = True
                        break
                    waiting.append(more)
                await self.call.write(pack(waiting))
                if closing:
                    break
            if self.ended is None:
                await self.call.done_writing()
        except (grpc.aio.AioRpcError, asyncio.InvalidStateError):
            pass  # the reader reports how the call ended

    async def _read(self) -> None:
        ended: Exception
        try:
            async for message in self.call:
                self.packs = self.packs or message.packs
                for answer in answers_in(message):
                    future = self.pending.pop(answer.correlation_id, None)
                    if future is not None and not future.done():
                        future.set_result(answer)
            ended = StreamBroken(grpc.StatusCode.UNAVAILABLE, "the server ended the stream")
        except grpc.aio.AioRpcError as error:
            code = error.code()
            ended = (StreamUnsupported() if code == grpc.StatusCode.UNIMPLEMENTED
                     else StreamBroken(code, error.details() or ""))
        except asyncio.CancelledError:
            ended = StreamBroken(grpc.StatusCode.CANCELLED, "the client closed")
        self.ended = ended
        self.requests.put_nowait(None)  # the writer ends too
        pending, self.pending = self.pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(ended)

    def submit(self, correlation_id: int, job: JobSpec) -> Optional[asyncio.Future[EnqueueStreamResponse]]:
        """The answer's future; None once the call has ended (open another)."""
        if self.ended is not None:
            return None
        future: asyncio.Future[EnqueueStreamResponse] = asyncio.get_running_loop().create_future()
        self.pending[correlation_id] = future
        self.requests.put_nowait(queue_pb2.EnqueueStreamRequest(correlation_id=correlation_id, job=job))
        return future

    async def close(self) -> None:
        self.call.cancel()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


class AsyncEnqueueStream:
    """enqueue() from any number of tasks (of one event loop) shares one call,
    opened when first needed and again after it breaks."""

    def __init__(self, stub: Any, metadata: Sequence[tuple[str, str]]):
        self._stub = stub
        self._metadata = metadata
        self._call: Optional[_Call] = None
        self._ids = itertools.count(1)
        self.unsupported = False

    async def enqueue(self, job: JobSpec, timeout: float) -> EnqueueStreamResponse:
        """The job's answer. Raises StreamUnsupported, StreamBroken, or
        StreamBroken(DEADLINE_EXCEEDED) after `timeout` seconds without one."""
        while True:
            if self.unsupported:
                raise StreamUnsupported()
            if self._call is None or self._call.ended is not None:
                self._call = _Call(self._stub, self._metadata)
            future = self._call.submit(next(self._ids), job)
            if future is not None:
                break
        try:
            return await asyncio.wait_for(future, timeout)
        except StreamUnsupported:
            self.unsupported = True
            raise
        except asyncio.TimeoutError:
            raise StreamBroken(grpc.StatusCode.DEADLINE_EXCEEDED, f"no answer within {timeout:g} s") from None

    async def close(self) -> None:
        if self._call is not None:
            await self._call.close()
            self._call = None
