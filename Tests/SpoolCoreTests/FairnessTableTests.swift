@testable import SpoolCore
import Testing

/// A fair queue's table of tenants' last rounds stays bounded by the
/// tenants that still have rounds ahead of dispatch, and is swept rarely.
struct FairnessTableTests {
    @Test func tenantsDispatchHasPassedAreDroppedAndSweepsAreRare() {
        var fairness = Scheduler.Fairness()
        // 100,000 tenants with a job each, all dispatched (or cancelled: their rounds passed).
        for tenant in 0..<100_000 { _ = fairness.nextRound(of: "t\(tenant)") }
        fairness.reached = 1
        for tenant in 0..<100_000 { _ = fairness.nextRound(of: "u\(tenant)") }
        // The first tenants' rounds (1) are reached: a sweep dropped them; the others are still ahead.
        #expect(fairness.lastRound.count == 100_000)
        #expect(fairness.lastRound.keys.allSatisfy { $0.hasPrefix("u") })
    }

    @Test func aTenantKeepsItsOrderAcrossASweep() {
        var fairness = Scheduler.Fairness()
        let first = fairness.nextRound(of: "big")
        for tenant in 0..<5_000 { _ = fairness.nextRound(of: "other\(tenant)") }
        #expect(fairness.nextRound(of: "big") == first + 1)
    }
}
