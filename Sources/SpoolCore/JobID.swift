/// A job id as the engine keeps it: the 16 bytes of a UUID when the id is
/// canonical UUID text (lowercase, 8-4-4-4-12, as `JobIDGenerator` makes
/// them), else the text itself. A million waiting jobs keep no id string
/// on the heap this way; `text` gives the id back exactly as it was.
public struct JobID: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringInterpolation {
    private enum Storage: Hashable, Sendable {
        case uuid(high: UInt64, low: UInt64)
        case text(String)
    }

    private let storage: Storage

    public init(high: UInt64, low: UInt64) {
        storage = .uuid(high: high, low: low)
    }

    public init(_ text: String) {
        storage = Self.parse(text).map { .uuid(high: $0.high, low: $0.low) } ?? .text(text)
    }

    public init(stringLiteral text: String) {
        self.init(text)
    }

    public var text: String {
        switch storage {
        case .uuid(let high, let low): Self.format(high, low)
        case .text(let text): text
        }
    }

    public var description: String { text }

    /// The seqs an id can carry: 40 bits.
    static let seqMask: UInt64 = (1 << 40) - 1

    /// The seq carried by an id from `JobIDGenerator.next(nowMs:seq:)` (or
    /// by any UUIDv7: the caller checks that the job found is this one).
    public var embeddedSeq: Int64? {
        guard case .uuid(let high, let low) = storage, high & 0xF000 == 0x7000 else { return nil }
        return Int64((high & 0xFFF) << 28 | (low >> 34) & 0xFFF_FFFF)
    }

    private static func isDash(at index: Int) -> Bool { index == 8 || index == 13 || index == 18 || index == 23 }

    private static func parse(_ text: String) -> (high: UInt64, low: UInt64)? {
        guard text.utf8.count == 36 else { return nil }
        var words: (high: UInt64, low: UInt64) = (0, 0)
        var index = 0
        for byte in text.utf8 {
            defer { index += 1 }
            if isDash(at: index) {
                guard byte == UInt8(ascii: "-") else { return nil }
                continue
            }
            let value: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = byte &- UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = byte &- UInt8(ascii: "a") &+ 10
            default: return nil
            }
            // Nibbles 0-15 (text before index 19) make the high word.
            if index < 19 { words.high = words.high << 4 | UInt64(value) } else { words.low = words.low << 4 | UInt64(value) }
        }
        return words
    }

    private static func format(_ high: UInt64, _ low: UInt64) -> String {
        var text: [UInt8] = []
        text.reserveCapacity(36)
        for nibbleIndex in 0..<32 {
            // 8-4-4-4-12 hex digits: dashes before nibbles 8, 12, 16 and 20.
            if nibbleIndex == 8 || nibbleIndex == 12 || nibbleIndex == 16 || nibbleIndex == 20 { text.append(UInt8(ascii: "-")) }
            let word = nibbleIndex < 16 ? high : low
            let nibble = UInt8(truncatingIfNeeded: word >> UInt64(60 - 4 * (nibbleIndex % 16))) & 0xF
            text.append(nibble < 10 ? nibble &+ UInt8(ascii: "0") : nibble &+ (UInt8(ascii: "a") &- 10))
        }
        return String(decoding: text, as: UTF8.self)
    }
}
