import Foundation

/// A strict reader of the Prometheus text exposition format (0.0.4), as
/// node_exporter's textfile collector and `promtool check metrics` read
/// it: the problems it finds, empty when the text is valid.
enum PrometheusLint {
    static func problems(in text: String) -> [String] {
        var problems: [String] = []
        var types: [String: String] = [:]
        var helps: Set<String> = []
        var closed: Set<String> = []
        var current: String?
        var series: Set<String> = []
        // Histogram buckets by family and labels without `le`.
        var buckets: [String: [(Double, Double)]] = [:]
        var counts: [String: Double] = [:]
        var sums: Set<String> = []

        guard text.hasSuffix("\n") else { return ["the text does not end with a newline"] }
        for (index, line) in text.dropLast().split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            if line.isEmpty { problems.append("line \(number): empty line"); continue }
            if line.hasPrefix("#") {
                let words = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
                guard words.count >= 3, ["HELP", "TYPE"].contains(words[1]) else { continue }
                let name = words[2]
                guard isMetricName(name) else { problems.append("line \(number): bad metric name '\(name)'"); continue }
                if closed.contains(name) || (current != nil && current != name && types[name] != nil) {
                    problems.append("line \(number): \(words[1]) for \(name) after its samples or another family's")
                }
                if words[1] == "TYPE" {
                    guard words.count == 4, ["counter", "gauge", "histogram", "summary", "untyped"].contains(words[3]) else {
                        problems.append("line \(number): bad TYPE line"); continue
                    }
                    if types[name] != nil { problems.append("line \(number): second TYPE for \(name)") }
                    types[name] = words[3]
                } else {
                    if helps.contains(name) { problems.append("line \(number): second HELP for \(name)") }
                    helps.insert(name)
                }
                if current != name, let current { closed.insert(current) }
                current = name
                continue
            }
            guard let sample = parseSample(String(line)) else { problems.append("line \(number): not a sample: \(line)"); continue }
            var family = sample.name
            for suffix in ["_bucket", "_sum", "_count"] where sample.name.hasSuffix(suffix) {
                let base = String(sample.name.dropLast(suffix.count))
                if types[base] == "histogram" || types[base] == "summary" { family = base }
            }
            guard let type = types[family] else { problems.append("line \(number): \(sample.name) has no TYPE"); continue }
            if family != current {
                if closed.contains(family) { problems.append("line \(number): samples of \(family) are not together") }
                if let current { closed.insert(current) }
                current = family
            }
            let key = sample.name + "{" + sample.labels.sorted { $0.0 < $1.0 }.map { "\($0.0)=\($0.1)" }.joined(separator: ",") + "}"
            if !series.insert(key).inserted { problems.append("line \(number): duplicate series \(key)") }
            if type == "counter" {
                if !family.hasSuffix("_total") { problems.append("line \(number): counter \(family) should end in _total") }
                if sample.value < 0 { problems.append("line \(number): negative counter") }
            }
            if type == "histogram" {
                let group = family + "{" + sample.labels.filter { $0.0 != "le" }.sorted { $0.0 < $1.0 }.map { "\($0.0)=\($0.1)" }.joined(separator: ",") + "}"
                if sample.name == family + "_bucket" {
                    guard let le = sample.labels.first(where: { $0.0 == "le" }), let bound = parseValue(le.1) else {
                        problems.append("line \(number): bucket without a valid le"); continue
                    }
                    buckets[group, default: []].append((bound, sample.value))
                } else if sample.name == family + "_count" {
                    counts[group] = sample.value
                } else if sample.name == family + "_sum" {
                    sums.insert(group)
                } else {
                    problems.append("line \(number): \(sample.name) does not belong to histogram \(family)")
                }
            }
        }
        for (group, list) in buckets {
            for (previous, next) in zip(list, list.dropFirst()) {
                if next.0 <= previous.0 { problems.append("\(group): le bounds are not increasing") }
                if next.1 < previous.1 { problems.append("\(group): bucket counts are not cumulative") }
            }
            guard let last = list.last, last.0 == .infinity else { problems.append("\(group): no +Inf bucket"); continue }
            if counts[group] != last.1 { problems.append("\(group): _count differs from the +Inf bucket") }
            if !sums.contains(group) { problems.append("\(group): no _sum") }
        }
        return problems
    }

    struct Sample {
        var name: String
        var labels: [(String, String)]
        var value: Double
    }

    static func parseSample(_ line: String) -> Sample? {
        var rest = Substring(line)
        let name = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" }
        guard isMetricName(String(name)) else { return nil }
        rest = rest.dropFirst(name.count)
        var labels: [(String, String)] = []
        if rest.first == "{" {
            rest = rest.dropFirst()
            while rest.first != "}" {
                let label = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
                guard !label.isEmpty, label.first?.isNumber == false, !labels.contains(where: { $0.0 == String(label) }) else { return nil }
                rest = rest.dropFirst(label.count)
                guard rest.hasPrefix("=\"") else { return nil }
                rest = rest.dropFirst(2)
                var value = ""
                while let character = rest.first, character != "\"" {
                    rest = rest.dropFirst()
                    if character == "\\" {
                        guard let escaped = rest.first, ["\\", "\"", "n"].contains(escaped) else { return nil }
                        value.append(escaped == "n" ? "\n" : escaped)
                        rest = rest.dropFirst()
                    } else if character == "\n" {
                        return nil
                    } else {
                        value.append(character)
                    }
                }
                guard rest.first == "\"" else { return nil }
                rest = rest.dropFirst()
                labels.append((String(label), value))
                if rest.first == "," { rest = rest.dropFirst() } else if rest.first != "}" { return nil }
            }
            rest = rest.dropFirst()
        }
        guard rest.first == " " else { return nil }
        let parts = rest.dropFirst().split(separator: " ", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let value = parseValue(String(parts[0])) else { return nil }
        if parts.count == 2, Int64(parts[1]) == nil { return nil }
        return Sample(name: String(name), labels: labels, value: value)
    }

    static func parseValue(_ text: String) -> Double? {
        switch text {
        case "+Inf": return .infinity
        case "-Inf": return -.infinity
        case "NaN": return .nan
        default: return text.isEmpty || text.contains(where: { $0.isLetter && $0 != "e" && $0 != "E" }) ? nil : Double(text)
        }
    }

    static func isMetricName(_ name: String) -> Bool {
        guard let first = name.first, first.isASCII, first.isLetter || first == "_" || first == ":" else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == ":") }
    }

    /// `promtool check metrics` on `text`, when promtool is installed
    /// (Debian's `prometheus`): nil when it is not, else its exit status and output.
    static func promtool(_ text: String) throws -> (status: Int32, output: String)? {
        guard let path = ["/usr/bin/promtool", "/usr/local/bin/promtool"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            return nil
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["check", "metrics"]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()
        input.fileHandleForWriting.write(Data(text.utf8))
        try input.fileHandleForWriting.close()
        let printed = try output.fileHandleForReading.readToEnd() ?? Data()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: printed, as: UTF8.self))
    }
}
