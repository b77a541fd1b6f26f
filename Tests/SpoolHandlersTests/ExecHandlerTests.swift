import Foundation
import Synchronization
import SpoolCore
import SpoolHandlers
import XCTest

/// The `exec` handler against real `/bin/sh` scripts written to a temporary
/// directory.
final class ExecHandlerTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("spool-exec-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    /// A handler running `body` as a `/bin/sh` script.
    private func handler(_ body: String, graceMs: Int64 = 5000, log: @escaping @Sendable (String) -> Void = { _ in })
        throws -> ExecHandler
    {
        let script = directory.appendingPathComponent("job.sh")
        try ("#!/bin/sh\n" + body + "\n").write(to: script, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)
        return ExecHandler(command: .init(executable: script.path, terminationGraceMs: graceMs), log: log)
    }

    private func job(_ payload: String = "", attempt: Int32 = 1, progress: Progress = Progress()) -> JobContext {
        JobContext(id: "job-1", type: "render", attempt: attempt, payload: Array(payload.utf8)) {
            progress.append($0)
        }
    }

    private func failure(of handler: ExecHandler, _ context: JobContext) async -> JobFailure? {
        do {
            _ = try await handler.run(context)
            return nil
        } catch {
            return error as? JobFailure
        }
    }

    func testProgressMessagesReachTheJobAndTheLastResultIsReturned() async throws {
        let exec = try handler("""
            echo '{"progress":0.25,"step":"sketch"}'
            echo '{"progress":0.75,"step":"denoise","message":"almost"}'
            echo '{"result":"draft"}'
            echo '{"result":"final image"}'
            """)
        let progress = Progress()
        let result = try await exec.run(job(progress: progress))
        XCTAssertEqual(String(decoding: result, as: UTF8.self), "final image")
        XCTAssertEqual(progress.values, [
            JobRecord.Progress(fraction: 0.25, step: "sketch"),
            JobRecord.Progress(fraction: 0.75, step: "denoise", message: "almost"),
        ])
    }

    func testPayloadIsStandardInputAndTheJobIsInTheEnvironment() async throws {
        let exec = try handler(#"printf '{"result":"%s %s %s %s"}\n' "$SPOOL_JOB_ID" "$SPOOL_JOB_TYPE" "$SPOOL_ATTEMPT" "$(cat)""#)
        let result = try await exec.run(job("a prompt", attempt: 2))
        XCTAssertEqual(String(decoding: result, as: UTF8.self), "job-1 render 2 a prompt")
    }

    func testTheBatchAndWhereSpoolIsAreInTheEnvironmentOnceKnown() async throws {
        let script = directory.appendingPathComponent("fan.sh")
        try ("#!/bin/sh\n" + #"printf '{"result":"%s|%s|%s"}\n' "$SPOOL_BATCH_ID" "$SPOOL_SERVER" "$SPOOL_TOKEN""#
             + "\n").write(to: script, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)
        let endpoint = SpoolEndpoint()
        let exec = ExecHandler(command: .init(executable: script.path), endpoint: endpoint)
        let context = JobContext(id: "job-2", type: "fan", attempt: 1, payload: [], batchID: "batch-9") { _ in }
        let before = try await exec.run(context)
        XCTAssertEqual(String(decoding: before, as: UTF8.self), "batch-9||")
        endpoint.set(server: "127.0.0.1:50051", token: "t0k")
        let after = try await exec.run(context)
        XCTAssertEqual(String(decoding: after, as: UTF8.self), "batch-9|127.0.0.1:50051|t0k")
    }

    /// Writing the rest of the payload then fails (EPIPE); it must neither
    /// fail the job nor kill the process with SIGPIPE.
    func testACommandThatExitsWithoutReadingALargePayloadStillSucceeds() async throws {
        let exec = try handler(#"echo '{"result":"done"}'"#)
        let result = try await exec.run(job(String(repeating: "x", count: 1 << 20)))
        XCTAssertEqual(String(decoding: result, as: UTF8.self), "done")
    }

    func testResultB64CarriesBinaryResults() async throws {
        let exec = try handler(#"echo '{"result_b64":"AP8Q"}'"#)
        let result = try await exec.run(job())
        XCTAssertEqual(result, [0x00, 0xFF, 0x10])
    }

    func testInvalidResultB64FailsPermanently() async throws {
        let exec = try handler(#"echo '{"result_b64":"not base64!"}'"#)
        let failure = await failure(of: exec, job())
        XCTAssertEqual(failure, .permanent("exec: result_b64 is not base64"))
    }

    func testErrorMessageSayingNotRetryableFailsPermanently() async throws {
        let exec = try handler(#"echo '{"error":"the prompt is empty","retryable":false}'; exit 3"#)
        let failure = await failure(of: exec, job())
        XCTAssertEqual(failure, .permanent("the prompt is empty (exited with status 3)"))
    }

    func testRetryAfterReachesTheRateLimiter() async throws {
        let exec = try handler(#"echo '{"error":"429 from upstream","retry_after_ms":1500}'; exit 1"#)
        let failure = await failure(of: exec, job())
        XCTAssertEqual(failure, .retryable("429 from upstream (exited with status 1)", retryAfterMs: 1500))
    }

    func testNonZeroExitIsRetryableAndKeepsTheEndOfStandardError() async throws {
        let exec = try handler("""
            i=0
            while [ $i -lt 2000 ]; do echo "noise line $i" >&2; i=$((i+1)); done
            echo "Traceback: out of memory" >&2
            exit 2
            """)
        guard case .retryable(let text, nil) = await failure(of: exec, job()) else {
            return XCTFail("expected a retryable failure")
        }
        XCTAssertTrue(text.hasPrefix("exited with status 2; stderr: "), text)
        XCTAssertTrue(text.hasSuffix("noise line 1999\nTraceback: out of memory"), text)
        XCTAssertLessThanOrEqual(text.utf8.count, ExecHandler.maxErrorTextBytes + 100)
    }

    func testExitZeroSucceedsWithEmptyResultWhenNoneWasSent() async throws {
        let exec = try handler("true")
        let result = try await exec.run(job())
        XCTAssertEqual(result, [])
    }

    func testLinesThatAreNotMessagesAreLogged() async throws {
        let logged = Lines()
        let exec = try handler("""
            echo 'loading model'
            echo '{"progress":0.5}'
            echo '{not json'
            """, log: { logged.append($0) })
        _ = try await exec.run(job())
        XCTAssertEqual(logged.values, ["job job-1: loading model", "job job-1: {not json"])
    }

    func testMissingExecutableFailsPermanently() async throws {
        let exec = ExecHandler(command: .init(executable: directory.appendingPathComponent("absent").path))
        guard case .permanent(let text) = await failure(of: exec, job()) else {
            return XCTFail("expected a permanent failure")
        }
        XCTAssertTrue(text.hasPrefix("exec: cannot start "), text)
    }

    func testCancelledJobSendsSIGTERMToItsWholeProcessGroup() async throws {
        let marker = directory.appendingPathComponent("marker")
        // The command starts a child, then says it is ready. On SIGTERM it
        // records the signal and how its child ended (143: the child got
        // SIGTERM too), then exits.
        let exec = try handler("""
            sleep 1000 &
            child=$!
            trap 'echo term >> "\(marker.path)"; wait $child; echo "child $?" >> "\(marker.path)"; exit 0' TERM
            echo '{"progress":0.1,"step":"ready"}'
            wait $child
            """)
        try await cancelAfterFirstReport(exec)
        XCTAssertEqual(try String(contentsOf: marker, encoding: .utf8), "term\nchild 143\n")
    }

    func testCommandIgnoringSIGTERMIsKilledAfterTheGracePeriod() async throws {
        let exec = try handler("""
            trap '' TERM
            echo '{"progress":0.1,"step":"ready"}'
            while :; do sleep 1; done
            """, graceMs: 50)
        try await cancelAfterFirstReport(exec)
    }

    func testAChildLeftInTheBackgroundIsKilledWhenTheCommandExits() async throws {
        let pidFile = directory.appendingPathComponent("child.pid")
        let exec = try handler("""
            sleep 1000 > /dev/null 2>&1 &
            echo $! > "\(pidFile.path)"
            echo '{"result":"done"}'
            """)
        let result = try await exec.run(job())
        XCTAssertEqual(String(decoding: result, as: UTF8.self), "done")
        let pid = try XCTUnwrap(Int32(String(contentsOf: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        // SIGKILL was sent before run returned; its delivery is the kernel's,
        // so the check waits for it (a few milliseconds), up to ten seconds.
        var alive = Self.isRunning(pid)
        for _ in 0..<1000 where alive {
            try await Task.sleep(for: .milliseconds(10))
            alive = Self.isRunning(pid)
        }
        XCTAssertFalse(alive, "the background child \(pid) outlived its job")
    }

    /// Whether the process exists and has not ended (a zombie has ended:
    /// in a container nobody may reap it).
    private static func isRunning(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(close, offsetBy: 2)]
        return state != "Z" && state != "X"
    }

    /// Runs `exec`, cancels the run once the command reported progress, and
    /// checks that the run ends as cancelled.
    private func cancelAfterFirstReport(_ exec: ExecHandler) async throws {
        let ready = Progress()
        let context = job(progress: ready)
        let run = Task { try await exec.run(context) }
        await ready.first()
        run.cancel()
        do {
            _ = try await run.value
            XCTFail("a cancelled run returned a result")
        } catch {
            XCTAssertTrue(error is CancellationError, "\(error)")
        }
    }
}

/// Progress a handler reported, and a way to wait for the first report.
final class Progress: Sendable {
    private let state = Mutex<(values: [JobRecord.Progress], waiters: [CheckedContinuation<Void, Never>])>(([], []))

    var values: [JobRecord.Progress] { state.withLock { $0.values } }

    func append(_ progress: JobRecord.Progress) {
        let waiters = state.withLock { state in
            state.values.append(progress)
            defer { state.waiters = [] }
            return state.waiters
        }
        waiters.forEach { $0.resume() }
    }

    func first() async {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state in
                if state.values.isEmpty { state.waiters.append(continuation) }
                return !state.values.isEmpty
            }
            if ready { continuation.resume() }
        }
    }
}

final class Lines: Sendable {
    private let state = Mutex<[String]>([])
    var values: [String] { state.withLock { $0 } }
    func append(_ line: String) { state.withLock { $0.append(line) } }
}
