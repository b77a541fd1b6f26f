#!/usr/bin/env bash
# Unary RPC throughput of the transport: h2load drives grpc.health.v1.Health/Check
# (a no-op unary RPC) against a release spoold on loopback, and this prints
# the requests per second it saw. Both share this machine's cores.
#
#   scripts/bench-rpc.sh [REQUESTS] [CLIENTS] [STREAMS_PER_CLIENT] [SERVER_THREADS]
#   defaults:             1000000    8         32                   2
set -euo pipefail
cd "$(dirname "$0")/.."
requests=${1:-1000000}
clients=${2:-8}
streams=${3:-32}
threads=${4:-2}

command -v h2load >/dev/null || scripts/setup.sh --test
swift build -c release --product spoold >/dev/null

work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -rf "$work"' EXIT
# One gRPC frame: uncompressed, length 0 (an empty HealthCheckRequest).
printf '\x00\x00\x00\x00\x00' > "$work/body.bin"

.build/release/spoold --listen 127.0.0.1:0 --db "$work/spool.db" --threads "$threads" > "$work/spoold.out" &
server=$!
until grep -q "listening on" "$work/spoold.out" 2>/dev/null; do
  kill -0 "$server" || { echo "bench-rpc: spoold did not start" >&2; exit 1; }
  sleep 0.05
done
address=$(sed -n 's/^spoold: listening on //p' "$work/spoold.out")

url="http://$address/grpc.health.v1.Health/Check"
headers=(-H "content-type: application/grpc" -H "te: trailers")
# Warm up, then measure.
h2load -n 20000 -c "$clients" -m "$streams" -d "$work/body.bin" "${headers[@]}" "$url" >/dev/null
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$server/stat"; }
before=$(cpu_ticks)
h2load -n "$requests" -c "$clients" -m "$streams" -d "$work/body.bin" "${headers[@]}" "$url" > "$work/h2load.out"
after=$(cpu_ticks)
grep -E "^finished in|^requests:|^status codes:" "$work/h2load.out"
rps=$(sed -n 's/^finished in .*, \([0-9.]*\) req\/s.*/\1/p' "$work/h2load.out")
# Server CPU time per call: steadier than req/s when h2load shares the cores.
cpu_us=$(awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" -v n="$requests" 'BEGIN { printf "%.2f", t / hz * 1e6 / n }')
echo "bench-rpc: ${rps} req/s, server CPU ${cpu_us} µs/call (unary Health/Check, -c $clients -m $streams, $threads server threads, $(nproc) cores)"
