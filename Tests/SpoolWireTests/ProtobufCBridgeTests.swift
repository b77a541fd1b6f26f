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
