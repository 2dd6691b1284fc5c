import Foundation
import Glibc
import Testing
@testable import RunbookKit

/// Runs real jobs in-process under runbook-init.
@Suite("Job runner", .serialized)
struct JobRunnerTests {
    struct Fixture {
        let root: TemporaryRoot
        let store: SQLiteStore
        let runner: JobRunner

        init() throws {
            root = try TemporaryRoot()
            try root.workspace.prepareState()
            store = try SQLiteStore(path: root.workspace.database.path)
            let tools = Tools(environment: ProcessInfo.processInfo.environment, runner: SubprocessRunner(), cacheFile: nil)
            var runner = JobRunner(workspace: root.workspace, store: store, tools: tools, hostName: "test-host") { Date() }
            runner.grace = 1
            self.runner = runner
        }

        /// Runs a shell script as a manual job and returns its record and log.
        func run(_ script: String, settings: RunbookSettings = RunbookSettings(), parameters: [String: String] = [:],
                 trigger: JobTrigger = .manual) throws -> (JobRecord, String) {
            let hash = try SnapshotStore(directory: root.workspace.snapshots).store(Data(script.utf8))
            let job = NewJob(runbook: "job", revision: trigger == .test ? nil : 1, snapshot: hash, trigger: trigger)
            let request = JobRunner.Request(job: job, runtime: ScriptRuntime.shell, settings: settings, parameters: parameters, echo: nil)
            let record = try runner.run(request, interruptFD: nil)
            let log = (try? String(contentsOf: runner.logFile(for: record.id), encoding: .utf8)) ?? ""
            return (record, log)
        }
    }

    @Test func successAndFailure() throws {
        let fixture = try Fixture()
        let (ok, log) = try fixture.run("echo out; echo err >&2")
        #expect(ok.status == .succeeded && ok.exitCode == 0)
        #expect(log.contains(" out out\n") && log.contains(" err err\n"))
        #expect(ok.outputBytes == 2 * OutputRecorder.prefixLength + 8)
        let (failed, _) = try fixture.run("exit 3")
        #expect(failed.status == .failed && failed.exitCode == 3 && failed.reason == "exit code 3")
        #expect(JobRunner.exitCode(of: failed) == 3)
    }

    @Test func killedBySignal() throws {
        let (record, _) = try Fixture().run("kill -SEGV $$")
        #expect(record.status == .failed)
        #expect(record.signal == Int(SIGSEGV))
        #expect(JobRunner.exitCode(of: record) == 128 + SIGSEGV)
    }

    @Test func cleanEnvironment() throws {
        setenv("RUNBOOK_TEST_LEAK", "leaked", 1)
        defer { unsetenv("RUNBOOK_TEST_LEAK") }
        let (record, log) = try Fixture().run("env | sort", parameters: ["REGION": "eu"], trigger: .test)
        #expect(record.status == .succeeded)
        let names = Set(log.split(separator: "\n").compactMap { line -> String? in
            let text = line.split(separator: " ", maxSplits: 2).last ?? ""
            return text.split(separator: "=").first.map(String.init)
        })
        // bash adds PWD, SHLVL and _ itself.
        let expected: Set<String> = [
            "PATH", "HOME", "TMPDIR", "LANG", "TZ", "RUNBOOK_NAME", "RUNBOOK_JOB_ID", "RUNBOOK_REVISION", "RUNBOOK_MODE",
            "RUNBOOK_DRY_RUN", "RUNBOOK_SCHEDULED_TIME", "RUNBOOK_LAST_SUCCESS", "RUNBOOK_ATTEMPT", "RUNBOOK_DATA",
            "REGION", "PWD", "SHLVL", "_",
        ]
        #expect(names == expected)
        #expect(log.contains("RUNBOOK_MODE=test"))
        #expect(log.contains("RUNBOOK_REVISION=draft"))
        #expect(!log.contains("leaked"))
    }

    @Test func scratchIsRemovedAndDataPersists() throws {
        let fixture = try Fixture()
        let (first, log) = try fixture.run("echo $HOME; touch $HOME/x; echo 1 >> $RUNBOOK_DATA/count; wc -l < $RUNBOOK_DATA/count")
        let home = try #require(log.split(separator: "\n").first?.split(separator: " ", maxSplits: 2).last)
        #expect(first.status == .succeeded)
        #expect(!FileManager.default.fileExists(atPath: String(home)))
        let (_, second) = try fixture.run("wc -l < $RUNBOOK_DATA/count")
        #expect(second.contains(" out 1\n"))
    }

    @Test func timeoutStopsTheWholeJob() throws {
        let fixture = try Fixture()
        var settings = RunbookSettings()
        settings.timeout = 1
        let pidFile = fixture.root.url.appendingPathComponent("pids")
        // A child that ignores SIGTERM and a setsid escapee: both must die.
        let script = """
            (trap '' TERM; sleep 300) & echo $! >> \(pidFile.path)
            setsid sleep 300 & echo $! >> \(pidFile.path)
            sleep 300
            """
        let (record, log) = try fixture.run(script, settings: settings)
        #expect(record.status == .timedOut)
        #expect(record.reason == "timed out after 1s")
        #expect(JobRunner.exitCode(of: record) == 124)
        #expect(log.contains(" run timed out after 1s: sending SIGTERM"))
        let pids = try String(contentsOf: pidFile, encoding: .utf8).split(separator: "\n").compactMap { pid_t($0) }
        #expect(pids.count == 2)
        for pid in pids { #expect(kill(pid, 0) != 0, "process \(pid) outlived the job") }
    }

    @Test func backgroundChildrenDieWithTheJob() throws {
        let fixture = try Fixture()
        let pidFile = fixture.root.url.appendingPathComponent("pid")
        let (record, _) = try fixture.run("nohup sleep 300 >/dev/null 2>&1 & echo $! > \(pidFile.path)")
        #expect(record.status == .succeeded)
        let pid = try #require(pid_t(try String(contentsOf: pidFile, encoding: .utf8).trimmingWhitespace()))
        #expect(kill(pid, 0) != 0)
    }

    @Test func cpuLimitIsReportedAsALimit() throws {
        var settings = RunbookSettings()
        settings.cpu = 1
        let (record, _) = try Fixture().run("while :; do :; done", settings: settings)
        #expect(record.status == .limitExceeded)
        #expect(record.reason?.contains("cpu limit") == true)
    }

    @Test func programThatCannotStartIsAFailedJob() throws {
        let fixture = try Fixture()
        let job = NewJob(runbook: "x", revision: 1, snapshot: "0000", trigger: .manual)
        let request = JobRunner.Request(job: job, runtime: ScriptRuntime.shell, settings: RunbookSettings(), parameters: [:], echo: nil)
        let record = try fixture.runner.run(request, interruptFD: nil)
        #expect(record.status == .failed)
        #expect(record.endedAt != nil)
    }

    @Test func orphanSweepMarksDeadOwners() throws {
        let fixture = try Fixture()
        let dead = try fixture.store.startJob(NewJob(runbook: "a", revision: 1, snapshot: nil, trigger: .manual),
                                              host: "test-host", ownerPID: 999_999, at: Date())
        let alive = try fixture.store.startJob(NewJob(runbook: "a", revision: 1, snapshot: nil, trigger: .manual),
                                               host: "test-host", ownerPID: Int(getpid()), at: Date())
        let elsewhere = try fixture.store.startJob(NewJob(runbook: "a", revision: 1, snapshot: nil, trigger: .manual),
                                                   host: "other-host", ownerPID: 999_999, at: Date())
        #expect(try OrphanSweep.run(store: fixture.store, hostName: "test-host", now: Date()) == [dead.id])
        #expect(try fixture.store.job(dead.id)?.status == .interrupted)
        #expect(try fixture.store.job(dead.id)?.reason?.contains("pid 999999") == true)
        #expect(try fixture.store.job(alive.id)?.status == .running)
        #expect(try fixture.store.job(elsewhere.id)?.status == .running)
    }
}
