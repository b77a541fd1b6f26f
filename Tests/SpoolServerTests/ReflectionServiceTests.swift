import Testing
import SpoolServer
import SpoolWire

struct ReflectionServiceTests {
    let reflection = ReflectionService()

    private func answer(_ query: ReflectionRequest.Query) -> ReflectionResponse.Answer {
        reflection.answer(ReflectionRequest(host: "", query: query)).answer
    }

    private func fileNames(_ answer: ReflectionResponse.Answer) throws -> [String] {
        guard case .fileDescriptors(let files) = answer else {
            Issue.record("expected file descriptors, got \(answer)")
            return []
        }
        return try files.map { bytes in
            try #require(DescriptorSet.compiled.first { $0.descriptorBytes == bytes }).name
        }
    }

    @Test func listsEveryService() {
        #expect(answer(.listServices) == .services([
            "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection",
            "grpc.reflection.v1alpha.ServerReflection", "spool.v1.JobQueue", "spool.v1.Workers",
        ]))
    }

    @Test(arguments: ["spool.v1.JobQueue", ".spool.v1.JobQueue", "spool.v1.JobQueue.Enqueue",
                      "spool.v1.ProgressEvent.Kind", "spool.v1.JobSpec"])
    func findsTheFileOfASymbol(symbol: String) throws {
        #expect(try fileNames(answer(.fileContainingSymbol(symbol))) == ["spool/v1/queue.proto"])
    }

    @Test func findsAFileByName() throws {
        #expect(try fileNames(answer(.fileByFilename("grpc/health/v1/health.proto"))) == ["grpc/health/v1/health.proto"])
    }

    @Test func unknownNamesAreNotFound() {
        #expect(answer(.fileContainingSymbol("spool.v1.Nope")) == .error(code: 5, message: "symbol \"spool.v1.Nope\" not found"))
        #expect(answer(.fileByFilename("nope.proto")) == .error(code: 5, message: "file \"nope.proto\" not found"))
        #expect(answer(.fileContainingExtension(containingType: "spool.v1.Job", number: 9))
            == .error(code: 5, message: "extension 9 of \"spool.v1.Job\" not found"))
    }

    @Test func knownTypesHaveNoExtensions() {
        #expect(answer(.allExtensionNumbersOfType("spool.v1.Job")) == .extensionNumbers(baseTypeName: "spool.v1.Job", numbers: []))
    }

    @Test func theAnswerEchoesTheRequest() {
        let request = ReflectionRequest(host: "example", query: .listServices)
        let response = reflection.answer(request)
        #expect(response.originalRequest == request)
        #expect(response.validHost == "example")
    }
}
