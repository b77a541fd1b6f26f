import Testing
import SpoolWire

/// The protobuf-c bridge against bytes known from the protobuf encoding rules.
struct ProtobufCBridgeTests {
    @Test func healthMessagesEncodeToTheirKnownBytes() {
        #expect(HealthCheckRequest(service: "a").serializedBytes() == [0x0A, 0x01, 0x61])
        #expect(HealthCheckRequest(service: "").serializedBytes() == [])
        #expect(HealthCheckResponse(status: .serving).serializedBytes() == [0x08, 0x01])
        #expect(HealthCheckResponse(status: .serviceUnknown).serializedBytes() == [0x08, 0x03])
    }

    @Test func healthMessagesDecodeFromKnownBytes() throws {
        #expect(try HealthCheckRequest(serializedBytes: [0x0A, 0x03, 0x61, 0x62, 0x63]).service == "abc")
        #expect(try HealthCheckRequest(serializedBytes: []).service == "")
        #expect(try HealthCheckResponse(serializedBytes: [0x08, 0x02]).status == .notServing)
    }

    @Test func unknownFieldsAreSkipped() throws {
        // Field 15, varint 1, before the known field.
        #expect(try HealthCheckRequest(serializedBytes: [0x78, 0x01, 0x0A, 0x01, 0x7A]).service == "z")
    }

    @Test(arguments: [
        [0x0A, 0x05, 0x61] as [UInt8],   // length runs past the end
        [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF],  // endless varint key
        [0x0B],                           // start-group with no end
    ])
    func malformedBytesThrow(bytes: [UInt8]) {
        #expect(throws: WireDecodingError.self) { try HealthCheckRequest(serializedBytes: bytes) }
        #expect(problem(decoding: bytes, as: HealthCheckRequest.self) == "protobuf could not parse it")
    }

    /// The problem a decoding error names, or nil when the bytes decode.
    private func problem<Message: WireMessage>(decoding bytes: [UInt8], as _: Message.Type) -> String? {
        do {
            _ = try Message(serializedBytes: bytes)
            return nil
        } catch {
            return error.problem
        }
    }

    /// `message`'s bytes with the (unique) bytes of `marker` replaced.
    private func bytes(of message: some WireMessage, replacing marker: String, with replacement: [UInt8]) -> [UInt8] {
        var bytes = message.serializedBytes()
        let marker = Array(marker.utf8)
        let start = (0...(bytes.count - marker.count)).first { Array(bytes[$0..<$0 + marker.count]) == marker }!
        bytes.replaceSubrange(start..<start + marker.count, with: replacement)
        return bytes
    }

    @Test func stringsMustBeUTF8() {
        #expect(problem(decoding: [0x0A, 0x02, 0xF0, 0x80], as: HealthCheckRequest.self) == "field service is not valid UTF-8")
        #expect(problem(decoding: [0x0A, 0x01, 0xFF], as: HealthCheckRequest.self) == "field service is not valid UTF-8")
        // Encoded surrogates and overlong forms are not UTF-8 either.
        #expect(problem(decoding: [0x0A, 0x03, 0xED, 0xA0, 0x80], as: HealthCheckRequest.self) != nil)
        #expect(problem(decoding: [0x0A, 0x02, 0xC0, 0xAF], as: HealthCheckRequest.self) != nil)
    }

    @Test func aNULInAStringIsRefusedNotCutShort() {
        #expect(problem(decoding: [0x0A, 0x03, 0x61, 0x00, 0x62], as: HealthCheckRequest.self)
            == "field service holds a NUL character")
        #expect(problem(decoding: [0x0A, 0x01, 0x00], as: HealthCheckRequest.self) != nil)
    }

    @Test func aNULInAnAnswerIsSentAsAReplacementCharacter() throws {
        // A handler's error message, say: cut short at the NUL it would say "bad".
        let bytes = HealthCheckRequest(service: "bad\u{0}byte\u{0}").serializedBytes()
        #expect(bytes == [0x0A, 0x0D] + Array("bad\u{FFFD}byte\u{FFFD}".utf8))
        #expect(try HealthCheckRequest(serializedBytes: bytes).service == "bad\u{FFFD}byte\u{FFFD}")
        #expect(HealthCheckRequest(service: "\u{0}").serializedBytes() == [0x0A, 0x03, 0xEF, 0xBF, 0xBD])
    }

    @Test func anyUTF8Text() throws {
        let text = "é, 漢字, 🚀"
        #expect(try HealthCheckRequest(serializedBytes: HealthCheckRequest(service: text).serializedBytes()).service == text)
        // An empty string written out, rather than left out.
        #expect(try HealthCheckRequest(serializedBytes: [0x0A, 0x00]).service == "")
    }

    @Test func aBadStringIsNamedByItsPath() {
        var good = JobSpec()
        good.type = "spool.echo"
        var bad = good
        bad.lockKeys = ["a", "LOCK"]
        bad.labels = ["team": "docs", "KEY!": "x"]
        let batch = EnqueueBatchRequest(jobs: [good, bad])
        #expect(problem(decoding: bytes(of: batch, replacing: "LOCK", with: [0x4C, 0xFF, 0x43, 0x4B]), as: EnqueueBatchRequest.self)
            == "field jobs[1].lock_keys[1] is not valid UTF-8")
        // Map entries are sorted by key when packed: "KEY!" comes first.
        #expect(problem(decoding: bytes(of: batch, replacing: "KEY!", with: [0x4B, 0x00, 0x59, 0x21]), as: EnqueueBatchRequest.self)
            == "field jobs[1].labels[0].key holds a NUL character")
        #expect(problem(decoding: batch.serializedBytes(), as: EnqueueBatchRequest.self) == nil)
    }

    @Test func onlyTheSetMemberOfAOneofIsRead() {
        let request = ReflectionRequest(host: "h", query: .fileContainingSymbol("spool.v1.JobQueue"))
        #expect(problem(decoding: request.serializedBytes(), as: ReflectionRequest.self) == nil)
        #expect(problem(decoding: bytes(of: request, replacing: "JobQueue", with: Array("Job\u{0}ueue".utf8)),
                        as: ReflectionRequest.self) == "field file_containing_symbol holds a NUL character")
    }

    @Test(arguments: [
        ReflectionRequest.Query.listServices,
        .fileByFilename("spool/v1/queue.proto"),
        .fileContainingSymbol("spool.v1.JobQueue"),
        .fileContainingExtension(containingType: "spool.v1.Job", number: 100),
        .allExtensionNumbersOfType("spool.v1.Job"),
    ])
    func reflectionRequestsRoundTrip(query: ReflectionRequest.Query) throws {
        let request = ReflectionRequest(host: "localhost", query: query)
        #expect(try ReflectionRequest(serializedBytes: request.serializedBytes()) == request)
    }

    @Test(arguments: [
        ReflectionResponse.Answer.services(["a.B", "c.D"]),
        .fileDescriptors([[1, 2, 3], [], [0xFF]]),
        .extensionNumbers(baseTypeName: "a.B", numbers: [100, 200]),
        .error(code: 5, message: "symbol \"x\" not found"),
    ])
    func reflectionResponsesRoundTrip(answer: ReflectionResponse.Answer) throws {
        let response = ReflectionResponse(
            validHost: "h", originalRequest: ReflectionRequest(query: .listServices), answer: answer)
        #expect(try ReflectionResponse(serializedBytes: response.serializedBytes()) == response)
    }
}
