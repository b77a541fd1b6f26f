import PostgresNIO
import SpoolCore

/// `JobStore.jobs(matching:)` on PostgreSQL: the filters as one WHERE,
/// ordered by seq, which the indexes on (state, seq) and (queue, state,
/// seq) and the labels' (key, value, seq) serve; a first page also counts
/// every match.
struct PostgresListing {
    let connection: PostgresConnection

    func page(_ query: JobQuery) async throws -> JobPage {
        var binds = PostgresBindings()
        var conditions: [String] = []
        func parameter(_ value: some PostgresDynamicTypeEncodable) -> String {
            binds.append(value)
            return "$\(binds.count)"
        }
        if let queue = query.queue { conditions.append("queue = \(parameter(JobRow.clean(queue)))") }
        if let type = query.type { conditions.append("type = \(parameter(JobRow.clean(type)))") }
        if let batch = query.batchID { conditions.append("batch_id = \(parameter(JobRow.clean(batch)))") }
        if !query.states.isEmpty {
            conditions.append("state = ANY(\(parameter(Array(Set(query.states.map { Int64($0.rawValue) })).sorted()))::bigint[])")
        }
        if let after = query.createdAfterMs { conditions.append("created_at_ms >= \(parameter(after))") }
        if let before = query.createdBeforeMs { conditions.append("created_at_ms < \(parameter(before))") }
        for (key, value) in query.labels.sorted(by: { $0.key < $1.key }) {
            conditions.append("""
                EXISTS (SELECT 1 FROM job_labels AS l WHERE l.key = \(parameter(JobRow.clean(key))) \
                AND l.value = \(parameter(JobRow.clean(value))) AND l.seq = jobs.seq)
                """)
        }
        let filters = conditions
        let filterBinds = binds
        if let cursor = query.afterSeq { conditions.append(query.oldestFirst ? "seq > \(parameter(cursor))" : "seq < \(parameter(cursor))") }
        func whereClause(_ conditions: [String]) -> String {
            conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        }
        let sql = """
            SELECT \(JobRow.selectColumns) FROM jobs\(whereClause(conditions))
            ORDER BY seq \(query.oldestFirst ? "ASC" : "DESC") LIMIT \(parameter(Int64(query.pageSize + 1)))
            """
        let rows = try await JobRow.records(connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: PostgresJobStore.logger))
        let page = Array(rows.prefix(query.pageSize))
        var total = query.knownTotal ?? 0
        if query.knownTotal == nil {
            let count = try await connection.query(
                PostgresQuery(unsafeSQL: "SELECT count(*) FROM jobs\(whereClause(filters))", binds: filterBinds), logger: PostgresJobStore.logger)
            total = Int(try await PostgresJobStore.single(Int64.self, count) ?? 0)
        }
        return JobPage(jobs: page, nextAfterSeq: rows.count > page.count ? page.last?.seq : nil, total: total)
    }
}
