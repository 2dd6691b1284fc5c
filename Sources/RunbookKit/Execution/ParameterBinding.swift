/// Checks `-p K=V` values against a runbook's declared parameters, before
/// anything runs: an unknown name or a missing required one is an error.
public enum ParameterBinding {
    public struct Problem: Error, Sendable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// The parameters a job gets: the given values, then the declared defaults.
    public static func resolve(declared: [ParameterDeclaration], given: [String: String], runbook: String) throws(Problem) -> [String: String] {
        let names = Set(declared.map(\.name))
        for name in given.keys.sorted() where !names.contains(name) {
            let known = declared.isEmpty ? "it declares no parameters" : "it declares \(declared.map(\.name).joined(separator: ", "))"
            throw Problem(message: "'\(runbook)' has no parameter '\(name)' (\(known)); declare it in the header with '# runbook: parameters = \(name)'")
        }
        var values: [String: String] = [:]
        for parameter in declared {
            if let value = given[parameter.name] {
                values[parameter.name] = value
            } else if let value = parameter.defaultValue {
                values[parameter.name] = value
            } else {
                throw Problem(message: "'\(runbook)' needs parameter '\(parameter.name)': pass it with -p \(parameter.name)=VALUE")
            }
        }
        return values
    }

    /// Splits `K=V` arguments.
    public static func parse(_ arguments: [String]) throws(Problem) -> [String: String] {
        var values: [String: String] = [:]
        for argument in arguments {
            guard let equals = argument.firstIndex(of: "="), equals != argument.startIndex else {
                throw Problem(message: "-p takes NAME=VALUE, not '\(argument)'")
            }
            values[String(argument[..<equals])] = String(argument[argument.index(after: equals)...])
        }
        return values
    }
}
