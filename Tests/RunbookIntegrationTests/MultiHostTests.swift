import Foundation
import Glibc
import Testing
@testable import RunbookKit

/// Several `runbook serve` hosts, each with its own root and state (as on
/// separate machines), sharing one PostgreSQL database. They need
/// `RUNBOOK_TEST_DATABASE` (`.ci/run` starts a server and sets it); without
/// it they are skipped, saying why.
@Suite("Hosts on one PostgreSQL database", .serialized)
struct MultiHostTests {
    typealias Serve = HostTests.Serve

    /// A fresh database on the test server, with a connection for checks.
    final class SharedDatabase: @unchecked Sendable {
        // Invariant: used by one test at a time.
        let url: DatabaseURL
        let sql: PostgresConnection
        private let admin: PostgresConnection
        private let name: String

        init(server: DatabaseURL? = nil) throws {
            let server = try server ?? Self.server()
            name = "runbook_hosts_\(getpid())_\(UInt32.random(in: 0...UInt32.max))"
            admin = try PostgresConnection(url: server)
            try admin.execute("CREATE DATABASE \(name)")
            url = server.replacingDatabase(name)
            sql = try PostgresConnection(url: url)
        }

        static func server() throws -> DatabaseURL {
            guard let text = ProcessInfo.processInfo.environment["RUNBOOK_TEST_DATABASE"], !text.isEmpty else {
                let reason = "RUNBOOK_TEST_DATABASE is not set: multi-host PostgreSQL tests skipped (.ci/run starts a server and sets it)"
                print("skipped: \(Test.current?.name ?? "test"): \(reason)")
                try Test.cancel(Comment(rawValue: reason))
            }
            return try DatabaseURL(text)
        }

        var environment: [String: String] { ["RUNBOOK_DATABASE": url.text] }

        func drop() { _ = try? admin.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)") }

        /// A query of the test's own; it waits out a restart of the server.
        func query(_ text: String, _ parameters: [SQLValue] = []) throws -> [SQLRow] {
            try StoreRetry.whileUnavailable(for: 30) { try sql.query(text, parameters) }
        }

        func int(_ text: String) throws -> Int { try query(text).first?[0].int ?? -1 }

        /// (schedule, slot) pairs with more than one job of trigger `schedule`.
        func doubledSlots() throws -> [String] {
            try query("""
                SELECT schedule, slot, COUNT(*) FROM jobs WHERE trigger = 'schedule'
                GROUP BY schedule, slot HAVING COUNT(*) > 1
                """).map { "\($0[0].string ?? "?")@\($0[1].double ?? 0) x\($0[2].int ?? 0)" }
        }

        /// Claims that overlap the one before them, or leave a gap after it,
        /// for schedules firing every `step` seconds: none means every slot
        /// from each schedule's first claim to its last was claimed once.
        func claimGaps(step: Double) throws -> [String] {
            try query("""
                SELECT schedule, slot, prev FROM (
                    SELECT schedule, slot, LAG(until) OVER (PARTITION BY schedule ORDER BY slot) AS prev FROM slots
                ) t WHERE prev IS NOT NULL AND slot - prev <> ?1
                """, [.real(step)]).map { "\($0[0].string ?? "?"): \($0[2].double ?? 0) -> \($0[1].double ?? 0)" }
        }

        /// Claims with no job recording what became of them.
        func claimsWithoutJob() throws -> Int {
            try int("""
                SELECT COUNT(*) FROM slots s WHERE NOT EXISTS (
                    SELECT 1 FROM jobs j WHERE j.schedule = s.schedule AND j.slot = s.slot AND j.trigger = 'schedule')
                """)
        }
    }

    /// Roots holding the same runbooks and schedules, one per host.
    static func roots(_ count: Int, files: [String: String]) throws -> [RunbookProcess.Root] {
        try (0..<count).map { _ in
            let root = try RunbookProcess.Root()
            for (path, text) in files { try root.write(path, text) }
            return root
        }
    }

    static func startAll(_ roots: [RunbookProcess.Root], _ arguments: [String], database: SharedDatabase) -> [Serve] {
        let hosts = roots.map { Serve($0, arguments, environment: database.environment) }
        #expect(eventually { hosts.allSatisfy { $0.log.contains("started") } }, "\(hosts.map(\.log))")
        return hosts
    }

    /// Stops the hosts still running (also when a test fails midway).
    static func stopAll(_ hosts: [Serve]) {
        for host in hosts where host.started.process.isRunning { host.stop() }
    }

    static func schedules(_ count: Int, runbook: String, spec: String, extra: String = "") -> [String: String] {
        Dictionary(uniqueKeysWithValues: (0..<count).map {
            (String(format: "schedules/s%02d.schedule", $0), "every = \(spec)\nrunbook = \(runbook)\n\(extra)")
        })
    }

    @Test(.timeLimit(.minutes(3)))
    func threeHostsFireEverySlotOnce() throws {
        let database = try SharedDatabase()
        defer { database.drop() }
        var files = Self.schedules(50, runbook: "tick", spec: "1 seconds")
        files["runbooks/tick.sh"] = "echo tick $RUNBOOK_SCHEDULED_TIME\n"
        files["runbook.conf"] = "sandbox = off\n"
        let roots = try Self.roots(3, files: files)
        // Published once, on one machine: the others run it from the database.
        #expect(try roots[0].run(["publish", "tick"], environment: database.environment).status == 0)
        let hosts = Self.startAll(roots, ["--lease", "6s", "--grace", "5s"], database: database)
        defer { Self.stopAll(hosts) }
        usleep(30_000_000)
        hosts.forEach { $0.stop() }

        #expect(try database.doubledSlots() == [], "a slot fired twice")
        #expect(try database.claimGaps(step: 1) == [], "a slot was skipped or claimed twice")
        #expect(try database.claimsWithoutJob() == 0)
        #expect(try database.int("SELECT COUNT(*) FROM jobs WHERE status = 'missed'") == 0, "\(hosts.map(\.log))")
        let perSchedule = try database.query("""
            SELECT schedule, COUNT(*), MAX(slot) - MIN(slot) + 1 FROM jobs WHERE trigger = 'schedule' GROUP BY schedule ORDER BY schedule
            """)
        #expect(perSchedule.count == 50)
        for row in perSchedule {
            let count = row[1].int ?? 0
            #expect(count >= 25, "\(row[0].string ?? "?") fired \(count) times in 30 s")
            #expect(Double(count) == row[2].double, "\(row[0].string ?? "?"): \(count) jobs over \(row[2].double ?? 0) s")
        }
        // Stopping cancels what was still waiting; nothing failed or was left unfinished.
        let statuses = try database.query("SELECT status, COUNT(*), MIN(reason) FROM jobs GROUP BY status").map {
            "\($0[0].string ?? "?"): \($0[1].int ?? 0) (\($0[2].string ?? ""))"
        }
        #expect(try database.int("SELECT COUNT(*) FROM jobs WHERE status NOT IN ('succeeded', 'skipped', 'cancelled')") == 0, "\(statuses)")
        #expect(try database.int("SELECT COUNT(*) FROM hosts WHERE stopped_at IS NOT NULL") == 3)
        // `runbook logs` on one machine shows a job another host ran.
        let elsewhere = try database.int("SELECT MAX(id) FROM jobs WHERE status = 'succeeded' AND owner_pid <> \(hosts[2].pid)")
        #expect(!roots[2].exists(".runbook/logs/\(elsewhere).log"))
        let logs = try roots[2].run(["logs", String(elsewhere)], environment: database.environment)
        #expect(logs.status == 0 && logs.out.hasPrefix("tick 20"), "\(logs)")
    }

    @Test(.timeLimit(.minutes(2)))
    func publishOnOneMachineReachesEveryHost() throws {
        let database = try SharedDatabase()
        defer { database.drop() }
        var files = Self.schedules(4, runbook: "say", spec: "1 seconds")
        files["runbooks/say.sh"] = "echo one\n"
        files["runbook.conf"] = "sandbox = off\n"
        let roots = try Self.roots(3, files: files)
        #expect(try roots[0].run(["publish", "say"], environment: database.environment).status == 0)
        // Two hosts; the third root is a machine where people only publish.
        let hosts = Self.startAll(Array(roots.prefix(2)), ["--lease", "6s", "--grace", "5s"], database: database)
        defer { Self.stopAll(hosts) }
        #expect(try eventually { try database.int("SELECT COUNT(*) FROM jobs WHERE revision = 1 AND status = 'succeeded'") >= 4 })
        try roots[2].write("runbooks/say.sh", "echo two\n")
        #expect(try roots[2].run(["publish", "say"], environment: database.environment).status == 0)
        let published = Date().timeIntervalSince1970
        // The hosts run revision 2 within seconds, though neither's file changed.
        #expect(try eventually(within: 5) {
            try database.int("SELECT COUNT(*) FROM jobs WHERE revision = 2 AND status = 'succeeded'") >= 4
        })
        usleep(3_000_000) // both hosts keep firing meanwhile
        #expect(try database.int("SELECT COUNT(*) FROM jobs WHERE revision = 1 AND started_at > \(published + 1)") == 0,
                "a host started the old revision after the publish")
        hosts.forEach { $0.stop() }
        let newest = try database.int("SELECT MAX(id) FROM jobs WHERE revision = 2 AND status = 'succeeded'")
        #expect(try roots[0].run(["logs", String(newest)], environment: database.environment).out == "two\n")
        #expect(try database.doubledSlots() == [])
    }

    @Test func aBadDatabaseIsOneLineWithoutThePassword() throws {
        let root = try RunbookProcess.Root()
        // Nothing listens on port 1: refused at once.
        for arguments in [["--database", "postgres://ops:s3cret@127.0.0.1:1/runbook", "jobs"],
                          ["jobs"]] {
            let result = try root.run(arguments, environment: ["RUNBOOK_DATABASE": "postgresql://ops:s3cret@127.0.0.1:1/runbook"])
            #expect(result.status == 1)
            #expect(!result.err.contains("s3cret") && result.err.contains("ops:***@127.0.0.1:1/runbook"), "\(result.err)")
            #expect(result.err.split(separator: "\n").count == 1, "\(result.err)")
            #expect(result.err.contains("check the URL"))
        }
        let usage = try root.run(["--database"])
        #expect(usage.status == 2 && usage.err.contains("--database"))
    }

    @Test(.timeLimit(.minutes(3)))
    func killedHostsJobIsInterruptedAndSurvivorsFireItsSchedules() throws {
        let database = try SharedDatabase()
        defer { database.drop() }
        let marker = "sleep 300.\(getpid() % 10000)7"
        var files = Self.schedules(5, runbook: "tick", spec: "1 seconds")
        files["schedules/slow.schedule"] = "every = 2 seconds\noverlap = allow\n"
        files["runbooks/tick.sh"] = "true\n"
        files["runbooks/slow.sh"] = "\(marker)\n"
        let roots = try Self.roots(3, files: files)
        #expect(try roots[0].run(["publish", "--all"], environment: database.environment).status == 0)
        let lease = 6.0
        let hosts = Self.startAll(roots, ["--lease", "6s", "--grace", "1s"], database: database)
        defer { Self.stopAll(hosts) }
        var victimPID: Int32 = 0
        #expect(try eventually(within: 30) {
            victimPID = Int32(try database.int("SELECT owner_pid FROM jobs WHERE runbook = 'slow' AND status = 'running' ORDER BY id LIMIT 1"))
            return victimPID > 0
        })
        let victim = try #require(hosts.first { $0.pid == victimPID }, "job owner \(victimPID) is none of the hosts")
        let victimJob = try database.int("SELECT MIN(id) FROM jobs WHERE runbook = 'slow' AND status = 'running' AND owner_pid = \(victimPID)")
        kill(victim.pid, SIGKILL)
        victim.started.process.waitUntilExit()
        let killedAt = Date()
        let survivors = hosts.filter { $0.pid != victimPID }

        // Noticed within the lease (plus the survivors' heartbeat period).
        #expect(try eventually(within: lease + 6) {
            try database.query("SELECT status FROM jobs WHERE id = ?1", [.integer(Int64(victimJob))]).first?[0].string == "interrupted"
        })
        let noticed = Date().timeIntervalSince(killedAt)
        #expect(noticed <= lease + lease / 3 + 1, "interrupted \(noticed) s after the kill")
        let reason = try database.query("SELECT reason FROM jobs WHERE id = ?1", [.integer(Int64(victimJob))]).first?[0].string ?? ""
        #expect(reason.contains("lease"), "\(reason)")
        #expect(survivors.contains { $0.log.contains("its lease ran out") })
        // Its schedules keep firing on the survivors.
        let afterwards = Date().timeIntervalSince1970 + 2
        #expect(try eventually(within: 15) {
            try database.int("SELECT COUNT(*) FROM jobs WHERE runbook = 'tick' AND status = 'succeeded' AND slot > \(afterwards)") >= 15
                && database.int("SELECT COUNT(*) FROM jobs WHERE runbook = 'slow' AND slot > \(afterwards)") >= 1
        })
        survivors.forEach { $0.stop() }

        #expect(try database.doubledSlots() == [], "a slot fired twice")
        #expect(try database.claimGaps(step: 1).filter { !$0.hasPrefix("slow") } == [], "a tick slot was lost or doubled")
        #expect(try database.claimGaps(step: 2).filter { $0.hasPrefix("slow") } == [], "a slow slot was lost or doubled")
        #expect(try database.claimsWithoutJob() == 0)
        #expect(try database.int("SELECT COUNT(*) FROM jobs WHERE status IN ('queued', 'running')") == 0)
        #expect(eventually(within: 5) { processes(containing: marker).isEmpty })
    }

    @Test(.timeLimit(.minutes(4)))
    func databaseOutageUnderLoad() throws {
        _ = try SharedDatabase.server()
        let server = try PrivateServer()
        defer { server.remove() }
        let database = try SharedDatabase(server: server.url)
        defer { database.drop() }
        var files = Self.schedules(10, runbook: "work", spec: "1 seconds", extra: "overlap = allow\n")
        files["runbooks/work.sh"] = "sleep 1.5\necho done\n"
        files["runbook.conf"] = "sandbox = off\n"
        let roots = try Self.roots(2, files: files)
        #expect(try roots[0].run(["publish", "work"], environment: database.environment).status == 0)
        let hosts = Self.startAll(roots, ["--lease", "6s", "--grace", "5s"], database: database)
        defer { Self.stopAll(hosts) }
        #expect(try eventually(within: 20) { try database.int("SELECT COUNT(*) FROM jobs WHERE status = 'succeeded'") >= 20 })

        try server.control("stop")
        let downAt = Date()
        usleep(10_000_000) // the outage itself, not a wait for an event
        try server.control("resume")
        let upAt = Date()
        #expect(eventually(within: 20) { hosts.allSatisfy { $0.log.contains("is back") } }, "\(hosts.map(\.log))")
        // Firing resumes by itself.
        #expect(try eventually(within: 20) {
            try database.int("SELECT COUNT(*) FROM jobs WHERE status = 'succeeded' AND slot > \(upAt.timeIntervalSince1970 + 1)") >= 10
        })
        hosts.forEach { $0.stop() }

        for host in hosts {
            #expect(host.log.contains("no slots are claimed until it is back"))
        }
        #expect(try database.doubledSlots() == [], "a slot fired twice")
        #expect(try database.claimGaps(step: 1) == [], "a slot was lost or claimed twice")
        #expect(try database.claimsWithoutJob() == 0, "a claimed slot has no job record")
        #expect(try database.int("SELECT COUNT(*) FROM jobs WHERE status IN ('queued', 'running')") == 0)
        // Jobs running when the database went away finished and were recorded.
        let down = downAt.timeIntervalSince1970
        #expect(try database.int("SELECT COUNT(*) FROM jobs WHERE status = 'succeeded' AND started_at < \(down) AND ended_at > \(down)") >= 1)
        // The slots of the outage went through catch-up (one missed record per schedule and gap).
        #expect(try database.int("SELECT COUNT(*) FROM jobs WHERE status = 'missed'") >= 1)
    }
}
