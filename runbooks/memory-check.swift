// runbook: description = Warns when available memory falls below a threshold (compiled once per revision)
// runbook: parameters = MIN_AVAILABLE_PERCENT=10
// runbook: timeout = 30s
import Foundation

/// Reads /proc/meminfo into kilobytes by field name.
func memoryInfo() -> [String: Int] {
    guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else { return [:] }
    var fields: [String: Int] = [:]
    for line in text.split(separator: "\n") {
        let parts = line.split(separator: ":")
        guard parts.count == 2, let value = Int(parts[1].split(separator: " ")[0]) else { continue }
        fields[String(parts[0])] = value
    }
    return fields
}

let environment = ProcessInfo.processInfo.environment
let threshold = Double(environment["MIN_AVAILABLE_PERCENT"] ?? "10") ?? 10
let info = memoryInfo()
guard let total = info["MemTotal"], let available = info["MemAvailable"], total > 0 else {
    FileHandle.standardError.write(Data("cannot read /proc/meminfo\n".utf8))
    exit(2)
}
let percent = Double(available) / Double(total) * 100
print(String(format: "available memory: %.1f%% of %d MiB (threshold %.0f%%)", percent, total / 1024, threshold))
if percent < threshold {
    FileHandle.standardError.write(Data("memory is low\n".utf8))
    exit(1)
}
