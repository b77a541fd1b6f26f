"""ListJobs, Retry and UpdateQueue through grpcio, grpcurl and the JSON API, against a live spoold."""
import json
import subprocess

import grpc
import pytest

from conftest import Spoold
from test_http import Events, get_json, post_json, request

CONFIG = """
queues:
  render: {concurrency: 1}
"""


@pytest.fixture(scope="module")
def admin_server(tmp_path_factory):
    spoold = Spoold.configured(tmp_path_factory.mktemp("admin"), CONFIG)
    yield spoold
    spoold.terminate()


@pytest.fixture(scope="module")
def stub(admin_server, pb):
    queue_pb2, queue_pb2_grpc = pb
    with admin_server.channel() as channel:
        yield queue_pb2, queue_pb2_grpc.JobQueueStub(channel)


def finished(stub, job_id):
    queue_pb2, client = stub
    for event in client.StreamProgress(queue_pb2.StreamProgressRequest(job_ids=[job_id]), timeout=30):
        last = event.job
    return last


def test_list_jobs_pages_through_a_label_newest_first_with_the_total(stub):
    queue_pb2, client = stub
    ids = [client.Enqueue(queue_pb2.EnqueueRequest(job=queue_pb2.JobSpec(
        type="spool.echo", labels={"repo": "acme/list", "n": str(n)}))).job.id for n in range(7)]
    seen, token = [], ""
    while True:
        page = client.ListJobs(queue_pb2.ListJobsRequest(labels={"repo": "acme/list"}, page_size=3, page_token=token))
        assert page.total == 7
        seen += [job.id for job in page.jobs]
        token = page.next_page_token
        if not token:
            break
    assert seen == list(reversed(ids))
    oldest = client.ListJobs(queue_pb2.ListJobsRequest(labels={"repo": "acme/list", "n": "0"}, oldest_first=True))
    assert [job.id for job in oldest.jobs] == [ids[0]]


def test_list_jobs_filters_by_state_queue_type_and_time(stub):
    queue_pb2, client = stub
    failing = client.Enqueue(queue_pb2.EnqueueRequest(job=queue_pb2.JobSpec(
        type="spool.fail", queue="listq", max_attempts=1, payload=b'{"permanent": true}'))).job
    assert finished(stub, failing.id).state == queue_pb2.JOB_STATE_FAILED
    page = client.ListJobs(queue_pb2.ListJobsRequest(queue="listq", states=[queue_pb2.JOB_STATE_FAILED]))
    assert [job.id for job in page.jobs] == [failing.id] and page.total == 1
    assert client.ListJobs(queue_pb2.ListJobsRequest(queue="listq", states=[queue_pb2.JOB_STATE_SUCCEEDED])).total == 0
    assert client.ListJobs(queue_pb2.ListJobsRequest(type="spool.fail", created_after_ms=failing.created_at_ms)).total >= 1
    assert client.ListJobs(queue_pb2.ListJobsRequest(queue="listq", created_before_ms=failing.created_at_ms)).total == 0


@pytest.mark.parametrize("request_fields,message", [
    ({"page_size": 5000}, "page_size must be at most 1000"),
    ({"page_token": "not-a-token"}, "page_token is not one a ListJobs answer gave"),
    ({"states": [42]}, "states[0] is not a job state"),
    ({"created_after_ms": 10, "created_before_ms": 5}, "must be before created_before_ms"),
])
def test_bad_list_requests_are_invalid_arguments(stub, request_fields, message):
    queue_pb2, client = stub
    with pytest.raises(grpc.RpcError) as error:
        client.ListJobs(queue_pb2.ListJobsRequest(**request_fields))
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT and message in error.value.details()


def test_a_failed_job_retried_runs_again_under_its_id(stub):
    queue_pb2, client = stub
    job = client.Enqueue(queue_pb2.EnqueueRequest(job=queue_pb2.JobSpec(
        type="spool.fail", max_attempts=1, payload=b'{"fail_attempts": 1}'))).job
    assert finished(stub, job.id).state == queue_pb2.JOB_STATE_FAILED
    retried = client.Retry(queue_pb2.RetryRequest(job_id=job.id, reason="upstream fixed")).job
    assert retried.id == job.id and retried.attempt == 0
    assert retried.state in (queue_pb2.JOB_STATE_QUEUED, queue_pb2.JOB_STATE_RUNNING)
    # spool.fail counts attempts per run of the job: its first attempt fails again, by design.
    assert finished(stub, job.id).state == queue_pb2.JOB_STATE_FAILED
    with pytest.raises(grpc.RpcError) as error:
        client.Retry(queue_pb2.RetryRequest(job_id="no-such-job"))
    assert error.value.code() == grpc.StatusCode.NOT_FOUND


def test_a_running_or_succeeded_job_cannot_be_retried(stub):
    queue_pb2, client = stub
    job = client.Enqueue(queue_pb2.EnqueueRequest(job=queue_pb2.JobSpec(type="spool.echo"))).job
    assert finished(stub, job.id).state == queue_pb2.JOB_STATE_SUCCEEDED
    with pytest.raises(grpc.RpcError) as error:
        client.Retry(queue_pb2.RetryRequest(job_id=job.id))
    assert error.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "only FAILED or CANCELLED jobs can be retried" in error.value.details()


def test_a_paused_queue_takes_jobs_and_starts_none_until_resumed(stub):
    queue_pb2, client = stub
    paused = client.UpdateQueue(queue_pb2.UpdateQueueRequest(queue="render", pause=queue_pb2.UpdateQueueRequest.PAUSE_PAUSE))
    assert paused.queue.paused and paused.queue.name == "render"
    jobs = [client.Enqueue(queue_pb2.EnqueueRequest(job=queue_pb2.JobSpec(type="spool.echo", queue="render"))).job
            for _ in range(2)]
    assert [job.position for job in jobs] == [1, 2]
    status = client.GetStatus(queue_pb2.GetStatusRequest(queues=["render"], only_selected=True))
    assert status.queues[0].paused and status.queues[0].counts.queued == 2 and status.queues[0].counts.running == 0
    client.UpdateQueue(queue_pb2.UpdateQueueRequest(queue="render", pause=queue_pb2.UpdateQueueRequest.PAUSE_RESUME))
    assert all(finished(stub, job.id).state == queue_pb2.JOB_STATE_SUCCEEDED for job in jobs)


def test_queue_settings_hold_across_a_restart_until_reset(tmp_path, pb):
    queue_pb2, queue_pb2_grpc = pb
    spoold = Spoold.configured(tmp_path, CONFIG)
    with spoold.channel() as channel:
        answer = queue_pb2_grpc.JobQueueStub(channel).UpdateQueue(queue_pb2.UpdateQueueRequest(
            queue="render", pause=queue_pb2.UpdateQueueRequest.PAUSE_PAUSE, concurrency=3,
            rate=queue_pb2.QueueRate(per_second=2.5, burst=5)))
        assert answer.queue.concurrency == 3
    assert spoold.terminate()[0] == 0
    spoold = Spoold(tmp_path, "--config", str(tmp_path / "spool.yaml"))
    try:
        with spoold.channel() as channel:
            client = queue_pb2_grpc.JobQueueStub(channel)
            status = client.GetStatus(queue_pb2.GetStatusRequest())
            render = next(q for q in status.queues if q.name == "render")
            assert render.paused and render.concurrency == 3
            limiter = next(l for l in status.rate_limiters if l.key == "queue:render")
            assert limiter.configured_rate_per_second == 2.5 and limiter.burst == 5
            reset = client.UpdateQueue(queue_pb2.UpdateQueueRequest(queue="render", reset=True)).queue
            assert not reset.paused and reset.concurrency == 1
    finally:
        spoold.terminate()


@pytest.mark.parametrize("fields,code", [
    ({}, grpc.StatusCode.INVALID_ARGUMENT),
    ({"queue": "render", "concurrency": -1}, grpc.StatusCode.INVALID_ARGUMENT),
    ({"queue": "render", "concurrency": 2_000_000}, grpc.StatusCode.INVALID_ARGUMENT),
    ({"queue": "render", "rate": {"per_second": -5}}, grpc.StatusCode.INVALID_ARGUMENT),
    ({"queue": "render", "rate": {"per_second": 5, "burst": 0.5}}, grpc.StatusCode.INVALID_ARGUMENT),
    ({"queue": "render", "pause": 9}, grpc.StatusCode.INVALID_ARGUMENT),
    ({"queue": "x" * 300}, grpc.StatusCode.INVALID_ARGUMENT),
])
def test_bad_queue_updates_are_refused(stub, fields, code):
    queue_pb2, client = stub
    if "rate" in fields:
        fields = {**fields, "rate": queue_pb2.QueueRate(**fields["rate"])}
    with pytest.raises(grpc.RpcError) as error:
        client.UpdateQueue(queue_pb2.UpdateQueueRequest(**fields))
    assert error.value.code() == code and error.value.details()


def test_the_json_api_lists_retries_and_pauses(admin_server):
    job = post_json(admin_server, "/api/v1/jobs", {"type": "spool.fail", "queue": "jsonq", "maxAttempts": 1,
                                                   "labels": {"who": "json"},
                                                   "payload": "eyJwZXJtYW5lbnQiOiB0cnVlfQ=="})[1]["job"]
    page = get_json(admin_server, "/api/v1/jobs?label=who=json")
    assert [j["id"] for j in page["jobs"]] == [job["id"]] and page["total"] == 1
    Events(admin_server, f"?job={job['id']}").until(lambda e: e[2]["job"]["state"] == "JOB_STATE_FAILED")
    assert get_json(admin_server, "/api/v1/jobs?state=failed&queue=jsonq")["total"] == 1
    status, answer = post_json(admin_server, f"/api/v1/jobs/{job['id']}/retry", {"reason": "again"})
    assert status == 200 and answer["job"]["attempt"] == 0
    status, answer = post_json(admin_server, "/api/v1/queues/jsonq/pause", {})
    assert status == 200 and answer["queue"]["paused"] is True
    status, answer = post_json(admin_server, "/api/v1/queues/jsonq", {"paused": False, "concurrency": 2,
                                                                      "rate": {"perSecond": 3}})
    assert status == 200 and answer["queue"]["paused"] is False and answer["queue"]["concurrency"] == 2
    for path, code in [("/api/v1/jobs?state=nope", "INVALID_ARGUMENT"), ("/api/v1/jobs?label=novalue", "INVALID_ARGUMENT"),
                       ("/api/v1/jobs?page_size=x", "INVALID_ARGUMENT"), ("/api/v1/jobs?order=sideways", "INVALID_ARGUMENT")]:
        response, data = request(admin_server, "GET", path)
        assert response.status == 400 and json.loads(data)["code"] == code, path


def test_grpcurl_lists_jobs_through_reflection(admin_server, grpcurl):
    out = subprocess.run([grpcurl, "-plaintext", "-d", '{"page_size": 2}', admin_server.address,
                          "spool.v1.JobQueue/ListJobs"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    answer = json.loads(out.stdout)
    assert len(answer["jobs"]) == 2 and int(answer["total"]) >= 2 and answer["nextPageToken"]


def test_a_waiting_job_says_why_it_waits(stub, admin_server):
    queue_pb2, client = stub
    holder = client.Enqueue(queue_pb2.EnqueueRequest(job=queue_pb2.JobSpec(
        type="spool.sleep", payload=b'{"steps": 600, "step_ms": 100}', lock_keys=["repo:why"]))).job
    waiting = client.Enqueue(queue_pb2.EnqueueRequest(job=queue_pb2.JobSpec(type="spool.echo", lock_keys=["repo:why"]))).job
    # Once the holder runs, it holds the lock.
    for event in client.StreamProgress(queue_pb2.StreamProgressRequest(job_ids=[holder.id]), timeout=30):
        if event.job.state == queue_pb2.JOB_STATE_RUNNING:
            break
    job = client.GetStatus(queue_pb2.GetStatusRequest(job_ids=[waiting.id], only_selected=True)).jobs[0]
    assert job.wait.kind == queue_pb2.WaitReason.KIND_LOCK and job.wait.key == "repo:why"
    assert list(job.wait.holder_job_ids) == [holder.id] and job.wait.text == "lock repo:why held by 1 job"
    as_json = get_json(admin_server, f"/api/v1/jobs/{waiting.id}")
    assert as_json["wait"]["kind"] == "KIND_LOCK" and as_json["wait"]["holderJobIds"] == [holder.id]
    scheduled = client.Enqueue(queue_pb2.EnqueueRequest(job=queue_pb2.JobSpec(type="spool.echo", run_at_ms=4102444800000))).job
    assert scheduled.wait.kind == queue_pb2.WaitReason.KIND_RUN_AT and scheduled.wait.until_ms == 4102444800000
    client.Cancel(queue_pb2.CancelRequest(job_id=holder.id))
    assert finished(stub, waiting.id).state == queue_pb2.JOB_STATE_SUCCEEDED
    assert not finished(stub, waiting.id).HasField("wait")
    client.Cancel(queue_pb2.CancelRequest(job_id=scheduled.id))


def test_a_job_not_started_by_its_expire_at_fails_expired(stub, admin_server):
    queue_pb2, client = stub
    client.UpdateQueue(queue_pb2.UpdateQueueRequest(queue="expiring", pause=queue_pb2.UpdateQueueRequest.PAUSE_PAUSE))
    now = client.GetStatus(queue_pb2.GetStatusRequest(only_selected=True)).server_time_ms
    job = client.Enqueue(queue_pb2.EnqueueRequest(job=queue_pb2.JobSpec(
        type="spool.echo", queue="expiring", expire_at_ms=now + 300))).job
    assert job.expire_at_ms == now + 300 and job.state == queue_pb2.JOB_STATE_QUEUED
    last = finished(stub, job.id)
    assert last.state == queue_pb2.JOB_STATE_FAILED and last.error.code == "expired" and not last.error.retryable
    # The JSON API takes and shows it too; one before run_at is refused.
    status, answer = post_json(admin_server, "/api/v1/jobs", {"type": "spool.echo", "queue": "expiring",
                                                              "expireAtMs": now + 600_000})
    assert status == 200 and answer["job"]["expireAtMs"] == now + 600_000
    with pytest.raises(grpc.RpcError) as refused:
        client.Enqueue(queue_pb2.EnqueueRequest(job=queue_pb2.JobSpec(
            type="spool.echo", run_at_ms=now + 10_000, expire_at_ms=now + 5_000)))
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "could never start" in refused.value.details()


def test_a_queues_max_wait_expires_its_waiting_jobs(tmp_path):
    from spool_client import Client, JobState
    spoold = Spoold.configured(tmp_path, "queues:\n  quick: {max_wait: 0.3}\n")
    try:
        with Client(spoold.address) as client:
            client.pause("quick")
            job = client.enqueue("spool.echo", queue="quick").job
            assert job.expire_at_ms == job.run_at_ms + 300
            last = client.wait(job.id)
            assert JobState(last.state) is JobState.FAILED and last.error.code == "expired"
    finally:
        assert spoold.terminate()[0] == 0
