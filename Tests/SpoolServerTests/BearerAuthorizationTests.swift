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
}
