"""Workflows end to end through grpcio: dependencies, whole flows in one batch,
batch callbacks, parents, batch idempotency keys, and the seed pipeline of
clients/examples/repo_pipeline.py run by a real worker."""
import json
import os
import subprocess
import sys
import threading

import grpc
import pytest

from conftest import ROOT, Spoold
from spool_client import Client, JobState, SpoolError, job_spec

sys.path.insert(0, str(ROOT / "clients" / "examples"))
import repo_pipeline  # noqa: E402

PIPELINE = """
types:
  repo.commit: {remote: {lease: 5}}
  repo.lookup_user: {remote: {lease: 5}}
  repo.completed: {remote: {lease: 5}}
queues:
  default: {concurrency: 16, max_attempts: 3, backoff: {initial: 0.05, max: 0.05}}
rate_keys:
  github: {per_minute: 60000, burst: 50}
"""


def spoolctl() -> str:
    return str(pathlib_parent() / "spoolctl")


def pathlib_parent():
    import pathlib
    return pathlib.Path(os.environ.get("SPOOLD", str(ROOT / ".build" / "debug" / "spoold"))).parent


def test_the_seed_pipeline_fans_out_under_a_rate_key_and_its_callback_marks_the_repository_completed(tmp_path, monkeypatch):
    monkeypatch.setenv("PIPELINE_RATE_LIMIT_ONCE", "1")  # some lookups hear "429" once and are retried
    server = Spoold.configured(tmp_path, PIPELINE)
    out = tmp_path / "completed"
    worker = repo_pipeline.serve(server.address, out)
    thread = threading.Thread(target=lambda: worker.run(handle_signals=False), daemon=True)
    thread.start()
    try:
        answer = repo_pipeline.index(server.address, "acme/widgets", authors=120)
        with Client(server.address) as client:
            done = client.wait(answer.callback.id)
            assert done.state == JobState.SUCCEEDED
            marker = json.loads((out / "acme__widgets.json").read_text())
            # The commit job and its 120 lookups, added in batches of 50 while it ran: one batch.
            assert marker == {**marker, "repo": "acme/widgets", "batch_id": answer.batch_id, "jobs": 121,
                              "succeeded": 121, "failed": []}
            batch = client.status(batch_id=answer.batch_id).batch
            assert batch.total == 121 and batch.counts.succeeded == 121
            lookups = list(client.jobs(batch_id=answer.batch_id, type="repo.lookup_user"))
            assert len(lookups) == 120 and {job.rate_key for job in lookups} == {"github"}
            assert any(job.attempt == 2 for job in lookups)  # the "429" ones ran again
            callback = client.job(answer.callback.id)
            assert callback.depends_on_batches == [answer.batch_id] and callback.run_if_dependencies_fail
            # Indexing again is the same batch: nothing new runs.
            again = repo_pipeline.index(server.address, "acme/widgets", authors=120)
            assert again.batch_id == answer.batch_id and again.deduplicated
            assert [job.id for job in again.jobs] == [job.id for job in answer.jobs]
    finally:
        worker.stop()
        thread.join(timeout=30)
        server.terminate()


def test_a_flow_in_one_batch_runs_in_order_and_a_failure_cancels_what_depends_on_it(server):
    with Client(server.address) as client:
        flow = [
            job_spec("spool.echo", "build"),
            job_spec("spool.fail", {"permanent": True, "message": "tests failed"}, depends_on_items=[0]),
            job_spec("spool.echo", "deploy", depends_on_items=[1]),
            job_spec("spool.echo", "notify", depends_on_items=[2], run_if_dependencies_fail=True),
        ]
        answer = client.enqueue_batch(flow)
        build, test, deploy, notify = [job.id for job in answer.jobs]
        assert [job.state for job in answer.jobs] == [JobState.QUEUED, JobState.BLOCKED, JobState.BLOCKED, JobState.BLOCKED]
        assert client.wait(notify).state == JobState.SUCCEEDED
        assert client.job(build).state == JobState.SUCCEEDED
        assert client.job(test).state == JobState.FAILED
        cancelled = client.job(deploy)
        assert cancelled.state == JobState.CANCELLED and cancelled.error.code == "dependency_failed"
        assert cancelled.error.message == f"its dependency job {test} FAILED"
        assert client.job(notify).depends_on == [deploy]


def test_a_blocked_job_says_what_it_waits_for(server):
    with Client(server.address) as client:
        client.pause("held")
        try:
            first = client.enqueue("spool.echo", "x", queue="held").job.id
            second = client.enqueue("spool.echo", "y", queue="held", depends_on=[first]).job
            assert second.state == JobState.BLOCKED
            assert second.wait.kind == second.wait.KIND_DEPENDENCIES
            assert list(second.wait.holder_job_ids) == [first] and second.wait.ahead == 1
            assert second.wait.text == f"waits for 1 dependency: job {first}"
            assert client.status(queues=["held"]).queues[0].counts.blocked == 1
            blocked = client.list_jobs(queue="held", states=[JobState.BLOCKED])
            assert [job.id for job in blocked.jobs] == [second.id]
        finally:
            client.resume("held")
        assert client.wait(second.id).state == JobState.SUCCEEDED


def test_bad_dependencies_are_refused_by_name(server):
    with Client(server.address) as client:
        with pytest.raises(SpoolError) as refused:
            client.enqueue("spool.echo", depends_on=["0190d7a0-0000-7000-8000-000000000000"])
        assert refused.value.code == grpc.StatusCode.INVALID_ARGUMENT
        assert "depends_on names no job" in str(refused.value)
        with pytest.raises(SpoolError) as forward:
            client.enqueue_batch([job_spec("spool.echo", depends_on_items=[1]), job_spec("spool.echo")])
        assert forward.value.code == grpc.StatusCode.INVALID_ARGUMENT
        assert "jobs[0]: depends_on_items names item 1" in str(forward.value)
        with pytest.raises(SpoolError) as orphan:
            client.enqueue("spool.echo", parent_id="0190d7a0-0000-7000-8000-000000000000")
        assert orphan.value.code == grpc.StatusCode.FAILED_PRECONDITION
        with pytest.raises(SpoolError) as too_many:
            client.enqueue("spool.echo", depends_on=["x"] * 1001)
        assert too_many.value.code == grpc.StatusCode.INVALID_ARGUMENT


def test_a_restart_in_the_middle_of_a_flow_loses_no_edge(tmp_path):
    server = Spoold(tmp_path)
    try:
        with Client(server.address) as client:
            client.pause("flow")
            answer = client.enqueue_batch([
                job_spec("spool.echo", "a", queue="flow"),
                job_spec("spool.echo", "b", queue="flow", depends_on_items=[0]),
                job_spec("spool.echo", "c", queue="flow", depends_on_items=[1]),
            ], callback=job_spec("spool.echo", "done"))
        server.terminate()
        server = Spoold(tmp_path)
        with Client(server.address) as client:
            assert [client.job(job.id).state for job in answer.jobs] == [JobState.QUEUED, JobState.BLOCKED, JobState.BLOCKED]
            client.resume("flow")
            done = client.wait(answer.callback.id)
            assert done.state == JobState.SUCCEEDED
            summary = json.loads(done.dependency_summary)["batches"][0]
            assert summary["total"] == 3 and summary["succeeded"] == 3 and summary["failed_job_ids"] == []
            assert all(client.job(job.id).state == JobState.SUCCEEDED for job in answer.jobs)
    finally:
        server.terminate()


def test_spoolctl_enqueues_a_flow_from_a_file_with_a_callback(server, tmp_path):
    flow = tmp_path / "flow.jsonl"
    flow.write_text("\n".join([
        json.dumps({"type": "spool.echo", "payload": "build"}),
        json.dumps({"type": "spool.echo", "payload": "test", "depends_on_items": [0]}),
    ]) + "\n")
    result = subprocess.run([spoolctl(), "batch", str(flow), "--server", server.address,
                             "--callback", json.dumps({"type": "spool.echo", "payload": "notify"}), "--watch"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    batch_id = result.stdout.split()[0]
    assert "callback job" in result.stderr
    callback_id = result.stderr.split("callback job ")[1].split()[0]
    with Client(server.address) as client:
        assert client.wait(callback_id).state == JobState.SUCCEEDED
        assert client.status(batch_id=batch_id).batch.counts.succeeded == 2


def test_a_job_costs_its_rate_cost_in_tokens(tmp_path):
    server = Spoold.configured(tmp_path, "rate_keys:\n  api: {per_minute: 6, burst: 10}\n")
    try:
        with Client(server.address) as client:
            with pytest.raises(SpoolError) as refused:
                client.enqueue("spool.echo", rate_key="api", rate_cost=11)
            assert refused.value.code == grpc.StatusCode.INVALID_ARGUMENT
            assert "rate_cost 11 is more than rate key api's burst (10)" in str(refused.value)
            first = client.enqueue("spool.echo", rate_key="api", rate_cost=10).job
            assert first.rate_cost == 10 and client.wait(first.id).state == JobState.SUCCEEDED
            # The whole burst is spent: 5 more tokens come in 50 s (6 a minute).
            second = client.enqueue("spool.echo", rate_key="api", rate_cost=5).job
            assert second.state == JobState.QUEUED and second.wait.kind == second.wait.KIND_RATE
            assert second.wait.key == "api" and second.wait.until_ms >= second.created_at_ms + 45_000
            assert client.cancel(second.id)[0].state == JobState.CANCELLED
    finally:
        server.terminate()


def test_a_cron_schedule_enqueues_its_job_and_keeps_its_last_fire_across_a_restart(tmp_path):
    config = 'schedules:\n  tick:\n    cron: "* * * * * *"\n    time_zone: Europe/Berlin\n    job: {type: spool.echo, payload: tock}\n'
    server = Spoold.configured(tmp_path, config)
    try:
        with Client(server.address) as client:
            for event in client.watch(queue="default"):
                if event.job.labels.get("schedule") == "tick" and event.job.state == JobState.SUCCEEDED:
                    fired = event.job
                    break
            assert fired.idempotency_key.startswith("schedule:tick:")
            schedule = client.status().schedules[0]
            assert (schedule.name, schedule.cron, schedule.time_zone, schedule.overlap) == ("tick", "* * * * * *", "Europe/Berlin", "skip")
            assert schedule.fired >= 1 and schedule.next_fire_ms > schedule.last_fire_ms > 0
        server.terminate()
        import sqlite3
        with sqlite3.connect(server.db) as database:
            (last_fire_ms,) = database.execute("SELECT last_fire_ms FROM schedules WHERE name = 'tick'").fetchone()
        assert last_fire_ms >= int(fired.idempotency_key.rsplit(":", 1)[1])
        server = Spoold.configured(tmp_path, config)
        with Client(server.address) as client:
            for event in client.watch(queue="default"):
                if event.job.labels.get("schedule") == "tick" and event.job.state == JobState.SUCCEEDED and event.job.id != fired.id:
                    break
            keys = [job.idempotency_key for job in client.jobs(labels={"schedule": "tick"})]
            assert len(keys) == len(set(keys))  # no fire time made two jobs
    finally:
        server.terminate()


def test_a_fair_queue_serves_a_small_tenant_before_a_big_tenants_backlog(tmp_path):
    server = Spoold.configured(tmp_path, "queues:\n  shared: {concurrency: 1, fair_by: tenant}\n")
    try:
        with Client(server.address) as client:
            client.pause("shared")
            big = client.enqueue_batch([job_spec("spool.echo", queue="shared", labels={"tenant": "big"}) for _ in range(500)])
            small = client.enqueue("spool.echo", queue="shared", labels={"tenant": "small"}).job
            assert small.position == 2  # behind one job of the big tenant's 500
            assert client.job(big.jobs[-1].id).position == 501
            client.resume("shared")
            assert client.wait(small.id).state == JobState.SUCCEEDED
            started = sorted(client.jobs(queue="shared", states=[JobState.SUCCEEDED]), key=lambda job: job.started_at_ms)
            assert small.id in [job.id for job in started[:2]]
    finally:
        server.terminate()
