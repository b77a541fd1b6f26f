#!/usr/bin/env python3
"""A simulation of per-queue-group leases (docs/scaling.md): how far spreading the
engine over nodes lifts a cluster's throughput, and what sharing a rate key between
nodes costs in accuracy and database round trips.

    python3 Benchmarks/scaling_sim.py [ENGINE_JOBS_PER_S] [DATABASE_JOBS_PER_S]

The two capacities come from measurements on this machine (README's table):
one engine end to end on PostgreSQL (`SpoolBenchmarks stores`), and the database's
total when several engines write to it (`SpoolBenchmarks partitions`). Deterministic
(fixed seeds); prints tables, asserts nothing."""
import random
import sys

ENGINE = float(sys.argv[1]) if len(sys.argv) > 1 else 12_000.0   # jobs/s one engine runs
DATABASE = float(sys.argv[2]) if len(sys.argv) > 2 else 30_000.0  # jobs/s the database commits in all


def workload(queues: int, shared_keys: int, seed: int):
    """Queues with Zipf-like demand (jobs/s, summing to 100,000: more than any
    cluster here can run) and the rate or lock keys they share: `shared_keys` keys,
    each used by a few random queues. Answers (demands, groups): a group is a
    connected set of queues and keys, the unit a lease would own."""
    rng = random.Random(seed)
    weights = [1 / (rank + 1) ** 0.8 for rank in range(queues)]
    total = sum(weights)
    demand = [100_000 * w / total for w in weights]
    parent = list(range(queues))

    def find(q):
        while parent[q] != q:
            parent[q] = parent[parent[q]]
            q = parent[q]
        return q

    for _ in range(shared_keys):
        members = rng.sample(range(queues), rng.randint(2, 4))
        for other in members[1:]:
            parent[find(other)] = find(members[0])
    groups: dict[int, float] = {}
    for q in range(queues):
        groups[find(q)] = groups.get(find(q), 0.0) + demand[q]
    return demand, sorted(groups.values(), reverse=True)


def placed_throughput(groups: list[float], nodes: int) -> tuple[float, float]:
    """Groups placed largest first on the least loaded node (each node one engine,
    ENGINE jobs/s at most, a group never split), then the database's cap. Answers
    (jobs/s, the busiest node's share of its capacity)."""
    load = [0.0] * nodes
    for group in groups:
        least = min(range(nodes), key=lambda n: load[n])
        load[least] += group
    ran = sum(min(l, ENGINE) for l in load)
    return min(ran, DATABASE), max(load) / ENGINE


def token_leasing(nodes: int, rate: float, chunk: int, seconds: float = 120.0, seed: int = 7):
    """One rate key of `rate` tokens/s (burst `rate`) shared by queues on `nodes`
    nodes. Each node's demand comes and goes (on or off for 0.1–0.5 s at a time;
    on, it wants far more than the rate). A node takes `chunk` tokens at a time
    from the database's bucket (one transaction each) and spends them locally;
    tokens a node took and has not spent wait there until it wants work again.
    Time steps of 1 ms. Answers (admitted per second, the worst 1-second window
    over the rate, database transactions per second)."""
    rng = random.Random(seed)
    step = 0.001
    bucket = rate  # the database's bucket, full
    local = [0] * nodes
    active = [rng.random() < 0.5 for _ in range(nodes)]
    switch_at = [rng.uniform(0.1, 0.5) for _ in range(nodes)]
    per_second = [0] * int(seconds + 1)
    transactions = 0
    t = 0.0
    while t < seconds:
        bucket = min(rate, bucket + rate * step)
        for node in rng.sample(range(nodes), nodes):  # nodes race for the bucket in random order
            if t >= switch_at[node]:
                active[node] = not active[node]
                switch_at[node] = t + rng.uniform(0.1, 0.5)
            if not active[node]:
                continue
            for _ in range(3):  # a few jobs a millisecond: demand far above the rate
                if local[node] == 0 and bucket >= chunk:
                    bucket -= chunk
                    local[node] = chunk
                    transactions += 1
                if local[node] > 0:
                    local[node] -= 1
                    per_second[int(t)] += 1
        t += step
    admitted = sum(per_second)
    worst = max(per_second[1:-1])  # skip the first (a full bucket) and the partial last
    return admitted / seconds, worst / rate - 1, transactions / seconds


def main():
    print(f"Engine {ENGINE:,.0f} jobs/s per node, database {DATABASE:,.0f} jobs/s in all.\n")
    print("1. Throughput by placement (32 queues, demand beyond capacity; groups never split)")
    print("| shared keys | groups | largest group | 1 node | 2 nodes | 3 nodes | 5 nodes |")
    print("|---|---|---|---|---|---|---|")
    for shared in (0, 8, 16, 32):
        demand, groups = workload(32, shared, seed=shared + 1)
        cells = []
        for nodes in (1, 2, 3, 5):
            jobs, busiest = placed_throughput(groups, nodes)
            cells.append(f"{jobs:,.0f}")
        share = groups[0] / sum(demand)
        print(f"| {shared} | {len(groups)} | {share:.0%} of demand | " + " | ".join(cells) + " |")

    print("\n2. One rate key of 100 tokens/s shared by queues on several nodes, by token leasing")
    print("| nodes | chunk | admitted/s | worst second over the rate | database transactions/s |")
    print("|---|---|---|---|---|")
    for nodes in (1, 3, 5):
        for chunk in (1, 5, 20):
            admitted, over, transactions = token_leasing(nodes, 100.0, chunk)
            print(f"| {nodes} | {chunk} | {admitted:.1f} | {over:+.0%} | {transactions:.1f} |")


if __name__ == "__main__":
    main()
