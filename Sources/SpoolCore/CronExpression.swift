#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A cron expression (docs/workflows.md#schedules): five fields — minute,
/// hour, day of month, month, day of week — or six with seconds first;
/// each `*`, a number, a range `a-b`, a list `a,b`, a step `*/n` or `a-b/n`;
/// months and weekdays by name too (`jan`, `mon`; Sunday is 0 or 7). When
/// both day fields are restricted, a day matching either is a day to fire
/// (as every cron does). `@yearly`, `@monthly`, `@weekly`, `@daily` and
/// `@hourly` stand for their usual five fields.
///
/// Fire times are wall-clock times in an IANA time zone. A local time that
/// a daylight-saving change skips fires once, at the change; a local time
/// that happens twice fires once, at its first occurrence — unless the hour
/// field is `*` or `*/n`: then it fires in both passes, so an interval
/// keeps its pace (as cron does).
public struct CronExpression: Sendable, Equatable, CustomStringConvertible {
    public let description: String
    let seconds: Set<Int>
    let minutes: Set<Int>
    let hours: Set<Int>
    let daysOfMonth: Set<Int>
    let months: Set<Int>
    let daysOfWeek: Set<Int>
    let daysOfMonthRestricted: Bool
    let daysOfWeekRestricted: Bool
    /// The hour field is `*` or `*/n`: a repeated local hour fires in both
    /// passes (an interval keeps its pace); a named hour fires once.
    let hoursWildcard: Bool
    private let sortedSeconds: [Int]
    private let sortedMinutes: [Int]
    private let sortedHours: [Int]

    public struct Invalid: Error, Equatable, CustomStringConvertible {
        public let description: String

        public init(description: String) { self.description = description }
    }

    private static let macros = [
        "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
        "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
    ]
    private static let monthNames = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    private static let dayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

    public init(_ text: String) throws(Invalid) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard trimmed.utf8.count <= 256 else { throw Invalid(description: "a cron expression is at most 256 bytes") }
        let expanded = Self.macros[trimmed.lowercased()] ?? trimmed
        var fields = expanded.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count == 5 || fields.count == 6 else {
            throw Invalid(description: "\"\(trimmed)\" has \(fields.count) fields; a cron expression has 5 (minute hour "
                          + "day-of-month month day-of-week) or 6 (seconds first)")
        }
        if fields.count == 5 { fields.insert("0", at: 0) }
        description = trimmed
        seconds = try Self.field(fields[0], "second", 0...59)
        minutes = try Self.field(fields[1], "minute", 0...59)
        hours = try Self.field(fields[2], "hour", 0...23)
        daysOfMonth = try Self.field(fields[3], "day of month", 1...31)
        months = try Self.field(fields[4], "month", 1...12, names: Self.monthNames, firstName: 1)
        var weekdays = try Self.field(fields[5], "day of week", 0...7, names: Self.dayNames, firstName: 0)
        if weekdays.remove(7) != nil { weekdays.insert(0) }
        daysOfWeek = weekdays
        daysOfMonthRestricted = !fields[3].hasPrefix("*")
        daysOfWeekRestricted = !fields[5].hasPrefix("*")
        hoursWildcard = fields[2].hasPrefix("*")
        sortedSeconds = seconds.sorted()
        sortedMinutes = minutes.sorted()
        sortedHours = hours.sorted()
        // Days 30 and 31 of a month that never has them, alone: it would never fire.
        if !daysOfWeekRestricted, daysOfMonth.allSatisfy({ day in months.allSatisfy { Self.daysIn(month: $0, leap: true) < day } }) {
            throw Invalid(description: "\"\(trimmed)\" never fires: no month it names has the days it names")
        }
    }

    private static func field(_ text: String, _ name: String, _ range: ClosedRange<Int>, names: [String] = [],
                              firstName: Int = 0) throws(Invalid) -> Set<Int> {
        func value(_ word: Substring) throws(Invalid) -> Int {
            if let number = Int(word), range.contains(number) { return number }
            if let index = names.firstIndex(of: word.lowercased()) { return index + firstName }
            throw Invalid(description: "\(name) \"\(word)\" is not in \(range.lowerBound)–\(range.upperBound)"
                          + (names.isEmpty ? "" : " or a name (\(names.prefix(3).joined(separator: ", ")), …)"))
        }
        var values = Set<Int>()
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let pieces = part.split(separator: "/", omittingEmptySubsequences: false)
            guard pieces.count <= 2, !pieces[0].isEmpty else { throw Invalid(description: "\(name) \"\(part)\" is malformed") }
            var step = 1
            if pieces.count == 2 {
                guard let number = Int(pieces[1]), number >= 1, number <= range.upperBound else {
                    throw Invalid(description: "\(name) step \"\(pieces[1])\" must be 1–\(range.upperBound)")
                }
                step = number
            }
            let bounds: ClosedRange<Int>
            if pieces[0] == "*" {
                bounds = range
            } else if let dash = pieces[0].firstIndex(of: "-") {
                let low = try value(pieces[0][..<dash]), high = try value(pieces[0][pieces[0].index(after: dash)...])
                guard low <= high else { throw Invalid(description: "\(name) range \"\(pieces[0])\" runs backwards") }
                bounds = low...high
            } else {
                let single = try value(pieces[0])
                bounds = single...(pieces.count == 2 ? range.upperBound : single)
            }
            values.formUnion(stride(from: bounds.lowerBound, through: bounds.upperBound, by: step))
        }
        return values
    }

    // MARK: Fire times

    /// The first fire time after `afterMs` (Unix ms) in `zone`, or nil if
    /// there is none within the next eight years.
    public func nextFire(afterMs: Int64, in zone: TimeZone) -> Int64? {
        let after = afterMs.floorDivided(by: 1000)
        let startLocal = after + Self.offset(after, zone)
        // A daylight-saving change moves local times by at most two hours:
        // local times more than that before `after`'s cannot follow it.
        let slack: Int64 = 7_200
        var best: (instant: Int64, local: Int64)?
        var day = (startLocal - slack).floorDivided(by: 86_400)
        for _ in 0..<(8 * 366 + 1) {
            defer { day += 1 }
            let (_, month, dayOfMonth) = Self.civil(fromDays: day)
            guard months.contains(month), matchesDay(dayOfMonth: dayOfMonth, weekday: Self.weekday(ofDays: day)) else { continue }
            for hour in sortedHours {
                for minute in sortedMinutes {
                    let minuteStart = day * 86_400 + Int64(hour * 3600 + minute * 60)
                    if minuteStart + 59 < startLocal - slack { continue }
                    for second in sortedSeconds {
                        let local = minuteStart + Int64(second)
                        if let found = best, local > found.local + slack { return found.instant.saturatingMultiply(1000) }
                        for instant in Self.instants(ofLocal: local, in: zone, everyOccurrence: hoursWildcard) where instant > after {
                            if best.map({ instant < $0.instant }) ?? true { best = (instant, local) }
                        }
                        // Far from a change, local order is time order: the first found is the next.
                        if let found = best, !Self.changeNear(found.instant, zone) { return found.instant.saturatingMultiply(1000) }
                    }
                }
            }
        }
        return best.map { $0.instant.saturatingMultiply(1000) }
    }

    private func matchesDay(dayOfMonth: Int, weekday: Int) -> Bool {
        switch (daysOfMonthRestricted, daysOfWeekRestricted) {
        case (true, true): daysOfMonth.contains(dayOfMonth) || daysOfWeek.contains(weekday)
        case (true, false): daysOfMonth.contains(dayOfMonth)
        case (false, true): daysOfWeek.contains(weekday)
        case (false, false): true
        }
    }

    static func offset(_ instant: Int64, _ zone: TimeZone) -> Int64 {
        Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(instant))))
    }

    /// Whether `zone`'s offset changes within a day of `instant`.
    static func changeNear(_ instant: Int64, _ zone: TimeZone) -> Bool {
        offset(instant - 86_400, zone) != offset(instant + 86_400, zone)
    }

    /// The Unix seconds at which the wall clock of `zone` reads `local`: the
    /// first occurrence (or each, with `everyOccurrence`) if it reads it
    /// twice; the end of the gap if never.
    static func instants(ofLocal local: Int64, in zone: TimeZone, everyOccurrence: Bool) -> [Int64] {
        func offset(_ instant: Int64) -> Int64 { Self.offset(instant, zone) }
        // Offsets change at most twice a year: two days either side hold every offset that matters.
        let offsets = Set([offset(local - 172_800), offset(local), offset(local + 172_800)])
        let valid = offsets.map { local - $0 }.filter { offset($0) == local - $0 }.sorted()
        if !valid.isEmpty { return everyOccurrence ? valid : [valid[0]] }
        // Skipped by a change: the change itself, the first second after the gap.
        var low = local - (offsets.max() ?? 0), high = local - (offsets.min() ?? 0)
        let before = offset(low)
        while high - low > 1 {
            let middle = low + (high - low) / 2
            if offset(middle) == before { low = middle } else { high = middle }
        }
        return [high]
    }

    /// Year, month (1–12) and day (1–31) of a count of days since 1970-01-01
    /// (proleptic Gregorian: H. Hinnant's civil_from_days).
    static func civil(fromDays days: Int64) -> (year: Int64, month: Int, day: Int) {
        let z = days + 719_468
        let era = z.floorDivided(by: 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * mp + 2) / 5 + 1)
        let month = Int(mp < 10 ? mp + 3 : mp - 9)
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// 0 for Sunday.
    static func weekday(ofDays days: Int64) -> Int { Int((days + 4).floorModulo(7)) }

    private static func daysIn(month: Int, leap: Bool) -> Int {
        switch month {
        case 2: leap ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}

extension Int64 {
    func floorDivided(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }

    func floorModulo(_ divisor: Int64) -> Int64 { self - floorDivided(by: divisor) * divisor }

    func saturatingMultiply(_ other: Int64) -> Int64 {
        let (product, overflow) = multipliedReportingOverflow(by: other)
        return overflow ? ((self < 0) == (other < 0) ? .max : .min) : product
    }
}
