import GRPCH2
import Testing

struct RouterTests {
    private static func denyAll(_ context: RPCContext) throws(GRPCStatus) {
        throw GRPCStatus(.unauthenticated, "no entry to \(context.path)")
    }

    @Test func aCheckedRouterAnswersWithTheChecksStatusBeforeTheHandlerRuns() async throws {
        var router = Router()
        router.register("/test.Private/Get", .unary { _, _ in
            Issue.record("the handler ran")
            return []
        })
        let checked = router.checking(Self.denyAll)
        guard case .unary(let body) = checked.handler(for: "/test.Private/Get") else {
            Issue.record("the checked router lost the method")
            return
        }
        await #expect(throws: GRPCStatus(.unauthenticated, "no entry to /test.Private/Get")) {
            _ = try await body([1], RPCContext(path: "/test.Private/Get"))
        }
    }

    @Test func exemptServicesAreNotChecked() async throws {
        var router = Router()
        router.register("/grpc.health.v1.Health/Check", .unary { request, _ in request })
        let checked = router.checking(except: ["/grpc.health.v1.Health/"], Self.denyAll)
        guard case .unary(let body) = checked.handler(for: "/grpc.health.v1.Health/Check") else {
            Issue.record("the checked router lost the method")
            return
        }
        #expect(try await body([7], RPCContext(path: "/grpc.health.v1.Health/Check")) == [7])
    }
}
