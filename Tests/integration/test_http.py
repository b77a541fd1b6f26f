"""The HTTP/1.1 face on the gRPC port: dashboard files, the JSON API, server-sent
events and /metrics, through plain HTTP clients (http.client, curl-like), with
gRPC calls on the same port."""
import base64
import http.client
import json
import socket
import threading
import time

import grpc
import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import Spoold
from spool_client import Client, JobState

CONFIG = """
queues:
  render: {concurrency: 1}
auth:
  tokens: [client-secret]
  worker_tokens: [worker-secret]
types:
  remote.render: {remote: {lease: 30}}
max_progress_streams: 3
"""


def request(server, method, path, body=None, headers=None, timeout=10):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    headers = dict(headers or {})
    if body is not None and not isinstance(body, (bytes, str)):
        body = json.dumps(body)
        headers.setdefault("Content-Type", "application/json")
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response, data


def get_json(server, path, **kwargs):
    response, data = request(server, "GET", path, **kwargs)
    assert response.status == 200, (response.status, data)
    return json.loads(data)


def post_json(server, path, body, **kwargs):
    response, data = request(server, "POST", path, body, **kwargs)
    return response.status, json.loads(data)


def enqueue(server, job, **kwargs):
    status, answer = post_json(server, "/api/v1/jobs", job, **kwargs)
    assert status == 200, answer
    return answer["job"]


def sleep_job(queue="default", steps=1, step_ms=10):
    payload = json.dumps({"steps": steps, "step_ms": step_ms}).encode()
    return {"type": "spool.sleep", "queue": queue, "payload": base64.b64encode(payload).decode()}


class Events:
    """A server-sent event stream, read block by block."""

    def __init__(self, server, query="", headers=None):
        self.connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=20)
        self.connection.request("GET", "/api/v1/events" + query, headers=headers or {})
        self.response = self.connection.getresponse()

    def next(self):
        """The next event as (id, kind, data), or None at the end of the stream."""
        fields = {}
        while True:
            line = self.response.readline()
            if not line:
                return None
            line = line.decode().rstrip("\n")
            if line == "":
                if fields:
                    data = json.loads(fields["data"]) if "data" in fields else None
                    return fields.get("id"), fields.get("event"), data
                continue
            name, _, value = line.partition(": ")
            fields[name] = value

    def until(self, predicate):
        while (event := self.next()) is not None:
            if predicate(event):
                return event
        raise AssertionError("the stream ended first")

    def close(self):
        self.response.close()  # it holds the socket open otherwise
        self.connection.close()


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    spoold = Spoold.configured(tmp_path_factory.mktemp("plain"), "queues:\n  render: {concurrency: 1}\n")
    yield spoold
    code, _ = spoold.terminate()
    assert code == 0


@pytest.fixture(scope="module")
def guarded(tmp_path_factory):
    spoold = Spoold.configured(tmp_path_factory.mktemp("guarded"), CONFIG)
    yield spoold
    code, _ = spoold.terminate()
    assert code == 0


def test_the_dashboard_page_is_served_at_the_root(plain):
    response, body = request(plain, "GET", "/")
    assert response.status == 200
    assert response.getheader("Content-Type") == "text/html; charset=utf-8"
    assert b"<title>Spool</title>" in body
    assert "default-src 'self'" in response.getheader("Content-Security-Policy")


@pytest.mark.parametrize("path,kind", [("/app.js", "text/javascript"), ("/style.css", "text/css"),
                                       ("/favicon.svg", "image/svg+xml"), ("/index.html", "text/html")])
def test_every_dashboard_file_is_served_from_the_binary(plain, path, kind):
    response, body = request(plain, "GET", path)
    assert response.status == 200 and response.getheader("Content-Type").startswith(kind) and body


def test_grpc_and_http_share_the_port(plain, pb):
    queue_pb2, queue_pb2_grpc = pb
    with plain.channel() as channel:
        stub = queue_pb2_grpc.JobQueueStub(channel)
        answer = stub.Enqueue(queue_pb2.EnqueueRequest(job=queue_pb2.JobSpec(type="spool.echo", payload=b"hi")))
        job = get_json(plain, f"/api/v1/jobs/{answer.job.id}")
        assert job["id"] == answer.job.id and job["type"] == "spool.echo"
        # and gRPC still works after HTTP traffic
        assert stub.GetStatus(queue_pb2.GetStatusRequest()).queues


def test_a_job_enqueued_over_json_runs_and_its_result_and_payload_read_back(plain):
    job = enqueue(plain, {"type": "spool.echo", "payload": base64.b64encode(b'{"prompt":"a cat"}').decode(),
                          "labels": {"repo": "x"}, "priority": 3})
    assert job["state"] in ("JOB_STATE_QUEUED", "JOB_STATE_RUNNING", "JOB_STATE_SUCCEEDED")
    assert job["labels"] == {"repo": "x"} and job["priority"] == 3
    events = Events(plain, f"?job={job['id']}")
    final = events.until(lambda e: e[2]["job"]["state"] == "JOB_STATE_SUCCEEDED")
    events.close()
    assert base64.b64decode(final[2]["job"]["result"]) == b'{"prompt":"a cat"}'
    response, payload = request(plain, "GET", f"/api/v1/jobs/{job['id']}/payload")
    assert response.status == 200 and payload == b'{"prompt":"a cat"}'


def test_status_answers_what_was_asked(plain):
    job = enqueue(plain, {"type": "spool.echo"})
    status = get_json(plain, f"/api/v1/status?job={job['id']}&only_selected=1")
    assert [j["id"] for j in status["jobs"]] == [job["id"]]
    assert status["queues"] == [] and status["workers"] == []
    full = get_json(plain, "/api/v1/status?queue=render")
    assert [q["name"] for q in full["queues"]] == ["render"]


def test_cancel_a_waiting_job_and_a_batch(plain, pb):
    blocker = enqueue(plain, sleep_job("render", steps=50, step_ms=100))
    waiting = enqueue(plain, sleep_job("render"))
    assert waiting["state"] == "JOB_STATE_QUEUED" and waiting["position"] == 1
    status, answer = post_json(plain, f"/api/v1/jobs/{waiting['id']}/cancel", {"reason": "not needed"})
    assert status == 200 and answer["jobs"][0]["state"] == "JOB_STATE_CANCELLED"
    assert answer["jobs"][0]["error"]["message"] == "not needed"

    queue_pb2, queue_pb2_grpc = pb
    with plain.channel() as channel:
        batch = queue_pb2_grpc.JobQueueStub(channel).EnqueueBatch(queue_pb2.EnqueueBatchRequest(
            jobs=[queue_pb2.JobSpec(type="spool.sleep", queue="render") for _ in range(3)]))
    summary = get_json(plain, f"/api/v1/batches/{batch.batch_id}")
    assert summary["batchId"] == batch.batch_id and summary["total"] == 3
    status, answer = post_json(plain, f"/api/v1/batches/{batch.batch_id}/cancel", {})
    assert status == 200 and {j["state"] for j in answer["jobs"]} == {"JOB_STATE_CANCELLED"}
    post_json(plain, f"/api/v1/jobs/{blocker['id']}/cancel", {})


@pytest.mark.parametrize("method,path,body,headers,status,code", [
    ("GET", "/api/v1/jobs/no-such-job", None, {}, 404, "NOT_FOUND"),
    ("GET", "/api/v1/batches/no-such-batch", None, {}, 404, "NOT_FOUND"),
    ("GET", "/api/v1/status?queue=nope", None, {}, 404, "NOT_FOUND"),
    ("GET", "/api/v1/status?queue=%zz", None, {}, 400, "INVALID_ARGUMENT"),
    ("GET", "/api/v1/jobs/%ff%fe", None, {}, 400, "INVALID_ARGUMENT"),
    ("POST", "/api/v1/jobs", "{}", {}, 415, "INVALID_ARGUMENT"),
    ("POST", "/api/v1/jobs", "{not json", {"Content-Type": "application/json"}, 400, "INVALID_ARGUMENT"),
    ("POST", "/api/v1/jobs", '{"type": 5}', {"Content-Type": "application/json"}, 400, "INVALID_ARGUMENT"),
    ("POST", "/api/v1/jobs", '{"type": "spool.echo", "payload": "***"}', {"Content-Type": "application/json"}, 400,
     "INVALID_ARGUMENT"),
    ("POST", "/api/v1/jobs", '{"type": "no.such.type"}', {"Content-Type": "application/json"}, 400, "INVALID_ARGUMENT"),
    ("POST", "/api/v1/jobs", '{"type": "spool.echo", "priority": 99999999999}', {"Content-Type": "application/json"},
     400, "INVALID_ARGUMENT"),
    ("POST", "/api/v1/jobs", '{"type": "spool.echo", "lockKeys": [' + ",".join(['"k"'] * 100) + "]}",
     {"Content-Type": "application/json"}, 400, "INVALID_ARGUMENT"),
    ("DELETE", "/api/v1/jobs/x", None, {}, 405, "UNIMPLEMENTED"),
    ("GET", "/api/v2/jobs", None, {}, 404, "NOT_FOUND"),
    ("GET", "/no/such/page", None, {}, 404, "NOT_FOUND"),
    ("GET", "/api/v1/events?job=a&queue=b", None, {}, 400, "INVALID_ARGUMENT"),
    ("GET", "/api/v1/events?after_seq=-1", None, {}, 400, "INVALID_ARGUMENT"),
])
def test_bad_requests_get_a_precise_status_and_message(plain, method, path, body, headers, status, code):
    response, data = request(plain, method, path, body, headers)
    assert response.status == status, data
    answer = json.loads(data)
    assert answer["code"] == code and answer["message"]


def test_a_body_over_the_message_size_limit_is_refused_and_the_server_goes_on(tmp_path):
    spoold = Spoold(tmp_path, "--max-receive-message-size", "1024")
    try:
        response, data = request(spoold, "POST", "/api/v1/jobs", b"{" + b" " * 5000 + b"}",
                                 {"Content-Type": "application/json"})
        assert response.status == 413 and json.loads(data)["code"] == "RESOURCE_EXHAUSTED"
        assert get_json(spoold, "/api/v1/status")["queues"]
    finally:
        spoold.terminate()


def test_events_of_every_queue_are_streamed_live_and_resume_after_the_last_seq(plain):
    events = Events(plain)
    assert events.response.getheader("Content-Type").startswith("text/event-stream")
    job = enqueue(plain, {"type": "spool.echo", "queue": "feed-test"})
    queued = events.until(lambda e: e[2]["job"]["id"] == job["id"])
    assert queued[1] == "state" and queued[2]["job"]["state"] == "JOB_STATE_QUEUED"
    events.until(lambda e: e[2]["job"]["id"] == job["id"] and e[2]["job"]["state"] == "JOB_STATE_SUCCEEDED")
    events.close()
    # A browser's EventSource reconnects with Last-Event-ID; the server replays what came after it.
    before = int(queued[0]) - 1
    replay = Events(plain, "?queue=feed-test", headers={"Last-Event-ID": str(before)})
    kinds = []
    while len(kinds) < 3:
        event = replay.next()
        assert event is not None
        if event[2]["job"]["id"] == job["id"]:
            kinds.append(event[2]["job"]["state"])
    replay.close()
    assert kinds[0] == "JOB_STATE_QUEUED" and "JOB_STATE_SUCCEEDED" in kinds


def test_a_job_stream_ends_once_its_job_is_done(plain):
    job = enqueue(plain, {"type": "spool.echo"})
    events = Events(plain, f"?job={job['id']}")
    states = []
    while (event := events.next()) is not None:
        states.append(event[2]["job"]["state"])
    assert states[-1] == "JOB_STATE_SUCCEEDED"


def test_metrics_are_prometheus_text_with_jobs_rpcs_and_commits(plain, pb):
    queue_pb2, queue_pb2_grpc = pb
    with plain.channel() as channel:
        stub = queue_pb2_grpc.JobQueueStub(channel)
        answer = stub.Enqueue(queue_pb2.EnqueueRequest(job=queue_pb2.JobSpec(type="spool.echo", queue="metrics-q")))
        with pytest.raises(grpc.RpcError):
            stub.Enqueue(queue_pb2.EnqueueRequest(job=queue_pb2.JobSpec(type="no.such")))
    Events(plain, f"?job={answer.job.id}").until(lambda e: e[2]["job"]["state"] == "JOB_STATE_SUCCEEDED")

    response, body = request(plain, "GET", "/metrics")
    assert response.status == 200 and response.getheader("Content-Type").startswith("text/plain; version=0.0.4")
    samples = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value

    def value(name, **labels):
        return samples.get((name, tuple(sorted(labels.items()))))

    assert value("spool_jobs_finished_total", queue="metrics-q", outcome="succeeded") == 1
    assert value("spool_job_run_seconds_count", queue="metrics-q") == 1
    assert value("spool_job_wait_seconds_count", queue="metrics-q") == 1
    assert value("spool_queue_jobs", queue="metrics-q", state="queued") == 0
    assert value("grpc_server_handled_total", grpc_service="spool.v1.JobQueue", grpc_method="Enqueue",
                 grpc_code="OK") >= 1
    assert value("grpc_server_handled_total", grpc_service="spool.v1.JobQueue", grpc_method="Enqueue",
                 grpc_code="InvalidArgument") >= 1
    assert value("grpc_server_handling_seconds_count", grpc_service="spool.v1.JobQueue", grpc_method="Enqueue") >= 2
    assert value("spool_sqlite_commit_seconds_count") >= 1
    assert value("spool_workers") == 8
    assert value("spool_queue_concurrency", queue="render") == 1


def test_an_unknown_grpc_method_is_counted_as_unknown_not_by_its_name(plain):
    with plain.channel() as channel:
        call = channel.unary_unary("/spool.v1.JobQueue/NoSuchMethod" + "x" * 50)
        with pytest.raises(grpc.RpcError):
            call(b"")
    _, body = request(plain, "GET", "/metrics")
    assert b"NoSuchMethod" not in body
    assert b'grpc_method="unknown"' in body


def test_tokens_guard_the_api_events_and_metrics_but_not_the_page_or_health(guarded):
    for path in ["/api/v1/status", "/api/v1/events", "/metrics"]:
        response, data = request(guarded, "GET", path)
        assert response.status == 401 and json.loads(data)["code"] == "UNAUTHENTICATED", path
        response, data = request(guarded, "GET", path, headers={"Authorization": "Bearer wrong"})
        assert response.status == 401, path
        response, data = request(guarded, "GET", path, headers={"Authorization": "Bearer worker-secret"})
        assert response.status == 403 and json.loads(data)["code"] == "PERMISSION_DENIED", path
    assert get_json(guarded, "/api/v1/status", headers={"Authorization": "Bearer client-secret"})["queues"]
    response, _ = request(guarded, "GET", "/metrics", headers={"Authorization": "Bearer client-secret"})
    assert response.status == 200
    assert request(guarded, "GET", "/")[0].status == 200
    response, body = request(guarded, "GET", "/healthz")
    assert response.status == 200 and body == b"SERVING\n"


def test_event_streams_beyond_the_limit_are_refused_and_a_closed_one_frees_its_place(guarded):
    auth = {"Authorization": "Bearer client-secret"}
    streams = [Events(guarded, "", headers=auth) for _ in range(3)]
    assert all(s.response.status == 200 for s in streams)
    response, data = request(guarded, "GET", "/api/v1/events", headers=auth)
    assert response.status == 429 and json.loads(data)["code"] == "RESOURCE_EXHAUSTED"
    for stream in streams:
        stream.close()
    # The server notices the readers left when they close, not at the next
    # event (none comes): polled until it has, for at most 20 s.
    deadline = time.monotonic() + 20
    while True:
        probe = Events(guarded, "", headers=auth)
        status = probe.response.status
        probe.close()
        if status == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert status == 200


def test_a_client_that_stalls_before_saying_what_it_speaks_holds_up_no_one(plain, pb):
    stalled = socket.create_connection(("127.0.0.1", plain.port))
    stalled.sendall(b"PR")  # could still be HTTP/2's preface
    try:
        assert get_json(plain, "/api/v1/status")["queues"]
        queue_pb2, queue_pb2_grpc = pb
        with plain.channel() as channel:
            assert queue_pb2_grpc.JobQueueStub(channel).GetStatus(queue_pb2.GetStatusRequest()).queues
    finally:
        stalled.close()


def test_garbage_and_half_requests_get_an_answer_or_a_close_and_the_server_goes_on(plain):
    for junk in [b"\x00\x01\x02\x03garbage\r\n\r\n", b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
                 b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n"]:
        with socket.create_connection(("127.0.0.1", plain.port), timeout=10) as s:
            s.sendall(junk)
            s.shutdown(socket.SHUT_WR)
            answer = b""
            while chunk := s.recv(65536):
                answer += chunk
            assert answer == b"" or answer.startswith(b"HTTP/1.1 4") or answer.startswith(b"HTTP/1.1 200"), answer[:100]
    assert get_json(plain, "/api/v1/status")["queues"]


def test_many_clients_at_once(plain):
    errors = []

    def client():
        try:
            for _ in range(20):
                get_json(plain, "/api/v1/status?only_selected=1&queue=render")
        except Exception as error:  # noqa: BLE001 (reported below)
            errors.append(error)

    threads = [threading.Thread(target=client) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_with_http_off_an_http_client_is_told_the_port_speaks_grpc_only(tmp_path):
    spoold = Spoold(tmp_path, "--no-http")
    try:
        response, body = request(spoold, "GET", "/")
        assert response.status == 505 and b"gRPC" in body
    finally:
        spoold.terminate()


def test_a_draining_server_ends_event_streams_and_exits(tmp_path):
    spoold = Spoold(tmp_path)
    events = Events(spoold)
    code, _ = spoold.terminate()
    assert code == 0
    while events.next() is not None:
        pass
    events.close()


def test_the_json_api_takes_dependencies_and_shows_a_blocked_job(plain):
    server = plain
    with Client(server.address) as client:
        client.pause("json-deps")
        try:
            first = enqueue(server, {"type": "spool.echo", "queue": "json-deps"})
            second = enqueue(server, {"type": "spool.echo", "queue": "json-deps", "dependsOn": [first["id"]]})
            assert second["state"] == "JOB_STATE_BLOCKED" and second["dependsOn"] == [first["id"]]
            assert second["wait"]["kind"] == "KIND_DEPENDENCIES" and second["wait"]["holderJobIds"] == [first["id"]]
            listed = get_json(server, "/api/v1/jobs?queue=json-deps&state=blocked")
            assert [job["id"] for job in listed["jobs"]] == [second["id"]]
        finally:
            client.resume("json-deps")
        assert client.wait(second["id"]).state == JobState.SUCCEEDED


def test_an_idle_keep_alive_connection_is_closed_but_an_event_stream_is_not(tmp_path):
    spoold = Spoold.configured(tmp_path, "http_idle_timeout: 0.3\n")
    try:
        events = Events(spoold)
        idle = http.client.HTTPConnection("127.0.0.1", spoold.port, timeout=30)
        idle.request("GET", "/healthz")
        assert idle.getresponse().read()
        # Nothing more asked: the server closes it (a read then sees the end, not the timeout).
        assert idle.sock.recv(1) == b""
        idle.close()
        # A request sent halfway and left there is idle too (a slow-loris client).
        half = socket.create_connection(("127.0.0.1", spoold.port), timeout=30)
        half.sendall(b"POST /api/v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        assert half.recv(1) == b""
        half.close()
        # The event stream, silent as long, still delivers.
        job = enqueue(spoold, {"type": "spool.echo", "queue": "idle-test"})
        events.until(lambda e: e[2]["job"]["id"] == job["id"])
        events.close()
    finally:
        spoold.terminate()
