"""Python producers enqueuing one job per call against a release spoold: Client's
unary Enqueue and its shared EnqueueStream (Client(stream_enqueues=...)), 8
threads a process; and AsyncClient, unary and on its stream (its default), 256
enqueues in flight a process; with 1 and 8 processes. Prints jobs/s; asserts
nothing.

    .venv/bin/python scripts/bench-enqueue-python.py SPOOLD [JOBS_PER_PROCESS]
"""
import multiprocessing
import pathlib
import subprocess
import sys
import tempfile
import threading
import time

import asyncio

from spool_client import AsyncClient, Client

THREADS = 8
IN_FLIGHT = 256


def produce_async(address, jobs, streamed, ready, go, done):
    async def main():
        async with AsyncClient(address, stream_enqueues=streamed) as spool:
            await spool.enqueue("spool.echo", run_at_ms=4102444800000)
            ready.set()
            await asyncio.to_thread(go.wait)
            left = jobs

            async def loop():
                nonlocal left
                while left > 0:
                    left -= 1
                    await spool.enqueue("spool.echo", b"x", run_at_ms=4102444800000)

            await asyncio.gather(*(loop() for _ in range(IN_FLIGHT)))
    asyncio.run(main())
    done.put(jobs)


def produce(address, jobs, client, streamed, ready, go, done):
    if client == "AsyncClient":
        return produce_async(address, jobs, streamed, ready, go, done)
    with Client(address, stream_enqueues=streamed) as spool:
        spool.enqueue("spool.echo", run_at_ms=4102444800000)  # connected, and the stream open
        ready.set()
        go.wait()
        per_thread = jobs // THREADS

        def loop():
            for _ in range(per_thread):
                spool.enqueue("spool.echo", b"x", run_at_ms=4102444800000)

        threads = [threading.Thread(target=loop) for _ in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    done.put(per_thread * THREADS)


def run(address, processes, jobs, client, streamed):
    context = multiprocessing.get_context("fork")
    go = context.Event()
    readies, results = [], context.Queue()
    workers = []
    for _ in range(processes):
        ready = context.Event()
        readies.append(ready)
        workers.append(context.Process(target=produce, args=(address, jobs, client, streamed, ready, go, results)))
    for worker in workers:
        worker.start()
    for ready in readies:
        ready.wait()
    start = time.monotonic()
    go.set()
    total = sum(results.get() for _ in workers)
    seconds = time.monotonic() - start
    for worker in workers:
        worker.join()
    return total / seconds


def main():
    spoold = sys.argv[1]
    jobs = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
    with tempfile.TemporaryDirectory() as directory:
        server = subprocess.Popen([spoold, "--listen", "127.0.0.1:0", "--db", str(pathlib.Path(directory) / "spool.db"),
                                   "--max-depth", "0"], stdout=subprocess.PIPE, text=True)
        try:
            while not (line := server.stdout.readline()).startswith("spoold: listening on "):
                if not line:
                    raise SystemExit("spoold did not start")
            address = line.removeprefix("spoold: listening on ").strip()
            for processes in (1, 8):
                for client in ("Client", "AsyncClient"):
                    for streamed in (False, True):
                        rate = run(address, processes, jobs, client, streamed)
                        how = (f"{client}, {IN_FLIGHT if client == 'AsyncClient' else THREADS} "
                               f"{'in flight' if client == 'AsyncClient' else 'threads'}, "
                               f"{'EnqueueStream' if streamed else 'unary Enqueue'}")
                        print(f"bench-enqueue-python: {processes} process{'es' if processes > 1 else ''}, {how}: "
                              f"{rate:,.0f} jobs/s", flush=True)
        finally:
            server.terminate()
            server.wait()


if __name__ == "__main__":
    main()
