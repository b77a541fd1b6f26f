import NIOCore

/// The framed response messages of one stream that nghttp2 has not taken
/// yet, and the senders waiting for room. Above `highWaterMark` buffered bytes
/// a sender waits; it resumes once nghttp2 (paced by the client's HTTP/2 flow
/// control window) has drained the buffer to half of that.
struct ResponseBuffer {
    let highWaterMark: Int
    private var bytes: ByteBuffer
    private var waiters: [EventLoopPromise<Void>] = []

    init(highWaterMark: Int, allocator: ByteBufferAllocator) {
        self.highWaterMark = highWaterMark
        self.bytes = allocator.buffer(capacity: 0)
    }

    var isEmpty: Bool { bytes.readableBytes == 0 }
    var waiterCount: Int { waiters.count }

    /// Frames and appends a message. True when the buffer is over its
    /// high-water mark: the sender should `wait`.
    mutating func append(_ message: [UInt8]) -> Bool {
        MessageFraming.frame(message, into: &bytes)
        return bytes.readableBytes > highWaterMark
    }

    /// `promise` completes when the buffer has drained, or fails with the call.
    mutating func wait(_ promise: EventLoopPromise<Void>) {
        waiters.append(promise)
    }

    /// Takes up to `maxLength` bytes for a DATA frame.
    mutating func take(maxLength: Int) -> ByteBuffer? {
        let count = min(maxLength, bytes.readableBytes)
        guard count > 0 else { return nil }
        let slice = bytes.readSlice(length: count)
        if bytes.readableBytes == 0 { bytes.clear() }
        if bytes.readableBytes <= highWaterMark / 2 { resumeWaiters(failing: nil) }
        return slice
    }

    /// Resumes every waiting sender: to send more, or (`failing`) to give up.
    mutating func resumeWaiters(failing status: GRPCStatus?) {
        guard !waiters.isEmpty else { return }
        let resumed = waiters
        waiters = []
        for waiter in resumed {
            if let status { waiter.fail(status) } else { waiter.succeed() }
        }
    }
}
