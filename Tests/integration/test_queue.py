"""spool.v1.JobQueue end to end, against real clients: Python grpcio and grpcurl."""
import json
import re
import sqlite3
import subprocess
import threading

import grpc
import pytest

from conftest import Spoold

TERMINAL = {4, 5, 6}  # SUCCEEDED, FAILED, CANCELLED


@pytest.fixture
def api(server, pb):
    queue_pb2, queue_pb2_grpc = pb
    with server.channel() as channel:
        yield queue_pb2, queue_pb2_grpc.JobQueueStub(channel)


def sleep_payload(steps=2, step_ms=50):
    return json.dumps({"steps": steps, "step_ms": step_ms}).encode()


def run_together(body, count):
    """Runs `body` on `count` threads at once and waits for them all."""
    threads = [threading.Thread(target=body) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def enqueue(api, **spec):
    m, stub = api
    return stub.Enqueue(m.EnqueueRequest(job=m.JobSpec(**spec)), timeout=10)


def watch(api, timeout=60, **selection):
    """Every event of a stream until the server ends it."""
    m, stub = api
    return list(stub.StreamProgress(m.StreamProgressRequest(**selection), timeout=timeout))


def test_an_echo_job_runs_to_success_and_returns_its_payload(api):
    m, _ = api
    answer = enqueue(api, type="spool.echo", payload=b"hello", labels={"team": "docs"})
    assert answer.job.id and not answer.deduplicated
    assert answer.job.state in (m.JOB_STATE_QUEUED, m.JOB_STATE_RUNNING)
    events = watch(api, job_ids=[answer.job.id])
    assert events[0].kind == m.ProgressEvent.KIND_SNAPSHOT and events[0].seq == 0
    final = events[-1].job
    assert final.state == m.JOB_STATE_SUCCEEDED
    assert final.result == b"hello" and final.labels == {"team": "docs"} and final.attempt == 1
    assert final.finished_at_ms >= final.started_at_ms >= final.created_at_ms > 0


def test_a_stream_carries_progress_steps_with_increasing_seqs(api):
    m, _ = api
    job = enqueue(api, type="spool.sleep", payload=sleep_payload(steps=3, step_ms=30)).job
    events = watch(api, job_ids=[job.id])
    live = [e for e in events if e.kind != m.ProgressEvent.KIND_SNAPSHOT]
    seqs = [e.seq for e in live]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    steps = [e.job.progress.step for e in live if e.kind == m.ProgressEvent.KIND_PROGRESS]
    assert steps[-1] == "step 3 of 3"
    assert live[-1].kind == m.ProgressEvent.KIND_STATE and live[-1].job.state == m.JOB_STATE_SUCCEEDED
    assert live[-1].job.progress.fraction == 1


def test_resuming_after_a_seq_replays_the_missed_transitions(api):
    m, stub = api
    job = enqueue(api, type="spool.sleep", payload=sleep_payload(steps=3, step_ms=50)).job
    call = stub.StreamProgress(m.StreamProgressRequest(job_ids=[job.id]), timeout=30)
    seen = next(e for e in call if e.seq > 0)
    call.cancel()  # the client goes away mid-run…
    watch(api, job_ids=[job.id])  # …the job finishes meanwhile…
    resumed = watch(api, job_ids=[job.id], after_seq=seen.seq)  # …and the client comes back.
    replayed = [e for e in resumed if e.kind != m.ProgressEvent.KIND_SNAPSHOT]
    assert replayed and all(e.seq > seen.seq for e in replayed)
    assert replayed[-1].kind == m.ProgressEvent.KIND_STATE and replayed[-1].job.state == m.JOB_STATE_SUCCEEDED
    assert resumed[-1].kind == m.ProgressEvent.KIND_SNAPSHOT


def test_an_idempotency_key_returns_the_existing_job(api):
    first = enqueue(api, type="spool.echo", idempotency_key="order-17")
    again = enqueue(api, type="spool.echo", idempotency_key="order-17")
    assert again.deduplicated and again.job.id == first.job.id


def test_a_failing_job_is_retried_then_succeeds(api):
    m, _ = api
    job = enqueue(api, type="spool.fail", payload=b'{"fail_attempts": 1}', max_attempts=3).job
    events = watch(api, job_ids=[job.id])
    # The first attempt may have failed before the stream began: its retry
    # shows in the snapshot or as an event, and in the final attempt count.
    assert any(e.job.state == m.JOB_STATE_SCHEDULED for e in events) or events[0].job.attempt >= 1
    final = events[-1].job
    assert final.state == m.JOB_STATE_SUCCEEDED and final.attempt == 2
    assert final.error.code == "handler"  # the last failure stays visible


def test_a_permanent_failure_fails_at_once(api):
    m, _ = api
    job = enqueue(api, type="spool.fail", payload=b'{"permanent": true, "message": "bad prompt"}').job
    final = watch(api, job_ids=[job.id])[-1].job
    assert final.state == m.JOB_STATE_FAILED and final.attempt == 1
    assert final.error.message == "bad prompt" and not final.error.retryable


def test_a_batch_is_accepted_whole_and_watched_to_completion(api):
    m, stub = api
    request = m.EnqueueBatchRequest(jobs=[m.JobSpec(type="spool.echo", payload=bytes([i])) for i in range(20)],
                                    labels={"run": "nightly"})
    answer = stub.EnqueueBatch(request, timeout=10)
    assert answer.batch_id and len(answer.jobs) == 20
    events = watch(api, batch_id=answer.batch_id)
    assert events[-1].batch.percent == 100 and events[-1].batch.total == 20
    assert events[-1].batch.counts.succeeded == 20
    status = stub.GetStatus(m.GetStatusRequest(batch_id=answer.batch_id), timeout=10)
    assert status.batch.counts.succeeded == 20
    assert len({e.job.id for e in events}) == 20


def test_a_batch_with_a_bad_item_is_refused_whole_naming_it(api, server):
    m, stub = api
    jobs = [m.JobSpec(type="spool.echo"), m.JobSpec(type=""), m.JobSpec(type="no.such.type")]
    with pytest.raises(grpc.RpcError) as failure:
        stub.EnqueueBatch(m.EnqueueBatchRequest(jobs=jobs), timeout=10)
    assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.value.details().startswith('jobs[1]: type is required; jobs[2]: no handler for job type "no.such.type"')
    with sqlite3.connect(server.db) as db:
        assert db.execute("SELECT count(*) FROM jobs WHERE type = 'no.such.type'").fetchone()[0] == 0


def test_cancel_stops_a_running_job_and_a_waiting_one_at_once(api):
    m, stub = api
    running = enqueue(api, type="spool.sleep", payload=sleep_payload(steps=1000, step_ms=50)).job
    later = enqueue(api, type="spool.echo", run_at_ms=running.created_at_ms + 3_600_000).job
    assert later.state == m.JOB_STATE_SCHEDULED
    answer = stub.Cancel(m.CancelRequest(job_id=later.id, reason="not needed"), timeout=10)
    assert answer.jobs[0].state == m.JOB_STATE_CANCELLED
    # Wait until the sleeper runs, then cancel it: it ends CANCELLED once its handler stopped.
    for event in stub.StreamProgress(m.StreamProgressRequest(job_ids=[running.id]), timeout=30):
        if event.job.state == m.JOB_STATE_RUNNING:
            break
    stub.Cancel(m.CancelRequest(job_id=running.id, reason="user pressed stop"), timeout=10)
    final = watch(api, job_ids=[running.id])[-1].job
    assert final.state == m.JOB_STATE_CANCELLED and final.error.message == "user pressed stop"


@pytest.mark.parametrize("request_fields, code", [
    ({}, grpc.StatusCode.INVALID_ARGUMENT),
    ({"job_id": "a", "batch_id": "b"}, grpc.StatusCode.INVALID_ARGUMENT),
    ({"job_id": "no-such-job"}, grpc.StatusCode.NOT_FOUND),
    ({"batch_id": "no-such-batch"}, grpc.StatusCode.NOT_FOUND),
])
def test_bad_cancel_requests_get_precise_statuses(api, server, request_fields, code):
    m, stub = api
    with pytest.raises(grpc.RpcError) as failure:
        stub.Cancel(m.CancelRequest(**request_fields), timeout=10)
    assert failure.value.code() == code and failure.value.details()


@pytest.mark.parametrize("spec, message", [
    ({}, "type is required"),
    ({"type": "spool.echo", "rate_key": "openai"}, 'unknown rate_key "openai" (none is configured)'),
    ({"type": "spool.echo", "max_attempts": -1}, "max_attempts must be 0 (the queue's default) to 1000, not -1"),
    ({"type": "spool.echo", "lock_keys": ["gpu", ""]}, "lock_keys must not contain an empty key"),
])
def test_bad_jobs_are_invalid_argument_with_the_reason(api, spec, message):
    with pytest.raises(grpc.RpcError) as failure:
        enqueue(api, **spec)
    assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.value.details() == message


def test_strings_with_a_nul_or_not_utf8_are_refused_naming_the_field(api, server):
    """protobuf-c would cut "key\\0one" and "key\\0two" to one key "key":
    such strings are refused, as are strings that are not UTF-8 (which
    grpcio will not send, so that request is written by hand)."""
    m, stub = api
    for key in ("key\x00one", "key\x00two"):
        with pytest.raises(grpc.RpcError) as failure:
            enqueue(api, type="spool.echo", idempotency_key=key)
        assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert failure.value.details().endswith(
            "(field job.idempotency_key holds a NUL character)")
    jobs = [m.JobSpec(type="spool.echo"), m.JobSpec(type="spool.echo", labels={"team": "KEY!"})]
    request = m.EnqueueBatchRequest(jobs=jobs).SerializeToString().replace(b"KEY!", b"K\xffY!")
    with server.channel() as channel:
        with pytest.raises(grpc.RpcError) as failure:
            channel.unary_unary("/spool.v1.JobQueue/EnqueueBatch")(request, timeout=10)
    assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.value.details() == ("/spool.v1.JobQueue/EnqueueBatch: the request is not a valid "
                                       "EnqueueBatchRequest: malformed EnqueueBatchRequest "
                                       "(field jobs[1].labels[0].value is not valid UTF-8)")
    assert enqueue(api, type="spool.echo", idempotency_key="clé 🔑").job.id


def test_enqueue_without_a_job_and_streams_without_one_selection_are_refused(api):
    m, stub = api
    with pytest.raises(grpc.RpcError) as failure:
        stub.Enqueue(m.EnqueueRequest(), timeout=10)
    assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    for selection in ({}, {"job_ids": ["a"], "queue": "default"}):
        with pytest.raises(grpc.RpcError) as failure:
            watch(api, **selection)
        assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.RpcError) as failure:
        watch(api, job_ids=["no-such-job"])
    assert failure.value.code() == grpc.StatusCode.NOT_FOUND


def test_get_status_shows_queues_workers_and_jobs(api):
    m, stub = api
    job = enqueue(api, type="spool.echo").job
    watch(api, job_ids=[job.id])
    status = stub.GetStatus(m.GetStatusRequest(job_ids=[job.id]), timeout=10)
    default = next(q for q in status.queues if q.name == "default")
    assert default.counts.succeeded >= 1 and default.concurrency == 4
    assert default.throughput_per_minute >= 1
    assert len(status.workers) == 8
    assert status.jobs[0].id == job.id and status.jobs[0].state == m.JOB_STATE_SUCCEEDED
    # An old client leaves only_selected unset and gets everything; a new one asks for the job alone.
    selected = stub.GetStatus(m.GetStatusRequest(job_ids=[job.id], only_selected=True), timeout=10)
    assert [j.id for j in selected.jobs] == [job.id]
    assert not selected.queues and not selected.workers and not selected.rate_limiters and not selected.locks
    with pytest.raises(grpc.RpcError) as failure:
        stub.GetStatus(m.GetStatusRequest(job_ids=["no-such-job"]), timeout=10)
    assert failure.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.RpcError) as failure:
        stub.GetStatus(m.GetStatusRequest(queues=["no-such-queue"]), timeout=10)
    assert failure.value.code() == grpc.StatusCode.NOT_FOUND


def test_a_waiting_job_reports_its_position_and_moves_up(tmp_path, pb):
    m, grpc_stubs = pb
    spoold = Spoold(tmp_path, "--workers", "1")
    try:
        with spoold.channel() as channel:
            stub = grpc_stubs.JobQueueStub(channel)
            api = (m, stub)
            blocker = enqueue(api, type="spool.sleep", payload=sleep_payload(steps=1, step_ms=300)).job
            second = enqueue(api, type="spool.echo").job
            third = enqueue(api, type="spool.echo").job
            assert (second.position, third.position) == (1, 2)
            events = watch(api, job_ids=[third.id], position_interval_ms=10)
            assert events[0].job.position == 2
            positions = [e.job.position for e in events if e.kind == m.ProgressEvent.KIND_POSITION]
            states = [e.job.state for e in events]
            assert 1 in positions or m.JOB_STATE_RUNNING in states
            assert states[-1] == m.JOB_STATE_SUCCEEDED
            assert blocker.id != third.id
    finally:
        spoold.terminate()


def test_a_full_queue_answers_resource_exhausted(tmp_path, pb):
    m, grpc_stubs = pb
    spoold = Spoold(tmp_path, "--max-depth", "2")
    try:
        with spoold.channel() as channel:
            api = (m, grpc_stubs.JobQueueStub(channel))
            future = 4_000_000_000_000
            enqueue(api, type="spool.echo", run_at_ms=future)
            enqueue(api, type="spool.echo", run_at_ms=future)
            with pytest.raises(grpc.RpcError) as failure:
                enqueue(api, type="spool.echo", run_at_ms=future)
            assert failure.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert "max_depth 2" in failure.value.details()
    finally:
        spoold.terminate()


def test_grpcurl_session_from_the_readme(server, grpcurl):
    def call(method, body):
        result = subprocess.run([grpcurl, "-plaintext", "-d", json.dumps(body), server.address,
                                 f"spool.v1.JobQueue/{method}"], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        return result.stdout

    job = json.loads(call("Enqueue", {"job": {"type": "spool.sleep", "payload": "eyJzdGVwcyI6Mn0="}}))["job"]
    assert job["type"] == "spool.sleep"
    decoder, text, events, at = json.JSONDecoder(), call("StreamProgress", {"job_ids": [job["id"]]}), [], 0
    while at < len(text.rstrip()):
        event, at = decoder.raw_decode(text, at)
        events.append(event)
        while at < len(text) and text[at].isspace():
            at += 1
    assert events[0]["kind"] == "KIND_SNAPSHOT"
    assert events[-1]["job"]["state"] == "JOB_STATE_SUCCEEDED"
    status = json.loads(call("GetStatus", {"job_ids": [job["id"]]}))
    assert status["jobs"][0]["state"] == "JOB_STATE_SUCCEEDED"


def test_a_fresh_servers_status_shows_the_default_queue_empty(own_server, grpcurl):
    result = subprocess.run([grpcurl, "-plaintext", "-d", '{"queues": ["default"]}', own_server.address,
                             "spool.v1.JobQueue/GetStatus"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    queues = json.loads(result.stdout)["queues"]
    assert [queue["name"] for queue in queues] == ["default"]
    assert queues[0]["concurrency"] == 4
    assert not any(queues[0].get("counts", {}).values())  # grpcurl leaves out zeros


def test_a_client_leaving_a_stream_does_not_disturb_the_server(api):
    m, stub = api
    call = stub.StreamProgress(m.StreamProgressRequest(queue="default"), timeout=30)
    job = enqueue(api, type="spool.echo").job
    for event in call:
        if event.job.id == job.id and event.job.state == m.JOB_STATE_SUCCEEDED:
            break
    call.cancel()
    assert enqueue(api, type="spool.echo").job.id


def test_concurrent_enqueues_are_all_stored_and_all_run(api):
    m, stub = api
    ids, errors = [], []

    def worker():
        try:
            for _ in range(25):
                ids.append(enqueue(api, type="spool.echo").job.id)
        except grpc.RpcError as error:
            errors.append(error)

    run_together(worker, 8)
    assert not errors and len(set(ids)) == 200
    finals = [e for e in watch(api, job_ids=ids) if e.job.state in TERMINAL]
    assert {e.job.id for e in finals} == set(ids)


@pytest.mark.parametrize("how", ["kill", "term"])
def test_every_acknowledged_job_reaches_one_terminal_state_across_a_restart(tmp_path, pb, how):
    """Stop the server mid-run (SIGKILL: a crash; SIGTERM with no grace: a
    drain that interrupts), start it on the same database, and check that
    every job acknowledged before reaches exactly one terminal state."""
    m, grpc_stubs = pb
    first = Spoold(tmp_path, "--workers", "2", "--shutdown-grace", "0")
    with first.channel() as channel:
        api = (m, grpc_stubs.JobQueueStub(channel))
        ids = [enqueue(api, type="spool.sleep", payload=sleep_payload(steps=4, step_ms=100)).job.id
               for _ in range(6)]
        running = set()
        for event in api[1].StreamProgress(m.StreamProgressRequest(job_ids=ids), timeout=30):
            if event.job.state == m.JOB_STATE_RUNNING and event.kind == m.ProgressEvent.KIND_PROGRESS:
                running.add(event.job.id)
            if len(running) == 2:
                break
    if how == "kill":
        first.process.kill()
        first.process.wait()
    else:
        code, _ = first.terminate()
        assert code == 0

    second = Spoold(tmp_path, "--workers", "2")
    try:
        recovered = next(line for line in second.banner if line.startswith("spoold: recovered"))
        assert int(re.search(r"(\d+) interrupted and queued again", recovered).group(1)) >= 1
        with second.channel() as channel:
            api = (m, grpc_stubs.JobQueueStub(channel))
            events = watch(api, job_ids=ids)
            finals = {}
            for event in events:
                if event.job.state in TERMINAL and event.kind == m.ProgressEvent.KIND_STATE:
                    assert event.job.id not in finals, "a job ended twice"
                    finals[event.job.id] = event.job
            status = api[1].GetStatus(m.GetStatusRequest(job_ids=ids), timeout=10)
            assert all(job.state == m.JOB_STATE_SUCCEEDED for job in status.jobs)
            interrupted = [job for job in status.jobs if job.id in running]
            assert all(job.attempt == 2 and job.error.code == "interrupted" for job in interrupted)
    finally:
        code, _ = second.terminate()
    assert code == 0
    with sqlite3.connect(tmp_path / "spool.db") as db:
        states = dict(db.execute("SELECT state, count(*) FROM jobs GROUP BY state").fetchall())
    assert states == {4: 6}


def test_a_crash_under_load_keeps_every_acknowledged_job(tmp_path, pb):
    """SIGKILL while eight clients enqueue as fast as they answer (unary
    calls with idempotency keys, and batches): after a restart every job
    that was acknowledged is there, keeps its key, and ends exactly once.
    An answer sent before its jobs' commit would be lost here."""
    m, grpc_stubs = pb
    first = Spoold(tmp_path, "--workers", "4")
    acknowledged, keys, failures = [], {}, []
    lock = threading.Lock()
    enough = threading.Event()

    def client(number):
        with first.channel() as channel:
            stub = grpc_stubs.JobQueueStub(channel)
            try:
                for call in range(100_000):
                    if call % 5 == 4:
                        jobs = [m.JobSpec(type="spool.echo", payload=b"%d" % call)] * 50
                        answer = stub.EnqueueBatch(m.EnqueueBatchRequest(jobs=jobs), timeout=10)
                        ids, key = [job.id for job in answer.jobs], None
                    else:
                        key = f"client {number} call {call}"
                        job = m.JobSpec(type="spool.echo", idempotency_key=key)
                        ids = [stub.Enqueue(m.EnqueueRequest(job=job), timeout=10).job.id]
                    with lock:
                        acknowledged.extend(ids)
                        if key:
                            keys[key] = ids[0]
                        if len(acknowledged) >= 3000:
                            enough.set()
            except grpc.RpcError as error:
                # The server died under the call: the client cannot know
                # whether these jobs were stored, and was not told they were.
                if error.code() != grpc.StatusCode.UNAVAILABLE:
                    failures.append(error)
                enough.set()

    clients = [threading.Thread(target=client, args=(number,)) for number in range(8)]
    for thread in clients:
        thread.start()
    try:
        assert enough.wait(timeout=120)
    finally:
        first.process.kill()
        first.process.wait()
        for thread in clients:
            thread.join()
    assert not failures
    assert len(acknowledged) >= 3000 and len(set(acknowledged)) == len(acknowledged)

    second = Spoold(tmp_path, "--workers", "4")
    try:
        with second.channel() as channel:
            api = (m, grpc_stubs.JobQueueStub(channel))
            ended, errors = {}, set()
            for start in range(0, len(acknowledged), 1000):
                chunk = acknowledged[start:start + 1000]
                for event in watch(api, job_ids=chunk):
                    if event.job.state not in TERMINAL:
                        continue
                    if event.kind == m.ProgressEvent.KIND_STATE:
                        assert event.job.id not in ended, "a job ended twice"
                    elif event.kind != m.ProgressEvent.KIND_SNAPSHOT:
                        continue
                    ended[event.job.id] = event.job.state
                    if event.job.state != m.JOB_STATE_SUCCEEDED:
                        errors.add(f"{event.job.error.code}: {event.job.error.message}")
            assert set(ended) == set(acknowledged)
            assert not errors
            # Keys survive too: asking again answers with the stored job.
            for key, job_id in list(keys.items())[-50:]:
                again = enqueue(api, type="spool.echo", idempotency_key=key)
                assert again.deduplicated and again.job.id == job_id
    finally:
        code, _ = second.terminate()
    assert code == 0


def test_a_job_seen_ending_stays_ended_after_a_crash(tmp_path, pb):
    """A terminal state is committed before its event goes out: killing the
    server the moment a watcher sees a job succeed neither loses the
    result nor runs the job again."""
    m, grpc_stubs = pb
    first = Spoold(tmp_path, "--workers", "4")
    try:
        with first.channel() as channel:
            api = (m, grpc_stubs.JobQueueStub(channel))
            ids = [enqueue(api, type="spool.sleep", payload=sleep_payload(steps=1, step_ms=200)).job.id
                   for _ in range(4)]
            call = api[1].StreamProgress(m.StreamProgressRequest(job_ids=ids), timeout=30)
            seen = next(e.job for e in call if e.kind == m.ProgressEvent.KIND_STATE and e.job.state in TERMINAL)
            first.process.kill()
            call.cancel()
    finally:
        first.process.kill()  # if the stream failed before
        first.process.wait()
    assert seen.state == m.JOB_STATE_SUCCEEDED

    second = Spoold(tmp_path, "--workers", "4")
    try:
        with second.channel() as channel:
            api = (m, grpc_stubs.JobQueueStub(channel))
            [job] = api[1].GetStatus(m.GetStatusRequest(job_ids=[seen.id]), timeout=10).jobs
            assert (job.state, job.attempt, job.result) == (m.JOB_STATE_SUCCEEDED, 1, seen.result)
            assert job.progress.fraction == 1
            assert job.finished_at_ms == seen.finished_at_ms
    finally:
        code, _ = second.terminate()
    assert code == 0


def test_large_answers_on_concurrent_connections_all_arrive(api, pb, server):
    """Batch answers (about 50 KB each) on several connections at once fill
    the socket's buffer; every answer must still arrive (a lost writability
    wake-up once left the last ones waiting for the client's next bytes)."""
    m, grpc_stubs = pb
    request = m.EnqueueBatchRequest(jobs=[m.JobSpec(type="spool.echo", run_at_ms=4_000_000_000_000)] * 1000)
    answers, errors = [], []

    def client():
        with server.channel() as channel:
            stub = grpc_stubs.JobQueueStub(channel)
            futures = [stub.EnqueueBatch.future(request, timeout=30) for _ in range(4)]
            try:
                answers.extend(len(f.result().jobs) for f in futures)
            except grpc.RpcError as error:
                errors.append(error)

    run_together(client, 3)
    assert not errors and answers == [1000] * 12
