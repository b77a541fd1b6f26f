"""EnqueueStream through grpcio: one job per message, each answered once committed."""
import threading

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
        assert answer.error_code == 0
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
