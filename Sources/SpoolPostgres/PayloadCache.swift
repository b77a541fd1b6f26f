import Synchronization

/// The payloads of jobs just stored, kept for their dispatch, which mostly
/// follows at once: a job that does not wait long is handed out without a
/// round trip to the database for its payload. Bounded in total bytes;
/// the oldest go first, and a job read from here is forgotten (a retry
/// reads its payload from the database).
final class PayloadCache: Sendable {
    private struct State {
        var payloads: [Int64: [UInt8]] = [:]
        /// Seqs in the order they came; some may be gone already.
        var order: [Int64] = []
        var head = 0
        var bytes = 0
    }

    private let state = Mutex(State())
    let budget: Int

    init(budget: Int) {
        self.budget = budget
    }

    /// Keeps `payload` unless it alone takes more than a 64th of the budget.
    func keep(_ payload: [UInt8], forSeq seq: Int64) {
        guard payload.count <= budget / 64 else { return }
        state.withLock { state in
            guard state.payloads.updateValue(payload, forKey: seq) == nil else { return }
            state.order.append(seq)
            state.bytes += payload.count + 64
            while state.bytes > budget, state.head < state.order.count {
                let oldest = state.order[state.head]
                state.head += 1
                if let gone = state.payloads.removeValue(forKey: oldest) { state.bytes -= gone.count + 64 }
            }
            // Drop the consumed front once it is most of the array.
            if state.head > 1024 && state.head * 2 > state.order.count {
                state.order.removeFirst(state.head)
                state.head = 0
            }
        }
    }

    /// The payload of `seq` if it is here, forgotten as it is handed out.
    func take(_ seq: Int64) -> [UInt8]? {
        state.withLock { state in
            guard let payload = state.payloads.removeValue(forKey: seq) else { return nil }
            state.bytes -= payload.count + 64
            return payload
        }
    }

    var count: Int { state.withLock { $0.payloads.count } }
}
