import Testing
@testable import GRPCH2

struct GRPCStatusTests {
    @Test func percentEncodingLeavesPrintableASCIIAndEscapesTheRest() {
        #expect(GRPCStatus.percentEncoded("job 42 failed") == "job 42 failed")
        #expect(GRPCStatus.percentEncoded("100% done") == "100%25 done")
        #expect(GRPCStatus.percentEncoded("line\nbreak") == "line%0Abreak")
        #expect(GRPCStatus.percentEncoded("déjà") == "d%C3%A9j%C3%A0")
    }

    @Test(arguments: ["", "plain", "100%", "tab\there", "ünïcødé ✓", "%%41", "trailing %"])
    func percentDecodingReversesEncoding(message: String) {
        #expect(GRPCStatus.percentDecoded(GRPCStatus.percentEncoded(message)) == message)
    }

    @Test func malformedEscapesDecodeAsTheyAre() {
        #expect(GRPCStatus.percentDecoded("50%zz") == "50%zz")
        #expect(GRPCStatus.percentDecoded("end%4") == "end%4")
    }

    @Test func trailersCarryCodeAndEncodedMessage() {
        let fields = GRPCStatus(.notFound, "no job «x»").trailerFields
        #expect(fields.map(\.name) == ["grpc-status", "grpc-message"])
        #expect(fields[0].value == "5")
        #expect(fields[1].value == "no job %C2%ABx%C2%BB")
        #expect(GRPCStatus.ok.trailerFields.map(\.name) == ["grpc-status"])
    }

    @Test func codesMatchTheGRPCSpecification() {
        #expect(GRPCStatus.Code.allCases.count == 17)
        #expect(GRPCStatus.Code.deadlineExceeded.rawValue == 4)
        #expect(GRPCStatus.Code.resourceExhausted.rawValue == 8)
        #expect(GRPCStatus.Code.unimplemented.rawValue == 12)
        #expect(GRPCStatus.Code.unauthenticated.rawValue == 16)
    }
}
