import Foundation
import RunbookKit
#if canImport(Glibc)
import Glibc
#endif

/// `runbook-bench schedules`: next-fire computations per second for a mix of
/// 1,000 cron and readable specs across zones.
///
/// - `schedules [--mix FILE] [--rounds N]`: runs the benchmark; with `--mix`,
///   also writes the mix (cron equivalent, zone, start) for bench/cron_compare.py
///   so cronsim and croniter time the same work.
/// - `schedules eval FILE`: reads `spec<TAB>zone<TAB>start-epoch<TAB>count` lines
///   and prints the next `count` fires as epoch seconds (or `ERR code`), one
///   line per input, for the cross-check against cronsim and croniter.
func runScheduleBench(arguments: [String]) throws {
    if arguments.first == "eval", arguments.count > 1 {
        try evaluate(file: arguments[1])
        return
    }
    var mixPath: String? = nil
    var rounds = 200
    var index = 0
    while index < arguments.count {
        switch arguments[index] {
        case "--mix" where index + 1 < arguments.count: mixPath = arguments[index + 1]; index += 1
        case "--rounds" where index + 1 < arguments.count: rounds = Int(arguments[index + 1]) ?? rounds; index += 1
        default: break
        }
        index += 1
    }
    try benchmark(mixPath: mixPath, rounds: rounds)
}

private func evaluate(file: String) throws {
    let text = try String(contentsOfFile: file, encoding: .utf8)
    var output = ""
    for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
        let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        guard fields.count >= 4, let zone = TimeZone(identifier: fields[1]),
              let start = Double(fields[2]), let count = Int(fields[3]) else {
            output += "ERR input\n"
            continue
        }
        do {
            let schedule = try Schedule.parse(fields[0], timeZone: zone)
            let fires = schedule.nextFireDates(after: Date(timeIntervalSince1970: start), count: count)
            output += fires.map { String(Int64($0.timeIntervalSince1970)) }.joined(separator: " ") + "\n"
        } catch {
            output += "ERR \(error.code.rawValue)\n"
        }
    }
    FileHandle.standardOutput.write(Data(output.utf8))
}

/// Readable specs with their cron equivalents (for the Python side).
private let readable: [(String, String)] = [
    ("every 15 minutes", "*/15 * * * *"),
    ("every 2 hours", "0 */2 * * *"),
    ("every day at 02:30", "30 2 * * *"),
    ("every day at 08:00, 20:00", "0 8,20 * * *"),
    ("every weekday at 07:00", "0 7 * * 1-5"),
    ("every weekend at 10:00", "0 10 * * 0,6"),
    ("every monday, thursday at 09:15", "15 9 * * 1,4"),
    ("every month on day 1 at 00:05", "5 0 1 * *"),
    ("every month on day 1, 15 at 06:00", "0 6 1,15 * *"),
    ("every month on the last day at 23:00", "0 23 L * *"),
    ("every month on the first monday at 09:00", "0 9 * * 1#1"),
    ("every 5 minutes", "*/5 * * * *"),
]

private let zones = ["UTC", "America/New_York", "Europe/London", "Europe/Berlin", "Australia/Sydney",
                     "Asia/Tokyo", "Asia/Kolkata", "America/Los_Angeles", "America/Sao_Paulo", "Pacific/Auckland"]

private func randomCron(_ rng: inout SplitMix64) -> String {
    func field(_ low: Int, _ high: Int, names: Bool) -> String {
        switch rng.below(8) {
        case 0, 1: return "*"
        case 2: return "\(low + rng.below(high - low + 1))"
        case 3: return "*/\(1 + rng.below(max(1, (high - low) / 2)))"
        case 4:
            let a = low + rng.below(high - low + 1), b = a + rng.below(high - a + 1)
            return "\(a)-\(b)"
        case 5:
            let a = low + rng.below(high - low + 1), b = low + rng.below(high - low + 1)
            return a == b ? "\(a)" : "\(min(a, b)),\(max(a, b))"
        case 6:
            let a = low + rng.below(high - low + 1)
            return "\(a)/\(1 + rng.below(10))"
        default: return "\(low + rng.below(high - low + 1))"
        }
    }
    var dom = field(1, 28, names: false)
    var dow = field(0, 6, names: true)
    if rng.below(10) == 0 { dom = "L" }
    if rng.below(12) == 0 { dow = "\(1 + rng.below(5))#\(1 + rng.below(4))" }
    return "\(field(0, 59, names: false)) \(field(0, 23, names: false)) \(dom) \(field(1, 12, names: false)) \(dow)"
}

private func benchmark(mixPath: String?, rounds: Int) throws {
    var rng = SplitMix64(seed: 42)
    var schedules: [Schedule] = []
    var mixLines: [String] = []
    let base = 1_767_225_600.0 // 2026-01-01T00:00:00Z
    var starts: [Date] = []
    while schedules.count < 1_000 {
        let zone = zones[rng.below(zones.count)]
        let start = base + Double(rng.below(2 * 365 * 86_400))
        let spec: String
        let cron: String
        if rng.below(3) == 0 {
            let pair = readable[rng.below(readable.count)]
            spec = pair.0
            cron = pair.1
        } else {
            spec = randomCron(&rng)
            cron = spec
        }
        guard let schedule = try? Schedule.parse(spec, timeZone: TimeZone(identifier: zone)!) else { continue }
        schedules.append(schedule)
        starts.append(Date(timeIntervalSince1970: start))
        mixLines.append("\(cron)\t\(zone)\t\(Int64(start))")
    }
    if let mixPath {
        try (mixLines.joined(separator: "\n") + "\n").write(toFile: mixPath, atomically: true, encoding: .utf8)
    }
    // Warm up (zone tables are built on first parse already).
    var checksum: Double = 0
    for (s, t) in zip(schedules, starts) { checksum += s.nextFireDate(after: t)?.timeIntervalSince1970 ?? 0 }

    let clock = ContinuousClock()
    var computations = 0
    let elapsed = clock.measure {
        for round in 0..<rounds {
            let shift = Double(round * 3_607)
            for i in 0..<schedules.count {
                checksum += schedules[i].nextFireDate(after: starts[i].addingTimeInterval(shift))?.timeIntervalSince1970 ?? 0
            }
            computations += schedules.count
        }
    }
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    let perSecond = Double(computations) / seconds
    print("swift: \(computations) next-fire computations in \(String(format: "%.3f", seconds)) s: \(Int(perSecond)) ops/s, \(String(format: "%.3f", 1e6 / perSecond)) µs each")

    // Allocations in the hot path, when run under the malloc-counting shim
    // (bench/schedules.sh builds it and sets LD_PRELOAD).
    #if canImport(Glibc)
    if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "rb_malloc_count") {
        let count = unsafeBitCast(symbol, to: (@convention(c) () -> Int).self)
        let before = count()
        for i in 0..<schedules.count {
            checksum += schedules[i].nextFireDate(after: starts[i])?.timeIntervalSince1970 ?? 0
        }
        let after = count()
        print("swift: \(after - before) heap allocations in \(schedules.count) next-fire computations")
    }
    #endif

    // 100,000 schedules' next fire, one pass.
    var many: [Schedule] = []
    many.reserveCapacity(100_000)
    for i in 0..<100_000 { many.append(schedules[i % schedules.count]) }
    let now = Date(timeIntervalSince1970: base + 1_000_003)
    let batch = clock.measure {
        for s in many { checksum += s.nextFireDate(after: now)?.timeIntervalSince1970 ?? 0 }
    }
    let batchSeconds = Double(batch.components.seconds) + Double(batch.components.attoseconds) / 1e18
    print("swift: next fire of 100,000 schedules in \(String(format: "%.1f", batchSeconds * 1000)) ms")
    print("checksum \(checksum)")
}
