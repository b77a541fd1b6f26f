/// The open streams of a connection by id. nghttp2 reports several events
/// in a row for the same stream, so the last stream looked up is kept aside
/// and most lookups skip hashing.
struct StreamTable {
    private var byID: [Int32: ServerStream] = [:]
    private var recent: ServerStream?

    subscript(id: Int32) -> ServerStream? {
        mutating get {
            if let recent, recent.id == id { return recent }
            recent = byID[id]
            return recent
        }
    }

    mutating func insert(_ stream: ServerStream) {
        byID[stream.id] = stream
        recent = stream
    }

    mutating func remove(_ id: Int32) -> ServerStream? {
        if recent?.id == id { recent = nil }
        return byID.removeValue(forKey: id)
    }

    mutating func removeAll() {
        byID.removeAll()
        recent = nil
    }

    var isEmpty: Bool { byID.isEmpty }
    var all: Dictionary<Int32, ServerStream>.Values { byID.values }
}
