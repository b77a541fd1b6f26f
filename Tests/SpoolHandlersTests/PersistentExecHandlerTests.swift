import Foundation
import SpoolCore
import SpoolHandlers
import XCTest

/// The persistent `exec` handler against real `/bin/sh` scripts that read
/// one job line after another from standard input.
final class PersistentExecHandlerTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("spool-persistent-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    /// A persistent handler running `body` as a `/bin/sh` script.
    private func handler(_ body: String, graceMs: Int64 = 5000, environment: [String: String] = [:])
        throws -> PersistentExecHandler
    {
        let script = directory.appendingPathComponent("worker.sh")
        try ("#!/bin/sh\n" + body + "\n").write(to: script, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)
        return PersistentExecHandler(command: .init(
            executable: script.path, environment: environment, terminationGraceMs: graceMs, persistent: true))
    }

    private func job(_ id: String, _ payload: [UInt8] = Array("p".utf8), progress: Progress = Progress()) -> JobContext {
        JobContext(id: id, type: "render", attempt: 2, payload: payload, labels: ["repo": "a\"b"]) { progress.append($0) }
    }

    private func failure(of handler: PersistentExecHandler, _ context: JobContext) async -> JobFailure? {
        do {
            _ = try await handler.run(context)
            return nil
        } catch {
            return error as? JobFailure
        }
    }

    /// The script answers each line with its pid and the line it read.
    private let echo = #"""
        while IFS= read -r line; do
          printf '{"progress":0.5,"step":"%s"}\n' "$$"
          escaped=$(printf '%s' "$line" | sed 's/\\/\\\\/g; s/"/\\"/g')
          printf '{"result":"%s %s"}\n' "$$" "$escaped"
        done
        """#

    func testOneProcessTakesJobAfterJobAsJSONLines() async throws {
        let exec = try handler(echo)
        var pids: Set<String> = []
        for id in ["a", "b", "c"] {
            let result = String(decoding: try await exec.run(job(id)), as: UTF8.self)
            let (pid, line) = try XCTUnwrap(result.split(separator: " ", maxSplits: 1).map(String.init).pair)
            pids.insert(pid)
            let fields = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            XCTAssertEqual(fields["id"] as? String, id)
            XCTAssertEqual(fields["type"] as? String, "render")
            XCTAssertEqual(fields["attempt"] as? Int, 2)
            XCTAssertEqual(fields["payload"] as? String, "p")
            XCTAssertEqual(fields["labels"] as? [String: String], ["repo": "a\"b"])
        }
        XCTAssertEqual(pids.count, 1, "every job went to one process")
    }

    func testABinaryPayloadComesAsBase64() async throws {
        let exec = try handler(echo)
        let result = String(decoding: try await exec.run(job("a", [0xFF, 0x00])), as: UTF8.self)
        let line = try XCTUnwrap(result.split(separator: " ", maxSplits: 1).last)
        let fields = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        XCTAssertEqual(fields["payload_b64"] as? String, "/wA=")
        XCTAssertNil(fields["payload"])
    }

    func testProgressIsReportedAndErrorsFailTheJobWithoutStoppingTheProcess() async throws {
        let exec = try handler(#"""
            n=0
            while IFS= read -r line; do
              n=$((n+1))
              echo '{"progress":0.3,"step":"thinking"}'
              case $n in
                1) echo '{"error":"429","retry_after_ms":700}' ;;
                2) echo '{"error":"bad prompt","retryable":false}' ;;
                *) echo "{\"result\":\"job $n of $$\"}" ;;
              esac
            done
            """#)
        let progress = Progress()
        let first = await failure(of: exec, job("a", progress: progress))
        XCTAssertEqual(first, .retryable("429", retryAfterMs: 700))
        XCTAssertEqual(progress.values, [JobRecord.Progress(fraction: 0.3, step: "thinking")])
        let second = await failure(of: exec, job("b"))
        XCTAssertEqual(second, .permanent("bad prompt"))
        let result = String(decoding: try await exec.run(job("c")), as: UTF8.self)
        XCTAssertTrue(result.hasPrefix("job 3 of "), "the same process took the third job: \(result)")
    }

    func testAProcessThatDiesDuringAJobFailsItRetryablyAndIsReplaced() async throws {
        let marker = directory.appendingPathComponent("died")
        // The first process dies on its first job; the next one answers.
        let exec = try handler("""
            read -r line
            if [ ! -e "\(marker.path)" ]; then touch "\(marker.path)"; exit 9; fi
            echo '{"result":"fresh"}'
            while read -r line; do echo '{"result":"again"}'; done
            """)
        let lost = await failure(of: exec, job("a"))
        XCTAssertEqual(lost, .retryable("exec: the persistent worker process exited during the job"))
        let fresh = try await exec.run(job("b")), again = try await exec.run(job("c"))
        XCTAssertEqual(String(decoding: fresh, as: UTF8.self), "fresh")
        XCTAssertEqual(String(decoding: again, as: UTF8.self), "again")
    }

    func testAProcessThatDiedWhileIdleCostsTheNextJobNothing() async throws {
        let count = directory.appendingPathComponent("starts")
        // Each process answers one job, then exits while idle.
        let exec = try handler("""
            echo x >> "\(count.path)"
            read -r line
            echo '{"result":"one"}'
            exit 0
            """)
        for id in ["a", "b", "c"] {
            let result = try await exec.run(job(id))
            XCTAssertEqual(String(decoding: result, as: UTF8.self), "one")
        }
        let starts = try String(contentsOf: count, encoding: .utf8).split(separator: "\n").count
        XCTAssertEqual(starts, 3)
    }

    func testConcurrentJobsGetProcessesOfTheirOwn() async throws {
        let fifo = directory.appendingPathComponent("go").path
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        // Two jobs at once: each holds its process until the test lets them go.
        let exec = try handler(#"""
            while IFS= read -r line; do
              echo '{"progress":0.1}'
              read -r go < "$GO"
              echo "{\"result\":\"$$\"}"
            done
            """#, environment: ["GO": fifo])
        let first = Progress(), second = Progress()
        let jobA = job("a", progress: first), jobB = job("b", progress: second)
        let a = Task { try await exec.run(jobA) }
        let b = Task { try await exec.run(jobB) }
        await first.first()
        await second.first()
        // Held open (read-write, so opening it never blocks) until both are done:
        // a FIFO with no process holding it drops what is unread, and the
        // second process may open it only after the first has read its line.
        let go = try XCTUnwrap(FileHandle(forUpdatingAtPath: fifo))
        try go.write(contentsOf: Data("go\ngo\n".utf8))
        let pids = Set([try await a.value, try await b.value])
        try go.close()
        XCTAssertEqual(pids.count, 2, "two running jobs shared a process")
    }

    func testACancelStopsTheJobsProcessAndTheNextJobGetsAFreshOne() async throws {
        let exec = try handler(#"""
            trap 'exit 0' TERM
            while IFS= read -r line; do
              case "$line" in
                *'"id":"slow"'*) echo '{"progress":0.1,"step":"ready"}'; while :; do sleep 1; done ;;
                *) echo "{\"result\":\"$$\"}" ;;
              esac
            done
            """#, graceMs: 100)
        let before = try await exec.run(job("quick"))
        let ready = Progress()
        let slowJob = job("slow", progress: ready)
        let slow = Task { try await exec.run(slowJob) }
        await ready.first()
        slow.cancel()
        do {
            _ = try await slow.value
            XCTFail("a cancelled run returned a result")
        } catch {
            XCTAssertTrue(error is CancellationError, "\(error)")
        }
        let after = try await exec.run(job("quick"))
        XCTAssertNotEqual(before, after, "the stopped process was reused")
    }

    func testABrokenAnswerFailsPermanentlyAndRetiresTheProcess() async throws {
        let exec = try handler(#"""
            while IFS= read -r line; do
              case "$line" in
                *'"id":"bad"'*) echo '{"result_b64":"not base64!"}' ;;
                *) echo "{\"result\":\"$$\"}" ;;
              esac
            done
            """#)
        let before = try await exec.run(job("good"))
        let broken = await failure(of: exec, job("bad"))
        XCTAssertEqual(broken, .permanent("exec: result_b64 is not base64"))
        let after = try await exec.run(job("good"))
        XCTAssertNotEqual(before, after, "a process that broke the protocol was reused")
    }

    func testMissingExecutableFailsPermanently() async throws {
        let exec = PersistentExecHandler(command: .init(executable: directory.appendingPathComponent("absent").path, persistent: true))
        guard case .permanent(let text) = await failure(of: exec, job("a")) else {
            return XCTFail("expected a permanent failure")
        }
        XCTAssertTrue(text.hasPrefix("exec: cannot start "), text)
    }
}

private extension Array {
    var pair: (Element, Element)? { count == 2 ? (self[0], self[1]) : nil }
}
