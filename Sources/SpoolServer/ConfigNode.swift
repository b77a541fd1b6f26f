import Yams

/// A config file is refused with this: where, which key, and what is wrong.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible, Equatable {
    public let description: String

    public init(_ description: String) { self.description = description }
}

/// One value of a YAML config file, with the dotted key path and position
/// that every error names, e.g. `spool.yaml:7:18: queues.images.concurrency:
/// must be an integer ≥ 1 (got "two")`.
struct ConfigNode {
    let node: Node
    let path: String
    let file: String

    func error(_ problem: String) -> ConfigurationError {
        let position = node.mark.map { ":\($0.line):\($0.column)" } ?? ""
        return ConfigurationError("\(file)\(position): \(path.isEmpty ? "" : "\(path): ")\(problem)")
    }

    private var shown: String {
        if let scalar = node.scalar { return "\"\(scalar.string)\"" }
        return node.mapping != nil ? "a mapping" : "a list"
    }

    /// The mapping's entries in file order; a key outside `allowed` (when
    /// given) is refused, as a typo would otherwise be ignored silently.
    func entries(allowed: [String]? = nil) throws(ConfigurationError) -> [(key: String, value: ConfigNode)] {
        guard let mapping = node.mapping else { throw error("must be a mapping (got \(shown))") }
        var entries: [(key: String, value: ConfigNode)] = []
        for (keyNode, value) in mapping {
            guard let key = keyNode.scalar?.string else { throw error("keys must be plain strings") }
            let child = ConfigNode(node: value, path: path.isEmpty ? key : "\(path).\(key)", file: file)
            if let allowed, !allowed.contains(key) {
                throw ConfigNode(node: keyNode, path: child.path, file: file)
                    .error("unknown key (known here: \(allowed.joined(separator: ", ")))")
            }
            entries.append((key, child))
        }
        return entries
    }

    func string() throws(ConfigurationError) -> String {
        guard let scalar = node.scalar else { throw error("must be a string (got \(shown))") }
        return scalar.string
    }

    func string(oneOf choices: [String]) throws(ConfigurationError) -> String {
        let value = try string()
        guard choices.contains(value) else {
            throw error("must be one of \(choices.joined(separator: ", ")) (got \"\(value)\")")
        }
        return value
    }

    func bool() throws(ConfigurationError) -> Bool {
        guard let value = node.bool else { throw error("must be true or false (got \(shown))") }
        return value
    }

    func int(atLeast minimum: Int) throws(ConfigurationError) -> Int {
        guard let value = node.int, value >= minimum else { throw error("must be an integer ≥ \(minimum) (got \(shown))") }
        return value
    }

    func int(in range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        guard let value = node.int, range.contains(value) else {
            throw error("must be an integer from \(range.lowerBound) to \(range.upperBound) (got \(shown))")
        }
        return value
    }

    /// A number in `range`; with `orAbove`, above its lower bound.
    func number(in range: ClosedRange<Double>, orAbove: Bool = false) throws(ConfigurationError) -> Double {
        guard let value = node.float, value.isFinite, range.contains(value), !orAbove || value > range.lowerBound else {
            throw error("must be a number \(orAbove ? "above" : "from") \(range.lowerBound.formatted) "
                        + "\(orAbove ? "up " : "")to \(range.upperBound.formatted) (got \(shown))")
        }
        return value
    }

    /// Seconds, from 0 to `maxSeconds`, as milliseconds.
    func milliseconds(upTo maxSeconds: Double = SpoolConfiguration.Bounds.maxSeconds) throws(ConfigurationError) -> Int64 {
        Int64((try number(in: 0...maxSeconds) * 1000).rounded())
    }

    func strings() throws(ConfigurationError) -> [String] {
        guard case .sequence(let sequence) = node else { throw error("must be a list of strings (got \(shown))") }
        var values: [String] = []
        for (index, element) in sequence.enumerated() {
            values.append(try ConfigNode(node: element, path: "\(path)[\(index)]", file: file).string())
        }
        return values
    }
}

private extension Double {
    var formatted: String { self == rounded() && abs(self) < 1e15 ? String(Int(self)) : String(self) }
}
