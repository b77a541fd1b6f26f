/// The unfinished jobs, held in memory by the engine (without payloads),
/// with the indexes its requests need. Terminal jobs leave it once their
/// state is committed; the store answers for them after that.
///
/// Records sit in one dense array whose freed slots are reused: a
/// dictionary of records would keep about twice as many value slots as
/// jobs, and a record is some 300 bytes.
struct JobTable {
    private var slots: [JobRecord?] = []
    private var freeSlots: [Int32] = []
    private var slotBySeq = SeqSlots()
    /// Ids that do not carry their job's seq (made by older versions, or
    /// not UUIDs): most jobs need no entry here (`JobID.embeddedSeq`).
    private var seqByOtherID: [JobID: Int64] = [:]
    private var seqByIdempotencyKey: [String: Int64] = [:]
    /// Per batch, its members still here.
    private(set) var batchMembers: [String: SeqSet] = [:]

    subscript(seq: Int64) -> JobRecord? { slotBySeq[seq].flatMap { slots[Int($0)] } }

    /// How many jobs are here.
    var count: Int { slots.count - freeSlots.count }
    /// Every job here, in no order.
    var records: some Sequence<JobRecord> { slots.lazy.compactMap { $0 } }

    func seq(ofJob id: String) -> Int64? { seq(of: JobID(id)) }
    func seq(ofIdempotencyKey key: String) -> Int64? { seqByIdempotencyKey[key] }
    func record(id: String) -> JobRecord? { seq(ofJob: id).flatMap { self[$0] } }

    func seq(of id: JobID) -> Int64? {
        if let seq = id.embeddedSeq, let slot = slotBySeq[seq], slots[Int(slot)]?.jobID == id { return seq }
        return seqByOtherID[id]
    }

    /// Room for `count` jobs without regrowing (start-up knows how many).
    mutating func reserveCapacity(_ count: Int) {
        slots.reserveCapacity(count)
        slotBySeq.reserveCapacity(count)
    }

    mutating func insert(_ record: JobRecord) {
        let slot = freeSlots.popLast() ?? Int32(slots.count)
        guard slotBySeq.insert(record.seq, slot: slot) else { preconditionFailure("job \(record.id) is already in the table") }
        if Int(slot) < slots.count { slots[Int(slot)] = record } else { slots.append(record) }
        if record.jobID.embeddedSeq != record.seq { seqByOtherID[record.jobID] = record.seq }
        if let key = record.idempotencyKey { seqByIdempotencyKey[key] = record.seq }
        if let batch = record.batchId {
            if batchMembers[batch]?.insert(record.seq) == nil { batchMembers[batch] = SeqSet(record.seq) }
        }
    }

    /// Replaces the record of a job that is here (its id and keys unchanged).
    mutating func update(_ record: JobRecord) {
        guard let slot = slotBySeq[record.seq] else { preconditionFailure("job \(record.id) is not in the table") }
        slots[Int(slot)] = record
    }

    mutating func remove(_ seq: Int64) {
        guard let slot = slotBySeq.remove(seq), let record = slots[Int(slot)] else { return }
        slots[Int(slot)] = nil
        freeSlots.append(slot)
        if record.jobID.embeddedSeq != record.seq { seqByOtherID[record.jobID] = nil }
        if let key = record.idempotencyKey, seqByIdempotencyKey[key] == seq { seqByIdempotencyKey[key] = nil }
        if let batch = record.batchId {
            batchMembers[batch]?.remove(seq)
            if batchMembers[batch]?.isEmpty == true { batchMembers[batch] = nil }
        }
    }
}
