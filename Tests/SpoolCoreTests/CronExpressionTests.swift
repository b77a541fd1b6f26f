import Foundation
import SpoolCore
import Testing

/// Cron expressions: parsing, fire times, and daylight-saving changes.
struct CronExpressionTests {
    private let utc = TimeZone(identifier: "UTC")!
    private let berlin = TimeZone(identifier: "Europe/Berlin")!
    private let newYork = TimeZone(identifier: "America/New_York")!

    /// Unix ms of an ISO-8601 UTC time.
    private func ms(_ text: String) -> Int64 {
        let formatter = ISO8601DateFormatter()
        return Int64(formatter.date(from: text)!.timeIntervalSince1970 * 1000)
    }

    private func iso(_ ms: Int64?) -> String {
        guard let ms else { return "never" }
        return ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }

    /// The next `count` fire times after `start`, as UTC text.
    private func fires(_ cron: String, after start: String, in zone: TimeZone, count: Int) throws -> [String] {
        let expression = try CronExpression(cron)
        var cursor = ms(start), out: [String] = []
        for _ in 0..<count {
            guard let next = expression.nextFire(afterMs: cursor, in: zone) else { break }
            out.append(iso(next))
            cursor = next
        }
        return out
    }

    @Test func fieldsListsRangesStepsAndNames() throws {
        #expect(try fires("*/15 9-10 * * mon-fri", after: "2026-12-04T10:40:00Z", in: utc, count: 3)
                == ["2026-12-04T10:45:00Z", "2026-12-07T09:00:00Z", "2026-12-07T09:15:00Z"])
        #expect(try fires("0 0 1 jan,jul *", after: "2026-03-01T00:00:00Z", in: utc, count: 2)
                == ["2026-07-01T00:00:00Z", "2027-01-01T00:00:00Z"])
        #expect(try fires("@daily", after: "2026-12-04T10:40:00Z", in: utc, count: 1) == ["2026-12-05T00:00:00Z"])
        #expect(try fires("*/20 * * * * *", after: "2026-12-04T10:40:50Z", in: utc, count: 2)
                == ["2026-12-04T10:41:00Z", "2026-12-04T10:41:20Z"])
        // Sunday is 0 or 7; both day fields restricted: either matches (the 13th, or a Friday).
        #expect(try fires("0 12 * * 7", after: "2026-12-04T00:00:00Z", in: utc, count: 1) == ["2026-12-06T12:00:00Z"])
        #expect(try fires("0 0 13 * fri", after: "2026-12-01T00:00:00Z", in: utc, count: 3)
                == ["2026-12-04T00:00:00Z", "2026-12-11T00:00:00Z", "2026-12-13T00:00:00Z"])
        // Leap days: every four years.
        #expect(try fires("0 0 29 2 *", after: "2026-01-01T00:00:00Z", in: utc, count: 1) == ["2028-02-29T00:00:00Z"])
    }

    @Test func badExpressionsAreRefusedByName() {
        for (text, message) in [
            ("* * * *", "\"* * * *\" has 4 fields; a cron expression has 5 (minute hour day-of-month month day-of-week) or 6 (seconds first)"),
            ("60 * * * *", "minute \"60\" is not in 0–59"),
            ("* * * * funday", "day of week \"funday\" is not in 0–7 or a name (sun, mon, tue, …)"),
            ("*/0 * * * *", "minute step \"0\" must be 1–59"),
            ("5-1 * * * *", "minute range \"5-1\" runs backwards"),
            ("0 0 31 2 *", "\"0 0 31 2 *\" never fires: no month it names has the days it names"),
            ("1,,2 * * * *", "minute \"\" is malformed"),
        ] {
            #expect(throws: CronExpression.Invalid(description: message)) { try CronExpression(text) }
        }
    }

    @Test func aSkippedLocalTimeFiresOnceAtTheChange() throws {
        // Berlin, 2026-03-29: 02:00 CET becomes 03:00 CEST (01:00 UTC).
        #expect(try fires("30 2 * * *", after: "2026-03-28T00:00:00Z", in: berlin, count: 3)
                == ["2026-03-28T01:30:00Z", "2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"])
        // Every 15 minutes: the skipped hour's four fire once, at 03:00 CEST.
        #expect(try fires("*/15 * * * *", after: "2026-03-29T00:40:00Z", in: berlin, count: 4)
                == ["2026-03-29T00:45:00Z", "2026-03-29T01:00:00Z", "2026-03-29T01:15:00Z", "2026-03-29T01:30:00Z"])
    }

    @Test func aRepeatedLocalTimeFiresOnceUnlessTheHourIsAWildcard() throws {
        // Berlin, 2026-10-25: 03:00 CEST becomes 02:00 CET (01:00 UTC); 02:30 happens twice.
        #expect(try fires("30 2 * * *", after: "2026-10-24T12:00:00Z", in: berlin, count: 2)
                == ["2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"])
        // An interval keeps its pace through the repeated hour.
        #expect(try fires("*/30 * * * *", after: "2026-10-24T23:45:00Z", in: berlin, count: 5)
                == ["2026-10-25T00:00:00Z", "2026-10-25T00:30:00Z", "2026-10-25T01:00:00Z", "2026-10-25T01:30:00Z",
                    "2026-10-25T02:00:00Z"])
        // New York, 2026-11-01: 02:00 EDT becomes 01:00 EST; 01:30 fires once, at its first occurrence.
        #expect(try fires("30 1 * * *", after: "2026-10-31T12:00:00Z", in: newYork, count: 2)
                == ["2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"])
    }

    @Test func aFireTimeIsAfterTheGivenTimeEvenInsideARepeatedHour() throws {
        // After the second 02:10 in Berlin (00:10 CEST passed; 01:10 UTC is 02:10 CET): a daily 02:30 waits for tomorrow.
        #expect(try fires("30 2 * * *", after: "2026-10-25T01:10:00Z", in: berlin, count: 1) == ["2026-10-26T01:30:00Z"])
    }
}
