import SpoolWire
import Testing

struct RepeatedFieldLimitsTests {
    private static func limits() -> RepeatedFieldLimits {
        var job = RepeatedFieldLimits()
        job.limit(field: 6, "lock_keys", to: 2)
        var batch = RepeatedFieldLimits()
        batch.limit(field: 1, "jobs", to: 3, setting: "max_batch_size")
        batch.lookInto(field: 1, "jobs", job)
        return batch
    }

    private static func batch(jobs: Int, lockKeysInLast: Int = 0) -> [UInt8] {
        var spec = JobSpec()
        spec.type = "spool.echo"
        var last = spec
        last.lockKeys = (0..<lockKeysInLast).map { "k\($0)" }
        var request = EnqueueBatchRequest()
        request.jobs = Array(repeating: spec, count: max(0, jobs - 1)) + [last]
        request.labels = ["a": "b"]
        return request.serializedBytes()
    }

    @Test func aMessageWithinItsLimitsPasses() throws {
        try Self.limits().check(Self.batch(jobs: 3, lockKeysInLast: 2))
        try Self.limits().check([])
    }

    @Test func tooManyElementsAreCountedAndNamedWithTheSetting() {
        #expect {
            try Self.limits().check(Self.batch(jobs: 5))
        } throws: { error in
            "\(error)" == "jobs has more than 3 elements, the most a request may carry (max_batch_size); it has 5"
        }
    }

    @Test func aNestedFieldIsNamedWithItsPath() {
        #expect {
            try Self.limits().check(Self.batch(jobs: 2, lockKeysInLast: 3))
        } throws: { error in
            "\(error)" == "jobs[1].lock_keys has more than 2 elements, the most a request may carry; it has 3"
        }
    }

    /// Two million empty jobs in 4 MiB: counted from the bytes, nothing unpacked.
    @Test func twoMillionEmptyJobsAreRefusedFromTheirBytes() {
        let bytes: [UInt8] = (0..<(4 << 20)).map { $0 % 2 == 0 ? 0x0A : 0x00 }
        #expect(throws: RepeatedFieldLimits.Exceeded.self) { try Self.limits().check(bytes) }
    }

    /// Malformed bytes end the scan: unpacking then refuses them with protobuf-c's reason.
    @Test(arguments: [[0xFF], [0x0A, 0x05, 0x01], [0x0B], [0x00], [0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]] as [[UInt8]])
    func malformedBytesPassTheScanQuietly(bytes: [UInt8]) throws {
        try Self.limits().check(bytes)
        #expect(throws: WireDecodingError.self) { try EnqueueBatchRequest(serializedBytes: bytes) }
    }
}
