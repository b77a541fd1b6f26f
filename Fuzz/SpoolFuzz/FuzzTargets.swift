// Fuzz targets for every decoder that takes bytes from outside (docs/guarantees.md:
// Limits). One binary; SPOOL_FUZZ_TARGET picks the decoder:
//
//   deframer  gRPC's length-prefixed framing, fed in arbitrary chunks
//   request   each request message (a worker's stream messages too): the wire
//             count of repeated fields, then protobuf-c through the bridge and
//             its UTF-8/NUL walk
//   exec      an exec worker's standard output lines (JSON messages)
//   config    the YAML config file
//   http      the HTTP face's own reading: a request URI's path and query
//             (percent-decoding, ListJobs' parameters), then a JSON body as
//             a JobSpec (first line: the URI; the rest: the body)
//
// Built with -sanitize=fuzzer (and -DFUZZING) it is a libFuzzer binary
// (scripts/fuzz.sh); built plainly it replays the files it is given, so a
// crash found once stays a test.
@testable import GRPCH2
@testable import SpoolHandlers
@testable import SpoolServer
import NIOCore
import NIOHTTP1
import SpoolWire

#if canImport(Glibc)
import Glibc
#endif

enum FuzzTarget: String, CaseIterable {
    case deframer, request, exec, config, http

    static var chosen: FuzzTarget {
        guard let name = getenv("SPOOL_FUZZ_TARGET").map({ String(cString: $0) }), let target = FuzzTarget(rawValue: name) else {
            fatalError("set SPOOL_FUZZ_TARGET to one of \(allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return target
    }

    func run(_ bytes: [UInt8]) {
        switch self {
        case .deframer: Self.deframe(bytes)
        case .request: Self.decodeRequest(bytes)
        case .exec: Self.readExecOutput(bytes)
        case .config: _ = try? SpoolConfiguration(yaml: String(decoding: bytes, as: UTF8.self))
        case .http: Self.readHTTPRequest(bytes)
        }
    }

    /// The first byte sets the chunk size the rest arrives in.
    private static func deframe(_ bytes: [UInt8]) {
        guard let first = bytes.first else { return }
        let chunk = Int(first) + 1
        var deframer = MessageDeframer(maxMessageSize: 1 << 16)
        var index = 1
        while index < bytes.count {
            let end = min(bytes.count, index + chunk)
            deframer.append(Array(bytes[index..<end]))
            index = end
            do {
                while let message = try deframer.next() { precondition(message.count <= 1 << 16) }
            } catch {
                return  // a refused frame ends the call
            }
        }
    }

    private static let limits = RequestLimits(maxBatchSize: 100)

    /// The first byte picks the request type; each is checked as spoold checks it.
    private static func decodeRequest(_ bytes: [UInt8]) {
        guard let first = bytes.first else { return }
        let body = Array(bytes.dropFirst())
        func decode<Message: WireMessage>(_: Message.Type, _ limits: RepeatedFieldLimits? = nil) {
            if let limits { guard (try? limits.check(body)) != nil else { return } }
            guard let message = try? Message(serializedBytes: body) else { return }
            // What decodes re-encodes, and decodes again.
            _ = try? Message(serializedBytes: message.serializedBytes())
        }
        switch first % 16 {
        case 0: decode(EnqueueRequest.self, limits.enqueue)
        case 1: decode(EnqueueBatchRequest.self, limits.enqueueBatch)
        case 2: decode(GetStatusRequest.self, limits.getStatus)
        case 3: decode(StreamProgressRequest.self, limits.streamProgress)
        case 4: decode(CancelRequest.self)
        case 5: decode(HealthCheckRequest.self)
        case 6: decode(ReflectionRequest.self)
        case 8: decode(ListJobsRequest.self, limits.listJobs)
        case 9: decode(RetryRequest.self)
        case 10: decode(UpdateQueueRequest.self)
        case 11: decode(EnqueueStreamRequest.self, limits.enqueueStream)
        default: decode(WorkerMessage.self)
        }
    }

    private static func readHTTPRequest(_ bytes: [UInt8]) {
        let newline = bytes.firstIndex(of: UInt8(ascii: "\n")) ?? bytes.endIndex
        let uri = String(decoding: bytes[..<newline], as: UTF8.self)
        let body = ByteBuffer(bytes: bytes[min(newline + 1, bytes.endIndex)...])
        let request = HTTPRequest(head: HTTPRequestHead(version: .http1_1, method: .GET, uri: uri), body: body)
        for part in request.path.split(separator: "/") { _ = HTTPRequest.Query.decode(part) }
        _ = try? HTTPFace.listRequest(request.query)
        _ = try? request.decode(JobSpec.self)
    }

    private static func readExecOutput(_ bytes: [UInt8]) {
        var messages = Messages()
        for line in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            _ = messages.take(String(decoding: line, as: UTF8.self), log: { _ in })
        }
        _ = try? messages.outcome()
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = start.map { Array(UnsafeRawBufferPointer(start: $0, count: count)) } ?? []
    FuzzTarget.chosen.run(bytes)
    return 0
}

#if !FUZZING
/// Replays inputs: `SPOOL_FUZZ_TARGET=request SpoolFuzz FILE…`.
@main
enum Replay {
    static func main() {
        let target = FuzzTarget.chosen
        for path in CommandLine.arguments.dropFirst() {
            guard let file = fopen(path, "rb") else { fatalError("cannot open \(path)") }
            var bytes: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while case let read = fread(&buffer, 1, buffer.count, file), read > 0 { bytes += buffer[..<read] }
            fclose(file)
            target.run(bytes)
        }
        print("replayed \(CommandLine.arguments.count - 1) inputs through \(target.rawValue)")
    }
}
#endif
