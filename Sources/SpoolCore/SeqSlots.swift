/// Which slot of `JobTable` holds the job of each seq. Seqs are handed out
/// in order, so the unfinished jobs' seqs crowd together: they are kept in
/// pages of 512 consecutive seqs, found through a small dictionary, and a
/// page goes once its last job leaves. A new job lands in the page of the
/// one before it, where a `[Int64: Int32]` of a million jobs put each in a
/// random place of a 24 MiB table (a cache miss, and a rehash as it grew).
/// 4 bytes a job when jobs are dense; at worst, one job left in a page,
/// 2 KiB.
struct SeqSlots {
    private static let pageBits = 9
    private static let pageSize = 1 << pageBits
    private static let empty: Int32 = -1

    private struct Page {
        var slots = [Int32](repeating: SeqSlots.empty, count: SeqSlots.pageSize)
        var count = 0

        /// False, and nothing changes, if `index` already has a slot.
        mutating func set(_ index: Int, to slot: Int32) -> Bool {
            guard slots[index] == SeqSlots.empty else { return false }
            slots[index] = slot
            count += 1
            return true
        }

        /// The slot `index` had (`empty` if none).
        mutating func clear(_ index: Int) -> Int32 {
            let slot = slots[index]
            if slot != SeqSlots.empty {
                slots[index] = SeqSlots.empty
                count -= 1
            }
            return slot
        }
    }

    private var pages: [Int64: Page] = [:]

    /// The seqs that have a slot.
    var count: Int { pages.values.reduce(0) { $0 + $1.count } }

    private static func split(_ seq: Int64) -> (page: Int64, index: Int) {
        (seq >> Int64(pageBits), Int(seq & Int64(pageSize - 1)))
    }

    subscript(seq: Int64) -> Int32? {
        let (page, index) = Self.split(seq)
        guard let slot = pages[page]?.slots[index], slot != Self.empty else { return nil }
        return slot
    }

    /// False, and nothing changes, if `seq` already has a slot.
    mutating func insert(_ seq: Int64, slot: Int32) -> Bool {
        precondition(slot != Self.empty, "a slot is not negative")
        let (page, index) = Self.split(seq)
        return pages[page, default: Page()].set(index, to: slot)
    }

    /// The slot `seq` had, if any.
    @discardableResult
    mutating func remove(_ seq: Int64) -> Int32? {
        let (page, index) = Self.split(seq)
        guard let slot = pages[page]?.clear(index) else { return nil }
        if pages[page]?.count == 0 { pages[page] = nil }
        return slot == Self.empty ? nil : slot
    }

    mutating func reserveCapacity(_ count: Int) {
        pages.reserveCapacity(count / Self.pageSize + 1)
    }
}
