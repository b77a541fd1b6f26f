/// How many elements a request's repeated and map fields may hold, checked
/// on the wire before protobuf-c unpacks anything: an element can be two
/// bytes on the wire and a hundred unpacked, so a request is refused while
/// its cost is still its bytes. Sub-messages named in `nested` are looked
/// into, with limits of their own.
public struct RepeatedFieldLimits: Sendable {
    public struct Limit: Sendable {
        public var name: String
        public var most: Int
        /// What the limit is called where a user can change it, if anywhere.
        public var setting: String?
    }

    var limits: [UInt32: Limit] = [:]
    var nested: [UInt32: (name: String, limits: RepeatedFieldLimits)] = [:]

    public init() {}

    public mutating func limit(field number: UInt32, _ name: String, to most: Int, setting: String? = nil) {
        limits[number] = Limit(name: name, most: most, setting: setting)
    }

    public mutating func lookInto(field number: UInt32, _ name: String, _ limits: RepeatedFieldLimits) {
        nested[number] = (name, limits)
    }

    /// A field with more elements than its limit.
    public struct Exceeded: Error, Sendable, CustomStringConvertible {
        public let path: String
        public let count: Int
        public let limit: Limit

        public var description: String {
            "\(path) has more than \(limit.most) elements, the most a request may carry"
                + (limit.setting.map { " (\($0))" } ?? "") + "; it has \(count == Int.max ? "more" : String(count))"
        }
    }

    /// Throws for the first field over its limit. Bytes that are not a
    /// well-formed message end the scan quietly: unpacking refuses them,
    /// with protobuf-c's own reason.
    public func check(_ bytes: [UInt8]) throws(Exceeded) {
        guard !limits.isEmpty || !nested.isEmpty else { return }
        try check(bytes[...], path: "")
    }

    private func check(_ bytes: ArraySlice<UInt8>, path: String) throws(Exceeded) {
        var counts: [UInt32: Int] = [:]
        var nestedIndexes: [UInt32: Int] = [:]
        var reader = WireReader(bytes)
        while let (field, value) = reader.nextField() {
            if let limit = limits[field] {
                let count = counts[field, default: 0] + 1
                counts[field] = count
                if count > limit.most {
                    // Counted to the end, cheaply, so the message says how many.
                    var total = count
                    while let next = reader.nextField() {
                        if next.number == field { total += 1 }
                    }
                    throw Exceeded(path: path + limit.name, count: total, limit: limit)
                }
            }
            if let (name, limits) = nested[field], let body = value {
                let index = nestedIndexes[field, default: 0]
                nestedIndexes[field] = index + 1
                let isRepeated = self.limits[field] != nil
                try limits.check(body, path: path + name + (isRepeated ? "[\(index)]" : "") + ".")
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
