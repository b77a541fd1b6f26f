import GRPCH2
import SpoolWire

/// gRPC server reflection, v1 and v1alpha (same messages on the wire), over
/// the descriptor set compiled into the server, so that `grpcurl list` and
/// `grpcurl describe` need no .proto files.
public struct ReflectionService: Sendable {
    private let filesByName: [String: ProtoFile]
    private let fileBySymbol: [String: String]
    private let serviceNames: [String]

    public init(files: [ProtoFile] = DescriptorSet.compiled) {
        var filesByName: [String: ProtoFile] = [:]
        var fileBySymbol: [String: String] = [:]
        for file in files {
            filesByName[file.name] = file
            for symbol in file.symbols { fileBySymbol[symbol] = file.name }
        }
        self.filesByName = filesByName
        self.fileBySymbol = fileBySymbol
        self.serviceNames = files.flatMap(\.services).sorted()
    }

    public func register(in router: inout Router) {
        for version in ["v1", "v1alpha"] {
            router.bidirectionalStreaming("/grpc.reflection.\(version).ServerReflection/ServerReflectionInfo") {
                (requests: RequestMessages<ReflectionRequest>, _, writer: MessageWriter<ReflectionResponse>) in
                for try await request in requests {
                    try await writer.send(self.answer(request))
                }
            }
        }
    }

    public func answer(_ request: ReflectionRequest) -> ReflectionResponse {
        ReflectionResponse(validHost: request.host, originalRequest: request, answer: answer(request.query))
    }

    private func answer(_ query: ReflectionRequest.Query) -> ReflectionResponse.Answer {
        switch query {
        case .listServices:
            return .services(serviceNames)
        case .fileByFilename(let name):
            guard filesByName[name] != nil else { return notFound("file \"\(name)\"") }
            return .fileDescriptors(withDependencies(name))
        case .fileContainingSymbol(let symbol):
            guard let name = fileBySymbol[trimmed(symbol)] else { return notFound("symbol \"\(symbol)\"") }
            return .fileDescriptors(withDependencies(name))
        case .allExtensionNumbersOfType(let type):
            // None of the served files declares extensions.
            guard fileBySymbol[trimmed(type)] != nil else { return notFound("type \"\(type)\"") }
            return .extensionNumbers(baseTypeName: trimmed(type), numbers: [])
        case .fileContainingExtension(let type, let number):
            return notFound("extension \(number) of \"\(type)\"")
        case .none:
            return .error(code: Int32(GRPCStatus.Code.invalidArgument.rawValue), message: "the request asks nothing")
        }
    }

    /// The file first, then every file it imports, transitively, each once.
    private func withDependencies(_ name: String) -> [[UInt8]] {
        var seen: Set<String> = []
        var order: [String] = []
        var pending = [name]
        while let next = pending.popLast() {
            guard seen.insert(next).inserted, let file = filesByName[next] else { continue }
            order.append(next)
            pending.append(contentsOf: file.dependencies.reversed())
        }
        return order.compactMap { filesByName[$0]?.descriptorBytes }
    }

    private func trimmed(_ symbol: String) -> String {
        symbol.hasPrefix(".") ? String(symbol.dropFirst()) : symbol
    }

    private func notFound(_ what: String) -> ReflectionResponse.Answer {
        .error(code: Int32(GRPCStatus.Code.notFound.rawValue), message: "\(what) not found")
    }
}
