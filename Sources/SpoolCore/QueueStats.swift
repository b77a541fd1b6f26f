/// Events per second over the last minute, in 60 one-second slots.
struct MinuteCounter {
    private var counts = [Int](repeating: 0, count: 60)
    private var seconds = [Int64](repeating: -1, count: 60)

    mutating func add(_ count: Int = 1, atMs nowMs: Int64) {
        let second = nowMs / 1000
        let slot = Int(second % 60)
        if seconds[slot] != second {
            seconds[slot] = second
            counts[slot] = 0
        }
        counts[slot] += count
    }

    /// Events in the minute up to `nowMs`.
    func total(atMs nowMs: Int64) -> Int {
        let second = nowMs / 1000
        return zip(seconds, counts).reduce(0) { sum, slot in
            slot.0 > second - 60 && slot.0 <= second ? sum + slot.1 : sum
        }
    }
}

/// A queue's recent work, for status and ETAs: jobs finished over the last
/// minute, and a moving mean of successful run times.
struct QueueStats {
    private(set) var finishes = MinuteCounter()
    private(set) var meanRunMs: Double = 0
    private var runs = 0

    /// Weight of the newest run in the mean once 20 runs are behind it.
    private static let smoothing = 0.05

    mutating func finished(atMs nowMs: Int64, runMs: Int64?) {
        finishes.add(atMs: nowMs)
        guard let runMs else { return }
        runs += 1
        meanRunMs += (Double(max(0, runMs)) - meanRunMs) * max(Self.smoothing, 1 / Double(runs))
    }
}
