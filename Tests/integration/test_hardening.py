"""What a hostile or careless client, worker or database can do to spoold, tried
on the real binary: every value out of range is refused by name or clamped, a
poisoned database does not keep the server down, and readers cannot make it
buffer without bound. Each test ends by checking that the server still serves."""
import json
import socket
import sqlite3
import struct
import subprocess

import grpc
import h2.config
import h2.connection
import h2.events
import h2.settings
import pytest

from conftest import ROOT, Spoold

INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)
INT32_MAX = 2**31 - 1
INT32_MIN = -(2**31)
TEN_YEARS_MS = 10 * 366 * 86_400_000
YEAR_9999_MS = 253_402_300_799_999


def stub_of(channel, pb):
    return pb[1].JobQueueStub(channel)


def assert_serves(server, pb):
    m, _ = pb
    with server.channel() as channel:
        answer = stub_of(channel, pb).GetStatus(m.GetStatusRequest(), timeout=10)
    assert answer.server_time_ms > 0


def refusal(call):
    with pytest.raises(grpc.RpcError) as raised:
        call()
    return raised.value.code(), raised.value.details()


def test_the_issues_example_is_refused_naming_the_field_and_its_limit(server, grpcurl, pb):
    result = subprocess.run(
        [grpcurl, "-plaintext", "-d", '{"job": {"type": "spool.echo", "timeout_ms": "9223372036854775807"}}',
         server.address, "spool.v1.JobQueue/Enqueue"], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "InvalidArgument" in result.stderr
    assert "timeout_ms must be 0 (the queue's default) to 316224000000 (ten years)" in result.stderr
    assert_serves(server, pb)


# The wire edge: every extreme value of every number a job carries, through grpcio.
EXTREME_64 = [0, -1, 1, INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN, TEN_YEARS_MS, TEN_YEARS_MS + 1,
              YEAR_9999_MS, YEAR_9999_MS + 1]
EXTREME_32 = [0, -1, 1, INT32_MAX, INT32_MIN, 1000, 1001]


@pytest.mark.parametrize("field,values,limit", [
    ("timeout_ms", EXTREME_64, (0, TEN_YEARS_MS)),
    ("run_at_ms", EXTREME_64, (0, YEAR_9999_MS)),
    ("max_attempts", EXTREME_32, (0, 1000)),
    ("priority", EXTREME_32, (INT32_MIN, INT32_MAX)),
])
def test_extreme_values_are_taken_within_their_limits_and_refused_by_name_outside(server, pb, field, values, limit):
    m, _ = pb
    with server.channel() as channel:
        stub = stub_of(channel, pb)
        for value in values:
            spec = m.JobSpec(type="spool.echo", **{field: value})
            if limit[0] <= value <= limit[1]:
                answer = stub.Enqueue(m.EnqueueRequest(job=spec), timeout=10)
                assert answer.job.id
                stub.Cancel(m.CancelRequest(job_id=answer.job.id), timeout=10)
            else:
                code, details = refusal(lambda: stub.Enqueue(m.EnqueueRequest(job=spec), timeout=10))
                assert code == grpc.StatusCode.INVALID_ARGUMENT
                assert details.startswith(f"{field} must be") and f"not {value}" in details
    assert_serves(server, pb)


def test_a_job_at_every_limit_at_once_runs(server, pb):
    m, _ = pb
    with server.channel() as channel:
        stub = stub_of(channel, pb)
        job = stub.Enqueue(m.EnqueueRequest(job=m.JobSpec(
            type="spool.echo", timeout_ms=TEN_YEARS_MS, max_attempts=1000, priority=INT32_MIN)), timeout=10).job
        events = list(stub.StreamProgress(m.StreamProgressRequest(job_ids=[job.id]), timeout=30))
        assert events[-1].job.state == m.JOB_STATE_SUCCEEDED


def test_a_retry_after_near_int64_max_from_spool_fail_is_held_to_ten_years(own_server, pb):
    m, _ = pb
    payload = json.dumps({"fail_attempts": 1, "retry_after_ms": INT64_MAX}).encode()
    with own_server.channel() as channel:
        stub = stub_of(channel, pb)
        job = stub.Enqueue(m.EnqueueRequest(job=m.JobSpec(type="spool.fail", payload=payload)), timeout=10).job
        for event in stub.StreamProgress(m.StreamProgressRequest(job_ids=[job.id]), timeout=30):
            if event.job.state == m.JOB_STATE_SCHEDULED and event.job.attempt == 1:
                retry = event
                break
    # Scheduled at the moment the failure was recorded, plus the longest delay there is.
    assert retry.job.run_at_ms - retry.job.updated_at_ms == TEN_YEARS_MS
    # The scheduled retry survives a restart: nothing in it overflows on the way back in.
    own_server.terminate()
    again = Spoold(own_server.db.parent)
    try:
        assert_serves(again, pb)
        with again.channel() as channel:
            status = stub_of(channel, pb).GetStatus(m.GetStatusRequest(job_ids=[job.id]), timeout=10)
        assert status.jobs[0].state == m.JOB_STATE_SCHEDULED
    finally:
        again.terminate()


def test_an_exec_workers_huge_retry_after_is_held_to_ten_years(tmp_path, pb):
    worker = tmp_path / "worker.sh"
    worker.write_text(f"#!/bin/sh\necho '{{\"error\":\"slow down\",\"retry_after_ms\":{INT64_MAX - 1}}}'\nexit 1\n")
    worker.chmod(0o755)
    config = tmp_path / "spool.yaml"
    config.write_text(f"types:\n  throttled:\n    exec: {{command: [{worker}]}}\n")
    spoold = Spoold(tmp_path, "--config", str(config))
    m, _ = pb
    try:
        with spoold.channel() as channel:
            stub = stub_of(channel, pb)
            job = stub.Enqueue(m.EnqueueRequest(job=m.JobSpec(type="throttled")), timeout=10).job
            for event in stub.StreamProgress(m.StreamProgressRequest(job_ids=[job.id]), timeout=30):
                if event.job.state == m.JOB_STATE_SCHEDULED and event.job.attempt == 1:
                    assert event.job.run_at_ms - event.job.updated_at_ms == TEN_YEARS_MS
                    assert event.job.error.code == "rate_limited"
                    break
        assert_serves(spoold, pb)
    finally:
        spoold.terminate()


# The database


def test_a_poisoned_database_fails_its_bad_jobs_as_corrupt_and_the_server_comes_up(tmp_path, pb):
    m, _ = pb
    spoold = Spoold(tmp_path)
    with spoold.channel() as channel:
        stub = stub_of(channel, pb)
        later = 4_000_000_000_000  # year 2096: they wait
        ids = [stub.Enqueue(m.EnqueueRequest(job=m.JobSpec(type="spool.echo", run_at_ms=later)), timeout=10).job.id
               for _ in range(5)]
    spoold.terminate()
    poison = [
        "UPDATE jobs SET timeout_ms = 9223372036854775807 WHERE id = ?",
        "UPDATE jobs SET state = 3, max_attempts = 2147483647, attempt = 2147483647 WHERE id = ?",
        "UPDATE jobs SET max_attempts = 1099511627776 WHERE id = ?",  # past Int32
        "UPDATE jobs SET lock_keys = x'ffffffff' WHERE id = ?",
    ]
    with sqlite3.connect(spoold.db) as db:
        for statement, job in zip(poison, ids):
            assert db.execute(statement, (job,)).rowcount == 1
    again = Spoold(tmp_path)
    try:
        corrupt_lines = [line for line in again.banner if "failed as corrupt" in line]
        assert len(corrupt_lines) == 4, again.banner
        assert any("timeout_ms 9223372036854775807 is outside" in line for line in corrupt_lines)
        assert any("max_attempts 1099511627776 is out of range" in line for line in corrupt_lines)
        assert any("lock_keys is malformed" in line for line in corrupt_lines)
        with again.channel() as channel:
            jobs = stub_of(channel, pb).GetStatus(m.GetStatusRequest(job_ids=ids), timeout=10).jobs
        assert [job.state for job in jobs] == [m.JOB_STATE_FAILED] * 4 + [m.JOB_STATE_SCHEDULED]
        assert all(job.error.code == "corrupt" and not job.error.retryable for job in jobs[:4])
        assert "its stored row cannot be taken back" in jobs[0].error.message
    finally:
        again.terminate()
    # Failed once, and logged once: the next start finds nothing to fail.
    third = Spoold(tmp_path)
    try:
        assert not [line for line in third.banner if "corrupt" in line]
        assert_serves(third, pb)
    finally:
        third.terminate()


# Memory: what a request may make the server unpack, and what readers may make it hold


def frame(message: bytes) -> bytes:
    return b"\x00" + struct.pack(">I", len(message)) + message


def test_a_batch_over_max_batch_size_is_refused_before_it_is_unpacked(tmp_path, pb):
    m, _ = pb
    spoold = Spoold(tmp_path, "--max-batch-size", "100")
    try:
        with spoold.channel() as channel:
            stub = stub_of(channel, pb)
            jobs = [m.JobSpec(type="spool.echo")] * 101
            code, details = refusal(lambda: stub.EnqueueBatch(m.EnqueueBatchRequest(jobs=jobs), timeout=10))
            assert code == grpc.StatusCode.INVALID_ARGUMENT
            assert details == ("jobs has more than 100 elements, the most a request may carry (max_batch_size); "
                               "it has 101")
            assert stub.EnqueueBatch(m.EnqueueBatchRequest(jobs=jobs[:100]), timeout=10).batch_id
            # Two million empty jobs in 4 MiB, raw bytes: counted, not unpacked.
            raw = channel.unary_unary("/spool.v1.JobQueue/EnqueueBatch")
            code, details = refusal(lambda: raw(b"\x0a\x00" * 2_000_000, timeout=30))
            assert code == grpc.StatusCode.INVALID_ARGUMENT and "it has 2000000" in details
        assert_serves(spoold, pb)
    finally:
        spoold.terminate()


@pytest.mark.parametrize("spec,message", [
    ({"lock_keys": [f"k{i}" for i in range(33)]}, "job.lock_keys has more than 32 elements"),
    ({"labels": {f"k{i}": "v" for i in range(65)}}, "job.labels has more than 64 elements"),
])
def test_too_many_lock_keys_or_labels_are_refused_from_the_wire(server, pb, spec, message):
    m, _ = pb
    with server.channel() as channel:
        stub = stub_of(channel, pb)
        code, details = refusal(lambda: stub.Enqueue(m.EnqueueRequest(job=m.JobSpec(type="spool.echo", **spec)),
                                                     timeout=10))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and details.startswith(message)


def test_the_largest_grpc_timeout_is_served(server, pb):
    # 99999999H: 11,000 years, whose nanoseconds overflowed the deadline timer and killed spoold.
    body = ROOT / ".build" / "empty-message.bin"
    body.write_bytes(frame(b""))
    output = subprocess.run(
        ["nghttp", "-v", "-d", str(body), "-H", "content-type: application/grpc", "-H", "te: trailers",
         "-H", "grpc-timeout: 99999999H", f"http://{server.address}/spool.v1.JobQueue/GetStatus"],
        capture_output=True, timeout=60).stdout.decode("utf-8", "replace")
    assert "grpc-status: 0" in output, output
    assert_serves(server, pb)


def test_progress_streams_are_limited_per_connection(tmp_path, pb):
    m, _ = pb
    config = tmp_path / "spool.yaml"
    config.write_text("max_progress_streams_per_connection: 3\n")
    spoold = Spoold(tmp_path, "--config", str(config))
    try:
        with spoold.channel() as channel:
            stub = stub_of(channel, pb)
            # A job running in the queue: each stream's snapshot shows it as soon as the stream is open.
            long = json.dumps({"steps": 1, "step_ms": 3_600_000}).encode()
            job = stub.Enqueue(m.EnqueueRequest(job=m.JobSpec(type="spool.sleep", queue="q", payload=long)), timeout=10).job
            # Watched on a connection of its own: a call ended here leaves its place only
            # once the server has seen it end, which would race the three below.
            with spoold.channel() as watching:
                for event in stub_of(watching, pb).StreamProgress(m.StreamProgressRequest(job_ids=[job.id]), timeout=30):
                    if event.job.state == m.JOB_STATE_RUNNING:
                        break
            streams = [stub.StreamProgress(m.StreamProgressRequest(queue="q"), timeout=30) for _ in range(3)]
            for stream in streams:
                assert next(stream).kind == m.ProgressEvent.KIND_SNAPSHOT
            fourth = stub.StreamProgress(m.StreamProgressRequest(queue="q"), timeout=30)
            code, details = refusal(lambda: next(fourth))
            assert code == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert "already has 3 calls of /spool.v1.JobQueue/StreamProgress open" in details
            for stream in streams:
                stream.cancel()
            stub.Cancel(m.CancelRequest(job_id=job.id), timeout=10)
        assert_serves(spoold, pb)
    finally:
        spoold.terminate()


class StalledReader:
    """One HTTP/2 connection whose progress streams read nothing: their
    windows are 0 until `release`."""

    def __init__(self, address: str, queue: str, streams: int, pb):
        m, _ = pb
        host, port = address.rsplit(":", 1)
        self.socket = socket.create_connection((host, int(port)), timeout=30)
        self.h2 = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        self.h2.initiate_connection()
        self.h2.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 0})
        request = frame(m.StreamProgressRequest(queue=queue).SerializeToString())
        self.ids = []
        for _ in range(streams):
            stream = self.h2.get_next_available_stream_id()
            self.h2.send_headers(stream, [
                (":method", "POST"), (":scheme", "http"), (":path", "/spool.v1.JobQueue/StreamProgress"),
                (":authority", address), ("content-type", "application/grpc"), ("te", "trailers")])
            self.h2.send_data(stream, request, end_stream=True)
            self.ids.append(stream)
        self.flush()
        # A response's HEADERS are not flow-controlled: they come with the first event, the
        # snapshot of the job running in the queue, once the stream is subscribed.
        opened = set()
        while len(opened) < streams:
            data = self.socket.recv(1 << 20)
            assert data, "the server closed the connection"
            opened |= {event.stream_id for event in self.h2.receive_data(data)
                       if isinstance(event, h2.events.ResponseReceived)}
            self.flush()

    def flush(self):
        self.socket.sendall(self.h2.data_to_send())

    def release_and_read_endings(self):
        """Opens every window, reads until a stream ends; answers each ended stream's trailers."""
        for stream in self.ids:
            self.h2.increment_flow_control_window(1 << 30, stream_id=stream)
        self.h2.increment_flow_control_window(1 << 30)
        self.flush()
        ended = {}
        while not ended:
            data = self.socket.recv(1 << 20)
            assert data, "the server closed the connection"
            for event in self.h2.receive_data(data):
                if isinstance(event, h2.events.DataReceived):
                    self.h2.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                elif isinstance(event, (h2.events.TrailersReceived, h2.events.ResponseReceived)):
                    headers = dict(event.headers)
                    if "grpc-status" in headers:
                        ended[event.stream_id] = headers
            self.flush()
        return ended

    def close(self):
        self.socket.close()


def test_readers_that_stall_are_ended_once_all_together_pass_the_budget(tmp_path, pb):
    m, _ = pb
    config = tmp_path / "spool.yaml"
    config.write_text("progress_buffer_bytes: 1048576\n")
    spoold = Spoold(tmp_path, "--config", str(config), "--shutdown-grace", "0")
    with spoold.channel() as channel:
        stub = stub_of(channel, pb)
        long = json.dumps({"steps": 1, "step_ms": 3_600_000}).encode()
        running = stub.Enqueue(m.EnqueueRequest(job=m.JobSpec(type="spool.sleep", queue="busy", payload=long)),
                               timeout=10).job
        for event in stub.StreamProgress(m.StreamProgressRequest(job_ids=[running.id]), timeout=30):
            if event.job.state == m.JOB_STATE_RUNNING:
                break
    readers = [StalledReader(spoold.address, "busy", 10, pb) for _ in range(2)]
    try:
        with spoold.channel() as channel:
            stub = stub_of(channel, pb)
            job = m.JobSpec(type="spool.echo", queue="busy", run_at_ms=4_000_000_000_000, labels={"repo": "x" * 200})
            for _ in range(20):
                stub.EnqueueBatch(m.EnqueueBatchRequest(jobs=[job] * 500), timeout=30)
        ended = readers[0].release_and_read_endings()
        for headers in ended.values():
            assert headers["grpc-status"] == "8", headers
            assert "fell too far behind; resume with after_seq=" in headers["grpc-message"]
        assert_serves(spoold, pb)
    finally:
        for reader in readers:
            reader.close()
        spoold.terminate()


def test_naming_new_queues_past_max_queues_is_refused(tmp_path):
    from spool_client import Client, SpoolError
    spoold = Spoold.configured(tmp_path, "max_queues: 2\n")
    try:
        with Client(spoold.address) as client:
            client.enqueue("spool.echo", queue="tenant-1")
            for name in ("tenant-2", "x" * 200):
                with pytest.raises(SpoolError) as refused:
                    client.enqueue("spool.echo", queue=name)
                assert refused.value.code == grpc.StatusCode.RESOURCE_EXHAUSTED
                assert "max_queues 2" in refused.value.message and len(refused.value.message) < 300
            with pytest.raises(SpoolError) as refused:
                client.pause("tenant-3")
            assert refused.value.code == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert client.enqueue("spool.echo", queue="tenant-1").job.id
            assert sorted(q.name for q in client.status().queues) == ["default", "tenant-1"]
    finally:
        assert spoold.terminate()[0] == 0
