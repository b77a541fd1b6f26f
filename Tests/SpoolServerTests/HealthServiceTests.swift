import Testing
import SpoolServer

struct HealthServiceTests {
    @Test func registeredServicesAndTheServerStartServing() {
        let health = HealthService(services: ["spool.v1.JobQueue"])
        #expect(health.status(of: "") == .serving)
        #expect(health.status(of: "spool.v1.JobQueue") == .serving)
        #expect(health.status(of: "other") == nil)
    }

    @Test func setAllChangesEveryStatus() {
        let health = HealthService(services: ["a", "b"])
        health.setAll(.notServing)
        #expect(["", "a", "b"].map { health.status(of: $0) } == [.notServing, .notServing, .notServing])
    }
}
