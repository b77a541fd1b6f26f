"""spoolctl, the command-line client (GRPCH2's client side), against a real spoold."""
import json
import os
import pathlib
import pty
import subprocess

import pytest

from conftest import ROOT, Spoold


def spoolctl_binary() -> str:
    return os.environ.get("SPOOLCTL", str(pathlib.Path(os.environ.get("SPOOLD", ROOT / ".build/debug/spoold")).parent
                                          / "spoolctl"))


def spoolctl(server, *args, stdin=None, env=None):
    return subprocess.run([spoolctl_binary(), *args], capture_output=True, text=True, timeout=60, input=stdin,
                          env={**os.environ, "SPOOL_SERVER": server.address, **(env or {})})


def test_enqueue_prints_the_id_and_watch_follows_it_to_success(server):
    # Steps long enough for watch to start before the first (a loaded machine starts processes slowly).
    enqueued = spoolctl(server, "enqueue", "spool.sleep", "--payload", '{"steps":3,"step_ms":500}', "--label", "user=ada")
    assert enqueued.returncode == 0, enqueued.stderr
    job_id = enqueued.stdout.strip()
    assert len(job_id) == 36
    watched = spoolctl(server, "watch", job_id)
    assert watched.returncode == 0, watched.stderr
    lines = watched.stdout.splitlines()
    assert "snapshot" in lines[0] and job_id in lines[0]
    assert [line for line in lines if "progress" in line and "step " in line][-1].count("step 3 of 3") == 1
    assert "SUCCEEDED" in lines[-1] and "seq " in lines[-1]


def test_a_job_that_fails_makes_watch_exit_3_with_the_error(server):
    run = spoolctl(server, "enqueue", "spool.fail", "--payload", '{"permanent": true, "message": "bad prompt"}', "--watch")
    assert run.returncode == 3, run.stderr
    assert "FAILED" in run.stdout.splitlines()[-1] and "bad prompt" in run.stdout


def test_batch_reads_json_lines_and_watches_the_whole_batch(server, tmp_path):
    lines = [json.dumps({"type": "spool.echo", "payload": {"n": n}, "labels": {"n": str(n)}}) for n in range(5)]
    batch_file = tmp_path / "jobs.jsonl"
    batch_file.write_text("\n".join(lines) + "\n\n")
    run = spoolctl(server, "batch", str(batch_file), "--label", "run=7", "--watch")
    assert run.returncode == 0, run.stderr
    batch_id = run.stdout.splitlines()[0]
    assert "5 jobs in batch " + batch_id in run.stderr
    assert run.stdout.splitlines()[-1].endswith("5/5 done (100%): 5 succeeded, 0 failed, 0 cancelled, 0 running, 0 waiting")
    status = spoolctl(server, "status", "--batch", batch_id)
    assert f"batch {batch_id}: 5/5 done" in status.stdout


def test_a_bad_batch_line_is_refused_by_number_and_nothing_is_sent(server):
    run = spoolctl(server, "batch", "-", stdin='{"type": "spool.echo"}\n{"payload": "no type"}\n')
    assert run.returncode == 1
    assert '-:2: not a job: "type" is required' in run.stderr


def test_cancel_and_status_show_the_job(server):
    job_id = spoolctl(server, "enqueue", "spool.echo", "--delay", "3600").stdout.strip()
    cancelled = spoolctl(server, "cancel", job_id, "--reason", "not needed")
    assert cancelled.returncode == 0 and cancelled.stdout.split() == [job_id, "CANCELLED"]
    status = spoolctl(server, "status", job_id)
    assert status.returncode == 0
    assert "QUEUE" in status.stdout and "workers:" in status.stdout
    assert f"job {job_id}" in status.stdout and "state     CANCELLED" in status.stdout
    assert "error     cancelled: not needed" in status.stdout


def test_refused_calls_print_the_grpc_status_and_exit_1(server):
    unknown = spoolctl(server, "enqueue", "no.such.type")
    assert unknown.returncode == 1 and 'INVALID_ARGUMENT: no handler for job type "no.such.type"' in unknown.stderr
    missing = spoolctl(server, "cancel", "--batch", "nope")
    assert missing.returncode == 1 and 'NOT_FOUND: no batch "nope"' in missing.stderr


def test_an_unreachable_server_is_reported_unavailable(tmp_path):
    class Nowhere:
        address = "127.0.0.1:1"
    run = spoolctl(Nowhere, "status")
    assert run.returncode == 1 and "UNAVAILABLE: cannot connect to 127.0.0.1:1" in run.stderr


def test_the_token_comes_from_the_environment(tmp_path):
    config = tmp_path / "spool.yaml"
    config.write_text("auth:\n  tokens: [ctl-token]\n")
    spoold = Spoold(tmp_path, "--config", str(config))
    try:
        refused = spoolctl(spoold, "status")
        assert refused.returncode == 1 and "UNAUTHENTICATED" in refused.stderr
        allowed = spoolctl(spoold, "status", env={"SPOOL_TOKEN": "ctl-token"})
        assert allowed.returncode == 0, allowed.stderr
    finally:
        spoold.terminate()


def test_watch_on_a_terminal_draws_progress_bars_in_place(server):
    job_id = spoolctl(server, "enqueue", "spool.sleep", "--payload", '{"steps":4,"step_ms":20}').stdout.strip()
    pid, terminal = pty.fork()
    if pid == 0:
        os.environ["SPOOL_SERVER"] = server.address
        os.execv(spoolctl_binary(), [spoolctl_binary(), "watch", job_id])
    screen = b""
    while True:
        try:
            chunk = os.read(terminal, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        screen += chunk
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    text = screen.decode()
    assert "\x1b[2K" in text, "no line was redrawn"
    assert f"{job_id}  SUCCEEDED  " + "█" * 24 + " 100%" in text


def test_watch_resumes_when_the_server_restarts(tmp_path):
    spoold = Spoold(tmp_path, "--shutdown-grace", "0")
    job_id = spoolctl(spoold, "enqueue", "spool.sleep", "--payload", '{"steps":6,"step_ms":50}').stdout.strip()
    watch = subprocess.Popen([spoolctl_binary(), "watch", job_id], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env={**os.environ, "SPOOL_SERVER": spoold.address})
    while "progress" not in (line := watch.stdout.readline()):
        assert line, watch.stderr.read()
    port = spoold.port
    spoold.terminate()
    restarted = Spoold(tmp_path, "--listen", f"127.0.0.1:{port}")
    try:
        out, err = watch.communicate(timeout=60)
    finally:
        restarted.terminate()
    assert watch.returncode == 0, err
    assert "stream broke (UNAVAILABLE" in err and "resuming after seq" in err
    assert out.count("snapshot") == 1 and "SUCCEEDED" in out.splitlines()[-1] and "attempt 2/3" in out.splitlines()[-1]


def test_jobs_lists_by_label_and_state_and_retry_runs_a_failed_job_again(server):
    ids = [spoolctl(server, "enqueue", "spool.echo", "--label", "cli=list").stdout.strip() for _ in range(3)]
    listed = spoolctl(server, "jobs", "--label", "cli=list", "--limit", "2")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert [line.split()[0] for line in lines[:-1]] == ids[::-1][:2] and lines[-1] == "2 of 3 matching"
    failed = spoolctl(server, "enqueue", "spool.fail", "--payload", '{"permanent": true}', "--max-attempts", "1",
                      "--label", "cli=retry", "--watch")
    assert failed.returncode == 3
    job_id = spoolctl(server, "jobs", "--label", "cli=retry", "--state", "failed").stdout.split()[0]
    retried = spoolctl(server, "retry", job_id, "--reason", "again")
    assert retried.returncode == 0 and retried.stdout.split()[0] == job_id
    bad = spoolctl(server, "jobs", "--state", "sideways")
    assert bad.returncode != 0 and "--state must be one of" in bad.stderr


def test_pause_and_resume_show_in_status(server):
    paused = spoolctl(server, "pause", "cli-queue")
    assert paused.returncode == 0 and paused.stdout.startswith("cli-queue  paused")
    assert "cli-queue (paused)" in spoolctl(server, "status").stdout
    resumed = spoolctl(server, "resume", "cli-queue")
    assert resumed.returncode == 0 and resumed.stdout.startswith("cli-queue  running")


def test_enqueue_takes_expire_in_and_refuses_durations_out_of_range(server):
    from spool_client import Client
    job_id = spoolctl(server, "enqueue", "spool.echo", "--delay", "3600", "--expire-in", "3601").stdout.strip()
    with Client(server.address) as client:
        job = client.job(job_id)
        assert job.expire_at_ms - job.run_at_ms == 1000
        client.cancel(job_id)
    for flag, value in [("--timeout", "1e300"), ("--delay", "nan"), ("--expire-in", "-1")]:
        refused = spoolctl(server, "enqueue", "spool.echo", f"{flag}={value}")
        assert refused.returncode == 64 and f"{flag} must be from 0 to 315360000 seconds" in refused.stderr
