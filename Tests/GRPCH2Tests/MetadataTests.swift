import Testing
@testable import GRPCH2

struct MetadataTests {
    @Test func textKeysAreLowerCasedAndKeptInOrder() throws {
        var metadata = Metadata()
        try metadata.add(wireName: "X-Request-Id", wireValue: "a")
        try metadata.add(wireName: "x-request-id", wireValue: "b")
        #expect(metadata["x-request-id"] == "a")
        #expect(metadata.entries.count == 2)
    }

    @Test func binaryKeysAreBase64DecodedPaddedOrNot() throws {
        var metadata = Metadata()
        try metadata.add(wireName: "trace-bin", wireValue: "AAEC/w==")
        try metadata.add(wireName: "other-bin", wireValue: "AAEC/w")
        #expect(metadata.binary("trace-bin") == [0, 1, 2, 255])
        #expect(metadata.binary("other-bin") == [0, 1, 2, 255])
        #expect(metadata["trace-bin"] == nil)
    }

    @Test func invalidBase64IsInvalidArgument() {
        var metadata = Metadata()
        #expect(throws: GRPCStatus(.invalidArgument, "metadata trace-bin is not valid base64")) {
            try metadata.add(wireName: "trace-bin", wireValue: "not base64!")
        }
    }

    @Test func base64RejectsDataAfterPaddingAndDanglingBits() {
        #expect(Base64.decode("QQ==QQ") == nil)
        #expect(Base64.decode("Q") == nil)
        #expect(Base64.decode("") == [])
        #expect(Base64.decode("aGVsbG8") == Array("hello".utf8))
    }
}
