/// Reads a command's arguments: `--flag`, `--opt value`, `--opt=value`,
/// short options (`-p K=V`), positionals, and `--` ending options. Every
/// token must be claimed; `finish()` names the first that was not.
public struct ArgumentScanner: Sendable {
    private var tokens: [String]
    private var used: [Bool]
    /// Index of `--`, after which nothing is an option.
    private let terminator: Int

    public init(_ arguments: [String]) {
        tokens = arguments
        used = Array(repeating: false, count: arguments.count)
        terminator = arguments.firstIndex(of: "--") ?? arguments.count
        if terminator < arguments.count { used[terminator] = true }
    }

    /// True if any of `names` is present (each occurrence is consumed).
    public mutating func flag(_ names: String...) throws(UsageError) -> Bool {
        var found = false
        for index in 0..<terminator where !used[index] {
            let token = tokens[index]
            if names.contains(token) {
                used[index] = true
                found = true
            } else if let equals = token.firstIndex(of: "="), names.contains(String(token[..<equals])) {
                throw UsageError("\(token[..<equals]) takes no value")
            }
        }
        return found
    }

    /// Every value of a repeatable option, in order.
    public mutating func values(_ names: String...) throws(UsageError) -> [String] {
        var values: [String] = []
        var index = 0
        while index < terminator {
            defer { index += 1 }
            guard !used[index] else { continue }
            let token = tokens[index]
            if names.contains(token) {
                used[index] = true
                guard index + 1 < terminator, !used[index + 1] else {
                    throw UsageError("\(token) needs a value")
                }
                values.append(tokens[index + 1])
                used[index + 1] = true
                index += 1
            } else if token.hasPrefix("--"), let equals = token.firstIndex(of: "="), names.contains(String(token[..<equals])) {
                used[index] = true
                values.append(String(token[token.index(after: equals)...]))
            }
        }
        return values
    }

    /// The value of a single-valued option, if given.
    public mutating func value(_ names: String...) throws(UsageError) -> String? {
        var all: [String] = []
        for name in names { all += try values(name) }
        guard all.count <= 1 else { throw UsageError("\(names[0]) is given more than once") }
        return all.first
    }

    /// An integer option.
    public mutating func integer(_ name: String, minimum: Int = 0) throws(UsageError) -> Int? {
        guard let text = try value(name) else { return nil }
        guard let number = Int(text), number >= minimum else {
            throw UsageError("\(name) takes a whole number of at least \(minimum), not '\(text)'")
        }
        return number
    }

    /// Checks that nothing is left: for commands that take no positionals.
    public mutating func noPositionals(command: String) throws(UsageError) {
        let rest = try positionals()
        guard rest.isEmpty else { throw UsageError("\(command) takes no arguments, got '\(rest[0])'") }
    }

    /// The remaining arguments, after checking none looks like an unknown option.
    public mutating func positionals() throws(UsageError) -> [String] {
        var result: [String] = []
        for index in 0..<tokens.count where !used[index] {
            let token = tokens[index]
            if index < terminator && token.hasPrefix("-") && token != "-" {
                throw UsageError("unknown option '\(token)'")
            }
            used[index] = true
            result.append(token)
        }
        return result
    }
}

/// A mistake in how a command was called: printed with the usage line and
/// a pointer to `runbook help COMMAND`, exit status 2.
public struct UsageError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
