/// The free places a dispatch round can fill: spoold's own worker slots, for
/// jobs of local types, and the free capacity of each connected remote
/// worker, for jobs of the types it runs. Built by the engine for each
/// round; the scheduler asks it whether a job's type has a place and takes
/// one for each job it starts.
struct DispatchSlots {
    /// Where a started job runs.
    enum Place: Equatable {
        case local
        case remote(workerNumber: Int64)
    }

    struct Worker {
        let number: Int64
        var free: Int
        let types: Set<String>
    }

    private(set) var localFree: Int
    private let remoteTypes: [String: RemoteTypeConfiguration]
    private var workers: [Worker]
    /// Where the round-robin over workers starts its next search.
    private var next = 0

    init(localFree: Int, remoteTypes: [String: RemoteTypeConfiguration], workers: [Worker]) {
        self.localFree = localFree
        self.remoteTypes = remoteTypes
        self.workers = workers.filter { $0.free > 0 }
    }

    /// The lane a job of `type` waits in when no place is free: "" for
    /// spoold's own slots, else its (remote) type.
    func lane(of type: String) -> String {
        Self.lane(ofType: type, remoteTypes: remoteTypes)
    }

    static func lane(ofType type: String, remoteTypes: [String: RemoteTypeConfiguration]) -> String {
        remoteTypes[type] == nil ? "" : type
    }

    var total: Int { localFree + workers.reduce(0) { $0 + $1.free } }
    var isEmpty: Bool { localFree == 0 && workers.isEmpty }

    func hasPlace(for type: String) -> Bool {
        guard remoteTypes[type] != nil else { return localFree > 0 }
        return workers.contains { $0.types.contains(type) }
    }

    /// Takes a place for a job of `type`: spoold's, or the next worker's in
    /// turn that runs the type. Nil when none is free.
    mutating func take(for type: String) -> Place? {
        guard remoteTypes[type] != nil else {
            guard localFree > 0 else { return nil }
            localFree -= 1
            return .local
        }
        guard !workers.isEmpty else { return nil }
        for offset in 0..<workers.count {
            let index = (next + offset) % workers.count
            guard workers[index].types.contains(type) else { continue }
            let number = workers[index].number
            workers[index].free -= 1
            if workers[index].free == 0 {
                workers.remove(at: index)
                next = workers.isEmpty ? 0 : index % workers.count
            } else {
                next = (index + 1) % workers.count
            }
            return .remote(workerNumber: number)
        }
        return nil
    }
}
