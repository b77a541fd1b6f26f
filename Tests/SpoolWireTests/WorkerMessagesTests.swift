import Testing
import SpoolWire

/// The worker stream's messages, each kind with every field set, through
/// protobuf-c and back.
struct WorkerMessagesTests {
    private static let lease = WireLease(jobId: "0190a5b6-c7d8-7abc-8def-0123456789ab", attempt: 3, leaseId: "k3x9")

    @Test(arguments: [
        WorkerMessage(.hello(.init(name: "gpu-3", types: ["render", "lookup"], capacity: 4, labels: ["host": "a", "v": "1.2"],
                                   batches: true))),
        WorkerMessage(.heartbeat),
        WorkerMessage(.progress(lease, JobProgress(fraction: 0.25, step: "denoise", message: "pass 1"))),
        WorkerMessage(.outcome(.init(lease, .result([0, 255, 7])))),
        WorkerMessage(.outcome(.init(lease, .failure(message: "429", permanent: false, retryAfterMs: 1500)))),
        WorkerMessage(.outcome(.init(lease, .failure(message: "bad input", permanent: true, retryAfterMs: 0)))),
        WorkerMessage(.outcome(.init(lease, .released("stopping")))),
        WorkerMessage(.draining),
        WorkerMessage(.outcomes([.init(lease, .result([1])), .init(nil, .none),
                                 .init(lease, .failure(message: "x", permanent: true, retryAfterMs: 0))])),
    ])
    func workerMessagesSurviveTheWire(message: WorkerMessage) throws {
        #expect(try WorkerMessage(serializedBytes: message.serializedBytes()) == message)
    }

    @Test func commandsSurviveTheWire() throws {
        var assignment = WorkerCommandMessage.Assignment()
        assignment.lease = Self.lease
        assignment.type = "render"
        assignment.queue = "images"
        assignment.payload = [1, 2, 3]
        assignment.maxAttempts = 5
        assignment.priority = -2
        assignment.deadlineMs = 1_790_000_000_000
        assignment.leaseMs = 30_000
        assignment.labels = ["repo": "x"]
        assignment.batchId = "b1"
        let commands = [
            WorkerCommandMessage(.welcome(workerId: "w7", heartbeatIntervalMs: 10_000, batches: true)),
            WorkerCommandMessage(.assign(assignment)),
            WorkerCommandMessage(.assignments([assignment, WorkerCommandMessage.Assignment()])),
            WorkerCommandMessage(.cancel(Self.lease, .timeout, message: "attempt ran past 60 s")),
            WorkerCommandMessage(.drain(deadlineMs: 1_790_000_010_000, message: "the server is shutting down")),
            WorkerCommandMessage(.ack(Self.lease, .leaseLost, message: "this attempt's lease is no longer yours")),
        ]
        for command in commands {
            #expect(try WorkerCommandMessage(serializedBytes: command.serializedBytes()) == command)
        }
    }

    @Test func anEmptyMessageDecodesAsNone() throws {
        #expect(try WorkerMessage(serializedBytes: []).body == .none)
        #expect(try WorkerCommandMessage(serializedBytes: []).body == .none)
    }
}
