import GRPCH2
import SpoolCore
import SpoolWire

/// How many elements each request's repeated and map fields may hold
/// (docs/guarantees.md: Limits), checked on the wire before a request is unpacked. The
/// numbers are the fields' in proto/spool/v1/queue.proto.
struct RequestLimits: Sendable {
    /// The most job ids one GetStatus or StreamProgress may name.
    static let maxJobIDs = 10_000
    /// The most queues one GetStatus may name.
    static let maxQueues = 1_000

    let enqueue: RepeatedFieldLimits
    let enqueueBatch: RepeatedFieldLimits
    let getStatus: RepeatedFieldLimits
    let streamProgress: RepeatedFieldLimits
    let listJobs: RepeatedFieldLimits
    let enqueueStream: RepeatedFieldLimits

    init(maxBatchSize: Int) {
        var job = RepeatedFieldLimits()
        job.limit(field: 6, "lock_keys", to: JobLimits.maxLockKeys)
        job.limit(field: 11, "labels", to: JobLimits.maxLabels)

        var enqueue = RepeatedFieldLimits()
        enqueue.lookInto(field: 1, "job", job)
        self.enqueue = enqueue

        var packed = RepeatedFieldLimits()
        packed.lookInto(field: 2, "job", job)
        packed.limit(field: 3, "more", to: 0)
        var streamed = RepeatedFieldLimits()
        streamed.lookInto(field: 2, "job", job)
        streamed.limit(field: 3, "more", to: EnqueueStreamCall.maxInFlight - 1)
        streamed.lookInto(field: 3, "more", packed)
        enqueueStream = streamed

        var batch = RepeatedFieldLimits()
        batch.limit(field: 1, "jobs", to: maxBatchSize, setting: "max_batch_size")
        batch.lookInto(field: 1, "jobs", job)
        batch.limit(field: 2, "labels", to: JobLimits.maxLabels)
        enqueueBatch = batch

        var status = RepeatedFieldLimits()
        status.limit(field: 1, "queues", to: Self.maxQueues)
        status.limit(field: 2, "job_ids", to: Self.maxJobIDs)
        getStatus = status

        var stream = RepeatedFieldLimits()
        stream.limit(field: 1, "job_ids", to: Self.maxJobIDs)
        streamProgress = stream

        var list = RepeatedFieldLimits()
        list.limit(field: 2, "states", to: JobState.allCases.count)
        list.limit(field: 5, "labels", to: JobLimits.maxLabels)
        listJobs = list
    }
}

extension RepeatedFieldLimits {
    /// The check as a router precheck: INVALID_ARGUMENT naming the field.
    var precheck: Router.Precheck {
        { bytes throws(GRPCStatus) in
            do throws(RepeatedFieldLimits.Exceeded) {
                try check(bytes)
            } catch {
                throw GRPCStatus(.invalidArgument, error.description)
            }
        }
    }
}
