/// A set of job seqs that lie close together, such as a batch's (its jobs
/// take consecutive seqs): one bit per seq from the lowest to the highest
/// ever inserted. A batch of 1000 jobs costs 128 bytes, where a
/// `Set<Int64>` costs some 16 KiB and hashes on every insert and removal.
/// Iterates in ascending order.
struct SeqSet: Sequence {
    /// The seq of bit 0 of `words[0]`.
    private var base: Int64
    private var words: [UInt64] = []
    private(set) var count = 0

    init(_ seq: Int64) {
        base = seq & ~63
        insert(seq)
    }

    var isEmpty: Bool { count == 0 }

    /// The lowest seq.
    var first: Int64? {
        var iterator = makeIterator()
        return iterator.next()
    }

    mutating func insert(_ seq: Int64) {
        if seq < base {
            // Below the first word: whole words go in front.
            let added = Int((base - (seq & ~63)) / 64)
            words.insert(contentsOf: repeatElement(0, count: added), at: 0)
            base -= Int64(added) * 64
        }
        let word = Int((seq - base) / 64)
        if word >= words.count { words.append(contentsOf: repeatElement(0, count: word - words.count + 1)) }
        let bit: UInt64 = 1 << UInt64((seq - base) % 64)
        if words[word] & bit == 0 {
            words[word] |= bit
            count += 1
        }
    }

    mutating func remove(_ seq: Int64) {
        guard let (word, bit) = position(of: seq), words[word] & bit != 0 else { return }
        words[word] &= ~bit
        count -= 1
    }

    private func position(of seq: Int64) -> (word: Int, bit: UInt64)? {
        guard seq >= base, case let word = Int((seq - base) / 64), word < words.count else { return nil }
        return (word, 1 << UInt64((seq - base) % 64))
    }

    func makeIterator() -> Iterator { Iterator(set: self) }

    struct Iterator: IteratorProtocol {
        fileprivate let set: SeqSet
        fileprivate var word = 0
        fileprivate var remaining: UInt64

        fileprivate init(set: SeqSet) {
            self.set = set
            remaining = set.words.first ?? 0
        }

        mutating func next() -> Int64? {
            while remaining == 0 {
                word += 1
                guard word < set.words.count else { return nil }
                remaining = set.words[word]
            }
            let bit = remaining.trailingZeroBitCount
            remaining &= remaining - 1
            return set.base + Int64(word) * 64 + Int64(bit)
        }
    }
}
