import Testing
import SpoolCore

struct ReadyQueueTests {
    @Test func higherPriorityRunsFirstThenEnqueueOrder() {
        var queue = ReadyQueue()
        let keys = [QueueKey(priority: 0, seq: 1), QueueKey(priority: 5, seq: 2),
                    QueueKey(priority: 0, seq: 3), QueueKey(priority: 5, seq: 4), QueueKey(priority: -1, seq: 5)]
        for key in keys { queue.insert(key) }
        #expect(Array(queue).map(\.seq) == [2, 4, 1, 3, 5])
        #expect(queue.position(of: QueueKey(priority: 0, seq: 3)) == 4)
        #expect(queue.key(at: 2) == QueueKey(priority: 5, seq: 4))
        #expect(queue.first == QueueKey(priority: 5, seq: 2))
    }

    @Test func anEmptyQueueAnswersNothing() {
        var queue = ReadyQueue()
        let popped = queue.popFirst()
        #expect(queue.isEmpty && queue.first == nil && popped == nil)
        #expect(queue.position(of: QueueKey(priority: 0, seq: 1)) == nil)
        #expect(queue.key(at: 1) == nil)
        let removed = queue.remove(QueueKey(priority: 0, seq: 1))
        #expect(!removed)
    }

    /// Random inserts, removes and pops, checked after every step against a
    /// sorted array: order, positions, select, count. With `preloaded`, the
    /// queue starts as a bulk-built one of that many keys (what a restart does).
    @Test(arguments: [(1, 0), (2, 0), (3, 0), (4, 1), (5, 2), (6, 1500)] as [(UInt64, Int)])
    func agreesWithASortedArrayUnderRandomOperations(seed: UInt64, preloaded: Int) {
        var generator = SplitMix(seed: seed)
        var nextSeq = Int64(preloaded)
        var model = (1...max(1, preloaded)).prefix(preloaded).map {
            QueueKey(priority: Int32(generator.next() % 7) - 3, seq: Int64($0))
        }.sorted()
        var queue = preloaded > 0 ? ReadyQueue(sorted: model, seed: seed) : ReadyQueue(seed: seed)
        #expect(Array(queue) == model)
        for step in 0..<4000 {
            switch generator.next() % 10 {
            case 0...5:
                nextSeq += 1
                let key = QueueKey(priority: Int32(generator.next() % 7) - 3, seq: nextSeq)
                queue.insert(key)
                model.insert(key, at: model.firstIndex { key < $0 } ?? model.count)
            case 6...7 where !model.isEmpty:
                let key = model.remove(at: Int(generator.next() % UInt64(model.count)))
                let removed = queue.remove(key)
                let removedAgain = queue.remove(key)
                #expect(removed, "step \(step)")
                #expect(!removedAgain, "removed twice at step \(step)")
            case 8 where !model.isEmpty:
                let popped = queue.popFirst()
                #expect(popped == model.removeFirst(), "step \(step)")
            default:
                let removedMissing = queue.remove(QueueKey(priority: 0, seq: -1))
                #expect(!removedMissing)
            }
            #expect(queue.count == model.count)
            if step % 97 == 0 || step > 3950 {
                #expect(Array(queue) == model, "order at step \(step)")
                for (index, key) in model.enumerated() {
                    #expect(queue.position(of: key) == index + 1)
                    #expect(queue.key(at: index + 1) == key)
                    #expect(queue.countBefore(key) == index)
                }
                let absent = QueueKey(priority: Int32(generator.next() % 7) - 3, seq: nextSeq + 1)
                #expect(queue.countBefore(absent) == model.filter { $0 < absent }.count)
            }
        }
    }

    @Test func slotsOfRemovedJobsAreReused() {
        var queue = ReadyQueue()
        for round in 0..<3 {
            for seq in 0..<1000 { queue.insert(QueueKey(priority: 0, seq: Int64(round * 1000 + seq))) }
            while queue.popFirst() != nil {}
        }
        #expect(queue.isEmpty)
        queue.insert(QueueKey(priority: 1, seq: 1))
        #expect(Array(queue) == [QueueKey(priority: 1, seq: 1)])
    }

    @Test func theSameOperationsBuildTheSameQueue() {
        func build() -> [QueueKey] {
            var queue = ReadyQueue(seed: 42)
            for seq in 0..<500 { queue.insert(QueueKey(priority: Int32(seq % 3), seq: Int64(seq))) }
            for seq in stride(from: 0, to: 500, by: 7) { queue.remove(QueueKey(priority: Int32(seq % 3), seq: Int64(seq))) }
            return Array(queue)
        }
        #expect(build() == build())
    }
}

/// A small deterministic generator for the tests.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
