/// Job ids (DESIGN.md §2): UUIDv7 text (RFC 9562), time-ordered and
/// collision-free. Ids made in the same millisecond (or after the clock steps
/// back) keep increasing: the 12-bit `rand_a` field and then the 62-bit
/// `rand_b` field count up from a random start, and a full counter borrows
/// the next millisecond. So ids sort as text in the order they were made.
public struct JobIDGenerator: Sendable {
    private var lastMs: Int64 = -1
    private var counter: UInt16 = 0      // rand_a, 12 bits
    private var tail: UInt64 = 0         // rand_b, 62 bits
    private var random: SeededRandom

    public init(seed: UInt64) {
        random = SeededRandom(seed: seed | 1)
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
        return format(high, low)
    }

    private mutating func nextRandom() -> UInt64 { random.next() }

    private func format(_ high: UInt64, _ low: UInt64) -> String {
        let hex = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        text.reserveCapacity(36)
        for (index, word) in [high, low].enumerated() {
            for nibble in stride(from: 60, through: 0, by: -4) {
                let position = index * 16 + (60 - nibble) / 4
                if position == 8 || position == 12 || position == 16 || position == 20 { text.append(UInt8(ascii: "-")) }
                text.append(hex[Int((word >> UInt64(nibble)) & 0xF)])
            }
        }
        return String(decoding: text, as: UTF8.self)
    }
}
