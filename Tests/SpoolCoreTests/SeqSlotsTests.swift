@testable import SpoolCore
import Testing

struct SeqSlotsTests {
    @Test func aSeqHasOneSlotUntilRemoved() {
        var slots = SeqSlots()
        #expect(slots.insert(1000, slot: 0) == true)
        #expect(slots.insert(1000, slot: 7) == false)  // taken: unchanged
        #expect(slots.insert(1001, slot: 1) == true)
        #expect(slots[1000] == 0 && slots[1001] == 1 && slots[999] == nil && slots[1_000_000] == nil)
        #expect(slots.remove(1000) == 0)
        #expect(slots.remove(1000) == nil)
        #expect(slots.remove(5) == nil)
        #expect(slots[1000] == nil && slots.count == 1)
        // The page empties and goes; the seq can come back.
        #expect(slots.remove(1001) == 1)
        #expect(slots.count == 0)
        #expect(slots.insert(1001, slot: 3) == true)
        #expect(slots[1001] == 3)
    }

    @Test func matchesADictionaryUnderRandomInsertsAndRemovalsAcrossPages() {
        var random = SeededRandom(seed: 7)
        var slots = SeqSlots()
        var expected: [Int64: Int32] = [:]
        for step in 0..<20_000 {
            // Seqs spread over some 8 pages, so pages fill, empty and come back.
            let seq = Int64(random.next() % 4096)
            if random.next() % 2 == 0 {
                let slot = Int32(step)
                let inserted = slots.insert(seq, slot: slot)
                #expect(inserted == (expected[seq] == nil))
                if expected[seq] == nil { expected[seq] = slot }
            } else {
                let removed = slots.remove(seq)
                #expect(removed == expected.removeValue(forKey: seq))
            }
        }
        #expect(slots.count == expected.count)
        for seq in Int64(0)..<4096 { #expect(slots[seq] == expected[seq]) }
    }
}
