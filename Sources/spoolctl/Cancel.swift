import ArgumentParser
import SpoolWire

struct Cancel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Cancel a job, or every unfinished job of a batch; prints each job's state after.")

    @OptionGroup var serverOptions: ServerOptions

    @Argument(help: "The job id.")
    var jobID: String?

    @Option(help: "Cancel every unfinished job of this batch instead.")
    var batch: String?

    @Option(help: "Why, kept in the job's error.")
    var reason = ""

    func validate() throws {
        guard (jobID == nil) != (batch == nil) else { throw ValidationError("give a job id or --batch, not both or neither") }
    }

    func run() async throws {
        let request = CancelRequest(jobId: jobID ?? "", batchId: batch ?? "", reason: reason)
        let answer = try await withConnection(serverOptions) { try await $0.cancel(request) }
        for job in answer.jobs { output("\(job.id)  \(job.state.name)") }
    }
}
