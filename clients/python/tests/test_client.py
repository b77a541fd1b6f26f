"""spool_client against a live spoold."""
import json
import threading
import time

import grpc
import pytest

from live_spoold import Spoold, server  # noqa: F401 (server is a fixture)
import spool_client.client
from spool_client import Client, JobState, SpoolError, job_spec


def _signal_each_retry(monkeypatch) -> threading.Event:
    """An event set each time the client waits to retry a failed call."""
    failed = threading.Event()
    real_sleep = time.sleep

    def sleep_after_a_failure(seconds):
        failed.set()
        real_sleep(seconds)

    monkeypatch.setattr(spool_client.client.time, "sleep", sleep_after_a_failure)
    return failed


@pytest.fixture
def spool(server):
    with Client(server.address) as client:
        yield client


def test_a_mapping_payload_travels_as_json_and_wait_returns_the_finished_job(spool):
    enqueued = spool.enqueue("spool.echo", {"prompt": "a red fox"}, labels={"team": "docs"})
    assert not enqueued.deduplicated and enqueued.job.id
    final = spool.wait(enqueued.job.id)
    assert JobState(final.state) is JobState.SUCCEEDED
    assert json.loads(final.result) == {"prompt": "a red fox"}
    assert dict(final.labels) == {"team": "docs"}


def test_an_idempotency_key_answers_the_existing_job(spool):
    first = spool.enqueue("spool.echo", "once", idempotency_key="client-key-1")
    again = spool.enqueue("spool.echo", "twice", idempotency_key="client-key-1")
    assert again.deduplicated and again.job.id == first.job.id


def test_watch_yields_a_snapshot_then_progress_then_the_end(spool):
    job = spool.enqueue("spool.sleep", {"steps": 3, "step_ms": 20}).job
    events = list(spool.watch([job.id]))
    assert events[0].seq == 0
    assert [e.job.progress.step for e in events if e.kind == e.KIND_PROGRESS] == [
        "step 1 of 3", "step 2 of 3", "step 3 of 3"]
    seqs = [e.seq for e in events[1:]]
    assert seqs == sorted(set(seqs)) and all(seqs)
    assert JobState(events[-1].job.state) is JobState.SUCCEEDED


def test_a_batch_is_watched_to_its_end_and_reported_whole(spool):
    batch = spool.enqueue_batch([job_spec("spool.echo", f"item {i}") for i in range(20)], labels={"run": "7"})
    assert len(batch.jobs) == 20
    last = list(spool.watch(batch_id=batch.batch_id))[-1]
    assert last.batch.total == 20 and last.batch.counts.succeeded == 20 and last.batch.percent == 100
    summary = spool.status(batch_id=batch.batch_id).batch
    assert summary.counts.succeeded == 20


def test_cancel_and_status_of_a_scheduled_job(spool):
    job = spool.enqueue("spool.echo", run_at_ms=int(time.time() * 1000) + 3_600_000).job
    assert JobState(job.state) is JobState.SCHEDULED
    [cancelled] = spool.cancel(job.id, reason="not needed")
    assert JobState(cancelled.state) is JobState.CANCELLED
    assert JobState(spool.job(job.id).state) is JobState.CANCELLED
    queues = {queue.name: queue for queue in spool.status().queues}
    assert "default" in queues and queues["default"].concurrency > 0


@pytest.mark.parametrize("call, code, message", [
    (lambda s: s.enqueue("no.such.type"), grpc.StatusCode.INVALID_ARGUMENT, 'no handler for job type "no.such.type"'),
    (lambda s: s.job("00000000-0000-7000-8000-000000000000"), grpc.StatusCode.NOT_FOUND, "00000000"),
    (lambda s: s.cancel(), grpc.StatusCode.INVALID_ARGUMENT, "job_id"),
])
def test_refused_calls_raise_spool_error_with_the_status(spool, call, code, message):
    with pytest.raises(SpoolError) as raised:
        call(spool)
    assert raised.value.code == code and message in raised.value.message, raised.value


def test_the_token_is_sent_with_every_call(tmp_path):
    config = tmp_path / "spool.yaml"
    config.write_text("auth:\n  tokens: [client-token]\n")
    spoold = Spoold(tmp_path, "--config", str(config))
    try:
        with Client(spoold.address, token="client-token") as spool:
            assert JobState(spool.wait(spool.enqueue("spool.echo").job.id).state) is JobState.SUCCEEDED
        with Client(spoold.address) as anonymous, pytest.raises(SpoolError) as raised:
            anonymous.enqueue("spool.echo")
        assert raised.value.code == grpc.StatusCode.UNAUTHENTICATED
    finally:
        spoold.stop()


def test_watch_resumes_across_a_server_restart(tmp_path):
    """The server stops mid-job (its running job is interrupted), comes back on the
    same port and database; the same watch() goes on to the job's end."""
    spoold = Spoold(tmp_path, "--shutdown-grace", "0")
    port = spoold.port
    with Client(spoold.address) as spool:
        job = spool.enqueue("spool.sleep", {"steps": 4, "step_ms": 50}).job
        events = []
        for event in spool.watch([job.id], reconnect_for=30):
            events.append(event)
            if event.kind == event.KIND_PROGRESS and spoold is not None:
                assert spoold.stop() == 0
                spoold = None
                restarted = Spoold(tmp_path, port=port)
        restarted.stop()
    snapshots = [e for e in events if e.kind == e.KIND_SNAPSHOT]
    assert len(snapshots) == 2, "the watch did not reconnect"
    final = events[-1].job
    assert JobState(final.state) is JobState.SUCCEEDED and final.attempt == 2
    live = [e.seq for e in events if e.seq]
    assert live == sorted(set(live)), "seqs went backwards or repeated across the resume"


@pytest.mark.parametrize("streamed", [False, True])
def test_an_enqueue_with_a_key_is_retried_until_the_server_is_back(tmp_path, monkeypatch, streamed):
    """No server on the port at the first try: the call waits and tries again, and
    is answered by the server started once it has failed (unary, or on the stream)."""
    spoold = Spoold(tmp_path)
    port = spoold.port
    assert spoold.stop() == 0
    failed = _signal_each_retry(monkeypatch)
    answers = []
    with Client(f"127.0.0.1:{port}", stream_enqueues=streamed) as spool:
        caller = threading.Thread(target=lambda: answers.append(
            spool.enqueue("spool.echo", "kept", idempotency_key="retried-1", retry_for=60)))
        caller.start()
        assert failed.wait(timeout=60), "the call never failed: something listens on the stopped server's port"
        restarted = Spoold(tmp_path, port=port)
        try:
            caller.join(timeout=60)
            [enqueued] = answers
            assert not enqueued.deduplicated
            assert spool.enqueue("spool.echo", "kept", idempotency_key="retried-1").job.id == enqueued.job.id
            assert JobState(spool.wait(enqueued.job.id).state) is JobState.SUCCEEDED
        finally:
            restarted.stop()


@pytest.mark.parametrize("streamed", [True, False])
def test_producers_keep_enqueuing_through_a_server_restart_and_nothing_is_stored_twice(tmp_path, streamed):
    """Four threads enqueue with keys and retry_for while the server restarts under
    them: every job is answered, each key stored once."""
    spoold = Spoold(tmp_path)
    port = spoold.port
    answered = threading.Semaphore(0)
    ids: dict[str, str] = {}
    errors = []

    def produce(spool, thread):
        try:
            for n in range(150):
                key = f"restart-{thread}-{n}"
                ids[key] = spool.enqueue("spool.echo", {"n": n}, idempotency_key=key, labels={"run": "restart"},
                                         retry_for=60).job.id
                answered.release()
        except BaseException as error:  # noqa: BLE001 - reported to the test
            errors.append(error)

    with Client(spoold.address, stream_enqueues=streamed) as spool:
        producers = [threading.Thread(target=produce, args=(spool, t)) for t in range(4)]
        for producer in producers:
            producer.start()
        for _ in range(100):
            assert answered.acquire(timeout=60)
        assert spoold.stop() == 0
        restarted = Spoold(tmp_path, port=port)
        try:
            for producer in producers:
                producer.join(timeout=120)
            assert not errors, errors
            assert len(ids) == 600 and len(set(ids.values())) == 600
            assert spool.list_jobs(labels={"run": "restart"}).total == 600
        finally:
            assert restarted.stop() == 0


def test_an_enqueue_retry_gives_up_after_retry_for(tmp_path):
    spoold = Spoold(tmp_path)
    address = spoold.address
    assert spoold.stop() == 0
    with Client(address) as spool, pytest.raises(SpoolError) as raised:
        spool.enqueue("spool.echo", idempotency_key="never-stored", retry_for=0.2)
    assert raised.value.code == grpc.StatusCode.UNAVAILABLE
    assert raised.value.message.startswith("gave up retrying after 0.2 s: "), raised.value


def test_a_client_made_after_a_restart_does_not_inherit_another_clients_failed_connection(tmp_path):
    """grpcio shares connections between channels unless told not to: a new Client
    then failed at once while an older one waited out its reconnect backoff."""
    spoold = Spoold(tmp_path)
    port = spoold.port
    assert spoold.stop() == 0
    with Client(f"127.0.0.1:{port}") as older:
        with pytest.raises(SpoolError) as raised:
            older.status()
        assert raised.value.code == grpc.StatusCode.UNAVAILABLE
        restarted = Spoold(tmp_path, port=port)
        try:
            with Client(restarted.address) as newer:
                assert newer.status().queues
        finally:
            assert restarted.stop() == 0


def test_status_job_and_cancel_retry_while_the_server_restarts(tmp_path, monkeypatch):
    """The server is down when each call starts: with retry_for, each waits for it."""
    spoold = Spoold(tmp_path)
    port = spoold.port
    with Client(spoold.address) as spool:
        job_id = spool.enqueue("spool.sleep", {"steps": 1, "step_ms": 3_600_000}, run_at_ms=4_000_000_000_000).job.id
    assert spoold.stop() == 0
    failed = _signal_each_retry(monkeypatch)
    with Client(f"127.0.0.1:{port}") as spool:
        for call in (lambda: spool.status(retry_for=60).queues[0].name,
                     lambda: spool.list_jobs(retry_for=60).total,
                     lambda: spool.pause("default", retry_for=60).paused,
                     lambda: JobState(spool.job(job_id, retry_for=60).state),
                     lambda: JobState(spool.cancel(job_id, retry_for=60)[0].state)):
            failed.clear()
            answers = []
            caller = threading.Thread(target=lambda: answers.append(call()))
            caller.start()
            assert failed.wait(timeout=60), "the call never failed"
            restarted = Spoold(tmp_path, port=port)
            try:
                caller.join(timeout=60)
                assert len(answers) == 1
            finally:
                assert restarted.stop() == 0
        assert answers == [JobState.CANCELLED]
        with pytest.raises(SpoolError) as raised:
            spool.status(retry_for=0.2)
        assert raised.value.message.startswith("gave up retrying after 0.2 s: ")


def test_an_enqueue_retry_needs_an_idempotency_key(spool):
    with pytest.raises(ValueError, match="needs an idempotency_key"):
        spool.enqueue("spool.echo", retry_for=5)


def test_jobs_are_listed_by_label_page_by_page_and_a_failed_one_retried(spool):
    ids = [spool.enqueue("spool.echo", b"", labels={"suite": "list", "n": str(n)}).job.id for n in range(5)]
    page = spool.list_jobs(labels={"suite": "list"}, page_size=2)
    assert page.total == 5 and [job.id for job in page.jobs] == ids[::-1][:2] and page.next_page_token
    assert [job.id for job in spool.jobs(labels={"suite": "list"}, page_size=2, oldest_first=True)] == ids
    failed = spool.enqueue("spool.fail", {"permanent": True}, max_attempts=1, labels={"suite": "retry"}).job
    assert JobState(spool.wait(failed.id).state) is JobState.FAILED
    assert [job.id for job in spool.list_jobs(states=[JobState.FAILED], labels={"suite": "retry"}).jobs] == [failed.id]
    retried = spool.retry(failed.id, reason="once more")
    assert retried.id == failed.id and retried.attempt == 0
    with pytest.raises(SpoolError) as raised:
        spool.retry("no-such-job")
    assert raised.value.code == grpc.StatusCode.NOT_FOUND


def test_a_queue_is_paused_resumed_and_given_a_rate(spool):
    status = spool.update_queue("pausable", paused=True, concurrency=2, rate_per_second=3, burst=6)
    assert status.paused and status.concurrency == 2
    job = spool.enqueue("spool.echo", b"", queue="pausable").job
    assert JobState(spool.job(job.id).state) is JobState.QUEUED and spool.job(job.id).position == 1
    assert not spool.resume("pausable").paused
    assert JobState(spool.wait(job.id).state) is JobState.SUCCEEDED
    assert not spool.update_queue("pausable", reset=True).paused


def test_enqueues_from_many_threads_share_one_stream_and_a_bad_one_fails_alone(server):
    spool = Client(server.address, stream_enqueues=True)
    ids, errors = [], []

    def producer(n):
        for m in range(50):
            try:
                ids.append(spool.enqueue("spool.echo", {"n": n, "m": m}, labels={"suite": "threads"}).job.id)
            except SpoolError as error:
                errors.append(error)
        try:
            spool.enqueue("no.such.type")
        except SpoolError as error:
            errors.append(error)

    threads = [threading.Thread(target=producer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(ids)) == 400
    assert [error.code for error in errors] == [grpc.StatusCode.INVALID_ARGUMENT] * 8
    assert all("no handler for job type" in error.message for error in errors)
    assert spool.list_jobs(labels={"suite": "threads"}).total == 400
    spool.close()


def test_against_a_server_without_enqueue_stream_enqueue_falls_back_to_unary():
    """An older server (here a grpcio one that knows only Enqueue) answers UNIMPLEMENTED
    to the stream: the job goes by unary Enqueue instead, and so do the next ones."""
    from concurrent import futures
    from spool_client._proto import queue_pb2

    calls = []

    def enqueue(request, context):
        calls.append(request.job.type)
        return queue_pb2.EnqueueResponse(job=queue_pb2.Job(id=f"old-{len(calls)}", type=request.job.type))

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler("spool.v1.JobQueue", {
        "Enqueue": grpc.unary_unary_rpc_method_handler(
            enqueue, request_deserializer=queue_pb2.EnqueueRequest.FromString,
            response_serializer=queue_pb2.EnqueueResponse.SerializeToString)})])
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        with Client(f"127.0.0.1:{port}", stream_enqueues=True) as old:
            assert old.enqueue("spool.echo").job.id == "old-1"
            assert old.enqueue("spool.echo").job.id == "old-2"
        assert calls == ["spool.echo", "spool.echo"]
    finally:
        server.stop(None)
