import CNGHTTP2
#if canImport(Glibc)
import Glibc
#endif
import NIOCore

/// What an `NGHTTP2Session` reports while it parses input or produces output.
/// Every call happens synchronously inside `receive` or `writeOutput`, on the
/// connection's event loop. A client session never reports `streamOpened` or
/// `streamReceivedHeaders` (those are a server's requests); it reports the
/// response's headers and trailers alike through `receivedHeader`.
protocol NGHTTP2SessionDelegate: AnyObject {
    func streamOpened(_ streamID: Int32)
    func stream(_ streamID: Int32, receivedHeader name: String, value: String)
    /// The request headers are complete (`endStream`: no body follows).
    func streamReceivedHeaders(_ streamID: Int32, endStream: Bool)
    func stream(_ streamID: Int32, receivedData data: [UInt8])
    /// The peer ended its side of the stream (END_STREAM on HEADERS, DATA or trailers).
    func streamRemoteEnded(_ streamID: Int32)
    /// The last frame of our side went out.
    func streamSentEnd(_ streamID: Int32)
    /// The stream is gone: completed (`errorCode` 0) or reset.
    func streamClosed(_ streamID: Int32, errorCode: UInt32)
    /// Body bytes to send on `streamID`, at most `maxLength` of them.
    func outboundData(for streamID: Int32, maxLength: Int) -> NGHTTP2Session.OutboundChunk
}

struct NGHTTP2Error: Error, CustomStringConvertible {
    let code: Int32
    var description: String { String(cString: nghttp2_strerror(code)) }
    /// The peer did not open with the HTTP/2 connection preface.
    var isBadClientMagic: Bool { code == NGHTTP2_ERR_BAD_CLIENT_MAGIC.rawValue }
}

/// Header fields laid out once as an `nghttp2_nv` array, so that constant
/// blocks (gRPC response headers, OK trailers) are built once and submitted
/// many times. Immutable; owns its memory, freed in `deinit`. nghttp2 copies
/// the fields during each submit call, so a block may go away after it.
final class HeaderBlock: @unchecked Sendable {
    fileprivate let fields: UnsafeMutablePointer<nghttp2_nv>
    fileprivate let count: Int
    private let bytes: UnsafeMutablePointer<UInt8>

    init(_ headers: [(name: String, value: String)]) {
        let byteCount = headers.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count }
        bytes = .allocate(capacity: max(byteCount, 1))
        fields = .allocate(capacity: max(headers.count, 1))
        count = headers.count
        var cursor = bytes
        func place(_ text: String) -> (UnsafeMutablePointer<UInt8>, Int) {
            let start = cursor
            for byte in text.utf8 {
                cursor.pointee = byte
                cursor += 1
            }
            return (start, cursor - start)
        }
        for (index, header) in headers.enumerated() {
            let (name, nameLength) = place(header.name)
            let (value, valueLength) = place(header.value)
            (fields + index).initialize(to: nghttp2_nv(
                name: name, value: value, namelen: nameLength, valuelen: valueLength,
                flags: UInt8(NGHTTP2_NV_FLAG_NONE.rawValue)))
        }
    }

    deinit {
        bytes.deallocate()
        fields.deallocate()
    }
}

/// One nghttp2 session, server or client: the thin, owning wrapper around
/// `nghttp2_session *`. Confined to its connection's event loop; never locked.
///
/// Memory: the session is created in `init` and deleted in `deinit`; nghttp2's
/// callbacks find this object through `user_data`, an unretained pointer that is
/// valid because the C session never outlives `self`. Header names and values
/// are copied by nghttp2 during each `submit` call. Output bytes are copied out
/// of nghttp2's buffer before the next `mem_send`.
final class NGHTTP2Session {
    enum Role { case server, client }

    /// A body chunk, and what follows it.
    struct OutboundChunk {
        enum Then {
            case more          // the body continues; send nothing more until resumed
            case end           // the body ends the stream
            case trailers(HeaderBlock)  // then trailers end it (a server's response)
        }
        var bytes: ByteBuffer?
        var then: Then
    }

    private let session: OpaquePointer
    /// Unowned and unchecked: the delegate owns this session and outlives it.
    unowned(unsafe) let delegate: any NGHTTP2SessionDelegate
    /// Header names the delegate never reads; they are dropped before any
    /// Swift string is made of them.
    private let ignoredHeaderNames: [[UInt8]]

    init(_ role: Role = .server, delegate: any NGHTTP2SessionDelegate, ignoringHeaders ignored: [String] = []) {
        self.delegate = delegate
        self.ignoredHeaderNames = ignored.map { Array($0.utf8) }
        var callbacks: OpaquePointer?
        precondition(nghttp2_session_callbacks_new(&callbacks) == 0, "nghttp2: out of memory")
        defer { nghttp2_session_callbacks_del(callbacks) }
        nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, onBeginHeaders)
        nghttp2_session_callbacks_set_on_header_callback(callbacks, onHeader)
        nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, onFrameReceived)
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, onDataChunk)
        nghttp2_session_callbacks_set_on_frame_send_callback(callbacks, onFrameSent)
        nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, onStreamClose)

        // A server opens its receive windows itself (`consume`), as its
        // handlers take the data, so that a client cannot make it buffer
        // more than a window of unread requests.
        var options: OpaquePointer?
        precondition(nghttp2_option_new(&options) == 0, "nghttp2: out of memory")
        defer { nghttp2_option_del(options) }
        nghttp2_option_set_no_auto_window_update(options, role == .server ? 1 : 0)

        var created: OpaquePointer?
        // `self` is not fully initialised yet, so user_data is set just below.
        // A client session sends the connection preface itself, before its SETTINGS.
        let result = role == .server
            ? nghttp2_session_server_new2(&created, callbacks, nil, options)
            : nghttp2_session_client_new2(&created, callbacks, nil, options)
        precondition(result == 0, "nghttp2: out of memory")
        self.session = created!
        nghttp2_session_set_user_data(session, Unmanaged.passUnretained(self).toOpaque())
    }

    deinit {
        nghttp2_session_del(session)
    }

    // MARK: Input and output

    /// Parses bytes from the peer; the delegate hears of every event.
    func receive(_ bytes: ByteBuffer) throws(NGHTTP2Error) {
        let result = bytes.withUnsafeReadableBytes { raw in
            nghttp2_session_mem_recv(session, raw.bindMemory(to: UInt8.self).baseAddress, raw.count)
        }
        if result < 0 { throw NGHTTP2Error(code: Int32(result)) }
    }

    /// Appends the frames nghttp2 has ready to `buffer`, stopping once it holds
    /// `limit` bytes.
    private func produceOutput(into buffer: inout ByteBuffer, limit: Int) throws(NGHTTP2Error) {
        while buffer.readableBytes < limit {
            var data: UnsafePointer<UInt8>?
            let count = nghttp2_session_mem_send(session, &data)
            if count < 0 { throw NGHTTP2Error(code: Int32(count)) }
            guard count > 0, let data else { return }
            buffer.writeBytes(UnsafeRawBufferPointer(start: data, count: count))
        }
    }

    /// Writes the frames nghttp2 has ready to `context`, in buffers of up to
    /// 64 KiB, while its channel stays writable; flushes if it wrote any.
    func writeOutput(to context: ChannelHandlerContext) throws(NGHTTP2Error) {
        var wrote = false
        defer { if wrote { context.flush() } }
        while context.channel.isWritable && hasOutput {
            var buffer = context.channel.allocator.buffer(capacity: 16 * 1024)
            try produceOutput(into: &buffer, limit: 64 * 1024)
            guard buffer.readableBytes > 0 else { return }
            context.write(NIOAny(buffer), promise: nil)
            wrote = true
        }
    }

    /// False once the session has nothing more to read or write: close the connection.
    var isAlive: Bool {
        nghttp2_session_want_read(session) != 0 || nghttp2_session_want_write(session) != 0
    }

    var hasOutput: Bool { nghttp2_session_want_write(session) != 0 }

    // MARK: Flow control (server sessions)

    /// `count` bytes of DATA received on the connection are dealt with:
    /// the connection's window may open by them (WINDOW_UPDATE once half of
    /// it is consumed).
    func consumeConnection(_ count: Int) {
        _ = nghttp2_session_consume_connection(session, count)
    }

    /// `count` bytes of DATA received on `streamID` are taken by the call:
    /// the stream's window may open by them. Nothing happens for a stream
    /// that is gone.
    func consumeStream(_ streamID: Int32, _ count: Int) {
        _ = nghttp2_session_consume_stream(session, streamID, count)
    }

    // MARK: Submitting frames

    func submitSettings(maxConcurrentStreams: UInt32, initialWindowSize: UInt32) {
        var settings = [
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS.rawValue),
                                   value: maxConcurrentStreams),
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE.rawValue),
                                   value: initialWindowSize),
            // gRPC has no use for the RFC 7540 priority tree (deprecated by
            // RFC 9113); saying so also lets nghttp2 drop closed streams at once.
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_NO_RFC7540_PRIORITIES.rawValue), value: 1),
        ]
        _ = nghttp2_submit_settings(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), &settings, settings.count)
        // The connection window is not a SETTINGS value; widen it to match.
        _ = nghttp2_session_set_local_window_size(
            session, UInt8(NGHTTP2_FLAG_NONE.rawValue), 0, Int32(initialWindowSize))
    }

    /// Sends response headers. With `hasBody`, DATA follows from
    /// `delegate.outboundData`; without, the headers end the stream
    /// (gRPC's Trailers-Only response).
    func submitResponse(_ streamID: Int32, headers: HeaderBlock, hasBody: Bool) {
        if hasBody {
            var provider = nghttp2_data_provider(source: nghttp2_data_source(ptr: nil), read_callback: readOutbound)
            _ = nghttp2_submit_response(session, streamID, headers.fields, headers.count, &provider)
        } else {
            _ = nghttp2_submit_response(session, streamID, headers.fields, headers.count, nil)
        }
    }

    /// A client's request: the headers, then the body from
    /// `delegate.outboundData`. Returns the new stream's id, or nil when the
    /// session can open no more streams (the server sent GOAWAY, or ids ran out).
    func submitRequest(headers: HeaderBlock) -> Int32? {
        var provider = nghttp2_data_provider(source: nghttp2_data_source(ptr: nil), read_callback: readOutbound)
        let id = nghttp2_submit_request(session, nil, headers.fields, headers.count, &provider, nil)
        return id > 0 ? id : nil
    }

    /// Asks nghttp2 to call `outboundData` again for a stream that answered `.more`.
    func resumeData(_ streamID: Int32) {
        _ = nghttp2_session_resume_data(session, streamID)
    }

    func submitReset(_ streamID: Int32, errorCode: UInt32) {
        _ = nghttp2_submit_rst_stream(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), streamID, errorCode)
    }

    /// GOAWAY naming the last stream this session processed: the peer opens no
    /// new stream here, and those above it were never seen.
    func submitGoAway() {
        let last = nghttp2_session_get_last_proc_stream_id(session)
        _ = nghttp2_submit_goaway(
            session, UInt8(NGHTTP2_FLAG_NONE.rawValue), last, UInt32(NGHTTP2_NO_ERROR.rawValue), nil, 0)
    }

    fileprivate func submitTrailers(_ streamID: Int32, _ trailers: HeaderBlock) {
        _ = nghttp2_submit_trailer(session, streamID, trailers.fields, trailers.count)
    }

    fileprivate func ignores(_ name: UnsafeBufferPointer<UInt8>) -> Bool {
        for ignored in ignoredHeaderNames where ignored.count == name.count {
            if ignored.withUnsafeBufferPointer({ memcmp($0.baseAddress!, name.baseAddress!, name.count) == 0 }) {
                return true
            }
        }
        return false
    }

    fileprivate static func from(_ userData: UnsafeMutableRawPointer?) -> NGHTTP2Session {
        Unmanaged<NGHTTP2Session>.fromOpaque(userData!).takeUnretainedValue()
    }
}

// MARK: C callbacks: each translates one nghttp2 event into a delegate call.

private let endStreamFlag = UInt8(NGHTTP2_FLAG_END_STREAM.rawValue)
private let headersFrame = UInt8(NGHTTP2_HEADERS.rawValue)
private let dataFrame = UInt8(NGHTTP2_DATA.rawValue)

private func onBeginHeaders(
    _: OpaquePointer?, frame: UnsafePointer<nghttp2_frame>?, userData: UnsafeMutableRawPointer?
) -> Int32 {
    guard let frame, frame.pointee.hd.type == headersFrame,
          frame.pointee.headers.cat == NGHTTP2_HCAT_REQUEST else { return 0 }
    NGHTTP2Session.from(userData).delegate.streamOpened(frame.pointee.hd.stream_id)
    return 0
}

private func onHeader(
    _: OpaquePointer?, frame: UnsafePointer<nghttp2_frame>?,
    name: UnsafePointer<UInt8>?, nameLength: Int, value: UnsafePointer<UInt8>?, valueLength: Int,
    flags: UInt8, userData: UnsafeMutableRawPointer?
) -> Int32 {
    guard let frame, let name, let value else { return 0 }
    let session = NGHTTP2Session.from(userData)
    let nameBytes = UnsafeBufferPointer(start: name, count: nameLength)
    guard !session.ignores(nameBytes) else { return 0 }
    session.delegate.stream(
        frame.pointee.hd.stream_id,
        receivedHeader: String(decoding: nameBytes, as: UTF8.self),
        value: String(decoding: UnsafeBufferPointer(start: value, count: valueLength), as: UTF8.self))
    return 0
}

private func onFrameReceived(
    _: OpaquePointer?, frame: UnsafePointer<nghttp2_frame>?, userData: UnsafeMutableRawPointer?
) -> Int32 {
    guard let frame else { return 0 }
    let header = frame.pointee.hd
    let delegate = NGHTTP2Session.from(userData).delegate
    let endsStream = header.flags & endStreamFlag != 0
    switch header.type {
    case headersFrame where frame.pointee.headers.cat == NGHTTP2_HCAT_REQUEST:
        delegate.streamReceivedHeaders(header.stream_id, endStream: endsStream)
    case headersFrame, dataFrame:
        if endsStream { delegate.streamRemoteEnded(header.stream_id) }
    default:
        break
    }
    return 0
}

private func onDataChunk(
    _: OpaquePointer?, flags: UInt8, streamID: Int32, data: UnsafePointer<UInt8>?, length: Int,
    userData: UnsafeMutableRawPointer?
) -> Int32 {
    guard let data else { return 0 }
    NGHTTP2Session.from(userData).delegate.stream(
        streamID, receivedData: Array(UnsafeBufferPointer(start: data, count: length)))
    return 0
}

private func onFrameSent(
    _: OpaquePointer?, frame: UnsafePointer<nghttp2_frame>?, userData: UnsafeMutableRawPointer?
) -> Int32 {
    guard let frame else { return 0 }
    let header = frame.pointee.hd
    if (header.type == headersFrame || header.type == dataFrame) && header.flags & endStreamFlag != 0 {
        NGHTTP2Session.from(userData).delegate.streamSentEnd(header.stream_id)
    }
    return 0
}

private func onStreamClose(
    _: OpaquePointer?, streamID: Int32, errorCode: UInt32, userData: UnsafeMutableRawPointer?
) -> Int32 {
    NGHTTP2Session.from(userData).delegate.streamClosed(streamID, errorCode: errorCode)
    return 0
}

private func readOutbound(
    _: OpaquePointer?, streamID: Int32, buffer: UnsafeMutablePointer<UInt8>?, length: Int,
    dataFlags: UnsafeMutablePointer<UInt32>?, _: UnsafeMutablePointer<nghttp2_data_source>?,
    userData: UnsafeMutableRawPointer?
) -> Int {
    let session = NGHTTP2Session.from(userData)
    let chunk = session.delegate.outboundData(for: streamID, maxLength: length)
    var count = 0
    if let bytes = chunk.bytes, let buffer {
        count = bytes.readableBytes
        precondition(count <= length, "outboundData returned more than maxLength")
        bytes.withUnsafeReadableBytes { raw in
            UnsafeMutableRawPointer(buffer).copyMemory(from: raw.baseAddress!, byteCount: raw.count)
        }
    }
    switch chunk.then {
    case .more:
        if count == 0 { return Int(NGHTTP2_ERR_DEFERRED.rawValue) }
    case .end:
        dataFlags?.pointee |= NGHTTP2_DATA_FLAG_EOF.rawValue
    case .trailers(let trailers):
        dataFlags?.pointee |= NGHTTP2_DATA_FLAG_EOF.rawValue | NGHTTP2_DATA_FLAG_NO_END_STREAM.rawValue
        session.submitTrailers(streamID, trailers)
    }
    return count
}
