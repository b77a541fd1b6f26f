/// Jobs waiting for a time (run_at, or a retry's backoff), earliest first:
/// a binary min-heap. Entries are not removed when a job is cancelled; the
/// engine skips those that no longer match when they come due.
struct TimerHeap {
    struct Entry: Comparable {
        let dueMs: Int64
        let seq: Int64

        static func < (a: Entry, b: Entry) -> Bool { (a.dueMs, a.seq) < (b.dueMs, b.seq) }
    }

    private var entries: [Entry] = []

    var earliest: Entry? { entries.first }
    var count: Int { entries.count }

    mutating func insert(_ entry: Entry) {
        entries.append(entry)
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard entries[child] < entries[parent] else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the earliest entry due at or before `nowMs`.
    mutating func popDue(atMs nowMs: Int64) -> Entry? {
        guard let first = entries.first, first.dueMs <= nowMs else { return nil }
        let last = entries.removeLast()
        guard !entries.isEmpty else { return first }
        entries[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < entries.count && entries[left] < entries[smallest] { smallest = left }
            if right < entries.count && entries[right] < entries[smallest] { smallest = right }
            guard smallest != parent else { break }
            entries.swapAt(parent, smallest)
            parent = smallest
        }
        return first
    }
}
