/// How many elements a request's repeated and map fields may hold, checked
/// on the wire before protobuf-c unpacks anything: an element can be two
/// bytes on the wire and a hundred unpacked, so a request is refused while
/// its cost is still its bytes. Sub-messages named with `lookInto` are
/// looked into, with limits of their own.
///
/// The check allocates nothing while the request is within its limits: it
/// runs on every call that has limits, unary Enqueue included.
public struct RepeatedFieldLimits: Sendable {
    public struct Limit: Sendable {
        public var field: UInt32
        public var name: String
        public var most: Int
        /// What the limit is called where a user can change it, if anywhere.
        public var setting: String?
    }

    /// A message has few limited fields: looked up in order, counted inline.
    static let mostLimitsPerMessage = 4
    private var limits: [Limit] = []
    private var nested: [(field: UInt32, name: String, limits: RepeatedFieldLimits)] = []

    public init() {}

    public mutating func limit(field number: UInt32, _ name: String, to most: Int, setting: String? = nil) {
        precondition(limits.count < Self.mostLimitsPerMessage, "at most \(Self.mostLimitsPerMessage) limits a message")
        limits.append(Limit(field: number, name: name, most: most, setting: setting))
    }

    public mutating func lookInto(field number: UInt32, _ name: String, _ limits: RepeatedFieldLimits) {
        nested.append((number, name, limits))
    }

    /// A field with more elements than its limit.
    public struct Exceeded: Error, Sendable, CustomStringConvertible {
        /// From the outermost message: `jobs[1].lock_keys`.
        public internal(set) var path: String
        public let count: Int
        public let limit: Limit

        public var description: String {
            "\(path) has more than \(limit.most) elements, the most a request may carry"
                + (limit.setting.map { " (\($0))" } ?? "") + "; it has \(count)"
        }
    }

    /// Throws for the first field over its limit. Bytes that are not a
    /// well-formed message end the scan quietly: unpacking refuses them,
    /// with protobuf-c's own reason.
    public func check(_ bytes: [UInt8]) throws(Exceeded) {
        guard !limits.isEmpty || !nested.isEmpty else { return }
        try check(bytes[...])
    }

    private func check(_ bytes: ArraySlice<UInt8>) throws(Exceeded) {
        var counts = InlineCounts()
        var reader = WireReader(bytes)
        while let (field, body) = reader.nextField() {
            if let index = limits.firstIndex(where: { $0.field == field }) {
                counts[index] += 1
                if counts[index] > limits[index].most {
                    // Counted to the end, so the message says how many.
                    var total = counts[index]
                    while let next = reader.nextField() {
                        if next.number == field { total += 1 }
                    }
                    throw Exceeded(path: limits[index].name, count: total, limit: limits[index])
                }
            }
            guard let body, let inner = nested.first(where: { $0.field == field }) else { continue }
            do {
                try inner.limits.check(body)
            } catch {
                // Named on the way out: a request within its limits builds no name.
                var named = error
                let index = limits.firstIndex { $0.field == field }.map { "[\(counts[$0] - 1)]" } ?? ""
                named.path = inner.name + index + "." + error.path
                throw named
            }
        }
    }

    private struct InlineCounts {
        private var counts = (0, 0, 0, 0)

        subscript(index: Int) -> Int {
            get {
                switch index {
                case 0: counts.0
                case 1: counts.1
                case 2: counts.2
                default: counts.3
                }
            }
            set {
                switch index {
                case 0: counts.0 = newValue
                case 1: counts.1 = newValue
                case 2: counts.2 = newValue
                default: counts.3 = newValue
                }
            }
        }
    }
}

/// Reads protobuf's wire format field by field (tag, then value), without
/// decoding values. Stops at the end or at anything malformed.
struct WireReader {
    private let bytes: ArraySlice<UInt8>
    private var index: Int

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        index = bytes.startIndex
    }

    /// The next field's number, and its bytes if it is length-delimited.
    mutating func nextField() -> (number: UInt32, body: ArraySlice<UInt8>?)? {
        guard index < bytes.endIndex, let tag = varint(), tag >> 3 > 0, tag >> 3 <= UInt64(UInt32.max) else { return nil }
        let number = UInt32(tag >> 3)
        switch tag & 7 {
        case 0:
            guard varint() != nil else { return nil }
            return (number, nil)
        case 1:
            return skip(8) ? (number, nil) : nil
        case 5:
            return skip(4) ? (number, nil) : nil
        case 2:
            guard let length = varint(), length <= UInt64(bytes.endIndex - index) else { return nil }
            let start = index
            index += Int(length)
            return (number, bytes[start..<index])
        default:
            return nil  // groups, or no wire type at all
        }
    }

    private mutating func skip(_ count: Int) -> Bool {
        guard bytes.endIndex - index >= count else { return false }
        index += count
        return true
    }

    private mutating func varint() -> UInt64? {
        var value: UInt64 = 0
        for shift in stride(from: UInt64(0), to: 70, by: 7) {
            guard index < bytes.endIndex, shift < 64 else { return nil }
            let byte = bytes[index]
            index += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
        }
        return nil
    }
}
