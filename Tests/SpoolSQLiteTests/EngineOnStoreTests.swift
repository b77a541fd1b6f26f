import Foundation
import SpoolCore
import Testing

/// The engine on each real store (`StoreKind.available`: SQLite, and
/// PostgreSQL in CI): a flow with a dependency and an idempotency key across
/// a restart, waited for by its events.
@Suite(.timeLimit(.minutes(1)))
struct EngineOnStoreTests {
    struct Echo: JobHandler {
        func run(_ job: JobContext) async throws -> [UInt8] { job.payload }
    }

    /// Runs until cancelled (by the engine's shutdown).
    struct Hold: JobHandler {
        func run(_ job: JobContext) async throws -> [UInt8] {
            try await Task.sleep(for: .seconds(3_600))
            return []
        }
    }

    private func engine(on store: any JobStore, holding: Bool) -> QueueEngine {
        var configuration = EngineConfiguration()
        configuration.workers = 4
        let handlers: [String: any JobHandler] = ["echo": Echo(), "hold": holding ? Hold() : Echo()]
        return QueueEngine(configuration: configuration, store: store, clock: SystemClock(), handlers: handlers)
    }

    /// Waits for the events of `selection` until `done` says so.
    private func waitFor(_ engine: QueueEngine, _ selection: Selection, until done: @escaping ([String: JobState]) -> Bool) async throws {
        var states: [String: JobState] = [:]
        for try await event in try await engine.subscribe(selection) {
            states[event.job.record.id] = event.job.record.state
            if done(states) { return }
        }
    }

    @Test(arguments: StoreKind.available)
    func aFlowAndAnIdempotencyKeySurviveARestart(kind: StoreKind) async throws {
        let place = try kind.place()
        let first = engine(on: try await place.open(), holding: true)
        try await first.start()
        var hold = JobRequest(type: "hold")
        hold.payload = Array("held".utf8)
        var after = JobRequest(type: "echo")
        after.dependsOnItems = [0]
        let flow = try await first.enqueue([hold, after], batch: BatchOptions())
        let (holdID, afterID) = (flow.items[0].job.record.id, flow.items[1].job.record.id)
        var keyed = JobRequest(type: "echo")
        keyed.idempotencyKey = "once"
        let once = try await first.enqueue([keyed]).items[0].job.record.id
        try await waitFor(first, .jobs([once, holdID])) { $0[once] == .succeeded && $0[holdID] == .running }
        await first.shutdown(gracePeriodMs: 0)

        // The same store opened again: the held job runs again (now it ends), then the one after it.
        let second = engine(on: try await place.open(), holding: false)
        let recovery = try await second.start()
        #expect(recovery.blocked == 1)
        #expect(recovery.requeued + recovery.queued == 1)
        try await waitFor(second, .jobs([holdID, afterID])) { $0[holdID] == .succeeded && $0[afterID] == .succeeded }
        let again = try await second.enqueue([keyed])
        #expect(again.items[0].deduplicated && again.items[0].job.record.id == once)
        await second.shutdown(gracePeriodMs: 0)
    }
}
