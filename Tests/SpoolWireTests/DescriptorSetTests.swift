import Testing
import SpoolWire

struct DescriptorSetTests {
    @Test func theCompiledSetHoldsEveryServedProtoFile() {
        let names = Set(DescriptorSet.compiled.map(\.name))
        #expect(names == [
            "spool/v1/queue.proto", "spool/v1/worker.proto", "grpc/health/v1/health.proto",
            "grpc/reflection/v1/reflection.proto", "grpc/reflection/v1alpha/reflection.proto",
        ])
    }

    @Test func symbolsAreFullyQualifiedAndIncludeNestedTypesAndMethods() throws {
        let queue = try #require(DescriptorSet.compiled.first { $0.name == "spool/v1/queue.proto" })
        #expect(queue.package == "spool.v1")
        #expect(queue.services == ["spool.v1.JobQueue"])
        for symbol in ["spool.v1.JobQueue", "spool.v1.JobQueue.StreamProgress", "spool.v1.Job",
                       "spool.v1.JobState", "spool.v1.ProgressEvent.Kind", "spool.v1.Job.LabelsEntry"] {
            #expect(queue.symbols.contains(symbol), "\(symbol)")
        }
    }

    @Test func descriptorBytesReparseToTheSameFile() throws {
        // A FileDescriptorSet is `repeated FileDescriptorProto file = 1`: one
        // file's bytes, framed as field 1, make a set of that file alone.
        let health = try #require(DescriptorSet.compiled.first { $0.name == "grpc/health/v1/health.proto" })
        var set: [UInt8] = [0x0A]
        var length = health.descriptorBytes.count
        while length >= 0x80 {
            set.append(UInt8(length & 0x7F) | 0x80)
            length >>= 7
        }
        set.append(UInt8(length))
        set += health.descriptorBytes
        #expect(try DescriptorSet.files(fromSerializedSet: set) == [health])
    }
}
