#!/usr/bin/env python3
"""The two-stage pipeline Spool grew from, declared instead of glued.

A repository is indexed in two stages:

1. `repo.commit` clones the repository and finds its commit authors, then fans
   out one `repo.lookup_user` job per author, in batches of 50. Each batch
   joins the commit job's own batch (`parent_id`), so the repository's batch is
   complete only when every lookup is done, however many were added later.
2. `repo.lookup_user` calls a rate-limited API: its jobs draw from the rate key
   `github` (a per-minute quota in spoold's config). A lookup told "rate
   limited" is retried after the time the API said.

The repository is marked completed by the batch's callback, `repo.completed`,
which spoold runs once every job of the batch ended, with the batch's summary
(counts and the ids of failed jobs). No client stays connected to watch.

Every step is idempotent, so a retried commit job fans out the same jobs: each
lookup has an idempotency key, and the repository's batch has one too.

Run a server with this configuration (docs/workflows.md):

    types:
      repo.commit: {remote: {}}
      repo.lookup_user: {remote: {}}
      repo.completed: {remote: {}}
    rate_keys:
      github: {per_minute: 5000, burst: 50}

then the worker, and index a repository:

    python3 repo_pipeline.py worker --server 127.0.0.1:50051 --out /tmp/completed
    python3 repo_pipeline.py index acme/widgets --authors 120 --server 127.0.0.1:50051
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "python"))

from spool_client import Client, JobContext, RetryableError, Worker, job_spec  # noqa: E402
from spool_client._proto.queue_pb2 import EnqueueBatchResponse  # noqa: E402

FAN_OUT = 50


def index(server: str, repo: str, authors: int, token: str | None = None) -> EnqueueBatchResponse:
    """Enqueues a repository's indexing; answers its batch and its callback job."""
    with Client(server, token=token) as client:
        answer = client.enqueue_batch(
            [job_spec("repo.commit", {"repo": repo, "authors": authors}, max_attempts=3)],
            labels={"repo": repo},
            callback=job_spec("repo.completed", {"repo": repo}),
            idempotency_key=f"index:{repo}",
            retry_for=30,
        )
        return answer


def serve(server: str, out: pathlib.Path, token: str | None = None, worker: Worker | None = None) -> Worker:
    """A worker for the three job types (call run() on it)."""
    worker = worker or Worker(server, token=token, name="repo-pipeline", concurrency=16)
    client = Client(server, token=token)

    @worker.handler("repo.commit")
    def commit(job: JobContext) -> dict:
        task = json.loads(job.payload)
        repo, count = task["repo"], int(task["authors"])
        job.progress(0.1, "clone", f"cloning {repo}")
        authors = [f"user{n:04d}" for n in range(count)]  # as `git log --format=%ae` would list them
        for start in range(0, len(authors), FAN_OUT):
            chunk = authors[start:start + FAN_OUT]
            client.enqueue_batch(
                [job_spec("repo.lookup_user", {"repo": repo, "user": user}, rate_key="github",
                          idempotency_key=f"lookup:{repo}:{user}", labels={"repo": repo}) for user in chunk],
                parent_id=job.id,  # joins this job's batch: the repository is done when they are
                retry_for=30,
            )
            job.progress(0.1 + 0.9 * (start + len(chunk)) / len(authors), "fan out", f"{start + len(chunk)} lookups")
        return {"authors": len(authors)}

    @worker.handler("repo.lookup_user")
    def lookup_user(job: JobContext) -> dict:
        task = json.loads(job.payload)
        if os.environ.get("PIPELINE_RATE_LIMIT_ONCE") and job.attempt == 1 and task["user"].endswith("7"):
            raise RetryableError("429 from the API", retry_after=0.05)
        digest = hashlib.sha256(task["user"].encode()).hexdigest()[:12]
        return {"user": task["user"], "id": digest}

    @worker.handler("repo.completed")
    def completed(job: JobContext) -> dict:
        repo = json.loads(job.payload)["repo"]
        summary = json.loads(job.dependency_summary)["batches"][0]
        marker = {"repo": repo, "completed_at_ms": int(time.time() * 1000), "batch_id": summary["batch_id"],
                  "jobs": summary["total"], "succeeded": summary["succeeded"], "failed": summary["failed_job_ids"]}
        out.mkdir(parents=True, exist_ok=True)
        (out / f"{repo.replace('/', '__')}.json").write_text(json.dumps(marker))
        return marker

    return worker


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["worker", "index"])
    parser.add_argument("repo", nargs="?", default="acme/widgets")
    parser.add_argument("--server", default=os.environ.get("SPOOL_SERVER", "127.0.0.1:50051"))
    parser.add_argument("--authors", type=int, default=120)
    parser.add_argument("--out", default="completed")
    options = parser.parse_args()
    token = os.environ.get("SPOOL_TOKEN")
    if options.command == "index":
        answer = index(options.server, options.repo, options.authors, token)
        print(f"batch {answer.batch_id}, completed by job {answer.callback.id}")
    else:
        serve(options.server, pathlib.Path(options.out), token).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
