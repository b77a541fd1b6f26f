"""Several spoold nodes on one real PostgreSQL (docs/cluster.md): one leads, the others
forward; a leader killed with SIGKILL loses no acknowledged job; a leader paused past
its lease writes nothing when it wakes; workers and progress streams move to the new
leader. Needs SPOOL_TEST_POSTGRES (scripts/test.sh starts one with scripts/postgres.sh)."""
import os
import signal
import subprocess
import threading
import time
import uuid

import grpc
import pytest

from conftest import spoold_binary
from spool_client import Client, JobState, Worker, job_spec

URL = os.environ.get("SPOOL_TEST_POSTGRES", "")
LEASE = 2.0  # seconds: short, so that failovers are quick here

pytestmark = pytest.mark.skipif(not URL and os.environ.get("CI") != "true",
                                reason="SPOOL_TEST_POSTGRES is not set (scripts/postgres.sh start)")


def test_ci_has_postgresql():
    assert URL, "CI must start PostgreSQL (scripts/postgres.sh) and set SPOOL_TEST_POSTGRES"


class Node:
    """One spoold of a cluster; its output is read by a thread, line by line."""

    def __init__(self, db: str, *args: str, lease: float = LEASE):
        self.process = subprocess.Popen(
            [spoold_binary(), "--listen", "127.0.0.1:0", "--db", db, "--lease-seconds", str(lease), *args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        self.changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()
        line = self.wait_for("spoold: follower listening on ")
        self.address = line.split()[4]

    def _read(self):
        for line in self.process.stdout:
            with self.changed:
                self.lines.append(line.rstrip("\n"))
                self.changed.notify_all()
        with self.changed:
            self.changed.notify_all()

    def wait_for(self, prefix: str, timeout: float = 30) -> str:
        """The first line starting with `prefix`, waiting for it if need be."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                for line in self.lines:
                    if line.startswith(prefix):
                        return line
                left = deadline - time.monotonic()
                assert left > 0 and self.process.poll() is None or any(l.startswith(prefix) for l in self.lines), \
                    f"no {prefix!r} from spoold: {self.lines}"
                self.changed.wait(timeout=max(left, 0.01))

    @property
    def leads(self) -> bool:
        with self.changed:
            return any(line.startswith("spoold: listening on ") for line in self.lines)

    def kill(self):
        self.process.kill()
        self.process.wait()

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()


class Cluster:
    """`size` nodes on a schema of their own."""

    def __init__(self, size: int, *args: str):
        self.schema = "cluster_" + uuid.uuid4().hex[:12]
        self.db = URL + ("&" if "?" in URL else "?") + "schema=" + self.schema
        self.nodes = [Node(self.db, *args) for _ in range(size)]

    def leader(self, timeout: float = 30) -> Node:
        deadline = time.monotonic() + timeout
        while True:
            live = [node for node in self.nodes if node.process.poll() is None and node.leads]
            if live:
                return live[0]
            assert time.monotonic() < deadline, "no node took the lead"
            time.sleep(0.05)

    def sql(self, query: str) -> str:
        """One value from psql, in this cluster's schema."""
        plain = URL.split("?")[0]
        return subprocess.run(["psql", plain, "-Atc", f"SET search_path = {self.schema}; {query}"],
                              check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]

    def stop(self):
        for node in self.nodes:
            node.stop()
        for number, node in enumerate(self.nodes):  # shown when a test fails
            print(f"node {number} ({node.address}):", *node.lines, sep="\n  ")


@pytest.fixture
def cluster():
    clusters: list[Cluster] = []

    def make(size: int = 3, *args: str) -> Cluster:
        clusters.append(Cluster(size, *args))
        return clusters[-1]

    yield make
    for made in clusters:
        made.stop()


def wait_until(condition, what: str, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_every_node_serves_grpc_and_http_and_sends_browsers_to_the_leader(cluster, grpcurl):
    made = cluster(3)
    leader = made.leader()
    follower = next(node for node in made.nodes if node is not leader)
    follower.wait_for("spoold: following the leader at ")
    with Client(follower.address) as client:
        job = client.enqueue("spool.echo", b"through a follower")
        assert client.wait(job.job.id).state == JobState.SUCCEEDED
    # grpcurl through the follower: reflection is its own, the call is the leader's.
    listed = subprocess.run([grpcurl, "-plaintext", follower.address, "list"], capture_output=True, text=True, check=True)
    assert "spool.v1.JobQueue" in listed.stdout
    status = subprocess.run([grpcurl, "-plaintext", "-d", "{}", follower.address, "spool.v1.JobQueue/GetStatus"],
                            capture_output=True, text=True, check=True)
    assert '"name": "default"' in status.stdout
    health = subprocess.run([grpcurl, "-plaintext", follower.address, "grpc.health.v1.Health/Check"],
                            capture_output=True, text=True, check=True)
    assert "SERVING" in health.stdout
    import urllib.request
    with urllib.request.urlopen(f"http://{follower.address}/api/v1/status") as answer:  # follows the 307
        assert answer.url.startswith(f"http://{leader.address}/")
        assert b'"queues"' in answer.read()


def test_a_killed_leader_loses_no_acknowledged_job(cluster):
    made = cluster(3)
    leader = made.leader()
    acked: dict[str, str] = {}  # idempotency key -> job id
    lock = threading.Lock()
    errors: list[BaseException] = []
    killed_at: list[float] = []
    first_after_kill: list[float] = []

    def client_loop(number: int):
        # Each client talks to every node in turn, so some calls go through followers.
        clients = [Client(node.address, timeout=10) for node in made.nodes]
        try:
            for i in range(150):
                key = f"c{number}-{i}"
                for attempt in range(400):
                    client = clients[(i + attempt) % len(clients)]
                    sent = time.monotonic()
                    try:
                        answer = client.enqueue("spool.echo", key.encode(), idempotency_key=key)
                        break
                    except Exception:  # noqa: BLE001 - a node down or no leader yet: the next node
                        time.sleep(0.05)
                else:
                    raise AssertionError(f"{key} was never acknowledged")
                with lock:
                    assert acked.setdefault(key, answer.job.id) == answer.job.id
                    if killed_at and sent > killed_at[0] and not first_after_kill:
                        first_after_kill.append(time.monotonic())  # sent after the kill: the new leader's
        except BaseException as error:  # noqa: BLE001 - reported to the test
            errors.append(error)
        finally:
            for client in clients:
                client.close()

    threads = [threading.Thread(target=client_loop, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    wait_until(lambda: len(acked) >= 150, "150 acknowledged jobs")
    with lock:
        killed_at.append(time.monotonic())
    leader.kill()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors
    assert len(acked) == 600
    print(f"failover: first job acknowledged {first_after_kill[0] - killed_at[0]:.2f} s after SIGKILL")

    new_leader = made.leader()
    assert new_leader is not leader
    with Client(new_leader.address) as client:
        for key, job_id in acked.items():
            job = client.wait(job_id)
            assert job.state == JobState.SUCCEEDED, (key, job)
            assert job.result == key.encode()
    # Each key made one job, and every job ended once, as SUCCEEDED.
    assert made.sql("SELECT count(*) FROM jobs") == "600"
    assert made.sql("SELECT count(DISTINCT idempotency_key) FROM jobs") == "600"
    assert made.sql("SELECT count(*) FROM jobs WHERE state <> 4") == "0"
    assert made.sql("SELECT max(token) FROM leader_lease") == "2"


def test_a_paused_leader_writes_nothing_after_losing_its_lease(cluster):
    made = cluster(2)
    leader = made.leader()
    other = next(node for node in made.nodes if node is not leader)
    other.wait_for("spoold: following the leader at ")
    with Client(leader.address) as client:
        # A job running on the leader when it is paused: its end is a write the leader still owes.
        job = client.enqueue("spool.sleep", b'{"steps": 6, "step_ms": 250}', max_attempts=3)
        wait_until(lambda: made.sql(f"SELECT state FROM jobs WHERE id = '{job.job.id}'") == "3", "the job's start stored")
    leader.process.send_signal(signal.SIGSTOP)
    try:
        other.wait_for("spoold: took the leader lease", timeout=LEASE * 10)
        other.wait_for("spoold: listening on ")
        with Client(other.address) as client:
            ended = client.wait(job.job.id)
            assert ended.state == JobState.SUCCEEDED and ended.attempt == 2  # run again by the new leader
        before = made.sql("SELECT md5(string_agg(seq || ':' || state || ':' || attempt || ':' || updated_at_ms, ',' ORDER BY seq)) FROM jobs")
    finally:
        leader.process.send_signal(signal.SIGCONT)
    assert leader.process.wait(timeout=30) == 3
    assert any("lost the leader lease" in line for line in leader.lines), leader.lines
    after = made.sql("SELECT md5(string_agg(seq || ':' || state || ':' || attempt || ':' || updated_at_ms, ',' ORDER BY seq)) FROM jobs")
    assert after == before
    with Client(other.address) as client:
        assert client.job(job.job.id).attempt == 2


def test_workers_and_progress_streams_move_to_the_new_leader(cluster, tmp_path):
    config = tmp_path / "spool.yaml"
    config.write_text("types:\n  py.echo: {remote: {lease: 1}}\n")
    made = cluster(3, "--config", str(config))
    leader = made.leader()
    via = next(node for node in made.nodes if node is not leader)  # the worker and watcher connect here
    via.wait_for("spoold: following the leader at ")
    worker = Worker(via.address, name="mover", concurrency=8)
    release = threading.Event()  # "hold" jobs run until the leader is gone

    def echo(job):
        if job.payload == b"hold":
            assert release.wait(timeout=60)
        return job.payload

    worker.register("py.echo", echo)
    thread = threading.Thread(target=lambda: worker.run(handle_signals=False), daemon=True)
    thread.start()
    with Client(via.address) as client:
        first = client.enqueue("py.echo", b"before")
        assert client.wait(first.job.id).state == JobState.SUCCEEDED
        batch = client.enqueue_batch([job_spec("py.echo", b"hold") for _ in range(3)])
        wait_until(lambda: all(client.job(job.id).state == JobState.RUNNING for job in batch.jobs), "the batch running")
        events: list = []
        watcher = threading.Thread(target=lambda: events.extend(client.watch(batch_id=batch.batch_id)), daemon=True)
        watcher.start()
        leader.kill()
        second = client.enqueue("py.echo", b"after", idempotency_key="after", retry_for=60)
        assert client.wait(second.job.id).state == JobState.SUCCEEDED  # the worker serves the new leader
        release.set()
        watcher.join(timeout=60)
        assert not watcher.is_alive()
        finished = {event.job.id for event in events if event.job.state == JobState.SUCCEEDED}
        assert finished == {job.id for job in batch.jobs}
    assert worker.stats["connections"] >= 2  # it reconnected after the leader went
    worker.stop()
    thread.join(timeout=30)


def health(grpcurl: str, address: str) -> str:
    answer = subprocess.run([grpcurl, "-plaintext", "-max-time", "5", address, "grpc.health.v1.Health/Check"],
                            capture_output=True, text=True)
    return "SERVING" if '"SERVING"' in answer.stdout else "NOT_SERVING"


def test_nodes_report_not_serving_without_their_database(grpcurl):
    # A PostgreSQL of this test's own, to stop under the nodes' feet.
    port = "54341"
    script = os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "postgres.sh")
    env = dict(os.environ, SPOOL_POSTGRES_PORT=port)
    own = subprocess.run([script, "start"], env=env, check=True, capture_output=True, text=True).stdout.strip()
    nodes = []
    try:
        db = own + "&schema=health"
        nodes = [Node(db) for _ in range(2)]
        deadline = time.monotonic() + 30
        while not any(node.leads for node in nodes):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        leader = next(node for node in nodes if node.leads)
        follower = next(node for node in nodes if node is not leader)
        wait_until(lambda: health(grpcurl, follower.address) == "SERVING", "the follower serving")
        assert health(grpcurl, leader.address) == "SERVING"
        subprocess.run([script, "stop"], env=env, check=True)
        wait_until(lambda: health(grpcurl, follower.address) == "NOT_SERVING", "the follower NOT_SERVING")
        # The leader cannot renew: it reports NOT_SERVING, then gives the lease up by exiting.
        assert leader.process.wait(timeout=30) == 3
        assert any("lost the leader lease" in line for line in leader.lines)
        assert health(grpcurl, follower.address) == "NOT_SERVING"
    finally:
        for node in nodes:
            node.stop()
        subprocess.run([script, "stop"], env=env, check=False)


def test_a_follower_reports_not_serving_while_its_leader_is_unreachable(grpcurl):
    # A long lease, so that the follower has to wait for the dead leader's to run out.
    schema = "cluster_" + uuid.uuid4().hex[:12]
    db = URL + ("&" if "?" in URL else "?") + "schema=" + schema
    nodes = [Node(db, lease=8.0)]
    nodes[0].wait_for("spoold: listening on ")
    nodes.append(Node(db, lease=8.0))
    try:
        leader, follower = nodes
        follower.wait_for("spoold: following the leader at ")
        wait_until(lambda: health(grpcurl, follower.address) == "SERVING", "the follower serving")
        leader.kill()
        wait_until(lambda: health(grpcurl, follower.address) == "NOT_SERVING", "the follower NOT_SERVING", timeout=7)
        assert not follower.leads  # the dead leader's lease still runs: nobody leads yet
        follower.wait_for("spoold: listening on ", timeout=30)
        wait_until(lambda: health(grpcurl, follower.address) == "SERVING", "the new leader serving")
    finally:
        for node in nodes:
            node.stop()


def test_a_bad_database_url_stops_spoold_naming_the_problem():
    base = URL.split("?")[0]  # postgres://spool@127.0.0.1:PORT/spool
    cases = {
        base.replace("spool@", "nobody@", 1) + "?sslmode=disable": 'role "nobody" does not exist',
        base.rsplit("/", 1)[0] + "/nodb?sslmode=disable": 'database "nodb" does not exist',
        base + "?sslmode=maybe": "sslmode",
        base + "?schema=Robert'); DROP": "schema",
        "postgres://spool@127.0.0.1:1/spool?sslmode=disable": "Connection refused",
    }
    for db, words in cases.items():
        answer = subprocess.run([spoold_binary(), "--listen", "127.0.0.1:0", "--db", db],
                                capture_output=True, text=True, timeout=60)
        assert answer.returncode != 0 and words in answer.stderr, (db, answer.stderr)
