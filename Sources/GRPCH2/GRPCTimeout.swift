import NIOCore

/// The `grpc-timeout` header: 1 to 8 ASCII digits and a unit (H hours,
/// M minutes, S seconds, m milliseconds, u microseconds, n nanoseconds), as
/// the gRPC over HTTP/2 protocol writes it. Anything else, the empty value
/// included, is malformed.
public enum GRPCTimeout {
    public static func parse(_ header: String) -> Duration? {
        let utf8 = Array(header.utf8)
        guard utf8.count >= 2, utf8.count <= 9, let unit = utf8.last else { return nil }
        var amount: Int64 = 0
        for digit in utf8.dropLast() {
            guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") else { return nil }
            amount = amount * 10 + Int64(digit - UInt8(ascii: "0"))
        }
        switch unit {
        case UInt8(ascii: "H"): return .seconds(amount * 3600)
        case UInt8(ascii: "M"): return .seconds(amount * 60)
        case UInt8(ascii: "S"): return .seconds(amount)
        case UInt8(ascii: "m"): return .milliseconds(amount)
        case UInt8(ascii: "u"): return .microseconds(amount)
        case UInt8(ascii: "n"): return .nanoseconds(amount)
        default: return nil
        }
    }

    /// The longest timer set for a deadline: a century. The header allows
    /// 99,999,999 hours (about 11,000 years), whose nanoseconds do not fit
    /// in the Int64 a timer takes; a deadline that far is as good as none.
    static let longestTimer = TimeAmount.hours(100 * 366 * 24)

    /// How long until a timeout's deadline, as the event loop's timer takes it.
    static func timerDelay(_ timeout: Duration) -> TimeAmount {
        let (seconds, attoseconds) = timeout.components
        guard seconds < Int64(longestTimer.nanoseconds / 1_000_000_000) else { return longestTimer }
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
