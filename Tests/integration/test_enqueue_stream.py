"""EnqueueStream through grpcio: one job per message, each answered once committed."""
import sqlite3
import threading
import time
import urllib.request

import grpc
import pytest

from conftest import Spoold


@pytest.fixture(scope="module")
def streaming(tmp_path_factory, pb):
    queue_pb2, queue_pb2_grpc = pb
    spoold = Spoold(tmp_path_factory.mktemp("stream"))
    channel = spoold.channel()
    yield spoold, queue_pb2, queue_pb2_grpc.JobQueueStub(channel)
    channel.close()
    spoold.terminate()


def test_good_and_bad_jobs_interleaved_each_get_their_own_answer(streaming):
    spoold, queue_pb2, stub = streaming
    jobs = []
    for n in range(200):
        if n % 10 == 3:
            spec = queue_pb2.JobSpec(type="no.such.type")
        elif n % 10 == 7:
            spec = None
        else:
            spec = queue_pb2.JobSpec(type="spool.echo", labels={"stream": "mixed", "n": str(n)})
        jobs.append(queue_pb2.EnqueueStreamRequest(correlation_id=1000 + n, job=spec))
    answers = {answer.correlation_id: answer for answer in stub.EnqueueStream(iter(jobs), timeout=60)}
    assert sorted(answers) == [1000 + n for n in range(200)]
    for n in range(200):
        answer = answers[1000 + n]
        if n % 10 == 3:
            assert answer.error_code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
            assert "no handler for job type" in answer.error_message and not answer.HasField("job")
        elif n % 10 == 7:
            assert answer.error_code == grpc.StatusCode.INVALID_ARGUMENT.value[0] and answer.error_message == "job is required"
        else:
            assert answer.error_code == 0 and answer.job.id and answer.job.labels["n"] == str(n)
    listed = stub.ListJobs(queue_pb2.ListJobsRequest(labels={"stream": "mixed"}))
    assert listed.total == 160


def test_a_stream_cut_midway_loses_nothing_answered_and_a_resend_with_keys_stores_nothing_twice(streaming):
    spoold, queue_pb2, stub = streaming
    requests = [queue_pb2.EnqueueStreamRequest(correlation_id=n, job=queue_pb2.JobSpec(
        type="spool.echo", idempotency_key=f"cut-{n}", labels={"stream": "cut"})) for n in range(500)]
    answered = {}
    call = stub.EnqueueStream(iter(requests), timeout=60)
    for answer in call:
        answered[answer.correlation_id] = answer.job.id
        if len(answered) == 100:
            call.cancel()
            break
    # Every answered job is stored; resending all with their keys stores only the missing ones.
    again = {a.correlation_id: a for a in stub.EnqueueStream(iter(requests), timeout=60)}
    assert len(again) == 500 and all(a.error_code == 0 for a in again.values())
    for n, job_id in answered.items():
        assert again[n].deduplicated and again[n].job.id == job_id
    assert stub.ListJobs(queue_pb2.ListJobsRequest(labels={"stream": "cut"})).total == 500


def test_many_jobs_on_one_stream_are_all_answered_while_the_server_bounds_what_is_in_flight(streaming):
    spoold, queue_pb2, stub = streaming
    count = 5000
    requests = (queue_pb2.EnqueueStreamRequest(correlation_id=n, job=queue_pb2.JobSpec(
        type="spool.echo", run_at_ms=4102444800000, labels={"stream": "many"})) for n in range(count))
    seen = set()
    for answer in stub.EnqueueStream(requests, timeout=120):
        assert answer.error_code == 0 and answer.packs
        assert not answer.more  # a client that does not pack gets its answers one a message
        seen.add(answer.correlation_id)
    assert seen == set(range(count))


def test_a_message_that_does_not_decode_ends_the_call_with_invalid_argument(streaming):
    spoold, queue_pb2, stub = streaming
    with spoold.channel() as channel:
        call = channel.stream_stream("/spool.v1.JobQueue/EnqueueStream")
        with pytest.raises(grpc.RpcError) as error:
            list(call(iter([b"\xff\xff\xff"]), timeout=30))
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_several_producers_share_the_server_each_on_its_stream(streaming):
    spoold, queue_pb2, stub = streaming
    results = []

    def produce(worker):
        requests = [queue_pb2.EnqueueStreamRequest(correlation_id=n, job=queue_pb2.JobSpec(
            type="spool.echo", labels={"stream": "many-producers"})) for n in range(300)]
        results.append(sum(1 for a in stub.EnqueueStream(iter(requests), timeout=60) if a.error_code == 0))

    threads = [threading.Thread(target=produce, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [300] * 4
    assert stub.ListJobs(queue_pb2.ListJobsRequest(labels={"stream": "many-producers"})).total == 1200


def answers_in(messages):
    return [answer for message in messages for answer in [message, *message.more]]


def test_packed_jobs_are_each_taken_and_answered_as_if_sent_alone(streaming):
    spoold, queue_pb2, stub = streaming

    def item(n, spec):
        return queue_pb2.EnqueueStreamRequest(correlation_id=n, job=spec)

    good = queue_pb2.JobSpec(type="spool.echo", labels={"stream": "packed"})
    packed = item(1, good)
    packed.more.extend([item(2, good), item(3, queue_pb2.JobSpec(type="no.such.type")), item(4, None),
                        item(5, queue_pb2.JobSpec(type="spool.echo", idempotency_key="packed-5")),
                        item(6, queue_pb2.JobSpec(type="spool.echo", idempotency_key="packed-5"))])
    answers = {a.correlation_id: a for a in answers_in(stub.EnqueueStream(iter([packed]), timeout=60))}
    assert sorted(answers) == [1, 2, 3, 4, 5, 6]
    assert answers[1].error_code == 0 and answers[2].error_code == 0 and answers[1].job.id != answers[2].job.id
    assert answers[3].error_code == grpc.StatusCode.INVALID_ARGUMENT.value[0] and "no handler" in answers[3].error_message
    assert answers[4].error_message == "job is required"
    assert answers[6].job.id == answers[5].job.id and answers[5].deduplicated != answers[6].deduplicated
    assert stub.ListJobs(queue_pb2.ListJobsRequest(labels={"stream": "packed"})).total == 2


def test_many_packed_messages_are_answered_packed(streaming):
    spoold, queue_pb2, stub = streaming
    messages = []
    for first in range(0, 3000, 300):
        message = queue_pb2.EnqueueStreamRequest(correlation_id=first, job=queue_pb2.JobSpec(type="spool.echo"))
        message.more.extend(queue_pb2.EnqueueStreamRequest(correlation_id=n, job=queue_pb2.JobSpec(
            type="spool.echo", run_at_ms=4102444800000)) for n in range(first + 1, first + 300))
        messages.append(message)
    received = list(stub.EnqueueStream(iter(messages), timeout=120))
    answers = answers_in(received)
    assert sorted(a.correlation_id for a in answers) == list(range(3000))
    assert all(a.error_code == 0 for a in answers)
    assert len(received) < len(answers)  # answers that were ready together came in one message


@pytest.mark.parametrize("more, expected", [(1024, "more has more than 1023 elements"),
                                            ("nested", "more[0].more has more than 0 elements")])
def test_packing_past_its_limits_ends_the_call(streaming, more, expected):
    spoold, queue_pb2, stub = streaming
    message = queue_pb2.EnqueueStreamRequest(correlation_id=1, job=queue_pb2.JobSpec(type="spool.echo"))
    if more == "nested":
        inner = queue_pb2.EnqueueStreamRequest(correlation_id=2)
        inner.more.add(correlation_id=3)
        message.more.append(inner)
    else:
        message.more.extend(queue_pb2.EnqueueStreamRequest(correlation_id=n) for n in range(more))
    with pytest.raises(grpc.RpcError) as refused:
        list(stub.EnqueueStream(iter([message]), timeout=30))
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert expected in refused.value.details(), refused.value.details()


def gauge(spoold, name):
    text = urllib.request.urlopen(f"http://{spoold.address}/metrics", timeout=10).read().decode()
    [value] = [line.split()[-1] for line in text.splitlines() if line.startswith(f"spool_{name} ")]
    return float(value)


def test_a_slow_commit_holds_a_producer_back_with_what_one_call_may_have_in_flight(tmp_path, pb):
    queue_pb2, queue_pb2_grpc = pb
    spoold = Spoold(tmp_path)
    try:
        with spoold.channel() as channel:
            stub = queue_pb2_grpc.JobQueueStub(channel)
            stub.Enqueue(queue_pb2.EnqueueRequest(job=queue_pb2.JobSpec(type="spool.echo")), timeout=10)
            # Another process holds SQLite's write lock: spoold's commits wait for it (5 s at most).
            holder = sqlite3.connect(spoold.db, timeout=10, isolation_level=None)
            holder.execute("BEGIN IMMEDIATE")
            try:
                requests = (queue_pb2.EnqueueStreamRequest(correlation_id=n, job=queue_pb2.JobSpec(
                    type="spool.echo", run_at_ms=4102444800000)) for n in range(3000))
                call = stub.EnqueueStream(requests, timeout=60)
                answers = []
                reader = threading.Thread(target=lambda: answers.extend(call))
                reader.start()
                deadline = time.monotonic() + 20
                while gauge(spoold, "enqueue_stream_jobs_in_flight") < 1024:
                    assert time.monotonic() < deadline, "the call never filled its places"
                    time.sleep(0.02)
                # Full: the call reads no more until answers free places, and none came.
                assert gauge(spoold, "enqueue_stream_jobs_in_flight") == 1024
                assert gauge(spoold, "enqueue_streams") == 1
                assert not answers
            finally:
                holder.execute("ROLLBACK")
                holder.close()
            reader.join(timeout=60)
            assert sorted(a.correlation_id for a in answers) == list(range(3000))
            assert all(a.error_code == 0 for a in answers)
            assert gauge(spoold, "enqueue_stream_jobs_in_flight") == 0
    finally:
        spoold.terminate()
