/// Job and batch ids (docs/design.md §2): UUIDv7 text (RFC 9562), time-ordered
/// and collision-free, so they sort as text in the order they were made.
///
/// - A job's id carries its `seq` (`next(nowMs:seq:)`): the 74 bits after
///   the version hold the low 40 bits of the seq, then 34 random bits. Seqs
///   are unique and increasing, so such ids are too, and the engine finds a
///   job from its id without an index of ids (`JobID.embeddedSeq`).
/// - Other ids (`next(nowMs:)`, for batches) count up in the 12-bit `rand_a`
///   field and then the 62-bit `rand_b` field from a random start; a full
///   counter borrows the next millisecond.
///
/// Either way an id made when the clock has stepped back keeps the last
/// millisecond used.
public struct JobIDGenerator: Sendable {
    private var lastMs: Int64 = -1
    private var counter: UInt16 = 0      // rand_a, 12 bits
    private var tail: UInt64 = 0         // rand_b, 62 bits
    private var random: SeededRandom

    public init(seed: UInt64) {
        random = SeededRandom(seed: seed | 1)
    }

    /// A job's id, carrying its seq.
    public mutating func next(nowMs: Int64, seq: Int64) -> JobID {
        lastMs = max(lastMs, nowMs)
        let seqBits = UInt64(truncatingIfNeeded: seq) & JobID.seqMask
        let high = UInt64(lastMs) << 16 | 0x7000 | seqBits >> 28                           // time, version 7, seq's top 12 bits
        let low = 0x8000_0000_0000_0000 | (seqBits & 0xFFF_FFFF) << 34 | nextRandom() >> 30  // variant, seq's low 28, 34 random
        return JobID(high: high, low: low)
    }

    public mutating func next(nowMs: Int64) -> String {
        if nowMs > lastMs {
            lastMs = nowMs
            counter = UInt16(truncatingIfNeeded: nextRandom()) & 0x07FF  // room to count up
            tail = nextRandom() & 0x3FFF_FFFF_FFFF_FFFF
        } else if tail < 0x3FFF_FFFF_FFFF_FFFF {
            tail += 1
        } else if counter < 0x0FFF {
            counter += 1
            tail = nextRandom() & 0x1FFF_FFFF_FFFF_FFFF
        } else {
            lastMs += 1
            counter = 0
            tail = nextRandom() & 0x1FFF_FFFF_FFFF_FFFF
        }
        let high = UInt64(lastMs) << 16 | 0x7000 | UInt64(counter)     // 48-bit time, version 7, rand_a
        let low = 0x8000_0000_0000_0000 | tail                          // variant 10, rand_b
        return JobID(high: high, low: low).text
    }

    private mutating func nextRandom() -> UInt64 { random.next() }
}
