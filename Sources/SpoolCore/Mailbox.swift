import Synchronization

/// Items posted from any thread and taken all at once by one consumer, which
/// is woken once per batch: `post` says when the consumer must be scheduled,
/// and `takeAll` makes the next `post` say so again. Group commit and the
/// engine's enqueue inbox are built on it.
public final class Mailbox<Item: Sendable>: Sendable {
    private struct State {
        var items: [Item] = []
        var takeScheduled = false
    }

    private let state = Mutex(State())

    public init() {}

    /// Adds `item`; true if nothing was waiting to take it, so the caller
    /// must schedule a `takeAll`.
    public func post(_ item: Item) -> Bool {
        state.withLock { state in
            state.items.append(item)
            defer { state.takeScheduled = true }
            return !state.takeScheduled
        }
    }

    /// Every item posted so far, oldest first.
    public func takeAll() -> [Item] {
        state.withLock { state in
            state.takeScheduled = false
            defer { state.items = [] }
            return state.items
        }
    }
}
