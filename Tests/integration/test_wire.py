"""spoold on the wire, against real clients: grpcurl and Python grpcio."""
import json
import os
import pathlib
import re
import signal
import socket
import sqlite3
import subprocess
import threading

import grpc
import pytest

from conftest import ROOT, Spoold, spoold_binary

HEALTH_CHECK = "/grpc.health.v1.Health/Check"
HEALTH_WATCH = "/grpc.health.v1.Health/Watch"
SERVING = b"\x08\x01"
NOT_SERVING = b"\x08\x02"


def run_grpcurl(grpcurl, *args, check=True):
    result = subprocess.run([grpcurl, "-plaintext", *args], capture_output=True, text=True, timeout=60)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def health_check(channel, service=b"", **kwargs):
    request = b"\x0a" + bytes([len(service)]) + service if service else b""
    return channel.unary_unary(HEALTH_CHECK)(request, timeout=10, **kwargs)


def assert_still_serving(server):
    with server.channel() as channel:
        assert health_check(channel) == SERVING


# Reflection: grpcurl with no .proto files


def test_grpcurl_lists_every_service_through_reflection(server, grpcurl):
    listed = run_grpcurl(grpcurl, server.address, "list").stdout.split()
    assert listed == [
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
        "spool.v1.JobQueue",
        "spool.v1.Workers",
    ]


def test_grpcurl_describes_the_job_queue(server, grpcurl):
    described = run_grpcurl(grpcurl, server.address, "describe", "spool.v1.JobQueue").stdout
    for rpc in [
        "rpc Enqueue ( .spool.v1.EnqueueRequest ) returns ( .spool.v1.EnqueueResponse );",
        "rpc EnqueueBatch ( .spool.v1.EnqueueBatchRequest ) returns ( .spool.v1.EnqueueBatchResponse );",
        "rpc Cancel ( .spool.v1.CancelRequest ) returns ( .spool.v1.CancelResponse );",
        "rpc StreamProgress ( .spool.v1.StreamProgressRequest ) returns ( stream .spool.v1.ProgressEvent );",
        "rpc GetStatus ( .spool.v1.GetStatusRequest ) returns ( .spool.v1.GetStatusResponse );",
    ]:
        assert rpc in described


def test_grpcurl_describes_messages_and_nested_enums(server, grpcurl):
    event = run_grpcurl(grpcurl, server.address, "describe", "spool.v1.ProgressEvent").stdout
    assert "enum Kind {" in event and "KIND_POSITION = 4;" in event
    assert ".spool.v1.Job job = 4;" in event
    state = run_grpcurl(grpcurl, server.address, "describe", "spool.v1.JobState").stdout
    assert "JOB_STATE_CANCELLED = 6;" in state


@pytest.mark.parametrize("version", ["v1", "v1alpha"])
def test_both_reflection_versions_answer_on_one_stream(server, version):
    list_services = b"\x3a\x00"                       # list_services: ""
    by_symbol = b"\x22\x11spool.v1.JobQueue"          # file_containing_symbol
    missing = b"\x1a\x08nope.pro"                     # file_by_filename
    with server.channel() as channel:
        info = channel.stream_stream(f"/grpc.reflection.{version}.ServerReflection/ServerReflectionInfo")
        answers = list(info(iter([list_services, by_symbol, missing]), timeout=30))
    assert len(answers) == 3
    assert b"spool.v1.JobQueue" in answers[0] and b"grpc.health.v1.Health" in answers[0]
    assert b"spool/v1/queue.proto" in answers[1] and b"JobQueue" in answers[1]
    assert b'file "nope.pro" not found' in answers[2]


def test_grpcurl_reports_an_unknown_symbol(server, grpcurl):
    result = run_grpcurl(grpcurl, server.address, "describe", "spool.v1.Nope", check=False)
    assert result.returncode != 0
    assert "spool.v1.Nope" in result.stderr


# Health


def test_grpcurl_health_check_is_serving(server, grpcurl):
    answer = run_grpcurl(grpcurl, server.address, "grpc.health.v1.Health/Check").stdout
    assert json.loads(answer) == {"status": "SERVING"}
    answer = run_grpcurl(grpcurl, "-d", '{"service": "grpc.health.v1.Health"}',
                         server.address, "grpc.health.v1.Health/Check").stdout
    assert json.loads(answer) == {"status": "SERVING"}


def test_grpcio_health_check_of_an_unknown_service_is_not_found(server):
    with server.channel() as channel:
        with pytest.raises(grpc.RpcError) as failure:
            health_check(channel, b"no.such.Service")
    assert failure.value.code() == grpc.StatusCode.NOT_FOUND
    assert failure.value.details() == 'unknown service "no.such.Service"'


def test_health_watch_starts_with_the_current_status(server):
    with server.channel() as channel:
        updates = channel.unary_stream(HEALTH_WATCH)(b"", timeout=30)
        assert next(updates) == SERVING
        updates.cancel()
    assert_still_serving(server)


# Bad input: precise statuses, and the server keeps serving


@pytest.mark.parametrize("method", ["/no.such.Service/Call", "/grpc.health.v1.Health/Nope"])
def test_unknown_methods_are_unimplemented(server, method):
    with server.channel() as channel:
        with pytest.raises(grpc.RpcError) as failure:
            channel.unary_unary(method)(b"", timeout=10)
    assert failure.value.code() == grpc.StatusCode.UNIMPLEMENTED
    assert failure.value.details() == f"unknown method {method}"
    assert_still_serving(server)


def test_grpcurl_with_proto_files_instead_of_reflection(server, grpcurl):
    result = run_grpcurl(grpcurl, "-use-reflection=false", "-import-path", str(ROOT / "proto"),
                         "-proto", "grpc/health/v1/health.proto", "-d", "{}",
                         server.address, "grpc.health.v1.Health/Check")
    assert json.loads(result.stdout) == {"status": "SERVING"}


def test_an_oversized_message_is_resource_exhausted(server):
    with server.channel() as channel:
        with pytest.raises(grpc.RpcError) as failure:
            channel.unary_unary(HEALTH_CHECK)(b"\x0a\x80\x80\x80\x03" + b"x" * (5 << 20), timeout=30)
    assert failure.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "larger than the server's limit of 4194304 bytes" in failure.value.details()
    assert_still_serving(server)


@pytest.mark.parametrize("payload", [b"\xff\xff\xff", b"\x0a\x05ab", b"\x0b"])
def test_a_malformed_message_is_invalid_argument(server, payload):
    with server.channel() as channel:
        with pytest.raises(grpc.RpcError) as failure:
            channel.unary_unary(HEALTH_CHECK)(payload, timeout=10)
    assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "not a valid HealthCheckRequest" in failure.value.details()
    assert_still_serving(server)


def test_a_compressed_message_is_unimplemented(server):
    with server.channel() as channel:
        with pytest.raises(grpc.RpcError) as failure:
            channel.unary_unary(HEALTH_CHECK)(b"\x0a\x03abc" * 100, timeout=10,
                                              compression=grpc.Compression.Gzip)
    assert failure.value.code() == grpc.StatusCode.UNIMPLEMENTED
    assert "compressed messages are not supported" in failure.value.details()
    assert_still_serving(server)


def test_a_deadline_ends_a_call_with_deadline_exceeded(server):
    with server.channel() as channel:
        updates = channel.unary_stream(HEALTH_WATCH)(b"", timeout=0.5)
        with pytest.raises(grpc.RpcError) as failure:
            for _ in updates:
                pass
    assert failure.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert_still_serving(server)


def test_a_client_cancel_ends_the_call_and_the_server_keeps_serving(server):
    with server.channel() as channel:
        calls = [channel.unary_stream(HEALTH_WATCH)(b"", timeout=30) for _ in range(20)]
        for call in calls:
            assert next(call) == SERVING
            call.cancel()
        assert all(call.code() == grpc.StatusCode.CANCELLED for call in calls)
        assert health_check(channel) == SERVING


# Load


def test_500_concurrent_calls_on_one_connection(server):
    with server.channel() as channel:
        check = channel.unary_unary(HEALTH_CHECK)
        futures = [check.future(b"", timeout=60) for _ in range(500)]
        assert [future.result() for future in futures] == [SERVING] * 500


def test_500_concurrent_calls_over_ten_connections(server):
    results = []

    def client():
        with server.channel() as channel:
            check = channel.unary_unary(HEALTH_CHECK)
            futures = [check.future(b"", timeout=60) for _ in range(50)]
            results.extend(future.result() for future in futures)

    threads = [threading.Thread(target=client) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [SERVING] * 500


def test_the_stream_limit_is_advertised_and_calls_beyond_it_wait(tmp_path):
    spoold = Spoold(tmp_path, "--max-concurrent-streams", "2")
    try:
        frames = subprocess.run(["nghttp", "-v", f"http://{spoold.address}/grpc.health.v1.Health/Check"],
                                capture_output=True, text=True, timeout=30).stdout
        assert "[SETTINGS_MAX_CONCURRENT_STREAMS(0x03):2]" in frames
        with spoold.channel() as channel:
            # Both slots held by Watch streams: a Check waits for one, it does not fail.
            watches = [channel.unary_stream(HEALTH_WATCH)(b"", timeout=30) for _ in range(2)]
            assert [next(watch) for watch in watches] == [SERVING, SERVING]
            check = channel.unary_unary(HEALTH_CHECK).future(b"", timeout=30)
            watches[0].cancel()
            assert check.result() == SERVING
            watches[1].cancel()
            futures = [channel.unary_unary(HEALTH_CHECK).future(b"", timeout=30) for _ in range(50)]
            assert [future.result() for future in futures] == [SERVING] * 50
    finally:
        spoold.terminate()


# Clients that do not speak gRPC over HTTP/2


def test_an_http1_client_is_answered_by_the_http_face_and_disconnected_when_it_asks(server):
    # (With --no-http it gets 505 instead: test_http.py.)
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := sock.recv(4096):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
    assert answer.endswith(b"\r\n\r\nSERVING\n")
    assert_still_serving(server)


def test_garbage_bytes_close_the_connection(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"\x00\x01\x02 not a preface at all \xff" * 10)
        while sock.recv(4096):
            pass
    assert_still_serving(server)


# Start and stop


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_tells_watchers_not_serving_then_ends_streams_unavailable(own_server, stop_signal):
    with own_server.channel() as channel:
        updates = channel.unary_stream(HEALTH_WATCH)(b"", timeout=30)
        assert next(updates) == SERVING
        own_server.process.send_signal(stop_signal)
        code, out = own_server.terminate()
        assert next(updates) == NOT_SERVING
        with pytest.raises(grpc.RpcError) as failure:
            next(updates)
    assert failure.value.code() == grpc.StatusCode.UNAVAILABLE
    assert failure.value.details() == "the server is shutting down"
    assert code == 0
    assert "shutting down" in out and "stopped" in out


def test_the_database_is_created_in_wal_mode_with_the_schema(server):
    assert server.db.exists()
    assert any(line.startswith(f"spoold: database {server.db} (schema 6, durability full)") for line in server.banner)
    with sqlite3.connect(server.db) as database:
        assert database.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert database.execute("PRAGMA user_version").fetchone() == (6,)
        assert database.execute("SELECT count(*) FROM jobs").fetchone() == (0,)
        assert database.execute("SELECT count(*) FROM batches").fetchone() == (0,)
        assert database.execute("SELECT count(*) FROM job_labels").fetchone() == (0,)


def test_an_unusable_database_path_is_refused_with_sqlites_reason(tmp_path):
    result = subprocess.run([spoold_binary(), "--listen", "127.0.0.1:0", "--db", str(tmp_path / "missing" / "spool.db")],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert "--db: cannot open database" in result.stderr and "unable to open database file" in result.stderr


def test_durability_normal_is_accepted_and_other_values_refused(tmp_path):
    spoold = Spoold(tmp_path, "--durability", "normal")
    try:
        assert any("durability normal" in line for line in spoold.banner)
    finally:
        spoold.terminate()
    result = subprocess.run([spoold_binary(), "--durability", "fast"], capture_output=True, text=True, timeout=30)
    assert result.returncode != 0 and "'full' and 'normal'" in result.stderr


@pytest.mark.parametrize("listen", ["nonsense", "127.0.0.1:99999", ":50051"])
def test_a_bad_listen_address_is_refused_with_a_message(listen):
    result = subprocess.run([spoold_binary(), "--listen", listen], capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert "--listen must be HOST:PORT" in result.stderr


def test_a_port_in_use_is_refused(server, tmp_path):
    result = subprocess.run([spoold_binary(), "--listen", server.address, "--db", str(tmp_path / "other.db")],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert f"cannot listen on {server.address}" in result.stderr


def test_every_library_of_spoold_allocates_with_mimalloc():
    # The dynamic linker's own account (glibc's LD_DEBUG) of where each
    # library's malloc and free calls go: to mimalloc, not to libc.
    result = subprocess.run([spoold_binary(), "--help"], capture_output=True, text=True, timeout=30,
                            env={**os.environ, "LD_DEBUG": "bindings"})
    assert result.returncode == 0
    bindings = {}
    for line in result.stderr.splitlines():
        if (match := re.search(r"binding file (\S+) \[\d+\] to (\S+) \[\d+\]: normal symbol `(malloc|free)'", line)):
            bindings.setdefault(match[3], {})[pathlib.Path(match[1]).name] = pathlib.Path(match[2]).name
    for symbol in ("malloc", "free"):
        callers = bindings.get(symbol, {})
        for library in ("libc.so.6", "libswiftCore.so", "libsqlite3.so.0"):
            assert callers.get(library, "").startswith("libmimalloc.so"), (symbol, library, callers)
