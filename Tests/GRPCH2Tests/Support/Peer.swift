import Foundation

/// A real client process: Python grpcio (from the repo's .venv, or
/// $SPOOL_PYTHON) or an nghttp2 command-line tool.
enum Peer {
    struct Output {
        let status: Int32
        let stdout: String
        let stderr: String
        var lines: [String] { stdout.split(separator: "\n").map(String.init) }
    }

    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static var python: String {
        if let python = ProcessInfo.processInfo.environment["SPOOL_PYTHON"] { return python }
        return packageRoot.appendingPathComponent(".venv/bin/python").path
    }

    /// Runs a Python script with grpcio; `arguments` become sys.argv[1...].
    static func python(_ script: String, _ arguments: String...) async throws -> Output {
        try await run(python, ["-c", script] + arguments)
    }

    static func run(_ executable: String, _ arguments: [String]) async throws -> Output {
        let process = Process()
        if executable.contains("/") {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [executable] + arguments
        }
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        let exited = AsyncStream.makeStream(of: Int32.self)
        process.terminationHandler = { exited.continuation.yield($0.terminationStatus) }
        try process.run()
        // Read both pipes while the process runs, so neither can fill up; the
        // blocking reads run on Dispatch threads, not Swift's cooperative pool.
        async let out = readToEnd(stdout)
        async let err = readToEnd(stderr)
        let (outData, errData) = await (out, err)
        var status: Int32 = -1
        for await code in exited.stream { status = code; break }
        return Output(status: status, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
    }

    private static func readToEnd(_ pipe: Pipe) async -> Data {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: pipe.fileHandleForReading.readDataToEndOfFile())
            }
        }
    }
}
