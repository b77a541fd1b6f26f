import Testing
@testable import GRPCH2

struct GRPCTimeoutTests {
    @Test func everyUnitParses() {
        #expect(GRPCTimeout.parse("2H") == .seconds(7200))
        #expect(GRPCTimeout.parse("3M") == .seconds(180))
        #expect(GRPCTimeout.parse("10S") == .seconds(10))
        #expect(GRPCTimeout.parse("250m") == .milliseconds(250))
        #expect(GRPCTimeout.parse("99999999u") == .microseconds(99_999_999))
        #expect(GRPCTimeout.parse("1n") == .nanoseconds(1))
    }

    /// The header's largest value is about 11,000 years: its nanoseconds
    /// overflowed Int64 when the deadline's timer was set, and spoold died.
    @Test func theLargestTimeoutsSetACenturyLongTimerInsteadOfOverflowing() {
        let largest = GRPCTimeout.parse("99999999H")!
        #expect(largest == .seconds(99_999_999 * 3600))
        #expect(GRPCTimeout.timerDelay(largest) == GRPCTimeout.longestTimer)
        #expect(GRPCTimeout.timerDelay(GRPCTimeout.parse("99999999S")!) == .seconds(99_999_999))
        #expect(GRPCTimeout.timerDelay(GRPCTimeout.parse("1500u")!) == .microseconds(1500))
    }

    @Test(arguments: ["", "m", "10", "10x", "-5m", "123456789m", "1.5S", " 5m"])
    func malformedValuesAreRejected(header: String) {
        #expect(GRPCTimeout.parse(header) == nil)
    }
}
