#!/usr/bin/env bash
# Unary RPC throughput: h2load drives one RPC against a release spoold on
# loopback, and this prints the requests (and jobs) per second it saw. Both
# share this machine's cores.
#
#   scripts/bench-rpc.sh [RPC] [REQUESTS] [CLIENTS] [STREAMS_PER_CLIENT] [SERVER_THREADS]
#
#   health   grpc.health.v1.Health/Check, a no-op: the transport's cost
#            (defaults 1000000 requests, -c 8 -m 32, 2 threads)
#   enqueue  spool.v1.JobQueue/Enqueue of one job, durable (synchronous=FULL,
#            group commit); run_at is far ahead so the jobs wait and the
#            figure is the enqueue path alone (defaults 200000, -c 8 -m 32)
#   batch    spool.v1.JobQueue/EnqueueBatch of 1000 jobs each, durable, with
#            a far-ahead run_at like enqueue (defaults 1000 requests =
#            1000000 jobs, -c 2 -m 2: a run of some seconds, with the
#            checkpoints and the growing job table of a sustained load)
#   batch-queued  the same with jobs that are due at once: the server's one
#            worker is kept busy by a long spool.sleep job, so the jobs wait
#            QUEUED in the ready queue, each answered with its position
#
# SPOOL_BENCH_DB=postgres://… runs spoold on that PostgreSQL (a schema of
# its own, dropped after) instead of a SQLite file, e.g. the one
# scripts/postgres.sh start prints.
set -euo pipefail
cd "$(dirname "$0")/.."
rpc=${1:-health}
case "$rpc" in
  health) defaults=(1000000 8 32); jobs_per_request=0 ;;
  enqueue) defaults=(200000 8 32); jobs_per_request=1 ;;
  batch|batch-queued) defaults=(1000 2 2); jobs_per_request=1000 ;;
  *) echo "bench-rpc: RPC is health, enqueue, batch or batch-queued (got $rpc)" >&2; exit 2 ;;
esac
requests=${2:-${defaults[0]}}
clients=${3:-${defaults[1]}}
streams=${4:-${defaults[2]}}
threads=${5:-2}

command -v h2load >/dev/null || scripts/setup.sh --test
swift build -c release --product spoold >/dev/null

work=$(mktemp -d)
db="$work/spool.db"
schema=""
if [ -n "${SPOOL_BENCH_DB:-}" ]; then
  schema="bench_$(date +%s%N)"
  db="$SPOOL_BENCH_DB$(case "$SPOOL_BENCH_DB" in *\?*) echo "&" ;; *) echo "?" ;; esac)schema=$schema"
fi
# psql wants the URL without spoold's own parameters.
psql_url() { echo "${SPOOL_BENCH_DB%%\?*}"; }
cleanup() {
  kill "$server" 2>/dev/null; wait "$server" 2>/dev/null
  [ -z "$schema" ] || psql -q "$(psql_url)" -c "DROP SCHEMA $schema CASCADE" >/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
# The request: one gRPC frame (flag 0, 4-byte big-endian length, message).
case "$rpc" in
  health) path=grpc.health.v1.Health/Check; message=grpc.health.v1.HealthCheckRequest; text="" ;;
  enqueue) path=spool.v1.JobQueue/Enqueue; message=spool.v1.EnqueueRequest
           text='job { type: "spool.echo" payload: "x" run_at_ms: 4000000000000 }' ;;
  batch) path=spool.v1.JobQueue/EnqueueBatch; message=spool.v1.EnqueueBatchRequest
         text=$(for _ in $(seq 1000); do printf 'jobs { type: "spool.echo" payload: "x" run_at_ms: 4000000000000 } '; done) ;;
  batch-queued) path=spool.v1.JobQueue/EnqueueBatch; message=spool.v1.EnqueueBatchRequest
         text=$(for _ in $(seq 1000); do printf 'jobs { type: "spool.echo" payload: "x" } '; done) ;;
esac
server_options=()
[ "$rpc" = batch-queued ] && server_options=(--workers 1)
# grpc_frame MESSAGE TEXT: the message in protobuf text format, encoded and framed.
grpc_frame() {
  echo "$2" | protoc -Iproto --encode="$1" proto/spool/v1/queue.proto proto/grpc/health/v1/health.proto |
    python3 -c 'import sys; m = sys.stdin.buffer.read(); sys.stdout.buffer.write(b"\0" + len(m).to_bytes(4, "big") + m)'
}
grpc_frame "$message" "$text" > "$work/body.bin"

# The last run's database may still be on its way to the disk; its writes
# would slow this run's fsyncs (a run straight after another measured slower).
sync
.build/release/spoold --listen 127.0.0.1:0 --db "$db" --threads "$threads" --max-depth 0 "${server_options[@]}" > "$work/spoold.out" &
server=$!
until grep -q "^spoold: listening on" "$work/spoold.out" 2>/dev/null; do
  kill -0 "$server" || { echo "bench-rpc: spoold did not start" >&2; exit 1; }
  sleep 0.05
done
address=$(sed -n 's/^spoold: listening on //p' "$work/spoold.out")

url="http://$address/$path"
headers=(-H "content-type: application/grpc" -H "te: trailers")
blockers=0
if [ "$rpc" = batch-queued ]; then
  # An hour-long job takes the one worker first.
  grpc_frame spool.v1.EnqueueRequest 'job { type: "spool.sleep" payload: "{\"steps\": 1, \"step_ms\": 3600000}" }' \
    > "$work/blocker.body"
  h2load -n 1 -d "$work/blocker.body" "${headers[@]}" "http://$address/spool.v1.JobQueue/Enqueue" >/dev/null
  blockers=1
fi
# Warm up, then measure.
h2load -n $((requests / 20 + 1)) -c "$clients" -m "$streams" -d "$work/body.bin" "${headers[@]}" "$url" >/dev/null
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$server/stat"; }
before=$(cpu_ticks); machine_before=$(head -1 /proc/stat)
h2load -n "$requests" -c "$clients" -m "$streams" -d "$work/body.bin" "${headers[@]}" "$url" > "$work/h2load.out"
after=$(cpu_ticks); machine_after=$(head -1 /proc/stat)
grep -E "^finished in|^requests:|^status codes:" "$work/h2load.out"
rps=$(sed -n 's/^finished in .*, \([0-9.]*\) req\/s.*/\1/p' "$work/h2load.out")
# Server CPU time per call: steadier than req/s when h2load shares the cores.
cpu_us=$(awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" -v n="$requests" 'BEGIN { printf "%.2f", t / hz * 1e6 / n }')
if [ "$jobs_per_request" -gt 0 ]; then
  # Every answer must have been a stored job, not an error in the trailers.
  count_jobs() {
    if [ -n "$schema" ]; then
      psql -At "$(psql_url)" -c "SELECT count(*) FROM $schema.jobs $1"
    else
      python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' \
        "$work/spool.db" "SELECT count(*) FROM jobs $1"
    fi
  }
  stored=$(count_jobs "")
  expected=$(( (requests / 20 + 1 + requests) * jobs_per_request + blockers ))
  [ "$stored" -eq "$expected" ] || { echo "bench-rpc: $stored jobs stored, $expected expected" >&2; exit 1; }
  if [ "$rpc" = batch-queued ]; then
    queued=$(count_jobs "WHERE state = 2")
    [ "$queued" -eq $((expected - 1)) ] || { echo "bench-rpc: $queued jobs QUEUED, $((expected - 1)) expected" >&2; exit 1; }
  fi
fi
jobs=""
[ "$jobs_per_request" -gt 0 ] && jobs=$(awk -v r="$rps" -v j="$jobs_per_request" 'BEGIN { printf ", %.0f jobs/s", r * j }')
store=SQLite; [ -z "$schema" ] || store=PostgreSQL
echo "bench-rpc: ${rps} req/s${jobs}, server CPU ${cpu_us} µs/call ($path on $store, -c $clients -m $streams, $threads server threads, $(nproc) cores)"
# The machine's cores meanwhile (/proc/stat): the share left idle (waits on
# the disk included), and the share the hypervisor gave to other machines
# (steal), which slows a run without showing in anyone's CPU time. The total
# leaves out the guest fields (9 and 10), which user and nice already count.
echo "$machine_before" "$machine_after" | awk '{
  n = (NF - 2) / 2; total = 0
  for (i = 2; i <= n + 1; i++) { d[i - 1] = $(i + n + 1) - $i; if (i - 1 <= 8) total += d[i - 1] }
  printf "bench-rpc: cores %.0f%% idle, %.0f%% stolen by the host\n", 100 * (d[4] + d[5]) / total, 100 * d[8] / total
}'
