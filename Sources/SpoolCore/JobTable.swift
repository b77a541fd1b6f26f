/// The unfinished jobs, held in memory by the engine (without payloads),
/// with the indexes its requests need. Terminal jobs leave it once their
/// state is committed; the store answers for them after that.
struct JobTable {
    private(set) var records: [Int64: JobRecord] = [:]
    private var seqByID: [String: Int64] = [:]
    private var seqByIdempotencyKey: [String: Int64] = [:]
    /// Per batch, its members still here.
    private(set) var batchMembers: [String: Set<Int64>] = [:]

    var count: Int { records.count }

    subscript(seq: Int64) -> JobRecord? { records[seq] }

    func seq(ofJob id: String) -> Int64? { seqByID[id] }
    func seq(ofIdempotencyKey key: String) -> Int64? { seqByIdempotencyKey[key] }
    func record(id: String) -> JobRecord? { seqByID[id].flatMap { records[$0] } }

    mutating func insert(_ record: JobRecord) {
        records[record.seq] = record
        seqByID[record.id] = record.seq
        if let key = record.idempotencyKey { seqByIdempotencyKey[key] = record.seq }
        if let batch = record.batchId { batchMembers[batch, default: []].insert(record.seq) }
    }

    /// Replaces the record of a job that is here (its id and keys unchanged).
    mutating func update(_ record: JobRecord) {
        precondition(records[record.seq] != nil, "job \(record.id) is not in the table")
        records[record.seq] = record
    }

    mutating func remove(_ seq: Int64) {
        guard let record = records.removeValue(forKey: seq) else { return }
        seqByID[record.id] = nil
        if let key = record.idempotencyKey, seqByIdempotencyKey[key] == seq { seqByIdempotencyKey[key] = nil }
        if let batch = record.batchId {
            batchMembers[batch]?.remove(seq)
            if batchMembers[batch]?.isEmpty == true { batchMembers[batch] = nil }
        }
    }
}
