"""Client.enqueue's shared EnqueueStream: many threads' jobs on one bidirectional
call, each answered by its correlation id once the server has stored it."""
from __future__ import annotations

import itertools
import queue
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from typing import Any

import grpc

from spool_client._proto import queue_pb2
from spool_client._proto.queue_pb2 import EnqueueStreamResponse, JobSpec


class StreamUnsupported(Exception):
    """The server has no EnqueueStream (older than it): use unary Enqueue."""


class StreamBroken(Exception):
    """The stream ended before this job's answer came: it may or may not be stored."""

    def __init__(self, code: grpc.StatusCode, details: str):
        super().__init__(f"{code.name}: {details}")
        self.code = code
        self.details = details


#: The most jobs one request message carries (the server takes up to 1,024).
MAX_PACKED = 1024


def pack(requests: list[queue_pb2.EnqueueStreamRequest]) -> queue_pb2.EnqueueStreamRequest:
    """One message for jobs that waited together: the first, the others as its `more`."""
    first = requests[0]
    if len(requests) > 1:
        first.more.extend(requests[1:])
    return first


def answers_in(message: EnqueueStreamResponse) -> list[EnqueueStreamResponse]:
    """The answers one message carries: itself and those packed in it."""
    return [message, *message.more] if message.more else [message]


class _Call:
    """One open EnqueueStream: its requests' queue and the answers it awaits.
    Once the server's answers say it `packs`, jobs that wait while the last
    message is sent go out together in one message."""

    def __init__(self, stub: Any, metadata: Sequence[tuple[str, str]]):
        self.requests: queue.SimpleQueue[queue_pb2.EnqueueStreamRequest | None] = queue.SimpleQueue()
        self.pending: dict[int, Future[EnqueueStreamResponse]] = {}
        self.lock = threading.Lock()
        self.ended: Exception | None = None
        self.packs = False
        self.call = stub.EnqueueStream(self._requests(), metadata=metadata)
        threading.Thread(target=self._read, name="spool-enqueue-stream", daemon=True).start()

    def _requests(self) -> Iterator[queue_pb2.EnqueueStreamRequest]:
        while (request := self.requests.get()) is not None:
            if not self.packs:
                yield request
                continue
            waiting = [request]
            closing = False
            while len(waiting) < MAX_PACKED:
                try:
                    more = self.requests.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    closing = True
                    break
                waiting.append(more)
            yield pack(waiting)
            if closing:
                return

    def _read(self) -> None:
        ended: Exception
        try:
            for message in self.call:
                self.packs = self.packs or message.packs
                for answer in answers_in(message):
                    with self.lock:
                        future = self.pending.pop(answer.correlation_id, None)
                    if future is not None:
                        future.set_result(answer)
            ended = StreamBroken(grpc.StatusCode.UNAVAILABLE, "the server ended the stream")
        except grpc.RpcError as error:
            code = error.code()
            ended = (StreamUnsupported() if code == grpc.StatusCode.UNIMPLEMENTED
                     else StreamBroken(code, error.details() or ""))
        with self.lock:
            self.ended = ended
            pending, self.pending = self.pending, {}
        self.requests.put(None)  # grpcio's thread feeding the call from _requests() ends too
        for future in pending.values():
            future.set_exception(ended)

    def submit(self, correlation_id: int, job: JobSpec) -> Future[EnqueueStreamResponse] | None:
        """The answer's future; None once the call has ended (open another)."""
        future: Future[EnqueueStreamResponse] = Future()
        with self.lock:
            if self.ended is not None:
                return None
            self.pending[correlation_id] = future
        self.requests.put(queue_pb2.EnqueueStreamRequest(correlation_id=correlation_id, job=job))
        return future

    def close(self) -> None:
        self.requests.put(None)
        self.call.cancel()


class EnqueueStream:
    """Thread-safe: enqueue() from any number of threads shares one call, opened
    when first needed and again after it breaks."""

    def __init__(self, stub: Any, metadata: Sequence[tuple[str, str]]):
        self._stub = stub
        self._metadata = metadata
        self._lock = threading.Lock()
        self._call: _Call | None = None
        self._ids = itertools.count(1)
        self.unsupported = False

    def enqueue(self, job: JobSpec, timeout: float) -> EnqueueStreamResponse:
        """The job's answer. Raises StreamUnsupported, StreamBroken, or
        StreamBroken(DEADLINE_EXCEEDED) after `timeout` seconds without one."""
        while True:
            with self._lock:
                if self.unsupported:
                    raise StreamUnsupported()
                if self._call is None or self._call.ended is not None:
                    self._call = _Call(self._stub, self._metadata)
                call = self._call
                correlation_id = next(self._ids)
            future = call.submit(correlation_id, job)
            if future is not None:
                break
        try:
            return future.result(timeout=timeout)
        except StreamUnsupported:
            self.unsupported = True
            raise
        except TimeoutError:
            raise StreamBroken(grpc.StatusCode.DEADLINE_EXCEEDED, f"no answer within {timeout:g} s") from None

    def close(self) -> None:
        with self._lock:
            if self._call is not None:
                self._call.close()
                self._call = None
