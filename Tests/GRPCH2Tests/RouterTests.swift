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

    @Test func theFallbackServesUnregisteredPathsAndIsCheckedToo() async throws {
        var router = Router()
        router.register("/test.Own/Get", .unary { _, _ in [1] })
        router.fallback = .unary { _, context in Array(context.path.utf8) }
        guard case .unary(let own) = router.handler(for: "/test.Own/Get"),
              case .unary(let other) = router.handler(for: "/test.Elsewhere/Get") else {
            Issue.record("a path has no handler")
            return
        }
        #expect(try await own([], RPCContext(path: "/test.Own/Get")) == [1])
        #expect(try await other([], RPCContext(path: "/test.Elsewhere/Get")) == Array("/test.Elsewhere/Get".utf8))
        #expect(Router().handler(for: "/test.Elsewhere/Get") == nil)
        guard case .unary(let checked) = router.checking(Self.denyAll).handler(for: "/test.Elsewhere/Get") else {
            Issue.record("the checked router lost the fallback")
            return
        }
        await #expect(throws: GRPCStatus(.unauthenticated, "no entry to /test.Elsewhere/Get")) {
            _ = try await checked([], RPCContext(path: "/test.Elsewhere/Get"))
        }
    }
}
