/// A list of strings in one BLOB: each as a 4-byte big-endian length and its
/// UTF-8 bytes. Any character may appear in a string.
enum StringListCoding {
    static func encode(_ strings: [String]) -> [UInt8] {
        var bytes: [UInt8] = []
        for string in strings {
            let utf8 = Array(string.utf8)
            withUnsafeBytes(of: UInt32(utf8.count).bigEndian) { bytes.append(contentsOf: $0) }
            bytes.append(contentsOf: utf8)
        }
        return bytes
    }

    /// Nil if the bytes are not such a list.
    static func decode(_ bytes: [UInt8]) -> [String]? {
        var strings: [String] = []
        var index = 0
        while index < bytes.count {
            guard index + 4 <= bytes.count else { return nil }
            let length = bytes[index..<index + 4].reduce(0) { $0 << 8 | Int($1) }
            index += 4
            guard index + length <= bytes.count else { return nil }
            strings.append(String(decoding: bytes[index..<index + length], as: UTF8.self))
            index += length
        }
        return strings
    }

    static func encode(_ map: [String: String]) -> [UInt8] {
        encode(map.sorted { $0.key < $1.key }.flatMap { [$0.key, $0.value] })
    }

    static func decodeMap(_ bytes: [UInt8]) -> [String: String]? {
        guard let strings = decode(bytes), strings.count % 2 == 0 else { return nil }
        return Dictionary(stride(from: 0, to: strings.count, by: 2).map { (strings[$0], strings[$0 + 1]) },
                          uniquingKeysWith: { _, last in last })
    }
}
