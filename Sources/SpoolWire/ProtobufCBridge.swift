import CProtobufC
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
// Swift finds protobuf-c's enum constants (PROTOBUF_C_TYPE_STRING…) through
// the generated code's module, whose headers include protobuf-c.h first.
import SpoolProtoC

/// A message that converts to and from protobuf bytes.
public protocol WireMessage: Sendable {
    init(serializedBytes: [UInt8]) throws(WireDecodingError)
    func serializedBytes() -> [UInt8]
}

/// A protobuf message with a Swift value type on one side and a protobuf-c
/// struct on the other. Conforming types say how to read their C struct and
/// how to fill one; packing, unpacking and freeing happen here and nowhere else.
protocol ProtobufCBridged: Sendable {
    associatedtype CMessage
    /// The generated `…__init` function: sets the descriptor and defaults.
    static var initializeC: (UnsafeMutablePointer<CMessage>?) -> Void { get }
    /// Reads an unpacked struct, valid only during the call.
    init(c: UnsafePointer<CMessage>)
    /// Fills an initialised struct; every pointer it stores comes from `arena`.
    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena)
}

/// The bytes could not be parsed as the message they were sent as.
public struct WireDecodingError: Error, CustomStringConvertible {
    public let messageName: String
    /// What is wrong, where more is known than that protobuf-c refused the bytes.
    public var problem = "protobuf could not parse it"
    public var description: String { "malformed \(messageName) (\(problem))" }
}

extension ProtobufCBridged {
    /// Parses protobuf bytes with protobuf-c.
    init(unpacking bytes: [UInt8]) throws(WireDecodingError) {
        // The generated init function sets the descriptor; a stack struct is enough to read it.
        let descriptor = withUnsafeTemporaryAllocation(of: CMessage.self, capacity: 1) { buffer in
            Self.initializeC(buffer.baseAddress!)
            return buffer.baseAddress!.withMemoryRebound(to: ProtobufCMessage.self, capacity: 1) {
                $0.pointee.descriptor
            }
        }
        // The unpacked tree is freed before this initialiser returns.
        // An empty message is valid; protobuf-c still wants a non-null pointer.
        let input = bytes.isEmpty ? [0] : bytes
        var allocator = UnpackedStrings.sizedAllocator()
        let message: Self = try withUnsafeMutablePointer(to: &allocator) { (allocator) throws(WireDecodingError) in
            let unpacked = input.withUnsafeBufferPointer { buffer in
                protobuf_c_message_unpack(descriptor, allocator, bytes.count, buffer.baseAddress)
            }
            guard let unpacked else { throw WireDecodingError(messageName: "\(Self.self)") }
            defer { protobuf_c_message_free_unpacked(unpacked, allocator) }
            if let bad = UnpackedStrings.firstBad(in: unpacked) {
                throw WireDecodingError(messageName: "\(Self.self)", problem: bad.description)
            }
            return Self(c: UnsafeRawPointer(unpacked).assumingMemoryBound(to: CMessage.self))
        }
        self = message
    }

    /// Packs with protobuf-c.
    func packed() -> [UInt8] {
        let arena = CArena()
        // The top-level struct lives on the stack; what it points to, in the arena.
        return withUnsafeTemporaryAllocation(of: CMessage.self, capacity: 1) { buffer in
            let c = buffer.baseAddress!
            Self.initializeC(c)
            fill(c, arena: arena)
            return c.withMemoryRebound(to: ProtobufCMessage.self, capacity: 1) { message in
                CProtobuf.pack(message)
            }
        }
    }
}

enum CProtobuf {
    /// The serialized bytes of a filled or unpacked message.
    static func pack(_ message: UnsafePointer<ProtobufCMessage>) -> [UInt8] {
        let size = protobuf_c_message_get_packed_size(message)
        guard size > 0 else { return [] }
        return [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            count = protobuf_c_message_pack(message, buffer.baseAddress!)
        }
    }
}

/// What protobuf-c does not check in the strings it unpacks: proto3 wants
/// them UTF-8, and its NUL-terminated copies would cut a string with a NUL
/// in it short, unseen ("a\0b" and "a\0c" would both read "a": two
/// idempotency keys taken for one). Strings are unpacked with an allocator
/// that keeps each block's size in front of it: a string's size on the wire
/// is its block's less the terminating NUL.
enum UnpackedStrings {
    private static let headerSize = 16

    static func sizedAllocator() -> ProtobufCAllocator {
        ProtobufCAllocator(
            alloc: { _, size in
                guard let block = malloc(size + UnpackedStrings.headerSize) else { return nil }
                block.storeBytes(of: size, as: Int.self)
                return block + UnpackedStrings.headerSize
            },
            free: { _, pointer in
                if let pointer { free(pointer - UnpackedStrings.headerSize) }
            },
            allocator_data: nil)
    }

    /// A string field that is not valid UTF-8 or holds a NUL.
    struct BadString: CustomStringConvertible {
        /// From the outermost message: `jobs[1].labels[0].key`.
        var path = ""
        let problem: String

        var description: String { "field \(path) \(problem)" }
    }

    /// The first bad string in a message unpacked with `sizedAllocator`, sub-messages included.
    static func firstBad(in message: UnsafePointer<ProtobufCMessage>) -> BadString? {
        let base = UnsafeRawPointer(message)
        let descriptor = message.pointee.descriptor.pointee
        for field in UnsafeBufferPointer(start: descriptor.fields, count: Int(descriptor.n_fields)) {
            guard field.type == PROTOBUF_C_TYPE_STRING || field.type == PROTOBUF_C_TYPE_MESSAGE else { continue }
            if field.flags & PROTOBUF_C_FIELD_FLAG_ONEOF.rawValue != 0,
               base.load(fromByteOffset: Int(field.quantifier_offset), as: UInt32.self) != field.id { continue }
            let elements: UnsafeBufferPointer<UnsafeRawPointer?>
            let isRepeated = field.label == PROTOBUF_C_LABEL_REPEATED
            if isRepeated {
                let count = base.load(fromByteOffset: Int(field.quantifier_offset), as: Int.self)
                elements = UnsafeBufferPointer(
                    start: base.load(fromByteOffset: Int(field.offset), as: UnsafePointer<UnsafeRawPointer?>?.self),
                    count: count)
            } else {
                // A field left at its default points at the default, not at a block of its own.
                elements = UnsafeBufferPointer(start: (base + Int(field.offset)).assumingMemoryBound(to: UnsafeRawPointer?.self),
                                               count: 1)
                if elements[0] == field.default_value { continue }
            }
            for (index, element) in elements.enumerated() {
                guard let element else { continue }
                var bad: BadString?
                if field.type == PROTOBUF_C_TYPE_STRING {
                    bad = problem(ofString: element).map { BadString(problem: $0) }
                } else {
                    bad = firstBad(in: element.assumingMemoryBound(to: ProtobufCMessage.self))
                }
                if var bad {
                    // Named on the way out, so a message without a bad string builds no name.
                    let name = String(cString: field.name) + (isRepeated ? "[\(index)]" : "")
                    bad.path = bad.path.isEmpty ? name : name + "." + bad.path
                    return bad
                }
            }
        }
        return nil
    }

    private static func problem(ofString string: UnsafeRawPointer) -> String? {
        let bytes = UnsafeBufferPointer(start: string.assumingMemoryBound(to: UInt8.self), count: strlen(string))
        if bytes.count != (string - headerSize).load(as: Int.self) - 1 { return "holds a NUL character" }
        if bytes.allSatisfy({ $0 < 0x80 }) { return nil }
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid: continue
            case .emptyInput: return nil
            case .error: return "is not valid UTF-8"
            }
        }
    }
}

/// Owns the C memory of one message being built: strings, byte fields, arrays
/// and sub-messages. Everything is freed when the arena is released, so a
/// filled struct is valid exactly as long as its arena.
///
/// The memory comes from a few blocks, each cut in turn, not from a malloc
/// per string and sub-message. Blocks start at 1008 bytes (most messages
/// need no more) and double up to 64 KiB; anything larger gets a block of
/// its own, and the rest of the block before it goes unused.
final class CArena {
    private static let firstBlockSize = 1008
    private static let largestBlockSize = 64 * 1024

    /// The first block, and the others (kept apart: most messages need one).
    private var firstBlock: UnsafeMutableRawPointer?
    private var moreBlocks: [UnsafeMutableRawPointer] = []
    /// The unused rest of the newest block.
    private var free: UnsafeMutableRawPointer?
    private var freeBytes = 0
    private var nextBlockSize = CArena.firstBlockSize

    deinit {
        firstBlock?.deallocate()
        for block in moreBlocks { block.deallocate() }
    }

    private func allocate<T>(_ type: T.Type, count: Int) -> UnsafeMutablePointer<T> {
        allocate(byteCount: MemoryLayout<T>.stride * max(count, 1), alignment: MemoryLayout<T>.alignment)
            .bindMemory(to: T.self, capacity: max(count, 1))
    }

    /// `size` bytes at the next multiple of `alignment` in the newest
    /// block, or at the start of a new one.
    private func allocate(byteCount size: Int, alignment: Int) -> UnsafeMutableRawPointer {
        if let free {
            let padding = (alignment - Int(bitPattern: free) % alignment) % alignment
            if padding + size <= freeBytes {
                let start = free + padding
                self.free = start + size
                freeBytes -= padding + size
                return start
            }
        }
        // A new block (malloc aligns it for any C type).
        let blockSize = max(nextBlockSize, size)
        nextBlockSize = min(nextBlockSize * 2, Self.largestBlockSize)
        let block = UnsafeMutableRawPointer.allocate(byteCount: blockSize, alignment: 16)
        if firstBlock == nil { firstBlock = block } else { moreBlocks.append(block) }
        free = block + size
        freeBytes = blockSize - size
        return block
    }

    /// A struct set up by its generated `…__init` function, to be filled.
    func cStruct<C>(_ initialize: (UnsafeMutablePointer<C>?) -> Void) -> UnsafeMutablePointer<C> {
        let c = allocate(C.self, count: 1)
        initialize(c)
        return c
    }

    /// An initialised struct for `Message`, not yet filled.
    func message<Message: ProtobufCBridged>(_: Message.Type) -> UnsafeMutablePointer<Message.CMessage> {
        cStruct(Message.initializeC)
    }

    /// A filled sub-message.
    func message<Message: ProtobufCBridged>(_ value: Message) -> UnsafeMutablePointer<Message.CMessage> {
        let c = message(Message.self)
        value.fill(c, arena: self)
        return c
    }

    /// A NUL-terminated copy of `text`. protobuf-c would end the string at
    /// a NUL inside it, so each one is sent as U+FFFD instead (requests
    /// holding one are refused, but a handler's words may).
    func string(_ text: String) -> UnsafeMutablePointer<CChar> {
        var text = text
        let copy = text.withUTF8 { utf8 -> UnsafeMutablePointer<CChar>? in
            if let bytes = utf8.baseAddress, memchr(bytes, 0, utf8.count) != nil { return nil }
            let c = allocate(CChar.self, count: utf8.count + 1)
            if let bytes = utf8.baseAddress { UnsafeMutableRawPointer(c).copyMemory(from: bytes, byteCount: utf8.count) }
            c[utf8.count] = 0
            return c
        }
        return copy ?? string(String(String.UnicodeScalarView(text.unicodeScalars.lazy.map { $0 == "\0" ? "\u{FFFD}" : $0 })))
    }

    func bytes(_ bytes: [UInt8]) -> ProtobufCBinaryData {
        let c = allocate(UInt8.self, count: bytes.count)
        c.initialize(from: bytes, count: bytes.count)
        return ProtobufCBinaryData(len: bytes.count, data: c)
    }

    /// A C array (`T *`) of the elements.
    func array<T>(_ elements: [T]) -> UnsafeMutablePointer<T> {
        let c = allocate(T.self, count: elements.count)
        c.initialize(from: elements, count: elements.count)
        return c
    }

    /// A C array of filled sub-messages (`Message **`).
    func messages<Message: ProtobufCBridged>(_ values: [Message]) -> UnsafeMutablePointer<UnsafeMutablePointer<Message.CMessage>?> {
        array(values.map { Optional(message($0)) })
    }

    /// A C array of strings (`char **`).
    func strings(_ values: [String]) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> {
        array(values.map { Optional(string($0)) })
    }

    /// A `map<string, string>` field: a C array of entry structs, sorted by
    /// key so that equal maps encode to equal bytes.
    func map<Entry>(
        _ values: [String: String], initialize: (UnsafeMutablePointer<Entry>?) -> Void,
        key: WritableKeyPath<Entry, UnsafeMutablePointer<CChar>?>,
        value: WritableKeyPath<Entry, UnsafeMutablePointer<CChar>?>
    ) -> (count: Int, entries: UnsafeMutablePointer<UnsafeMutablePointer<Entry>?>) {
        let entries = values.sorted { $0.key < $1.key }.map { pair -> UnsafeMutablePointer<Entry>? in
            let entry = cStruct(initialize)
            entry.pointee[keyPath: key] = string(pair.key)
            entry.pointee[keyPath: value] = string(pair.value)
            return entry
        }
        return (entries.count, array(entries))
    }
}

/// Reading unpacked fields: unset strings and arrays read as empty.
enum CRead {
    static func string(_ c: UnsafePointer<CChar>?) -> String {
        c.map { String(cString: $0) } ?? ""
    }

    static func bytes(_ c: ProtobufCBinaryData) -> [UInt8] {
        guard c.len > 0, let data = c.data else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: c.len))
    }

    static func array<T, Element>(_ count: Int, _ c: UnsafeMutablePointer<T>?, _ read: (T) -> Element) -> [Element] {
        guard count > 0, let c else { return [] }
        return UnsafeBufferPointer(start: c, count: count).map(read)
    }

    static func strings(_ count: Int, _ c: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> [String] {
        array(count, c) { string($0) }
    }

    static func map<Entry>(
        _ count: Int, _ c: UnsafeMutablePointer<UnsafeMutablePointer<Entry>?>?,
        key: KeyPath<Entry, UnsafeMutablePointer<CChar>?>, value: KeyPath<Entry, UnsafeMutablePointer<CChar>?>
    ) -> [String: String] {
        var map: [String: String] = [:]
        for entry in array(count, c, { $0!.pointee }) { map[string(entry[keyPath: key])] = string(entry[keyPath: value]) }
        return map
    }

    static func message<Message: ProtobufCBridged>(_ c: UnsafeMutablePointer<Message.CMessage>?, as _: Message.Type) -> Message? {
        c.map { Message(c: $0) }
    }

    static func messages<Message: ProtobufCBridged>(
        _ count: Int, _ c: UnsafeMutablePointer<UnsafeMutablePointer<Message.CMessage>?>?, as _: Message.Type
    ) -> [Message] {
        array(count, c) { Message(c: $0!) }
    }
}
