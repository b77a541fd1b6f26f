"""What hostile readers and requests make spoold hold in memory: its RSS
before, at the peak (VmHWM) and after each case, against a release spoold.

  stalled   50 connections each hold a StreamProgress of a busy queue open
            with a zero receive window while 20,000 jobs with small labels
            run in that queue; then the connections close
  batches   eight concurrent 4 MiB EnqueueBatch requests of two million
            empty jobs each

Run through scripts/bench-memory.sh, which builds spoold and passes its path.
  bench-memory.py SPOOLD CASE [--budget BYTES]
"""
import argparse
import concurrent.futures
import pathlib
import socket
import struct
import subprocess
import sys
import tempfile
import time

import grpc
import h2.config
import h2.connection
import h2.settings

ROOT = pathlib.Path(__file__).resolve().parents[1]


def frame(message: bytes) -> bytes:
    return b"\x00" + struct.pack(">I", len(message)) + message


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def field(number: int, body: bytes) -> bytes:
    return varint(number << 3 | 2) + varint(len(body)) + body


def memory(pid: int) -> dict:
    fields = {}
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) * 1024
    return fields


def mb(value: int) -> str:
    return f"{value / 1e6:.0f} MB"


class Server:
    def __init__(self, spoold: str, directory: str, *args: str):
        self.process = subprocess.Popen(
            [spoold, "--listen", "127.0.0.1:0", "--db", f"{directory}/spool.db", *args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for line in self.process.stdout:
            if line.startswith("spoold: listening on "):
                self.address = line.removeprefix("spoold: listening on ").strip()
                return
        raise RuntimeError("spoold did not start")

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=60)


def unary(channel, method: str, request: bytes, timeout=60) -> bytes:
    return channel.unary_unary(method)(request, timeout=timeout)


def status_counts(channel, queue: str) -> dict:
    """SUCCEEDED count of a queue, read from GetStatus's bytes with the python protobuf runtime."""
    from google.protobuf import descriptor_pb2  # noqa: F401  (protobuf is there with grpcio-tools)
    sys.path.insert(0, str(STUBS))
    from spool.v1 import queue_pb2
    answer = queue_pb2.GetStatusResponse.FromString(
        unary(channel, "/spool.v1.JobQueue/GetStatus", queue_pb2.GetStatusRequest(queues=[queue]).SerializeToString()))
    return {"succeeded": answer.queues[0].counts.succeeded if answer.queues else 0}


def stalled(server: Server, pid: int) -> list:
    sys.path.insert(0, str(STUBS))
    from spool.v1 import queue_pb2
    rows = [("before", memory(pid)["VmRSS"])]
    sockets = []
    request = frame(queue_pb2.StreamProgressRequest(queue="busy").SerializeToString())
    host, port = server.address.rsplit(":", 1)
    for _ in range(50):
        sock = socket.create_connection((host, int(port)))
        conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        conn.initiate_connection()
        conn.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 0})
        stream = conn.get_next_available_stream_id()
        conn.send_headers(stream, [(":method", "POST"), (":scheme", "http"), (":authority", server.address),
                                   (":path", "/spool.v1.JobQueue/StreamProgress"),
                                   ("content-type", "application/grpc"), ("te", "trailers")])
        conn.send_data(stream, request, end_stream=True)
        sock.sendall(conn.data_to_send())
        sockets.append(sock)
    with grpc.insecure_channel(server.address) as channel:
        job = queue_pb2.JobSpec(type="spool.echo", queue="busy", labels={"repo": "spool", "user": "ada"})
        for _ in range(20):
            unary(channel, "/spool.v1.JobQueue/EnqueueBatch",
                  queue_pb2.EnqueueBatchRequest(jobs=[job] * 1000).SerializeToString())
        while status_counts(channel, "busy")["succeeded"] < 20_000:
            time.sleep(0.2)
    rows.append(("peak, 50 stalled readers", memory(pid)["VmHWM"]))
    for sock in sockets:
        sock.close()
    time.sleep(2)  # the server notices the closed sockets; then its RSS is read
    rows.append(("after they closed", memory(pid)["VmRSS"]))
    return rows


def batches(server: Server, pid: int) -> list:
    rows = [("before", memory(pid)["VmRSS"])]
    empty_jobs = field(1, b"") * 2_000_000  # 4 MB: two million empty JobSpecs
    outcomes = []

    def call(_):
        with grpc.insecure_channel(server.address, options=[("grpc.max_send_message_length", 8 << 20)]) as channel:
            try:
                unary(channel, "/spool.v1.JobQueue/EnqueueBatch", empty_jobs, timeout=120)
                return "OK"
            except grpc.RpcError as error:
                return f"{error.code().name}: {error.details()[:70]}"

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(call, range(8)))
    rows.append(("peak, 8 concurrent 4 MB batches", memory(pid)["VmHWM"]))
    time.sleep(2)
    rows.append(("after", memory(pid)["VmRSS"]))
    print(f"  answers: {sorted(set(outcomes))}")
    return rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("spoold")
    parser.add_argument("case", choices=["stalled", "batches"])
    parser.add_argument("--budget", type=int, help="progress_buffer_bytes (default: spoold's)")
    parser.add_argument("--rounds", type=int, default=1, help="the case again on the same server: memory reused, or lost?")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        args = []
        if options.budget:
            config = pathlib.Path(directory) / "spool.yaml"
            config.write_text(f"progress_buffer_bytes: {options.budget}\n")
            args = ["--config", str(config)]
        server = Server(options.spoold, directory, *args)
        try:
            pid = server.process.pid
            rows = []
            for round in range(options.rounds):
                done = stalled(server, pid) if options.case == "stalled" else batches(server, pid)
                rows += done if round == 0 else [(f"round {round + 1}: {name}", value) for name, value in done[1:]]
        finally:
            server.stop()
    budget = f", progress_buffer_bytes {options.budget}" if options.budget else ""
    print(f"bench-memory {options.case}{budget}: " + "; ".join(f"{name} {mb(value)}" for name, value in rows))


STUBS = pathlib.Path(tempfile.mkdtemp())
if __name__ == "__main__":
    from grpc_tools import protoc
    assert protoc.main(["protoc", f"-I{ROOT / 'proto'}", f"--python_out={STUBS}",
                        str(ROOT / "proto" / "spool" / "v1" / "queue.proto")]) == 0
    main()
