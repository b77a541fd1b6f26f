import Foundation
import SpoolCore

/// The handlers every spoold has (docs/design.md §6), for the default set-up,
/// demos and benchmarks. Their payloads are optional JSON objects.
public enum BuiltinHandlers {
    public static func all(clock: any WallClock) -> [String: any JobHandler] {
        ["spool.echo": EchoHandler(), "spool.sleep": SleepHandler(clock: clock), "spool.fail": FailHandler()]
    }
}

/// `spool.echo`: succeeds at once with the payload as its result.
public struct EchoHandler: JobHandler {
    public init() {}

    public func run(_ job: JobContext) async throws -> [UInt8] { job.payload }
}

/// `spool.sleep`: a simulated multi-step generation. Payload
/// `{"steps": 5, "step_ms": 200}` (both optional); reports progress after
/// each step and stops promptly when cancelled.
public struct SleepHandler: JobHandler {
    struct Payload: Decodable {
        var steps: Int?
        var step_ms: Int64?
    }

    let clock: any WallClock

    public init(clock: any WallClock) { self.clock = clock }

    public func run(_ job: JobContext) async throws -> [UInt8] {
        let payload = try decode(Payload.self, from: job.payload) ?? Payload()
        let steps = payload.steps ?? 5, stepMs = payload.step_ms ?? 200
        guard (1...10_000).contains(steps), (0...3_600_000).contains(stepMs) else {
            throw JobFailure.permanent("payload: steps must be 1…10000 and step_ms 0…3600000")
        }
        for step in 1...steps {
            try await clock.sleep(untilMs: clock.nowMs + stepMs)
            await job.report(progress: Double(step) / Double(steps), step: "step \(step) of \(steps)")
        }
        return Array(#"{"steps":\#(steps),"step_ms":\#(stepMs)}"#.utf8)
    }
}

/// `spool.fail`: fails its first `fail_attempts` attempts, then succeeds.
/// Payload `{"fail_attempts": 1, "permanent": false, "retry_after_ms": 0,
/// "message": "…"}` (all optional). With `retry_after_ms` the failure says
/// "rate limited, retry after", as a throttled downstream would.
public struct FailHandler: JobHandler {
    struct Payload: Decodable {
        var fail_attempts: Int32?
        var permanent: Bool?
        var retry_after_ms: Int64?
        var message: String?
    }

    public init() {}

    public func run(_ job: JobContext) async throws -> [UInt8] {
        let payload = try decode(Payload.self, from: job.payload) ?? Payload()
        guard job.attempt > payload.fail_attempts ?? 1 else {
            let message = payload.message ?? "spool.fail: attempt \(job.attempt) fails as asked"
            if payload.permanent == true { throw JobFailure.permanent(message) }
            throw JobFailure.retryable(message, retryAfterMs: payload.retry_after_ms.flatMap { $0 > 0 ? $0 : nil })
        }
        return Array("succeeded on attempt \(job.attempt)".utf8)
    }
}

/// An empty payload is no payload; anything else must be the JSON object.
private func decode<T: Decodable>(_ type: T.Type, from payload: [UInt8]) throws -> T? {
    guard !payload.isEmpty else { return nil }
    do {
        return try JSONDecoder().decode(type, from: Data(payload))
    } catch {
        throw JobFailure.permanent("payload is not the expected JSON object: \(error)")
    }
}
