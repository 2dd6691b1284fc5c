import FoundationEssentials

/// Aligned text columns for human output. The last column is not padded.
struct Table {
    var header: [String]
    var rows: [[String]] = []

    init(_ header: String...) { self.header = header }

    mutating func add(_ row: String...) { rows.append(row) }
    mutating func add(_ row: [String]) { rows.append(row) }

    /// The rows in columns as wide as their widest cell; colour escapes
    /// (`Palette`) take no width.
    func render() -> String {
        let all = [header] + rows
        var widths = [Int](repeating: 0, count: header.count)
        for row in all { for (index, cell) in row.enumerated() { widths[index] = max(widths[index], Palette.visibleWidth(cell)) } }
        return all.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell + String(repeating: " ", count: max(0, widths[index] - Palette.visibleWidth(cell)))
            }.joined(separator: "  ").trimmingTrailingWhitespace()
        }.joined(separator: "\n")
    }
}

/// Colour for human output: only on a terminal, never when `NO_COLOR` is
/// set (no-color.org) or `TERM` is `dumb`.
struct Palette {
    var enabled: Bool

    init(console: Console, environment: [String: String]) {
        enabled = console.isTerminal && (environment["NO_COLOR"] ?? "").isEmpty && environment["TERM"] != "dumb"
    }

    init(enabled: Bool) { self.enabled = enabled }

    private func paint(_ text: String, _ code: String) -> String { enabled ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }
    func red(_ text: String) -> String { paint(text, "31") }
    func green(_ text: String) -> String { paint(text, "32") }
    func yellow(_ text: String) -> String { paint(text, "33") }
    func dim(_ text: String) -> String { paint(text, "2") }
    func bold(_ text: String) -> String { paint(text, "1") }

    /// A job status in its colour: green done, red failed, yellow stopped
    /// or not run, plain while it waits or runs.
    func status(_ status: JobStatus) -> String {
        switch status {
        case .succeeded: return green(status.rawValue)
        case .failed, .timedOut, .limitExceeded, .interrupted: return red(status.rawValue)
        case .cancelled, .skipped, .missed: return yellow(status.rawValue)
        case .queued, .running: return bold(status.rawValue)
        }
    }

    /// Characters on screen, without colour escapes.
    static func visibleWidth(_ text: String) -> Int {
        var width = 0
        var inEscape = false
        for scalar in text.unicodeScalars {
            if inEscape { if scalar == "m" { inEscape = false }; continue }
            if scalar == "\u{1B}" { inEscape = true; continue }
            width += 1
        }
        return width
    }
}

/// JSON for `--json`: sorted keys, ISO 8601 dates, pretty-printed.
func renderJSON<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder.sorted
    encoder.outputFormatting.insert(.prettyPrinted)
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

/// `1.2s`, `350ms`, `4m05s`, `2h03m`: short durations for tables.
func formatElapsed(_ seconds: TimeInterval) -> String {
    if seconds < 1 { return "\(Int((seconds * 1000).rounded()))ms" }
    if seconds < 60 { return String(cFormat: "%.1fs", seconds) }
    let whole = Int(seconds.rounded())
    if whole < 3600 { return String(cFormat: "%ldm%02lds", whole / 60, whole % 60) }
    return String(cFormat: "%ldh%02ldm", whole / 3600, whole / 60 % 60)
}

/// Local time for tables: `2026-11-23 04:12:09`.
func formatLocal(_ date: Date) -> String {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = .current
    let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
    return String(cFormat: "%04ld-%02ld-%02ld %02ld:%02ld:%02ld", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0,
                  parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0)
}

extension String {
    /// The text padded with spaces (or cut) to `width` characters, as a
    /// table column.
    func padded(to width: Int) -> String {
        count >= width ? String(prefix(width)) : self + String(repeating: " ", count: width - count)
    }

    func trimmingTrailingWhitespace() -> String {
        var text = self
        while let last = text.last, last == " " { text.removeLast() }
        return text
    }
}
