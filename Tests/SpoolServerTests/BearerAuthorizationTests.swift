import GRPCH2
@testable import SpoolServer
import Testing

struct BearerAuthorizationTests {
    @Test func onlyAConfiguredTokenMatchesWhateverItsLength() {
        let authorization = BearerAuthorization(tokens: ["s3cret-token", "other"])
        #expect(authorization.matches(Array("s3cret-token".utf8)))
        #expect(authorization.matches(Array("other".utf8)))
        for wrong in ["", "s3cret-toke", "s3cret-token!", "S3cret-token", "othe", String(repeating: "x", count: 10_000)] {
            #expect(!authorization.matches(Array(wrong.utf8)), "\(wrong.prefix(20))")
        }
    }

    @Test func digestsAreFixedSizeAndDifferForDifferentTokens() {
        let a = BearerAuthorization.Digest(Array("a".utf8)), b = BearerAuthorization.Digest(Array("b".utf8))
        #expect(a.equalsInConstantTime(BearerAuthorization.Digest(Array("a".utf8))))
        #expect(!a.equalsInConstantTime(b))
        #expect(MemoryLayout<BearerAuthorization.Digest>.size == 16)
    }

    private func status(_ authorization: BearerAuthorization, _ token: String, _ path: String) -> GRPCStatus.Code? {
        var metadata = Metadata()
        try? metadata.add(wireName: "authorization", wireValue: "Bearer \(token)")
        do throws(GRPCStatus) {
            try authorization.check(RPCContext(path: path, metadata: metadata))
            return nil
        } catch {
            return error.code
        }
    }

    @Test func workerTokensTakeJobsOnlyAndClientTokensDoEverythingElse() {
        let authorization = BearerAuthorization(Tokens(clients: ["client", "both"], workers: ["worker", "both"]))
        let enqueue = "/spool.v1.JobQueue/Enqueue", work = "/spool.v1.Workers/Work"
        let reflection = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"
        #expect(status(authorization, "client", enqueue) == nil)
        #expect(status(authorization, "client", work) == .permissionDenied)
        #expect(status(authorization, "worker", work) == nil)
        #expect(status(authorization, "worker", enqueue) == .permissionDenied)
        #expect(status(authorization, "worker", "/spool.v1.JobQueue/Cancel") == .permissionDenied)
        #expect(status(authorization, "both", enqueue) == nil)
        #expect(status(authorization, "both", work) == nil)
        #expect(status(authorization, "worker", reflection) == nil)
        #expect(status(authorization, "nobody", work) == .unauthenticated)
    }

    @Test func withoutWorkerTokensAClientTokenTakesJobsToo() {
        let authorization = BearerAuthorization(Tokens(clients: ["client"]))
        #expect(status(authorization, "client", "/spool.v1.Workers/Work") == nil)
        #expect(status(authorization, "client", "/spool.v1.JobQueue/Enqueue") == nil)
    }
}
