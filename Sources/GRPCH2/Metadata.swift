/// Custom request metadata: the HTTP/2 headers of a call that are not
/// pseudo-headers nor reserved by gRPC. Keys are lower-case; a key ending in
/// `-bin` carries binary values, sent base64-encoded on the wire.
public struct Metadata: Sendable, Equatable {
    public enum Value: Sendable, Equatable {
        case text(String)
        case binary([UInt8])
    }

    public private(set) var entries: [(key: String, value: Value)] = []

    public init() {}

    public static func == (lhs: Metadata, rhs: Metadata) -> Bool {
        lhs.entries.elementsEqual(rhs.entries) { $0.key == $1.key && $0.value == $1.value }
    }

    /// Adds a header as received; a `-bin` value that is not valid base64
    /// throws, as the call cannot be understood.
    public mutating func add(wireName name: String, wireValue value: String) throws(GRPCStatus) {
        // HTTP/2 sends names in lower case already; only others pay for lowercasing.
        let key = name.utf8.contains(where: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }) ? name.lowercased() : name
        if key.utf8.count >= 4 && key.utf8.suffix(4).elementsEqual("-bin".utf8) {
            guard let bytes = Base64.decode(value) else {
                throw GRPCStatus(.invalidArgument, "metadata \(key) is not valid base64")
            }
            entries.append((key, .binary(bytes)))
        } else {
            entries.append((key, .text(value)))
        }
    }

    /// The first text value of `key`.
    public subscript(key: String) -> String? {
        for entry in entries where entry.key == key {
            if case .text(let text) = entry.value { return text }
        }
        return nil
    }

    /// The first binary value of a `-bin` key.
    public func binary(_ key: String) -> [UInt8]? {
        for entry in entries where entry.key == key {
            if case .binary(let bytes) = entry.value { return bytes }
        }
        return nil
    }
}

/// Base64 as gRPC metadata uses it: decoding accepts padded and unpadded input.
enum Base64 {
    static func decode(_ text: String) -> [UInt8]? {
        var out = [UInt8]()
        out.reserveCapacity(text.utf8.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        var sawPadding = false
        for char in text.utf8 {
            let value: UInt32
            switch char {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = UInt32(char - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = UInt32(char - UInt8(ascii: "a") + 26)
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = UInt32(char - UInt8(ascii: "0") + 52)
            case UInt8(ascii: "+"), UInt8(ascii: "-"): value = 62
            case UInt8(ascii: "/"), UInt8(ascii: "_"): value = 63
            case UInt8(ascii: "="): sawPadding = true; continue
            default: return nil
            }
            if sawPadding { return nil }
            accumulator = accumulator << 6 | value
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        return bits >= 6 ? nil : out
    }
}
