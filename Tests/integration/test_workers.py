"""Remote workers (spool.v1.Workers) against the real spoold: the Python Worker, raw
grpcio streams that misbehave, grpcurl, and a worker killed with SIGKILL."""
import json
import os
import signal
import subprocess
import sys
import threading
import time

import grpc
import pytest

from conftest import ROOT, Spoold
from spool_client import Client, JobState, PermanentError, RetryableError, SpoolError, Worker, job_spec
from spool_client._proto import queue_pb2, worker_pb2, worker_pb2_grpc

CONFIG = """
types:
  py.echo: {remote: {lease: 1}}
  py.slow: {remote: {lease: 1}}
queues:
  default: {concurrency: 8, max_attempts: 3, backoff: {initial: 0.05, max: 0.05}}
"""


def start_server(tmp_path, config=CONFIG, *args):
    path = tmp_path / "spool.yaml"
    path.write_text(config)
    return Spoold(tmp_path, "--config", str(path), *args)


@pytest.fixture
def remote(tmp_path):
    spoold = start_server(tmp_path)
    yield spoold
    spoold.terminate()


class Running:
    """A Worker serving in a thread of this test."""

    def __init__(self, worker: Worker):
        self.worker = worker
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            self.worker.run(handle_signals=False)
        except BaseException as error:  # noqa: BLE001 - reported to the test
            self.error = error

    def stop(self):
        self.worker.stop()
        self.thread.join(timeout=30)
        assert not self.thread.is_alive()


def echo_worker(address, **options) -> Worker:
    worker = Worker(address, name=options.pop("name", "echo"), **options)

    @worker.handler("py.echo")
    def echo(job):
        job.progress(0.5, "halfway")
        return {"echo": job.json(), "attempt": job.attempt}

    return worker


def wait_for(condition, what, timeout=20.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def raw_stream(address, messages, metadata=()):
    """A hand-driven Work stream: put WorkerMessages (None ends it); iterate the answer."""
    import queue
    outbox: queue.Queue = queue.Queue()
    for message in messages:
        outbox.put(message)

    def requests():
        while (message := outbox.get()) is not None:
            yield message

    channel = grpc.insecure_channel(address)
    call = worker_pb2_grpc.WorkersStub(channel).Work(requests(), metadata=metadata)
    return outbox, call, channel


def hello(*types, capacity=1, name="raw", batches=False):
    return worker_pb2.WorkerMessage(hello=worker_pb2.WorkerHello(
        name=name, types=list(types), capacity=capacity, batches=batches))


def assignments_of(command):
    kind = command.WhichOneof("command")
    assert kind in ("assign", "assignments"), command
    return [command.assign] if kind == "assign" else list(command.assignments.assignments)


def test_a_python_worker_runs_jobs_enqueued_before_and_after_it_connects(remote):
    with Client(remote.address) as client:
        early = [client.enqueue("py.echo", {"n": n}).job.id for n in range(5)]
        assert client.job(early[0]).state == JobState.QUEUED
        assert client.job(early[4]).position == 5
        running = Running(echo_worker(remote.address, concurrency=4))
        late = [client.enqueue("py.echo", {"n": n}).job.id for n in range(5, 20)]
        for n, job_id in enumerate(early + late):
            job = client.wait(job_id)
            assert job.state == JobState.SUCCEEDED, job
            assert json.loads(job.result) == {"echo": {"n": n}, "attempt": 1}
        status = client.status()
        [info] = status.remote_workers
        assert info.name == "echo" and list(info.types) == ["py.echo"] and info.capacity == 4
        assert info.peer.startswith("127.0.0.1:") and info.connected_at_ms > 0 and info.last_heartbeat_ms > 0
        running.stop()
        wait_for(lambda: not client.status().remote_workers, "the worker to leave the status")
    assert running.error is None


def test_progress_failures_and_retry_after_reach_the_job(remote):
    worker = Worker(remote.address, name="failing", concurrency=2)
    calls = {"n": 0}

    @worker.handler("py.echo")
    def handle(job):
        kind = job.json()["kind"]
        if kind == "permanent":
            raise PermanentError("bad input")
        if kind == "flaky" and job.attempt == 1:
            raise RetryableError("try later", retry_after=0.2)
        if kind == "crash":
            raise KeyError("boom")
        job.progress(0.5, "halfway", "still going")
        time.sleep(0.15)
        return "fine"

    running = Running(worker)
    with Client(remote.address) as client:
        permanent = client.enqueue("py.echo", {"kind": "permanent"}).job.id
        flaky = client.enqueue("py.echo", {"kind": "flaky"}).job.id
        crash = client.enqueue("py.echo", {"kind": "crash"}, max_attempts=2).job.id
        slow = client.enqueue("py.echo", {"kind": "progress"}).job.id
        events = list(client.watch([slow]))
        assert any(e.job.progress.step == "halfway" and e.job.progress.message == "still going" for e in events)
        job = client.wait(permanent)
        assert job.state == JobState.FAILED and job.attempt == 1 and not job.error.retryable
        assert job.error.message == "bad input"
        job = client.wait(flaky)
        assert job.state == JobState.SUCCEEDED and job.attempt == 2
        job = client.wait(crash)
        assert job.state == JobState.FAILED and job.attempt == 2 and "KeyError" in job.error.message
    running.stop()


def test_a_cancel_reaches_the_running_handler(remote):
    worker = Worker(remote.address, name="cancellable")
    started = threading.Event()

    @worker.handler("py.slow")
    def slow(job):
        started.set()
        assert job.wait_cancelled(30), "the cancel never came"
        raise RetryableError(f"stopped: {job.cancel_reason}")

    running = Running(worker)
    with Client(remote.address) as client:
        job_id = client.enqueue("py.slow").job.id
        assert started.wait(20)
        [job] = client.cancel(job_id, reason="changed my mind")
        assert job.state == JobState.RUNNING  # until the worker stops it
        job = client.wait(job_id)
        assert job.state == JobState.CANCELLED and job.error.message == "changed my mind"
    running.stop()


def test_a_worker_killed_mid_job_loses_it_after_the_lease_and_it_ends_once(remote):
    script = f"""
import sys, time
sys.path.insert(0, {str(ROOT / 'clients' / 'python')!r})
from spool_client import Worker
worker = Worker({remote.address!r}, name="doomed")
@worker.handler("py.slow")
def slow(job):
    print("started", job.id, flush=True)
    time.sleep(3600)
worker.run()
"""
    doomed = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        with Client(remote.address) as client:
            job_id = client.enqueue("py.slow", max_attempts=3).job.id
            assert doomed.stdout.readline().split() == ["started", job_id]
            doomed.send_signal(signal.SIGKILL)
            doomed.wait()
            events = []
            watcher = threading.Thread(target=lambda: events.extend(client.watch([job_id])))
            watcher.start()
            # The job comes back once its lease (1 s) runs out, as lost, its attempt counted.
            wait_for(lambda: client.job(job_id).error.code == "lost", "the lease to run out")
            worker = Worker(remote.address, name="rescuer")
            worker.register("py.slow", lambda job: f"done on attempt {job.attempt}")
            running = Running(worker)
            watcher.join(timeout=30)
            job = client.job(job_id)
            assert job.state == JobState.SUCCEEDED and job.result == b"done on attempt 2"
            terminal = [e for e in events if JobState(e.job.state).is_terminal]
            assert len(terminal) == 1
            running.stop()
    finally:
        doomed.kill()


def test_a_worker_that_stops_reading_and_beating_loses_its_job(remote):
    outbox, call, channel = raw_stream(remote.address, [hello("py.echo")])
    commands = iter(call)
    assert next(commands).WhichOneof("command") == "welcome"
    with Client(remote.address) as client:
        job_id = client.enqueue("py.echo", {"v": 1}).job.id
        assignment = next(commands).assign
        assert assignment.lease.job_id == job_id and assignment.lease_ms == 1000
        # No heartbeat: after the lease the job is retried and this stream is closed.
        with pytest.raises(grpc.RpcError) as ended:
            next(commands)
        assert ended.value.code() == grpc.StatusCode.UNAVAILABLE
        assert "heartbeat" in ended.value.details()
        assert client.job(job_id).error.code == "lost"
        running = Running(echo_worker(remote.address))
        assert client.wait(job_id).state == JobState.SUCCEEDED
        running.stop()
    channel.close()


def test_stale_forged_and_repeated_answers_are_refused_and_change_nothing(remote):
    outbox, call, channel = raw_stream(remote.address, [hello("py.echo")])
    commands = iter(call)
    assert next(commands).WhichOneof("command") == "welcome"
    beat = worker_pb2.WorkerMessage(heartbeat=worker_pb2.WorkerHeartbeat())
    with Client(remote.address) as client:
        job_id = client.enqueue("py.echo", {"v": 1}).job.id
        lease = next(commands).assign.lease
        outbox.put(beat)

        def answer(lease, **outcome):
            outbox.put(worker_pb2.WorkerMessage(outcome=worker_pb2.JobOutcome(lease=lease, **outcome)))
            return next(commands).ack

        forged = worker_pb2.Lease(job_id=job_id, attempt=lease.attempt, lease_id="forged")
        assert answer(forged, result=b"forged").refusal == worker_pb2.OutcomeAck.REFUSAL_UNKNOWN_LEASE
        older = worker_pb2.Lease(job_id=job_id, attempt=0, lease_id=lease.lease_id)
        assert answer(older, result=b"old").refusal == worker_pb2.OutcomeAck.REFUSAL_UNKNOWN_LEASE
        assert client.job(job_id).state == JobState.RUNNING
        # A taken answer is not acknowledged: the next ack is the repeat's refusal.
        outbox.put(worker_pb2.WorkerMessage(outcome=worker_pb2.JobOutcome(lease=lease, result=b"real")))
        again = answer(lease, failure=worker_pb2.JobFailure(message="late", permanent=True))
        assert again.refusal == worker_pb2.OutcomeAck.REFUSAL_UNKNOWN_LEASE  # answered: no longer held
        assert again.lease == lease
        job = client.wait(job_id)
        assert job.state == JobState.SUCCEEDED and job.result == b"real"
    outbox.put(None)
    channel.close()


@pytest.mark.parametrize("first, expected", [
    (worker_pb2.WorkerMessage(heartbeat=worker_pb2.WorkerHeartbeat()), "first message must be a hello"),
    (hello("py.nosuch"), "not a remote type"),
    (hello("spool.echo"), "not a remote type"),
    (hello("py.echo", capacity=-1), "capacity"),
    (hello("py.echo", capacity=2**31 - 1), "capacity"),
    (hello(), "at least one job type"),
    (worker_pb2.WorkerMessage(), "first message must be a hello"),
])
def test_a_bad_hello_is_refused_precisely(remote, first, expected):
    outbox, call, channel = raw_stream(remote.address, [first])
    with pytest.raises(grpc.RpcError) as refused:
        list(call)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert expected in refused.value.details()
    outbox.put(None)
    channel.close()


def test_a_second_hello_or_an_empty_outcome_ends_the_stream(remote):
    for bad in [hello("py.echo"), worker_pb2.WorkerMessage(outcome=worker_pb2.JobOutcome(
            lease=worker_pb2.Lease(job_id="x", attempt=1, lease_id="y")))]:
        outbox, call, channel = raw_stream(remote.address, [hello("py.echo"), bad])
        with pytest.raises(grpc.RpcError) as refused:
            list(call)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        outbox.put(None)
        channel.close()
    with Client(remote.address) as client:
        assert client.status().remote_workers == []


def test_a_batching_worker_gets_every_job_once_and_its_outcomes_are_taken_together(remote):
    outbox, call, channel = raw_stream(remote.address, [hello("py.echo", capacity=6, batches=True)])
    commands = iter(call)
    assert next(commands).welcome.batches
    with Client(remote.address) as client:
        ids = [job.id for job in client.enqueue_batch([job_spec("py.echo", {"n": n}) for n in range(6)]).jobs]
        assigned = []
        while len(assigned) < 6:
            assigned += assignments_of(next(commands))
        assert sorted(a.lease.job_id for a in assigned) == sorted(ids)
        forged = worker_pb2.Lease(job_id=ids[0], attempt=1, lease_id="forged")
        outcomes = [worker_pb2.JobOutcome(lease=a.lease, result=a.payload) for a in assigned]
        outbox.put(worker_pb2.WorkerMessage(outcomes=worker_pb2.JobOutcomes(
            outcomes=outcomes + [worker_pb2.JobOutcome(lease=forged, result=b"forged")])))
        ack = next(commands).ack
        assert ack.refusal == worker_pb2.OutcomeAck.REFUSAL_UNKNOWN_LEASE and ack.lease.lease_id == "forged"
        for n, job_id in enumerate(ids):
            job = client.wait(job_id)
            assert job.state == JobState.SUCCEEDED and json.loads(job.result) == {"n": n}
    outbox.put(None)
    channel.close()


def test_a_worker_that_does_not_batch_gets_one_assignment_a_message(remote):
    outbox, call, channel = raw_stream(remote.address, [hello("py.echo", capacity=6)])
    commands = iter(call)
    assert next(commands).WhichOneof("command") == "welcome"
    with Client(remote.address) as client:
        ids = [job.id for job in client.enqueue_batch([job_spec("py.echo")] * 6).jobs]
        kinds = [next(commands).WhichOneof("command") for _ in ids]
        assert kinds == ["assign"] * 6
    outbox.put(None)
    channel.close()


@pytest.mark.parametrize("message, expected", [
    (hello(*[f"t{n}" for n in range(257)]), "hello.types has more than 256 elements"),
    (worker_pb2.WorkerMessage(hello=worker_pb2.WorkerHello(
        name="raw", types=["py.echo"], labels={f"k{n}": "v" for n in range(65)})), "hello.labels has more than 64"),
    (worker_pb2.WorkerMessage(outcomes=worker_pb2.JobOutcomes(outcomes=[worker_pb2.JobOutcome()] * 10_001)),
     "outcomes.outcomes has more than 10000 elements"),
])
def test_a_worker_message_past_its_limits_is_refused_before_it_is_unpacked(remote, message, expected):
    outbox, call, channel = raw_stream(remote.address, [message])
    with pytest.raises(grpc.RpcError) as refused:
        list(call)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert expected in refused.value.details(), refused.value.details()
    outbox.put(None)
    channel.close()


def test_empty_or_unleased_outcomes_end_the_stream(remote):
    unleased = worker_pb2.JobOutcome(result=b"x")
    for bad, expected in [(worker_pb2.JobOutcomes(), "outcomes holds no outcome"),
                          (worker_pb2.JobOutcomes(outcomes=[unleased]), "an outcome needs its lease")]:
        outbox, call, channel = raw_stream(remote.address, [hello("py.echo"), worker_pb2.WorkerMessage(outcomes=bad)])
        with pytest.raises(grpc.RpcError) as refused:
            list(call)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert expected in refused.value.details()
        outbox.put(None)
        channel.close()


def test_locks_are_held_across_local_and_remote_jobs(remote):
    with Client(remote.address) as client:
        local = client.enqueue("spool.sleep", {"ms": 400}, lock_keys=["repo"]).job.id
        wait_for(lambda: client.job(local).state == JobState.RUNNING, "the local job to start")
        remote_job = client.enqueue("py.echo", {"v": 1}, lock_keys=["repo"]).job.id
        running = Running(echo_worker(remote.address))
        first, second = client.wait(local), client.wait(remote_job)
        assert second.started_at_ms >= first.finished_at_ms
        running.stop()


def test_a_restarted_server_gets_its_workers_back_and_loses_nothing(tmp_path):
    spoold = start_server(tmp_path)
    port = spoold.port
    worker = echo_worker(spoold.address, concurrency=2)
    running = Running(worker)
    try:
        with Client(spoold.address) as client:
            before = [client.enqueue("py.echo", {"n": n}, idempotency_key=f"b{n}").job.id for n in range(10)]
            for job_id in before:
                assert client.wait(job_id).state == JobState.SUCCEEDED
        code, _ = spoold.terminate()
        assert code == 0
        path = tmp_path / "spool.yaml"
        spoold = Spoold(tmp_path, "--config", str(path), "--listen", f"127.0.0.1:{port}")
        with Client(spoold.address) as client:
            after = [client.enqueue("py.echo", {"n": n}).job.id for n in range(10)]
            for job_id in before + after:
                assert client.wait(job_id).state == JobState.SUCCEEDED
            assert [w.name for w in client.status().remote_workers] == ["echo"]
        assert worker.stats["connections"] >= 2
    finally:
        running.stop()
        spoold.terminate()


def test_worker_tokens_take_jobs_only_and_client_tokens_cannot_take_jobs(tmp_path):
    spoold = start_server(tmp_path, CONFIG + "auth: {tokens: [svc], worker_tokens: [wrk]}\n")
    try:
        with Client(spoold.address, token="wrk") as as_worker:
            with pytest.raises(SpoolError) as refused:
                as_worker.enqueue("py.echo", {"v": 1})
            assert refused.value.code == grpc.StatusCode.PERMISSION_DENIED
        with pytest.raises(SpoolError) as refused:
            wrong = Worker(spoold.address, token="svc")
            wrong.register("py.echo", lambda job: b"")
            wrong.run(handle_signals=False)
        assert refused.value.code == grpc.StatusCode.PERMISSION_DENIED
        with Client(spoold.address, token="svc") as client:
            job_id = client.enqueue("py.echo", {"v": 1}).job.id
            running = Running(echo_worker(spoold.address, token="wrk"))
            assert client.wait(job_id).state == JobState.SUCCEEDED
            running.stop()
    finally:
        spoold.terminate()


def test_a_draining_server_tells_its_workers_and_lets_their_jobs_finish(tmp_path):
    spoold = start_server(tmp_path)
    worker = Worker(spoold.address, name="drained")
    started = threading.Event()

    @worker.handler("py.slow")
    def slow(job):
        started.set()
        time.sleep(0.5)
        return "finished while draining"

    running = Running(worker)
    with Client(spoold.address) as client:
        job_id = client.enqueue("py.slow").job.id
        assert started.wait(20)
        code, out = spoold.terminate()
        assert code == 0
    restarted = Spoold(tmp_path, "--config", str(tmp_path / "spool.yaml"))
    try:
        with Client(restarted.address) as client:
            job = client.job(job_id)
            assert job.state == JobState.SUCCEEDED and job.result == b"finished while draining"
    finally:
        running.stop()
        restarted.terminate()


def test_grpcurl_lists_describes_and_opens_the_worker_stream(remote, grpcurl):
    listed = subprocess.run([grpcurl, "-plaintext", remote.address, "list"], capture_output=True, text=True, check=True)
    assert "spool.v1.Workers" in listed.stdout.split()
    described = subprocess.run([grpcurl, "-plaintext", remote.address, "describe", "spool.v1.Workers"],
                               capture_output=True, text=True, check=True)
    assert "rpc Work ( stream .spool.v1.WorkerMessage ) returns ( stream .spool.v1.WorkerCommand )" in described.stdout
    opened = subprocess.run(
        [grpcurl, "-plaintext", "-d", '{"hello": {"name": "curl", "types": ["py.echo"], "capacity": 1}}',
         remote.address, "spool.v1.Workers/Work"], capture_output=True, text=True, timeout=30)
    assert opened.returncode == 0, opened.stderr
    welcome = json.loads(opened.stdout.split("\n}\n")[0] + "}")
    assert welcome["welcome"]["workerId"].startswith("w")


def test_spoolctl_status_lists_connected_workers(remote):
    from test_spoolctl import spoolctl
    running = Running(echo_worker(remote.address, name="gpu-3", concurrency=2))
    with Client(remote.address) as client:
        wait_for(lambda: client.status().remote_workers, "the worker to connect")
    shown = spoolctl(remote, "status")
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    header = next(line for line in lines if line.startswith("REMOTE WORKER"))
    row = lines[lines.index(header) + 1].split()
    assert row[1:2] == ["gpu-3"] and row[2].startswith("127.0.0.1:") and row[3:5] == ["py.echo", "0/2"]
    running.stop()


def test_spoolctl_work_runs_an_exec_command_for_each_job_and_drains_on_sigterm(remote):
    from test_spoolctl import spoolctl_binary
    script = ("import sys, json; data = sys.stdin.read(); "
              "print(json.dumps({'progress': 0.5, 'step': 'upper'}), flush=True); "
              "bad = data == 'bad'; "
              "print(json.dumps({'error': 'bad input', 'retryable': False}) if bad else json.dumps({'result': data.upper()})); "
              "sys.exit(1 if bad else 0)")
    work = subprocess.Popen([spoolctl_binary(), "work", "py.echo", "--name", "ctl", "--concurrency", "2",
                             "--server", remote.address, "--", sys.executable, "-c", script],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        with Client(remote.address) as client:
            ids = [client.enqueue("py.echo", f"job {n}").job.id for n in range(6)]
            bad = client.enqueue("py.echo", "bad").job.id
            for n, job_id in enumerate(ids):
                job = client.wait(job_id)
                assert job.state == JobState.SUCCEEDED and job.result == f"JOB {n}".encode(), job
            job = client.wait(bad)
            assert job.state == JobState.FAILED and "bad input" in job.error.message and not job.error.retryable
            assert [w.name for w in client.status().remote_workers] == ["ctl"]
        work.send_signal(signal.SIGTERM)
        assert work.wait(timeout=30) == 0
        assert "connected to" in work.stderr.read()
    finally:
        work.kill()


def test_spoolctl_work_persistent_feeds_one_process_job_after_job(remote):
    from test_spoolctl import spoolctl_binary
    worker = ROOT / "clients" / "examples" / "render_persistent.py"
    work = subprocess.Popen([spoolctl_binary(), "work", "py.echo", "--persistent", "--server", remote.address,
                             "--", sys.executable, str(worker)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        with Client(remote.address) as client:
            results = []
            for n in range(3):
                job = client.wait(client.enqueue("py.echo", json.dumps({"steps": 1, "step_ms": 1})).job.id)
                assert job.state == JobState.SUCCEEDED, job
                results.append(json.loads(job.result))
            assert len({result["pid"] for result in results}) == 1, results
            assert [result["jobs_served"] for result in results] == [1, 2, 3]
            crashed = client.wait(client.enqueue("py.echo", json.dumps({"die_on_attempt": 1}),
                                                 max_attempts=2).job.id)
            assert crashed.state == JobState.SUCCEEDED and crashed.attempt == 2, crashed
            assert json.loads(crashed.result)["pid"] != results[0]["pid"]
        work.send_signal(signal.SIGTERM)
        assert work.wait(timeout=30) == 0
    finally:
        work.kill()
