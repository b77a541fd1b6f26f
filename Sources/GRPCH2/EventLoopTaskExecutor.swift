import NIOCore

/// Runs a call's task on its connection's event loop, so that the handler and
/// the stream it answers share a thread: no hop to reach the stream, no lock.
/// Handlers must not block; awaiting an actor leaves the loop and comes back.
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
