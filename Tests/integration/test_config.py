"""spoold with a YAML config file: exec job types, queues, locks and bearer tokens,
against grpcio and grpcurl."""
import base64
import json
import pathlib
import subprocess
import sys
import uuid

import grpc
import pytest

from conftest import ROOT, Spoold, spoold_binary

TOKEN = "s3cret-token"


@pytest.fixture(scope="module")
def configured(tmp_path_factory):
    """A spoold whose config has a render type run by clients/examples/render.py."""
    directory = tmp_path_factory.mktemp("configured")
    tag = uuid.uuid4().hex
    # A program whose words hold NULs, which protobuf-c strings cannot carry.
    says_nul = directory / "says_nul.py"
    says_nul.write_text(
        "import json\n"
        "print(json.dumps({'progress': 0.5, 'step': 'half\\u0000way'}), flush=True)\n"
        "print(json.dumps({'error': 'bad\\u0000byte', 'retryable': False}))\n"
        "raise SystemExit(1)\n")
    config = directory / "spool.yaml"
    config.write_text(f"""
workers: 4
auth:
  tokens: [{TOKEN}, second-token]
queues:
  images:
    concurrency: 2
    max_attempts: 2
    backoff: {{initial: 0.05, max: 0.05}}
locks:
  gpu: 2
types:
  render:
    queue: images
    exec:
      command: [{sys.executable}, {ROOT / "clients" / "examples" / "render.py"}]
      env: {{RENDER_TAG: "{tag}"}}
      termination_grace: 5
  says-nul:
    exec:
      command: [{sys.executable}, {says_nul}]
  sketch:
    queue: images
    exec:
      command: [{sys.executable}, {ROOT / "clients" / "examples" / "render_persistent.py"}]
      env: {{SKETCH_TAG: "{tag}"}}
      persistent: true
      termination_grace: 5
""")
    spoold = Spoold(directory, "--config", str(config))
    spoold.tag = tag
    yield spoold
    code, _ = spoold.terminate()
    assert code == 0


@pytest.fixture
def api(configured, pb):
    queue_pb2, queue_pb2_grpc = pb
    with configured.channel() as channel:
        yield queue_pb2, queue_pb2_grpc.JobQueueStub(channel)


AUTH = (("authorization", f"Bearer {TOKEN}"),)


def enqueue(api, metadata=AUTH, **spec):
    m, stub = api
    return stub.Enqueue(m.EnqueueRequest(job=m.JobSpec(**spec)), metadata=metadata, timeout=10)


def watch(api, job_id, timeout=60):
    m, stub = api
    return list(stub.StreamProgress(m.StreamProgressRequest(job_ids=[job_id]), metadata=AUTH, timeout=timeout))


def render_processes(tag, variable="RENDER_TAG"):
    """Pids of processes whose environment carries `tag`."""
    found = []
    for environ in pathlib.Path("/proc").glob("[0-9]*/environ"):
        try:
            if f"{variable}={tag}".encode() in environ.read_bytes():
                found.append(int(environ.parent.name))
        except OSError:
            pass
    return found


def test_the_banner_lists_the_configured_type_and_auth(configured):
    assert any("render" in line and "bearer tokens required" in line for line in configured.banner), configured.banner


def test_an_exec_job_reports_every_step_and_returns_the_rendered_image(api):
    m, _ = api
    payload = json.dumps({"prompt": "a red fox", "steps": 4, "step_ms": 10, "width": 4, "height": 3}).encode()
    answer = enqueue(api, type="render", payload=payload, lock_keys=["gpu"])
    assert answer.job.queue == "images"
    events = watch(api, answer.job.id)
    steps = [e.job.progress.step for e in events if e.kind == m.ProgressEvent.KIND_PROGRESS]
    assert steps == ["denoise 1/4", "denoise 2/4", "denoise 3/4", "denoise 4/4"]
    final = events[-1].job
    assert final.state == m.JOB_STATE_SUCCEEDED
    assert final.result.startswith(b"P6 4 3 255\n") and len(final.result) == len(b"P6 4 3 255\n") + 4 * 3 * 3


def test_an_exec_error_saying_not_retryable_fails_at_once_with_its_message(api):
    m, _ = api
    answer = enqueue(api, type="render", payload=json.dumps({"prompt": "x", "fail": "permanent"}).encode())
    final = watch(api, answer.job.id)[-1].job
    assert final.state == m.JOB_STATE_FAILED and final.attempt == 1
    assert final.error.message == "refusing the prompt 'x' (exited with status 1)"
    assert not final.error.retryable


def test_a_nul_in_a_handlers_words_reaches_clients_as_a_replacement_character(api):
    m, _ = api
    events = watch(api, enqueue(api, type="says-nul").job.id)
    steps = [e.job.progress.step for e in events if e.kind == m.ProgressEvent.KIND_PROGRESS]
    assert steps == ["half\ufffdway"]
    final = events[-1].job
    assert final.state == m.JOB_STATE_FAILED
    assert final.error.message == "bad\ufffdbyte (exited with status 1)"


def test_a_retryable_exec_error_is_retried_up_to_the_queues_max_attempts(api):
    m, _ = api
    payload = json.dumps({"fail": "retryable", "retry_after_ms": 20}).encode()
    final = watch(api, enqueue(api, type="render", payload=payload).job.id)[-1].job
    assert final.state == m.JOB_STATE_FAILED and final.attempt == 2 and final.max_attempts == 2
    assert final.error.message.startswith("the GPU is busy (exited with status 1)")


def test_cancelling_a_running_exec_job_stops_its_process(api, configured):
    m, stub = api
    answer = enqueue(api, type="render", payload=json.dumps({"steps": 1000, "step_ms": 50}).encode())
    stream = stub.StreamProgress(m.StreamProgressRequest(job_ids=[answer.job.id]), metadata=AUTH, timeout=60)
    for event in stream:  # wait until the process runs and reports
        if event.kind == m.ProgressEvent.KIND_PROGRESS:
            break
    assert render_processes(configured.tag)
    stub.Cancel(m.CancelRequest(job_id=answer.job.id, reason="changed my mind"), metadata=AUTH, timeout=10)
    final = [event for event in stream][-1].job
    assert final.state == m.JOB_STATE_CANCELLED
    # CANCELLED is sent only once the handler, and so its process, has stopped.
    assert render_processes(configured.tag) == []


def test_an_exec_job_that_runs_past_its_timeout_is_stopped_and_retried(api, configured):
    m, _ = api
    payload = json.dumps({"steps": 1000, "step_ms": 50}).encode()
    final = watch(api, enqueue(api, type="render", payload=payload, timeout_ms=300).job.id)[-1].job
    assert final.state == m.JOB_STATE_FAILED and final.attempt == 2  # the images queue allows two attempts
    assert final.error.code == "timeout"
    assert render_processes(configured.tag) == []


def sketch(api, **payload):
    """Runs one job of the persistent sketch type to its end."""
    return watch(api, enqueue(api, type="sketch", payload=json.dumps(payload).encode()).job.id)[-1].job


def test_a_persistent_exec_type_loads_once_and_takes_job_after_job(api, configured):
    m, _ = api
    results = []
    for n in range(4):
        job = sketch(api, prompt=f"fox {n}", steps=2, step_ms=1)
        assert job.state == m.JOB_STATE_SUCCEEDED, job
        results.append(json.loads(job.result))
    pids = {result["pid"] for result in results}
    assert len(pids) == 1, results
    served = [result["jobs_served"] for result in results]
    assert served == list(range(served[0], served[0] + 4)), served
    assert render_processes(configured.tag, "SKETCH_TAG") == list(pids)  # it waits, idle, for the next job


def test_a_persistent_process_that_dies_mid_job_is_replaced_and_the_job_retried(api, configured):
    m, _ = api
    before = json.loads(sketch(api, steps=1, step_ms=1).result)["pid"]
    events = watch(api, enqueue(api, type="sketch", payload=json.dumps({"die_on_attempt": 1}).encode()).job.id)
    final = events[-1].job
    assert final.state == m.JOB_STATE_SUCCEEDED and final.attempt == 2, final
    retried = [event.job for event in events if event.job.state == m.JOB_STATE_SCHEDULED]
    assert retried and retried[0].error.message == "exec: the persistent worker process exited during the job"
    after = json.loads(final.result)
    assert after["pid"] != before and after["attempt"] == 2 and after["jobs_served"] == 1


def test_cancelling_a_persistent_job_stops_its_process_and_the_next_job_gets_a_fresh_one(api, configured):
    m, stub = api
    before = json.loads(sketch(api, steps=1, step_ms=1).result)["pid"]
    answer = enqueue(api, type="sketch", payload=json.dumps({"steps": 1000, "step_ms": 50}).encode())
    stream = stub.StreamProgress(m.StreamProgressRequest(job_ids=[answer.job.id]), metadata=AUTH, timeout=60)
    for event in stream:
        if event.kind == m.ProgressEvent.KIND_PROGRESS:
            break
    stub.Cancel(m.CancelRequest(job_id=answer.job.id), metadata=AUTH, timeout=10)
    assert [event for event in stream][-1].job.state == m.JOB_STATE_CANCELLED
    assert before not in render_processes(configured.tag, "SKETCH_TAG")
    after = json.loads(sketch(api, steps=1, step_ms=1).result)
    assert after["pid"] != before and after["jobs_served"] == 1


@pytest.mark.parametrize("metadata, message", [
    ((), 'this server needs the metadata "authorization: Bearer <token>"'),
    ((("authorization", "Basic abc"),), 'authorization must be "Bearer <token>"'),
    ((("authorization", "Bearer wrong"),), "the bearer token is not one this server accepts"),
])
def test_calls_without_a_valid_bearer_token_are_unauthenticated(api, metadata, message):
    with pytest.raises(grpc.RpcError) as raised:
        enqueue(api, metadata=metadata, type="spool.echo")
    assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert raised.value.details() == message


def test_any_configured_token_is_accepted(api):
    answer = enqueue(api, metadata=(("authorization", "Bearer second-token"),), type="spool.echo")
    assert answer.job.id


def test_health_checks_need_no_token(configured):
    with configured.channel() as channel:
        # An empty HealthCheckRequest asks about the whole server; b"\x08\x01" is status SERVING.
        assert channel.unary_unary("/grpc.health.v1.Health/Check")(b"", timeout=10) == b"\x08\x01"


def test_grpcurl_needs_the_token_for_reflection_and_calls(configured, grpcurl):
    refused = subprocess.run([grpcurl, "-plaintext", configured.address, "list"], capture_output=True, text=True)
    assert refused.returncode != 0 and "Unauthenticated" in refused.stderr, refused.stderr
    listed = subprocess.run([grpcurl, "-plaintext", "-H", f"authorization: Bearer {TOKEN}", configured.address, "list"],
                            capture_output=True, text=True, check=True)
    assert "spool.v1.JobQueue" in listed.stdout.split()
    health = subprocess.run([grpcurl, "-plaintext", "-d", '{"service": "spool.v1.JobQueue"}', "-import-path",
                             str(ROOT / "proto"), "-proto", "grpc/health/v1/health.proto", configured.address,
                             "grpc.health.v1.Health/Check"], capture_output=True, text=True)
    assert health.returncode == 0 and '"SERVING"' in health.stdout, health.stderr


def test_flags_override_the_config_file(tmp_path):
    config = tmp_path / "spool.yaml"
    config.write_text("listen: 127.0.0.1:1\nworkers: 1\n")
    spoold = Spoold(tmp_path, "--config", str(config))  # the fixture's --listen 127.0.0.1:0 wins
    assert spoold.port not in (0, 1)
    assert spoold.terminate()[0] == 0


@pytest.mark.parametrize("text, message", [
    ("workers: many\n", "spool.yaml:1:10: workers: must be an integer from 1 to 10000 (got \"many\")"),
    ("queues:\n  images:\n    concurency: 2\n", "spool.yaml:3:5: queues.images.concurency: unknown key"),
    ("types:\n  render: {queue: images}\n", "spool.yaml:2:11: types.render: needs exec"),
])
def test_an_invalid_config_is_refused_naming_the_key(tmp_path, text, message):
    config = tmp_path / "spool.yaml"
    config.write_text(text)
    run = subprocess.run([spoold_binary(), "--config", str(config), "--db", str(tmp_path / "x.db")],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode != 0
    assert message in run.stderr, run.stderr
    assert not (tmp_path / "x.db").exists()


def test_rates_written_per_minute_and_per_hour_reach_the_limiters(tmp_path):
    spoold = Spoold.configured(tmp_path, "queues:\n  crawl: {rate: {per_minute: 90}}\n"
                                         "rate_keys:\n  github: {per_hour: 7200, rate_limited: {decrease: 0.8}}\n")
    try:
        from spool_client import Client
        with Client(spoold.address) as client:
            first = client.enqueue("spool.echo", queue="crawl", rate_key="github").job
            assert client.wait(first.id).state == 4  # SUCCEEDED
            second = client.enqueue("spool.echo", queue="crawl", rate_key="github").job
            limiters = {limiter.key: limiter for limiter in client.status().rate_limiters}
            assert limiters["queue:crawl"].configured_rate_per_second == 1.5
            assert limiters["github"].configured_rate_per_second == 2.0
            client.wait(second.id)
    finally:
        assert spoold.terminate()[0] == 0


def test_an_exec_job_fans_out_through_the_server_and_token_it_is_given(tmp_path):
    """SPOOL_SERVER and SPOOL_TOKEN let a job's command enqueue more work on a server
    that requires tokens; SPOOL_BATCH_ID names the job's batch. The token is never logged."""
    script = tmp_path / "fan_out.py"
    seen = tmp_path / "token"
    script.write_text(
        "import json, os, pathlib\n"
        "from spool_client import Client\n"
        f"pathlib.Path({str(seen)!r}).write_text(os.environ['SPOOL_TOKEN'])\n"
        "with Client(os.environ['SPOOL_SERVER'], token=os.environ['SPOOL_TOKEN']) as spool:\n"
        "    child = spool.enqueue('spool.echo', b'child', labels={'parent': os.environ['SPOOL_JOB_ID']}).job.id\n"
        "print(json.dumps({'result': json.dumps({'child': child, 'batch': os.environ['SPOOL_BATCH_ID']})}))\n")
    spoold = Spoold.configured(tmp_path, f"auth: {{tokens: [{TOKEN}]}}\n"
                                         f"types:\n  fan-out:\n    exec: {{command: [{sys.executable}, {script}]}}\n")
    try:
        from spool_client import Client, job_spec
        with Client(spoold.address, token=TOKEN) as client:
            batch = client.enqueue_batch([job_spec("fan-out")])
            parent = client.wait(batch.jobs[0].id)
            assert parent.state == 4, parent.error.message  # SUCCEEDED
            said = json.loads(parent.result)
            assert said["batch"] == batch.batch_id
            child = client.wait(said["child"])
            assert child.state == 4 and child.labels["parent"] == parent.id
    finally:
        code, out = spoold.terminate()
    assert code == 0
    token = seen.read_text()
    assert len(token) == 64 and token != TOKEN
    assert token not in "\n".join(spoold.banner) + out
