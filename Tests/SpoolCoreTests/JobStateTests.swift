import Testing
import SpoolCore

struct JobStateTests {
    @Test func theTransitionsAreExactlyThoseOfTheDesign() {
        var table: [String] = []
        for state in JobState.allCases {
            for event in JobState.Event.allCases {
                if let next = state.after(event) { table.append("\(state) --\(event)--> \(next)") }
            }
        }
        #expect(Set(table) == [
            "scheduled --runAtReached--> queued",
            "scheduled --cancelled--> cancelled",
            "queued --dispatched--> running",
            "queued --cancelled--> cancelled",
            "running --succeeded--> succeeded",
            "running --retry--> scheduled",
            "running --failed--> failed",
            "running --cancelled--> cancelled",
            "running --requeued--> queued",
            "blocked --released--> queued",
            "blocked --releasedBeforeRunAt--> scheduled",
            "blocked --cancelled--> cancelled",
        ])
    }

    @Test func nothingFollowsATerminalState() {
        for state in JobState.allCases where state.isTerminal {
            #expect(JobState.Event.allCases.allSatisfy { state.after($0) == nil }, "\(state)")
        }
        #expect(JobState.allCases.filter(\.isTerminal) == [.succeeded, .failed, .cancelled])
    }

    @Test func rawValuesMatchTheWireEnum() {
        #expect(JobState.allCases.map(\.rawValue) == [1, 2, 3, 4, 5, 6, 7])
    }
}
