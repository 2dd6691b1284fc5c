import Foundation
import Glibc
import Testing
@testable import RunbookKit

@Suite("Catch-up planning")
struct CatchUpPlannerTests {
    let utc = TimeZone(identifier: "UTC")!
    let base = Date(timeIntervalSince1970: 1_800_000_000) // a whole minute

    func everyMinute() throws -> Schedule { try Schedule.parse("* * * * *", timeZone: utc) }

    @Test func nothingDue() throws {
        #expect(CatchUpPlanner.plan(try everyMinute(), after: base, now: base.addingTimeInterval(59), policy: .latest, window: 86_400)
                == CatchUpPlanner.Plan())
    }

    @Test func aSlotOnTimeRuns() throws {
        let plan = CatchUpPlanner.plan(try everyMinute(), after: base, now: base.addingTimeInterval(60.01), policy: .none, window: 86_400)
        #expect(plan.run == [base.addingTimeInterval(60)])
        #expect(plan.missed == nil)
    }

    /// After ten minutes of downtime (ten slots due, the oldest long past).
    @Test(arguments: [
        (ScheduleFile.CatchUp.none, 0, 10),
        (.latest, 1, 9),
        (.all, 10, 0),
    ])
    func afterDowntime(policy: ScheduleFile.CatchUp, runs: Int, missed: Int) throws {
        let now = base.addingTimeInterval(600.5)
        let plan = CatchUpPlanner.plan(try everyMinute(), after: base, now: now, policy: policy, window: 86_400)
        #expect(plan.run.count == runs)
        #expect(plan.missed?.count ?? 0 == missed)
        if policy == .latest { #expect(plan.run == [base.addingTimeInterval(600)]) }
        if missed > 0 { #expect(plan.missed?.first == base.addingTimeInterval(60)) }
    }

    @Test func theWindowBoundsCatchUp() throws {
        let now = base.addingTimeInterval(600.5)
        let all = CatchUpPlanner.plan(try everyMinute(), after: base, now: now, policy: .all, window: 180)
        #expect(all.run == [480, 540, 600].map { base.addingTimeInterval($0) })
        #expect(all.missed == CatchUpPlanner.Missed(first: base.addingTimeInterval(60), last: base.addingTimeInterval(420), count: 7))
        let latestTooOld = CatchUpPlanner.plan(try everyMinute(), after: base, now: base.addingTimeInterval(900), policy: .latest, window: 60)
        #expect(latestTooOld.run == [base.addingTimeInterval(900)])
        let hourly = try Schedule.parse("0 * * * *", timeZone: utc)
        let stale = CatchUpPlanner.plan(hourly, after: base, now: base.addingTimeInterval(3 * 3600 + 1800), policy: .latest, window: 600)
        #expect(stale.run.isEmpty, "the latest slot is older than the window")
        #expect(stale.missed?.count == 3)
    }

    @Test func aShortBacklogIsJustRun() throws {
        let everySecond = try Schedule.parse("every 1 seconds", timeZone: utc)
        let plan = CatchUpPlanner.plan(everySecond, after: base, now: base.addingTimeInterval(3.2), policy: .none, window: 86_400)
        #expect(plan.run.count == 3)
        #expect(plan.missed == nil)
    }

    @Test func aWeekOfOneSecondSlotsIsCountedNotListed() throws {
        let everySecond = try Schedule.parse("every 1 seconds", timeZone: utc)
        let week = 7 * 86_400.0
        let plan = CatchUpPlanner.plan(everySecond, after: base, now: base.addingTimeInterval(week), policy: .latest, window: 86_400)
        #expect(plan.run == [base.addingTimeInterval(week)])
        #expect(plan.missed?.count == Int(week) - 1)
        #expect(plan.missed?.first == base.addingTimeInterval(1))
    }
}

@Suite("Fire queue")
struct FireQueueTests {
    @Test func popsInTimeOrderOnlyWhenDue() {
        var queue = FireQueue()
        let base = Date(timeIntervalSince1970: 0)
        for (offset, name) in [(5, "e"), (1, "a"), (3, "c"), (2, "b"), (4, "d"), (3, "c2")] {
            queue.push(.init(at: base.addingTimeInterval(Double(offset)), key: .schedule(name), generation: 0))
        }
        #expect(queue.earliest == base.addingTimeInterval(1))
        #expect(queue.popDue(now: base.addingTimeInterval(0.5)) == nil)
        var popped: [Date] = []
        while let entry = queue.popDue(now: base.addingTimeInterval(4)) { popped.append(entry.at) }
        #expect(popped == [1, 2, 3, 3, 4].map { base.addingTimeInterval($0) })
        #expect(queue.count == 1)
    }

    @Test func randomOrderComesOutSorted() {
        var queue = FireQueue()
        var generator = SystemRandomNumberGenerator()
        let times = (0..<500).map { _ in Double(Int.random(in: 0..<10_000, using: &generator)) }
        for time in times { queue.push(.init(at: Date(timeIntervalSince1970: time), key: .schedule("x"), generation: 0)) }
        var out: [Double] = []
        while let entry = queue.popDue(now: .distantFuture) { out.append(entry.at.timeIntervalSince1970) }
        #expect(out == times.sorted())
    }
}

@Suite("systemd notifications")
struct SystemdNotifierTests {
    @Test func sendsADatagramToNotifySocket() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("notify-\(getpid()).sock").path
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        #expect(fd >= 0)
        defer { close(fd); unlink(path) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.enumerated() { raw[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        try #require(bound == 0)
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": path, "WATCHDOG_USEC": "20000000"])
        #expect(notifier.watchdogInterval == 10)
        #expect(notifier.notify("READY=1"))
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = recv(fd, &buffer, buffer.count, 0)
        #expect(String(decoding: buffer.prefix(max(0, count)), as: UTF8.self) == "READY=1")
    }

    @Test func silentWithoutSystemd() {
        #expect(SystemdNotifier(environment: [:]).notify("READY=1") == false)
    }
}
