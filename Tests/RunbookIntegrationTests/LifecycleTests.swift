import Foundation
import Glibc
import Testing

/// The acceptance story of the core: dry-run, publish, run, edit, revert.
@Suite("Runbook lifecycle", .serialized)
struct LifecycleTests {
    @Test func draftPublishRunRevert() throws {
        let root = try RunbookProcess.Root()
        try root.write("runbooks/hello.sh", "# runbook: parameters = WHO=world\necho \"hello $WHO from $RUNBOOK_MODE\"\n")

        let test = try root.run("test", "hello")
        #expect(test.status == 0)
        #expect(test.out == "hello world from test\n")
        #expect(test.err.contains("job #1 succeeded"))

        #expect(try root.state("hello") == "new")
        let published = try root.run("publish", "hello", "-m", "first")
        #expect(published.out == "hello: published revision 1\n")
        #expect(try root.state("hello") == "published")

        try root.write("runbooks/hello.sh", "# runbook: parameters = WHO=world\necho \"bonjour $WHO\"\n")
        #expect(try root.state("hello") == "edited")
        // run uses the published revision, never the draft.
        #expect(try root.run("run", "hello").out == "hello world from manual\n")

        #expect(try root.run("publish", "hello").out == "hello: published revision 2\n")
        #expect(try root.run("publish", "hello").out == "hello: unchanged, revision 2 is published\n")
        #expect(try root.run("run", "hello", "-p", "WHO=ops").out == "bonjour ops\n")

        try root.write("runbooks/hello.sh", "echo broken draft\n")
        let revert = try root.run("revert", "hello")
        #expect(revert.status == 0)
        #expect(revert.out.contains("discarded draft is kept as revision 3"))
        #expect(try root.read("runbooks/hello.sh") == "# runbook: parameters = WHO=world\necho \"bonjour $WHO\"\n")
        let versions = try root.run("versions", "hello")
        #expect(versions.out.contains("r3      discarded"))
        #expect(versions.out.contains("r2   *  published"))
        #expect(try root.run("diff", "hello", "2", "3").out.contains("+echo broken draft"))

        let rollback = try root.run("rollback", "hello", "--to", "1")
        #expect(rollback.status == 0)
        #expect(try root.run("run", "hello").out == "hello world from manual\n")
        #expect(try root.state("hello") == "edited")

        let jobs = try root.jobs()
        #expect(jobs.count == 4)
        #expect(jobs.allSatisfy { $0["status"] as? String == "succeeded" })
        #expect(jobs.map { $0["trigger"] as? String } == ["manual", "manual", "manual", "test"])
    }

    @Test func deletedRunbooksStayLiveUntilPublished() throws {
        let root = try RunbookProcess.Root()
        try root.write("runbooks/gone.sh", "echo still here\n")
        try root.run("publish", "--all")
        try FileManager.default.removeItem(at: root.url.appendingPathComponent("runbooks/gone.sh"))
        #expect(try root.state("gone") == "deleted")
        #expect(try root.run("run", "gone").out == "still here\n")
        #expect(try root.run("publish", "gone").out.contains("retired"))
        #expect(try root.run("run", "gone").status == 1)
        #expect(try !root.run("list").out.contains("gone"))
    }

    @Test func outputIsLive() throws {
        let root = try RunbookProcess.Root()
        // RUNBOOK_DATA is the one place both the sandboxed job and the host see.
        let gate = root.url.appendingPathComponent(".runbook/data/slow.test/gate")
        try root.write("runbooks/slow.sh", "echo first\nwhile [ ! -e $RUNBOOK_DATA/gate ]; do sleep 0.02; done\necho second\n")
        let started = root.start(["test", "slow"])
        // The first line arrives while the job is still waiting on the gate.
        let handle = started.stdout.fileHandleForReading
        var seen = Data()
        while !String(decoding: seen, as: UTF8.self).contains("first\n") {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            seen.append(chunk)
        }
        #expect(String(decoding: seen, as: UTF8.self) == "first\n")
        #expect(started.process.isRunning)
        #expect(FileManager.default.createFile(atPath: gate.path, contents: nil))
        seen.append(try handle.readToEnd() ?? Data())
        started.process.waitUntilExit()
        #expect(String(decoding: seen, as: UTF8.self) == "first\nsecond\n")
        #expect(started.process.terminationStatus == 0)
    }

    @Test(arguments: [("exit 7", Int32(7), "failed"), ("kill -TERM $$", 128 + SIGTERM, "failed"),
                      ("# runbook: timeout = 1s\nsleep 30", 124, "timed-out")])
    func exitStatuses(script: String, status: Int32, recorded: String) throws {
        let root = try RunbookProcess.Root()
        try root.write("runbooks/job.sh", script + "\n")
        #expect(try root.run("test", "job").status == status)
        #expect(try root.jobs().first?["status"] as? String == recorded)
    }

    @Test func logsShowStreamsApart() throws {
        let root = try RunbookProcess.Root()
        // Two pipes: the order between the streams is the order runbook read
        // them in; within a stream it is exact.
        try root.write("runbooks/noisy.sh", "echo to-out; echo to-err >&2; echo again\n")
        try root.run("test", "noisy")
        #expect(Set(try root.run("logs", "1").out.split(separator: "\n")) == ["to-out", "to-err", "again"])
        #expect(try root.run("logs", "1", "--stdout").out == "to-out\nagain\n")
        #expect(try root.run("logs", "noisy", "--last", "--stderr").out == "to-err\n")
        let stamped = try root.run("logs", "1", "--timestamps").out.split(separator: "\n")
        #expect(stamped.count == 3)
        #expect(stamped.contains { $0.hasSuffix("Z err to-err") })
    }

    @Test func interruptCancelsTheJob() throws {
        let root = try RunbookProcess.Root()
        let marker = root.url.appendingPathComponent(".runbook/data/long.test/started")
        try root.write("runbooks/long.sh", "touch $RUNBOOK_DATA/started\nsleep 300\n")
        let started = root.start(["test", "long"])
        #expect(eventually { FileManager.default.fileExists(atPath: marker.path) })
        kill(started.process.processIdentifier, SIGINT)
        started.process.waitUntilExit()
        #expect(started.process.terminationStatus == 128 + SIGINT)
        let job = try #require(try root.jobs().first)
        #expect(job["status"] as? String == "cancelled")
        #expect(job["reason"] as? String == "cancelled by SIGINT")
    }
}

extension RunbookProcess.Root {
    /// The state `runbook list --json` gives `name`.
    func state(_ name: String) throws -> String? {
        let list = try JSONSerialization.jsonObject(with: Data(try run("list", "--json").out.utf8)) as? [[String: Any]]
        return list?.first { $0["name"] as? String == name }?["state"] as? String
    }
}
