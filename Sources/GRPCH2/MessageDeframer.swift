import NIOCore

/// gRPC's length-prefixed message framing: a 1-byte compressed flag, a 4-byte
/// big-endian length, then the message.
enum MessageFraming {
    static let headerSize = 5

    static func frame(_ message: [UInt8], into buffer: inout ByteBuffer) {
        buffer.reserveCapacity(minimumWritableBytes: headerSize + message.count)
        buffer.writeInteger(UInt8(0))
        buffer.writeInteger(UInt32(message.count))
        buffer.writeBytes(message)
    }
}

/// Splits a request body, arriving in arbitrary chunks, into messages.
/// Rejects an oversized message as soon as its header arrives, before
/// buffering it.
struct MessageDeframer {
    let maxMessageSize: Int
    private var pending: [UInt8] = []
    private var readIndex = 0

    init(maxMessageSize: Int) {
        self.maxMessageSize = maxMessageSize
    }

    /// True while part of a message is buffered: the body must not end here.
    var hasPartialMessage: Bool { readIndex < pending.count }

    /// The bytes of the message still arriving (with its header).
    var partialByteCount: Int { pending.count - readIndex }

    mutating func append(_ bytes: [UInt8]) {
        if readIndex == pending.count {
            pending = bytes
            readIndex = 0
        } else {
            if readIndex > 0 && readIndex >= pending.count / 2 {
                pending.removeFirst(readIndex)
                readIndex = 0
            }
            pending.append(contentsOf: bytes)
        }
    }

    /// The next complete message, or nil when more bytes are needed.
    mutating func next() throws(GRPCStatus) -> [UInt8]? {
        let available = pending.count - readIndex
        guard available >= MessageFraming.headerSize else { return nil }
        let flag = pending[readIndex]
        var length = 0
        for offset in 1...4 {
            length = length << 8 | Int(pending[readIndex + offset])
        }
        switch flag {
        case 0: break
        case 1:
            throw GRPCStatus(
                .unimplemented,
                "compressed messages are not supported: send them uncompressed (grpc-encoding identity)")
        default:
            throw GRPCStatus(.internal, "malformed message frame: compressed flag is \(flag)")
        }
        guard length <= maxMessageSize else {
            throw GRPCStatus(
                .resourceExhausted,
                "message of \(length) bytes is larger than the server's limit of \(maxMessageSize) bytes")
        }
        guard available >= MessageFraming.headerSize + length else { return nil }
        let start = readIndex + MessageFraming.headerSize
        let message = Array(pending[start..<start + length])
        readIndex = start + length
        if readIndex == pending.count {
            pending.removeAll(keepingCapacity: true)
            readIndex = 0
        }
        return message
    }
}
