import Testing
@testable import SpoolCore

struct JobIDGeneratorTests {
    @Test func idsAreUUIDv7TextCarryingTheirMillisecond() throws {
        var ids = JobIDGenerator(seed: 7)
        let id = ids.next(nowMs: 0x0190_A5B6_C7D8)
        #expect(id.count == 36)
        #expect(id.hasPrefix("0190a5b6-c7d8-7"))
        let parts = id.split(separator: "-")
        #expect(parts.map(\.count) == [8, 4, 4, 4, 12])
        #expect("89ab".contains(parts[3].first!), "RFC 9562 variant bits")
    }

    @Test func idsSortInTheOrderTheyWereMadeEvenWithinAMillisecondOrWhenTheClockStepsBack() {
        var ids = JobIDGenerator(seed: 42)
        var made: [String] = []
        for ms: Int64 in [1_000, 1_000, 1_000, 1_001, 999, 999, 2_000] {
            for _ in 0..<1000 { made.append(ids.next(nowMs: ms)) }
        }
        #expect(made == made.sorted())
        #expect(Set(made).count == made.count)
    }

    @Test func jobIdsCarryTheirSeqAndSortInSeqOrderWhateverTheClockDoes() {
        var ids = JobIDGenerator(seed: 9)
        var made: [String] = []
        var seq: Int64 = 0
        for ms: Int64 in [1_000, 1_000, 1_001, 999, 2_000] {
            for _ in 0..<500 {
                seq += 1
                made.append(ids.next(nowMs: ms, seq: seq).text)
            }
        }
        #expect(made == made.sorted())
        #expect(made.enumerated().allSatisfy { JobID($0.element).embeddedSeq == Int64($0.offset + 1) })
        #expect(made.allSatisfy { JobID($0).text == $0 && $0.dropFirst(14).first == "7" })
        let big = ids.next(nowMs: 3_000, seq: (1 << 40) - 1)
        #expect(big.embeddedSeq == (1 << 40) - 1)
    }

    @Test func idsThatAreNotCanonicalUUIDTextKeepTheirText() {
        for text in ["job-1", "0190A5B6-C7D8-7ABC-8DEF-0123456789AB", "0190a5b6c7d87abc8def0123456789ab", ""] {
            #expect(JobID(text).text == text)
            #expect(JobID(text).embeddedSeq == nil)
        }
    }

    @Test func differentSeedsStartDifferently() {
        var a = JobIDGenerator(seed: 1)
        var b = JobIDGenerator(seed: 2)
        #expect(a.next(nowMs: 5) != b.next(nowMs: 5))
    }
}
