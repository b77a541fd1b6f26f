import NIOCore
import Testing
@testable import GRPCH2

struct MessageDeframerTests {
    private func framed(_ messages: [[UInt8]]) -> [UInt8] {
        var buffer = ByteBuffer()
        for message in messages { MessageFraming.frame(message, into: &buffer) }
        return Array(buffer.readableBytesView)
    }

    @Test func framingIsFlagThenBigEndianLengthThenBytes() {
        #expect(framed([[0xAA, 0xBB]]) == [0, 0, 0, 0, 2, 0xAA, 0xBB])
        #expect(framed([[]]) == [0, 0, 0, 0, 0])
    }

    @Test func messagesSplitAcrossChunksAreReassembled() throws {
        let messages: [[UInt8]] = [Array(repeating: 7, count: 300), [], [1, 2, 3]]
        let wire = framed(messages)
        for chunkSize in [1, 2, 5, 7, 64, wire.count] {
            var deframer = MessageDeframer(maxMessageSize: 1024)
            var received: [[UInt8]] = []
            var offset = 0
            while offset < wire.count {
                deframer.append(Array(wire[offset..<min(offset + chunkSize, wire.count)]))
                offset += chunkSize
                while let message = try deframer.next() { received.append(message) }
            }
            #expect(received == messages, "chunk size \(chunkSize)")
            #expect(!deframer.hasPartialMessage)
        }
    }

    @Test func aPartialMessageIsReported() throws {
        var deframer = MessageDeframer(maxMessageSize: 1024)
        deframer.append(Array(framed([[1, 2, 3]]).dropLast()))
        #expect(try deframer.next() == nil)
        #expect(deframer.hasPartialMessage)
    }

    @Test func anOversizedMessageIsRefusedFromItsHeaderAlone() {
        var deframer = MessageDeframer(maxMessageSize: 10)
        deframer.append([0, 0, 0, 0, 11])
        #expect(throws: GRPCStatus(
            .resourceExhausted, "message of 11 bytes is larger than the server's limit of 10 bytes")) {
            try deframer.next()
        }
    }

    @Test func aCompressedMessageIsUnimplemented() {
        var deframer = MessageDeframer(maxMessageSize: 10)
        deframer.append([1, 0, 0, 0, 1, 0])
        #expect { try deframer.next() } throws: { ($0 as? GRPCStatus)?.code == .unimplemented }
    }

    @Test func anUnknownFlagIsInternal() {
        var deframer = MessageDeframer(maxMessageSize: 10)
        deframer.append([2, 0, 0, 0, 1, 0])
        #expect { try deframer.next() } throws: { ($0 as? GRPCStatus)?.code == .internal }
    }
}
