/// Where a waiting job stands in its queue: higher priority first, then
/// earlier enqueue (`seq`) first.
public struct QueueKey: Comparable, Hashable, Sendable, CustomStringConvertible {
    /// A fair queue's round-robin turn among its tenants (`fair_by`); 0
    /// in other queues.
    public let round: Int64
    public let seq: Int64
    public let priority: Int32

    public init(priority: Int32, round: Int64 = 0, seq: Int64) {
        self.priority = priority
        self.round = round
        self.seq = seq
    }

    /// `a < b`: a runs before b. Higher priority first, then the earlier
    /// round, then enqueue order.
    public static func < (a: QueueKey, b: QueueKey) -> Bool {
        if a.priority != b.priority { return a.priority > b.priority }
        return a.round != b.round ? a.round < b.round : a.seq < b.seq
    }

    public var description: String { round == 0 ? "(priority \(priority), seq \(seq))" : "(priority \(priority), round \(round), seq \(seq))" }
}

/// The jobs of one queue that are ready to run, in dispatch order, with the
/// 1-based position of each. Insert, remove, pop, rank and select are
/// O(log n) expected: a treap whose nodes carry their subtree sizes, kept in
/// one array (about 32 bytes a job, no object per job).
///
/// The treap's balancing priorities come from a seeded generator, so a given
/// sequence of operations always builds the same tree.
public struct ReadyQueue: Sequence {
    private struct Node {
        var key: QueueKey
        var left: Int32
        var right: Int32
        var size: Int32
        var weight: UInt32
    }

    private static let none: Int32 = -1
    private var nodes: [Node] = []
    private var freeSlots: [Int32] = []
    private var root = ReadyQueue.none
    private var random: SeededRandom

    public init(seed: UInt64 = 0x5DEE_CE66_D1CE_5EED) {
        random = SeededRandom(seed: seed)
    }

    /// A queue of `keys`, which must be sorted in dispatch order without
    /// duplicates: built in O(n) (a restart loads a million jobs this way),
    /// where inserting them one by one would take O(n log n) with a cache
    /// miss at every level.
    public init(sorted keys: [QueueKey], seed: UInt64 = 0x5DEE_CE66_D1CE_5EED) {
        self.init(seed: seed)
        nodes.reserveCapacity(keys.count)
        // A Cartesian tree on the weights: the stack holds the right spine;
        // a heavier node takes the lighter nodes it pops as its left subtree.
        var spine: [Int32] = []
        for (index, key) in keys.enumerated() {
            precondition(index == 0 || keys[index - 1] < key, "keys must be sorted and distinct")
            let node = makeNode(key)
            var lastPopped = Self.none
            while let top = spine.last, nodes[Int(top)].weight < nodes[Int(node)].weight {
                lastPopped = spine.removeLast()
            }
            nodes[Int(node)].left = lastPopped
            if let top = spine.last { nodes[Int(top)].right = node }
            spine.append(node)
        }
        root = spine.first ?? Self.none
        // Subtree sizes, children before parents (an explicit post-order walk).
        var stack: [(node: Int32, childrenDone: Bool)] = root == Self.none ? [] : [(root, false)]
        while let (node, childrenDone) = stack.popLast() {
            if childrenDone {
                update(node)
                continue
            }
            stack.append((node, true))
            if nodes[Int(node)].left != Self.none { stack.append((nodes[Int(node)].left, false)) }
            if nodes[Int(node)].right != Self.none { stack.append((nodes[Int(node)].right, false)) }
        }
    }

    public var count: Int { Int(size(root)) }
    public var isEmpty: Bool { root == Self.none }

    // MARK: Queries

    /// The job that runs next.
    public var first: QueueKey? {
        var node = root
        guard node != Self.none else { return nil }
        while nodes[Int(node)].left != Self.none { node = nodes[Int(node)].left }
        return nodes[Int(node)].key
    }

    /// The 1-based position of `key`, or nil if it is not waiting here.
    public func position(of key: QueueKey) -> Int? {
        var node = root
        var before: Int32 = 0
        while node != Self.none {
            let current = nodes[Int(node)]
            if key < current.key {
                node = current.left
            } else if current.key < key {
                before += size(current.left) + 1
                node = current.right
            } else {
                return Int(before + size(current.left) + 1)
            }
        }
        return nil
    }

    public func contains(_ key: QueueKey) -> Bool { position(of: key) != nil }

    /// How many queued keys come before `key`, whether or not it is queued.
    public func countBefore(_ key: QueueKey) -> Int {
        var node = root
        var before: Int32 = 0
        while node != Self.none {
            let current = nodes[Int(node)]
            if current.key < key {
                before += size(current.left) + 1
                node = current.right
            } else {
                node = current.left
            }
        }
        return Int(before)
    }

    /// The key at 1-based `position`, or nil past the end.
    public func key(at position: Int) -> QueueKey? {
        guard position >= 1, position <= count else { return nil }
        var remaining = Int32(position)
        var node = root
        while true {
            let current = nodes[Int(node)]
            let leftSize = size(current.left)
            if remaining <= leftSize {
                node = current.left
            } else if remaining == leftSize + 1 {
                return current.key
            } else {
                remaining -= leftSize + 1
                node = current.right
            }
        }
    }

    // MARK: Changes

    /// Adds a key that is not in the queue yet.
    public mutating func insert(_ key: QueueKey) {
        let (before, after) = split(root, at: key, keepingEqualLeft: false)
        precondition(after == Self.none || leftmostKey(after) != key, "\(key) is already queued")
        root = merge(merge(before, makeNode(key)), after)
    }

    /// Removes `key`; false if it was not queued.
    @discardableResult
    public mutating func remove(_ key: QueueKey) -> Bool {
        let (before, rest) = split(root, at: key, keepingEqualLeft: false)
        let (match, after) = split(rest, at: key, keepingEqualLeft: true)
        root = merge(before, after)
        guard match != Self.none else { return false }
        freeSlots.append(match)
        return true
    }

    /// Removes and returns the job that runs next.
    public mutating func popFirst() -> QueueKey? {
        guard let key = first else { return nil }
        remove(key)
        return key
    }

    // MARK: In-order iteration

    public struct Iterator: IteratorProtocol {
        fileprivate let queue: ReadyQueue
        fileprivate var stack: [Int32]
        fileprivate var node: Int32

        public mutating func next() -> QueueKey? {
            while node != ReadyQueue.none {
                stack.append(node)
                node = queue.nodes[Int(node)].left
            }
            guard let top = stack.popLast() else { return nil }
            node = queue.nodes[Int(top)].right
            return queue.nodes[Int(top)].key
        }
    }

    /// The keys in dispatch order (a snapshot: later changes do not show).
    public func makeIterator() -> Iterator {
        Iterator(queue: self, stack: [], node: root)
    }

    // MARK: Treap internals

    private func size(_ node: Int32) -> Int32 {
        node == Self.none ? 0 : nodes[Int(node)].size
    }

    private func leftmostKey(_ node: Int32) -> QueueKey {
        var node = node
        while nodes[Int(node)].left != Self.none { node = nodes[Int(node)].left }
        return nodes[Int(node)].key
    }

    private mutating func update(_ node: Int32) {
        nodes[Int(node)].size = size(nodes[Int(node)].left) + size(nodes[Int(node)].right) + 1
    }

    private mutating func nextWeight() -> UInt32 { UInt32(truncatingIfNeeded: random.next() >> 32) }

    private mutating func makeNode(_ key: QueueKey) -> Int32 {
        let node = Node(key: key, left: Self.none, right: Self.none, size: 1, weight: nextWeight())
        if let slot = freeSlots.popLast() {
            nodes[Int(slot)] = node
            return slot
        }
        nodes.append(node)
        return Int32(nodes.count - 1)
    }

    /// Splits `node`'s tree into keys before `key` and the rest; with
    /// `keepingEqualLeft`, `key` itself goes left.
    private mutating func split(_ node: Int32, at key: QueueKey, keepingEqualLeft: Bool) -> (Int32, Int32) {
        guard node != Self.none else { return (Self.none, Self.none) }
        let nodeKey = nodes[Int(node)].key
        let goesLeft = keepingEqualLeft ? !(key < nodeKey) : nodeKey < key
        if goesLeft {
            let (middle, right) = split(nodes[Int(node)].right, at: key, keepingEqualLeft: keepingEqualLeft)
            nodes[Int(node)].right = middle
            update(node)
            return (node, right)
        } else {
            let (left, middle) = split(nodes[Int(node)].left, at: key, keepingEqualLeft: keepingEqualLeft)
            nodes[Int(node)].left = middle
            update(node)
            return (left, node)
        }
    }

    /// Joins two trees where every key of `left` comes before every key of `right`.
    private mutating func merge(_ left: Int32, _ right: Int32) -> Int32 {
        if left == Self.none { return right }
        if right == Self.none { return left }
        if nodes[Int(left)].weight > nodes[Int(right)].weight {
            nodes[Int(left)].right = merge(nodes[Int(left)].right, right)
            update(left)
            return left
        } else {
            nodes[Int(right)].left = merge(left, nodes[Int(right)].left)
            update(right)
            return right
        }
    }
}
