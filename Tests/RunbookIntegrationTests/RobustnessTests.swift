import Foundation
import Glibc
import Testing

/// Crashes, concurrency and bad input: nothing is lost, nothing is left running.
@Suite("Robustness", .serialized)
struct RobustnessTests {
    @Test func killingRunbookLeavesAnHonestRecordAndNoProcess() throws {
        let root = try RunbookProcess.Root()
        // The job runs in its own PID namespace: its processes are found on
        // the host by their unusual command lines, not by `$!`.
        let marker = "300.\(getpid() % 10000)"
        try root.write("runbooks/stuck.sh", """
            sleep \(marker)1 &
            setsid sleep \(marker)2 &
            sleep \(marker)3
            """)
        try root.run("publish", "stuck")
        let started = root.start(["run", "stuck"])
        #expect(eventually { processes(containing: "sleep \(marker)").count == 3 })
        kill(started.process.processIdentifier, SIGKILL)
        started.process.waitUntilExit()
        #expect(eventually { processes(containing: "sleep \(marker)").isEmpty },
                "job processes outlived runbook: \(processes(containing: "sleep \(marker)"))")
        let job = try #require(try root.jobs().first)
        #expect(job["status"] as? String == "interrupted")
        #expect((job["reason"] as? String)?.contains("ended without recording a result") == true)
        // Marking it interrupted also removed the job's cgroups.
        let leftover = "/sys/fs/cgroup/pids/runbook/\(started.process.processIdentifier)-\(job["id"] as? Int ?? 0)"
        #expect(!FileManager.default.fileExists(atPath: leftover))
    }

    @Test func concurrentPublishersAndRunnersLoseNothing() throws {
        let root = try RunbookProcess.Root()
        for index in 0..<3 { try root.write("runbooks/job\(index).sh", "echo job \(index)\n") }
        try root.run("publish", "--all")
        var processes: [RunbookProcess.Started] = []
        for round in 0..<4 {
            for index in 0..<3 {
                processes.append(root.start(["run", "job\(index)"]))
                processes.append(root.start(["test", "job\(index)"]))
            }
            // New runbooks appear while others publish (an edit under a
            // running publish is refused on purpose, see RevisionLedger).
            try root.write("runbooks/extra\(round).sh", "echo extra \(round)\n")
            processes.append(root.start(["publish", "--all", "-m", "round \(round)"]))
        }
        for started in processes {
            _ = try started.stdout.fileHandleForReading.readToEnd()
            let err = String(decoding: try started.stderr.fileHandleForReading.readToEnd() ?? Data(), as: UTF8.self)
            started.process.waitUntilExit()
            #expect(started.process.terminationStatus == 0, "\(started.process.arguments ?? []): \(err)")
        }
        let jobs = try root.jobs()
        #expect(jobs.count == 24)
        #expect(jobs.allSatisfy { $0["status"] as? String == "succeeded" })
        #expect(Set(jobs.compactMap { $0["id"] as? Int }).count == 24)
        #expect(try root.run("publish", "--all").status == 0)
        for index in 0..<4 {
            let versions = try root.run("versions", "extra\(index)", "--json").out
            let list = try JSONSerialization.jsonObject(with: Data(versions.utf8)) as? [[String: Any]] ?? []
            let numbers = list.compactMap { ($0["revision"] as? [String: Any])?["number"] as? Int }
            #expect(numbers == [1], "extra\(index) was published more than once: \(numbers)")
        }
    }

    @Test func swiftRunbooksCompileOncePerRevision() throws {
        let root = try RunbookProcess.Root()
        let swiftc = try #require(findOnPath("swiftc"))
        let log = root.url.appendingPathComponent("swiftc.log")
        // A swiftc that notes every real compile (not -typecheck) before doing it.
        try root.write("fake-swiftc", """
            #!/bin/bash
            case " $* " in *" -typecheck "*) ;; *) echo compile >> \(log.path) ;; esac
            exec \(swiftc) "$@"
            """)
        chmod(root.url.appendingPathComponent("fake-swiftc").path, 0o755)
        let environment = ["RUNBOOK_SWIFTC": root.url.appendingPathComponent("fake-swiftc").path]
        try root.write("runbooks/greet.swift", "// runbook: timeout = 1m\nprint(\"hi from swift\")\n")
        #expect(try root.run("publish", "greet", environment: environment).status == 0)
        let first = try root.run("run", "greet", environment: environment)
        #expect(first.out == "hi from swift\n")
        let second = try root.run("run", "greet", environment: environment)
        #expect(second.out == "hi from swift\n")
        #expect(try String(contentsOf: log, encoding: .utf8) == "compile\n")
    }

    /// Each kind of bad input gets a clear error, the right exit status, and
    /// leaves the other runbooks working.
    @Test(arguments: [
        (["run", "nope"], Int32(1), "no runbook named 'nope'"),
        (["test", "helo"], 1, "did you mean 'hello'"),
        (["test", "badkey"], 1, "runbooks/badkey.sh:1:12: error: unknown setting 'colour'"),
        (["test", "badtime"], 1, "runbooks/badtime.sh:1:22: error: timeout: duration '5 minutes'"),
        (["test", "hello"], 2, "needs parameter 'WHO'"),
        (["test", "hello", "-p", "WHO=x", "-p", "WHOM=y"], 2, "has no parameter 'WHOM'"),
        (["publish", "syntax"], 1, "fails its shell check"),
        (["rollback", "hello", "--to", "9"], 1, "has no revision 9"),
        (["test", "latin"], 1, "runbooks/latin.sh:2:6: error: the file is not UTF-8 text (byte 0xe9)"),
        (["test"], 2, "missing runbook name"),
        (["jobs", "--status", "weird"], 2, "unknown status 'weird'"),
        (["frobnicate"], 2, "unknown command 'frobnicate'"),
        (["list", "--colour"], 2, "unknown option '--colour'"),
        (["rollback", "hello", "--to", "x"], 2, "--to takes a whole number"),
    ])
    func badInput(arguments: [String], status: Int32, message: String) throws {
        let root = try RunbookProcess.Root()
        try root.write("runbooks/hello.sh", "# runbook: parameters = WHO\necho hello $WHO\n")
        try root.write("runbooks/badkey.sh", "# runbook: colour = red\necho\n")
        try root.write("runbooks/badtime.sh", "# runbook: timeout = 5 minutes\necho\n")
        try root.write("runbooks/syntax.sh", "if then fi (\n")
        try root.run("publish", "hello")
        try Data([0x65, 0x63, 0x68, 0x6f, 0x0a, 0x65, 0x63, 0x68, 0x6f, 0x20, 0xe9, 0x0a])
            .write(to: root.url.appendingPathComponent("runbooks/latin.sh"))
        let result = try root.run(arguments)
        #expect(result.status == status)
        #expect(result.err.contains(message), "stderr was: \(result.err)")
        if status == 2 { #expect(result.err.contains("usage:") || result.err.contains("see 'runbook help")) }
        // The rest keeps working.
        #expect(try root.run("run", "hello", "-p", "WHO=ops").out == "hello ops\n")
    }

    @Test func pipingIntoHeadDoesNotKillTheJob() throws {
        let root = try RunbookProcess.Root()
        try root.write("runbooks/chatty.sh", "for i in $(seq 1 20000); do echo line $i; done\n")
        let script = "\(RunbookProcess.binary.path) test chatty | head -1"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", script]
        process.environment = root.environment()
        try process.run()
        process.waitUntilExit()
        let job = try #require(try root.jobs().first)
        #expect(job["status"] as? String == "succeeded")
        #expect(try root.run("logs", "1").out.hasSuffix("line 20000\n"))
    }

    @Test func helpAndUsage() throws {
        let root = try RunbookProcess.Root()
        let help = try root.run("help")
        #expect(help.status == 0)
        for command in ["list", "show", "check", "test", "run", "publish", "revert", "rollback", "versions", "diff", "jobs", "logs"] {
            #expect(help.out.contains("\n  \(command) "), "help lacks \(command)")
            let page = try root.run(command, "--help")
            #expect(page.status == 0)
            #expect(page.out.hasPrefix("usage: runbook \(command)"))
            #expect(page.out.contains("Examples:"))
        }
    }
}

func findOnPath(_ program: String) -> String? {
    (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
        .map { "\($0)/\(program)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
}
