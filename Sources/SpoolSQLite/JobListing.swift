import SpoolCore

/// `JobStore.jobs(matching:)` on SQLite (schema version 4's indexes). The
/// jobs come from one ordered index scan per state asked for, merged: on
/// `jobs_queue_state` with a queue, `jobs_state` otherwise (a type is
/// checked on its rows: no index of types, which cost a quarter of
/// EnqueueBatch's throughput); or from `job_labels` with labels and
/// neither queue nor type; or by seq with no filter. Every other filter is
/// checked on the rows the scan reaches. Created-at bounds become seq
/// bounds too (seqs are given in creation order), found by binary search.
struct JobListing {
    let database: SQLiteDatabase

    private struct Conditions {
        var sql: [String] = []
        var values: [SQLiteStatement.Value] = []

        mutating func add(_ condition: String, _ values: SQLiteStatement.Value...) {
            sql.append(condition)
            self.values += values
        }

        var whereClause: String { sql.isEmpty ? "" : " WHERE " + sql.joined(separator: " AND ") }
    }

    func page(_ query: JobQuery) throws -> JobPage {
        let columns = Row.columns.map { "jobs.\($0)" }.joined(separator: ", ")
        var labels = query.labels.sorted { $0.key < $1.key }
        let drivenByLabel = !labels.isEmpty && query.queue == nil && query.type == nil
        let driver = drivenByLabel ? labels.removeFirst() : nil
        // The seq the scan is ordered by: a range on it is a range of the scan's index.
        let seq = drivenByLabel ? "l.seq" : "jobs.seq"

        var filters = Conditions()
        if let queue = query.queue { filters.add("jobs.queue = ?", .text(queue)) }
        if let type = query.type { filters.add("jobs.type = ?", .text(type)) }
        if let batch = query.batchID {
            // A batch's jobs lie in its range of seqs (table batches).
            filters.add("""
                \(seq) BETWEEN coalesce((SELECT first_seq FROM batches WHERE id = ?), 1)
                AND coalesce((SELECT last_seq FROM batches WHERE id = ?), 0) AND jobs.batch_id = ?
                """, .text(batch), .text(batch), .text(batch))
        }
        if let after = query.createdAfterMs {
            filters.add("\(seq) >= ?", .integer(try firstSeq(createdAtOrAfter: after)))
            filters.add("jobs.created_at_ms >= ?", .integer(after))
        }
        if let before = query.createdBeforeMs {
            filters.add("\(seq) < ?", .integer(try firstSeq(createdAtOrAfter: before)))
            filters.add("jobs.created_at_ms < ?", .integer(before))
        }
        for (key, value) in labels {
            filters.add("EXISTS (SELECT 1 FROM job_labels AS other WHERE other.key = ? AND other.value = ? AND other.seq = jobs.seq)",
                        .text(key), .text(value))
        }
        let states = query.states.isEmpty ? JobState.allCases : Array(Set(query.states)).sorted { $0.rawValue < $1.rawValue }

        // (FROM, conditions) of each scan; their rows are merged by seq.
        var scans: [(from: String, conditions: Conditions)] = []
        if let driver {
            var conditions = filters
            conditions.add("l.key = ?", .text(driver.key))
            conditions.add("l.value = ?", .text(driver.value))
            if !query.states.isEmpty { conditions.add(Self.stateIn(states)) }
            // CROSS JOIN keeps job_labels outermost: its rows come in seq order.
            scans.append(("job_labels AS l CROSS JOIN jobs ON jobs.seq = l.seq", conditions))
        } else if query.queue != nil || query.type != nil || !query.states.isEmpty {
            for state in states {
                var conditions = filters
                conditions.add("jobs.state = ?", .integer(Int64(state.rawValue)))
                scans.append(("jobs", conditions))
            }
        } else {
            scans.append(("jobs", filters))
        }

        var rows: [JobRecord] = []
        for scan in scans {
            var conditions = scan.conditions
            if let cursor = query.afterSeq { conditions.add(query.oldestFirst ? "\(seq) > ?" : "\(seq) < ?", .integer(cursor)) }
            let select = try database.prepare("""
                SELECT \(columns) FROM \(scan.from)\(conditions.whereClause) ORDER BY \(seq) \(query.oldestFirst ? "ASC" : "DESC") LIMIT ?
                """)
            try select.bind(conditions.values + [.integer(Int64(query.pageSize + 1))])
            while try select.step() { rows.append(try Row.record(from: select)) }
        }
        rows.sort { query.oldestFirst ? $0.seq < $1.seq : $0.seq > $1.seq }
        let page = Array(rows.prefix(query.pageSize))

        // The total: counted for a first page (each match read once from the
        // scan's index); later pages carry the first page's.
        var total = query.knownTotal ?? 0
        if query.knownTotal == nil {
            for scan in scans {
                let count = try database.prepare("SELECT count(*) FROM \(scan.from)\(scan.conditions.whereClause)")
                try count.bind(scan.conditions.values)
                if try count.step() { total += Int(count.integer(0)) }
            }
        }
        return JobPage(jobs: page, nextAfterSeq: rows.count > page.count ? page.last?.seq : nil, total: total)
    }

    private static func stateIn(_ states: [JobState]) -> String {
        "jobs.state IN (\(states.map { String($0.rawValue) }.joined(separator: ", ")))"
    }

    /// The first seq whose job was created at or after `ms` (past the last
    /// seq if none): a binary search of point reads by seq.
    private func firstSeq(createdAtOrAfter ms: Int64) throws -> Int64 {
        let atOrAfter = try database.prepare("SELECT seq, created_at_ms FROM jobs WHERE seq >= ? ORDER BY seq LIMIT 1")
        func probe(_ seq: Int64) throws -> (seq: Int64, createdAtMs: Int64)? {
            atOrAfter.reset()
            try atOrAfter.bind([.integer(seq)])
            return try atOrAfter.step() ? (atOrAfter.integer(0), atOrAfter.integer(1)) : nil
        }
        // Two statements: SQLite reads min() or max() of the rowid in O(1) only alone.
        let first = try database.prepare("SELECT seq FROM jobs ORDER BY seq LIMIT 1")
        let last = try database.prepare("SELECT seq FROM jobs ORDER BY seq DESC LIMIT 1")
        guard try first.step(), try last.step() else { return 1 }
        var low = first.integer(0), high = last.integer(0) + 1  // the answer is in low...high
        while low < high {
            let middle = low + (high - low) / 2
            guard let found = try probe(middle) else { high = middle; continue }
            if found.createdAtMs >= ms { high = min(middle, found.seq) } else { low = found.seq + 1 }
        }
        return low
    }
}
