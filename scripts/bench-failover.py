#!/usr/bin/env python3
"""Failover time of a three-node cluster on PostgreSQL: the leader is killed with
SIGKILL while two clients enqueue through the other nodes, and the time from the
kill to the first job acknowledged by the new leader (a call sent after the kill)
is measured. Prints each run, the median and the worst.

    SPOOL_BENCH_DB=$(scripts/postgres.sh start) .venv/bin/python scripts/bench-failover.py [RUNS] [LEASE_SECONDS]

Uses .build/release/spoold (swift build -c release --product spoold); the lease is
spoold's default (4 s) unless given."""
import os
import pathlib
import statistics
import subprocess
import sys
import threading
import time
import uuid

from spool_client import Client

ROOT = pathlib.Path(__file__).resolve().parents[1]
SPOOLD = os.environ.get("SPOOLD", str(ROOT / ".build" / "release" / "spoold"))


def start_node(db: str, lease: str) -> tuple[subprocess.Popen, str, list[str]]:
    process = subprocess.Popen([SPOOLD, "--listen", "127.0.0.1:0", "--db", db, "--lease-seconds", lease],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    for line in process.stdout:
        lines.append(line)
        if line.startswith("spoold: follower listening on "):
            break
    threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True).start()
    return process, line.split()[4], lines


def one_run(url: str, lease: str) -> float:
    schema = "failover_" + uuid.uuid4().hex[:10]
    db = url + ("&" if "?" in url else "?") + "schema=" + schema
    nodes = [start_node(db, lease) for _ in range(3)]
    try:
        deadline = time.monotonic() + 30
        while not any(any(l.startswith("spoold: listening on") for l in lines) for _, _, lines in nodes):
            assert time.monotonic() < deadline, "no leader"
            time.sleep(0.01)
        leader = next(n for n in nodes if any(l.startswith("spoold: listening on") for l in n[2]))
        others = [n for n in nodes if n is not leader]
        killed_at: list[float] = []
        acked_after: list[float] = []
        stop = threading.Event()

        def enqueue_through(address: str, number: int):
            with Client(address, timeout=5) as client:
                i = 0
                while not stop.is_set():
                    sent = time.monotonic()
                    try:
                        client.enqueue("spool.echo", b"x", idempotency_key=f"{number}-{i}")
                        i += 1
                        if killed_at and sent > killed_at[0] and not acked_after:
                            acked_after.append(time.monotonic())
                            stop.set()
                    except Exception:  # noqa: BLE001 - no leader yet: call again
                        time.sleep(0.005)

        threads = [threading.Thread(target=enqueue_through, args=(node[1], n)) for n, node in enumerate(others)]
        for thread in threads:
            thread.start()
        time.sleep(1)  # a second of load before the kill
        killed_at.append(time.monotonic())
        leader[0].kill()
        for thread in threads:
            thread.join(timeout=120)
        return acked_after[0] - killed_at[0]
    finally:
        for process, _, _ in nodes:
            process.kill()
            process.wait()
        subprocess.run(["psql", "-q", url.split("?")[0], "-c", f"DROP SCHEMA {schema} CASCADE"], check=False,
                       capture_output=True)


def main():
    url = os.environ.get("SPOOL_BENCH_DB")
    if not url:
        sys.exit("set SPOOL_BENCH_DB to a postgres:// URL (scripts/postgres.sh start prints one)")
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    lease = sys.argv[2] if len(sys.argv) > 2 else "4"
    times = []
    for run in range(1, runs + 1):
        times.append(one_run(url, lease))
        print(f"failover: run {run}: first job acknowledged by the new leader {times[-1]:.2f} s after SIGKILL")
    print(f"failover: median {statistics.median(times):.2f} s, worst {max(times):.2f} s over {runs} runs "
          f"(lease {lease} s, 3 nodes, {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
