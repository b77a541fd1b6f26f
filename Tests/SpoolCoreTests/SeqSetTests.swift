@testable import SpoolCore
import Testing

struct SeqSetTests {
    @Test func holdsSeqsInAscendingOrderWhateverTheOrderTheyCameIn() {
        var set = SeqSet(1000)
        // Across words, below the first one, and again (no double count).
        for seq: Int64 in [1063, 1064, 999, 936, 2000, 1000, 1063] { set.insert(seq) }
        #expect(Array(set) == [936, 999, 1000, 1063, 1064, 2000])
        #expect(set.count == 6)
        #expect(set.first == 936)
        #expect(set.contains(999) && set.contains(2000))
        #expect(!set.contains(998) && !set.contains(2001) && !set.contains(0) && !set.contains(5000))
    }

    @Test func removalsEmptyItAndUnknownSeqsAreIgnored() {
        var set = SeqSet(7)
        set.insert(8)
        set.remove(7)
        set.remove(7)
        set.remove(500)
        set.remove(-3)
        #expect(Array(set) == [8])
        #expect(set.first == 8 && set.count == 1)
        set.remove(8)
        #expect(set.isEmpty && set.first == nil && Array(set) == [])
    }

    @Test func matchesASetUnderRandomInsertsAndRemovals() {
        var random = SeededRandom(seed: 42)
        var set = SeqSet(10_000)
        var expected: Set<Int64> = [10_000]
        for _ in 0..<5000 {
            let seq = 9_500 + Int64(random.next() % 1000)
            if random.next() % 3 == 0 {
                set.remove(seq)
                expected.remove(seq)
            } else {
                set.insert(seq)
                expected.insert(seq)
            }
            #expect(set.count == expected.count)
        }
        #expect(Array(set) == expected.sorted())
    }
}
