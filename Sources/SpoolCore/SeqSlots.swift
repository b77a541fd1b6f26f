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
        return Self.change(&pages[page, default: Page()]) { page in
            guard page.slots[index] == Self.empty else { return false }
            page.slots[index] = slot
            page.count += 1
            return true
        }
    }

    /// The slot `seq` had, if any.
    @discardableResult
    mutating func remove(_ seq: Int64) -> Int32? {
        let (page, index) = Self.split(seq)
        guard pages[page] != nil else { return nil }
        let (slot, pageIsEmpty) = Self.change(&pages[page]!) { page -> (Int32, Bool) in
            let slot = page.slots[index]
            if slot != Self.empty {
                page.slots[index] = Self.empty
                page.count -= 1
            }
            return (slot, page.count == 0)
        }
        if pageIsEmpty { pages[page] = nil }
        return slot == Self.empty ? nil : slot
    }

    /// One lookup of the page for a read and a write, changed in place.
    private static func change<R>(_ page: inout Page, _ body: (inout Page) -> R) -> R { body(&page) }

    mutating func reserveCapacity(_ count: Int) {
        pages.reserveCapacity(count / Self.pageSize + 1)
    }
}
