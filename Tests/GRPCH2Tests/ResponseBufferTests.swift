import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import Testing
@testable import GRPCH2

struct ResponseBufferTests {
    let loop = EmbeddedEventLoop()

    @Test func aSenderWaitsAboveTheHighWaterMarkAndResumesAtHalf() {
        var buffer = ResponseBuffer(highWaterMark: 100, allocator: ByteBufferAllocator())
        #expect(buffer.append(Array(repeating: 1, count: 60)) == false)  // 65 bytes framed
        #expect(buffer.append(Array(repeating: 2, count: 60)) == true)   // 130 > 100
        let promise = loop.makePromise(of: Void.self)
        let resumed = NIOLockedValueBox(false)
        promise.futureResult.whenSuccess { resumed.withLockedValue { $0 = true } }
        buffer.wait(promise)

        #expect(buffer.take(maxLength: 60)?.readableBytes == 60)  // 70 left: still above 50
        loop.run()
        #expect(!resumed.withLockedValue { $0 })
        #expect(buffer.take(maxLength: 20)?.readableBytes == 20)  // 50 left: resume
        loop.run()
        #expect(resumed.withLockedValue { $0 })
        #expect(buffer.waiterCount == 0)
    }

    @Test func takeReturnsTheFramedBytesInOrder() {
        var buffer = ResponseBuffer(highWaterMark: 1 << 20, allocator: ByteBufferAllocator())
        _ = buffer.append([9, 8])
        _ = buffer.append([7])
        var out: [UInt8] = []
        while let chunk = buffer.take(maxLength: 3) { out += chunk.readableBytesView }
        #expect(out == [0, 0, 0, 0, 2, 9, 8, 0, 0, 0, 0, 1, 7])
        #expect(buffer.isEmpty)
    }

    @Test func waitersFailWhenTheCallEnds() {
        var buffer = ResponseBuffer(highWaterMark: 1, allocator: ByteBufferAllocator())
        _ = buffer.append([1, 2, 3])
        let promise = loop.makePromise(of: Void.self)
        let failure = NIOLockedValueBox<GRPCStatus?>(nil)
        promise.futureResult.whenFailure { error in failure.withLockedValue { $0 = error as? GRPCStatus } }
        buffer.wait(promise)
        buffer.resumeWaiters(failing: GRPCStatus(.cancelled, "gone"))
        loop.run()
        #expect(failure.withLockedValue { $0 } == GRPCStatus(.cancelled, "gone"))
    }
}
