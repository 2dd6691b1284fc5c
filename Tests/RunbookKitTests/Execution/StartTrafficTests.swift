import Foundation
import Glibc
import Synchronization
import Testing
@testable import RunbookKit

@Suite("Start traffic")
struct StartTrafficTests {
    /// Whether the traffic's descriptor is readable within `seconds` (it is while quiet).
    static func isQuiet(_ traffic: StartTraffic, within seconds: Double = 0) -> Bool {
        var entry = pollfd(fd: traffic.descriptor, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, Int32(seconds * 1000)) == 1
    }

    @Test func quietUntilAJobIsDueAndAgainOnceItsStartHasSettled() throws {
        let traffic = try StartTraffic(settle: 0.05)
        #expect(traffic.isQuiet && Self.isQuiet(traffic))
        let job = traffic.due()
        #expect(!traffic.isQuiet && !Self.isQuiet(traffic))
        traffic.started(job)
        #expect(!traffic.isQuiet && !Self.isQuiet(traffic))
        #expect(Self.isQuiet(traffic, within: 5))
        #expect(traffic.isQuiet)
    }

    @Test func aJobThatWillNotStartNowIsNoLongerInTheWay() throws {
        let traffic = try StartTraffic(settle: 60)
        let staying = traffic.due(), leaving = traffic.due()
        traffic.gone(leaving)
        #expect(!traffic.isQuiet)
        traffic.gone(staying)
        // Nothing started, so nothing to let settle.
        #expect(traffic.isQuiet && Self.isQuiet(traffic))
        // Told twice, or told of a start after it left: no change.
        traffic.gone(staying)
        traffic.started(leaving)
        #expect(traffic.isQuiet)
    }

    /// What a held job's run returned, once it has.
    final class Outcome: Sendable {
        let run = Mutex<SupervisedRun?>(nil)
        var ended: Bool { run.withLock { $0 != nil } }
        func wait(seconds: Double) -> Bool { eventually(within: seconds, every: 0.002) { ended } }
    }

    /// Runs `script` as a held job starting now, on a thread of its own.
    static func runHeld(_ script: String, traffic: StartTraffic, places: JobPlaces, interruptFD: Int32? = nil,
                        in root: TemporaryRoot) throws -> Outcome {
        let outcome = Outcome()
        let recorder = try OutputRecorder(logFile: root.url.appendingPathComponent("job.log"), limit: 1 << 20, echo: nil)
        let spec = LaunchSpec(arguments: ["/bin/sh", "-c", script], environment: ["PATH": "/usr/bin:/bin"],
                              directory: root.url)
        let start = HeldStart(gate: try StartGate(), instant: Date(), places: places, ticket: nil, timed: false,
                              traffic: traffic, clock: { Date() }, waitingForPlace: {}, letGo: { _ in true })
        /// Handed to the job's thread, which alone uses it from then on.
        struct Job: @unchecked Sendable { let recorder: OutputRecorder, start: HeldStart }
        let job = Job(recorder: recorder, start: start)
        Thread.detachNewThread {
            let run = try? Supervisor.run(spec, timeout: 60, grace: 1, recorder: job.recorder, interruptFD: interruptFD,
                                          held: job.start)
            outcome.run.withLock { $0 = run ?? SupervisedRun(termination: .couldNotStart("threw")) }
        }
        return outcome
    }

    /// Whether the held job's processes have all ended (its place is given
    /// back with runbook-init's final report) within ten seconds.
    static func isOver(_ places: JobPlaces) -> Bool {
        eventually(every: 0.002) { places.taken == 0 }
    }

    @Test func aFinishedJobClearsUpOnlyOnceTheOtherJobsHaveStarted() throws {
        let root = try TemporaryRoot()
        let traffic = try StartTraffic(settle: 0, patience: 60)
        let places = JobPlaces(limit: 1)
        let other = traffic.due()
        let outcome = try Self.runHeld("true", traffic: traffic, places: places, in: root)
        // Over, its place already free for the next job, but clearing up later.
        #expect(Self.isOver(places))
        #expect(!outcome.wait(seconds: 0.3))
        let clearedUpAfter = Date()
        traffic.started(other)
        #expect(outcome.wait(seconds: 10))
        let run = try #require(outcome.run.withLock { $0 })
        #expect(run.termination == .exited(0) && run.letGoAt != nil && run.cancelledBy == nil)
        // It ended when its processes did, not when it cleared up.
        #expect(try #require(run.endedAt) < clearedUpAfter)
    }

    @Test func aFinishedJobWaitsNoLongerThanThePatience() throws {
        let root = try TemporaryRoot()
        let traffic = try StartTraffic(settle: 0, patience: 0.2)
        _ = traffic.due() // never starts
        let outcome = try Self.runHeld("exit 4", traffic: traffic, places: JobPlaces(limit: 1), in: root)
        #expect(outcome.wait(seconds: 10))
        #expect(outcome.run.withLock { $0?.termination } == .exited(4))
    }

    @Test func aCancellationOfAFinishedJobEndsTheWaitAndLeavesItsOutcome() throws {
        let root = try TemporaryRoot()
        let traffic = try StartTraffic(settle: 0, patience: 60)
        _ = traffic.due() // never starts
        var interrupt: [Int32] = [-1, -1]
        #expect(pipe(&interrupt) == 0)
        _ = fcntl(interrupt[0], F_SETFL, O_NONBLOCK)
        defer { close(interrupt[0]); close(interrupt[1]) }
        let places = JobPlaces(limit: 1)
        let outcome = try Self.runHeld("true", traffic: traffic, places: places, interruptFD: interrupt[0], in: root)
        #expect(Self.isOver(places))
        #expect(!outcome.wait(seconds: 0.3))
        var signal = UInt8(SIGTERM)
        #expect(write(interrupt[1], &signal, 1) == 1)
        #expect(outcome.wait(seconds: 10))
        let run = try #require(outcome.run.withLock { $0 })
        #expect(run.termination == .exited(0) && run.cancelledBy == nil && !run.timedOut)
    }
}
