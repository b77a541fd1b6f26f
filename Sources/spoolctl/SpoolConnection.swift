import ArgumentParser
import GRPCH2
import NIOPosix
import SpoolWire

/// spool.v1.JobQueue over one GRPCH2 connection, with typed messages.
struct SpoolConnection {
    static let service = "/spool.v1.JobQueue/"

    let client: GRPCClient
    let metadata: [(name: String, value: String)]

    private static func open(_ options: ServerOptions) async throws -> SpoolConnection {
        let client: GRPCClient
        do {
            client = try await options.connect()
        } catch let error as ValidationError {
            throw error
        } catch {
            throw GRPCStatus(.unavailable, "cannot connect to \(options.server): \(error)")
        }
        let metadata = options.token.map { [(name: "authorization", value: "Bearer \($0)")] } ?? []
        return SpoolConnection(client: client, metadata: metadata)
    }

    /// Runs `body` on a new connection, closed again however `body` ends.
    static func with<T>(_ options: ServerOptions, _ body: (SpoolConnection) async throws -> T) async throws -> T {
        let connection = try await open(options)
        do {
            let result = try await body(connection)
            await connection.client.close()
            return result
        } catch {
            await connection.client.close()
            throw error
        }
    }

    func unary<Response: WireMessage>(
        _ method: String, _ request: some WireMessage, as: Response.Type
    ) async throws -> Response {
        let bytes = try await client.unary(Self.service + method, request: request.serializedBytes(),
                                           metadata: metadata, timeout: .seconds(30))
        return try Response(serializedBytes: bytes)
    }

    func enqueue(_ job: JobSpec) async throws -> EnqueueResponse {
        try await unary("Enqueue", EnqueueRequest(job: job), as: EnqueueResponse.self)
    }

    func enqueueBatch(_ request: EnqueueBatchRequest) async throws -> EnqueueBatchResponse {
        try await unary("EnqueueBatch", request, as: EnqueueBatchResponse.self)
    }

    func cancel(_ request: CancelRequest) async throws -> CancelResponse {
        try await unary("Cancel", request, as: CancelResponse.self)
    }

    func status(_ request: GetStatusRequest) async throws -> GetStatusResponse {
        try await unary("GetStatus", request, as: GetStatusResponse.self)
    }

    /// The progress events of `request`'s selection, until the server ends the stream.
    func progress(_ request: StreamProgressRequest) -> AsyncThrowingMapSequence<AsyncThrowingStream<[UInt8], any Error>, ProgressEvent> {
        client.call(Self.service + "StreamProgress", request: request.serializedBytes(), metadata: metadata)
            .map { try ProgressEvent(serializedBytes: $0) }
    }
}
