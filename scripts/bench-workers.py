"""One Python worker process running no-op jobs end to end against a release
spoold (scripts/bench-workers.sh): a spool_client.Worker (threads), then an
AsyncWorker (asyncio, async handler).

The jobs are enqueued first (EnqueueBatch of 1000), so they wait QUEUED;
then a worker process with CONCURRENCY jobs at once connects and runs them,
and this prints jobs/s from its start to the last job SUCCEEDED, and the CPU
time the worker process and spoold spent per job.

    python scripts/bench-workers.py SPOOLD [JOBS] [CONCURRENCY]
"""
import os
import pathlib
import socket
import subprocess
import sys
import tempfile
import time

from spool_client import Client, job_spec

WORKER = """
import sys
from spool_client import Worker
worker = Worker(sys.argv[1], name="bench", concurrency=int(sys.argv[2]))
worker.register("bench.noop", lambda job: b"")
worker.run()
"""

ASYNC_WORKER = """
import asyncio, sys
from spool_client import AsyncWorker
async def noop(job):
    return b""
worker = AsyncWorker(sys.argv[1], name="bench", concurrency=int(sys.argv[2]))
worker.register("bench.noop", noop)
asyncio.run(worker.run())
"""


def cpu_seconds(pid: int) -> float:
    fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def measure(spoold_path: str, program: str, jobs: int, concurrency: int) -> str:
    """Runs `program` (a worker) against a fresh spoold holding `jobs` queued no-op jobs."""
    with tempfile.TemporaryDirectory() as directory:
        config = pathlib.Path(directory) / "spool.yaml"
        config.write_text("types:\n  bench.noop: {remote: {}}\n"
                          f"queues:\n  default: {{concurrency: {concurrency}, max_depth: 0}}\n")
        address = f"127.0.0.1:{free_port()}"
        spoold = subprocess.Popen([spoold_path, "--config", str(config), "--listen", address,
                                   "--db", f"{directory}/spool.db"], stdout=subprocess.PIPE, text=True)
        try:
            for line in spoold.stdout:  # type: ignore[union-attr]
                if "listening on" in line:
                    break
            with Client(address) as client:
                for _ in range(jobs // 1000):
                    client.enqueue_batch([job_spec("bench.noop")] * 1000)
                worker = subprocess.Popen([sys.executable, "-c", program, address, str(concurrency)])
                server_cpu = cpu_seconds(spoold.pid)
                start = time.monotonic()
                while True:
                    if client.status(queues=["default"]).queues[0].counts.succeeded >= jobs:
                        break
                    time.sleep(0.05)
                seconds = time.monotonic() - start
                worker_cpu, server_cpu = cpu_seconds(worker.pid), cpu_seconds(spoold.pid) - server_cpu
                worker.terminate()
                worker.wait(timeout=60)
            return (f"{jobs / seconds:,.0f} no-op jobs/s end to end through one process "
                    f"(concurrency {concurrency}, {jobs} jobs queued beforehand, {seconds:.2f} s; "
                    f"CPU per job: worker {worker_cpu / jobs * 1e6:.0f} µs, spoold {server_cpu / jobs * 1e6:.0f} µs)")
        finally:
            spoold.terminate()
            spoold.wait(timeout=60)


def main() -> None:
    spoold_path = sys.argv[1]
    jobs = int(sys.argv[2]) if len(sys.argv) > 2 else 50_000
    concurrency = int(sys.argv[3]) if len(sys.argv) > 3 else 64
    print("python Worker (threads):     ", measure(spoold_path, WORKER, jobs, concurrency), flush=True)
    print("python AsyncWorker (asyncio):", measure(spoold_path, ASYNC_WORKER, jobs, concurrency), flush=True)


if __name__ == "__main__":
    main()
