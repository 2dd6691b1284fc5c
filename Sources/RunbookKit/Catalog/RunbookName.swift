/// The rule for runbook (and schedule) names: the file stem, made of
/// letters, digits, `-` and `_`, 1 to 64 characters.
public enum RunbookName {
    /// Nil when `name` is valid, else a sentence saying why and what to do.
    public static func problem(with name: String) -> String? {
        if name.isEmpty { return "the name is empty: name the file like backup.sh" }
        if name.utf8.count > 64 { return "the name '\(name)' is longer than 64 characters: shorten the file name" }
        for scalar in name.unicodeScalars where !isAllowed(scalar) {
            return "the name '\(name)' contains '\(scalar)': use only letters, digits, '-' and '_' (rename the file)"
        }
        return nil
    }

    public static func isValid(_ name: String) -> Bool { problem(with: name) == nil }

    static func isAllowed(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "a"..."z", "A"..."Z", "0"..."9", "-", "_": return true
        default: return false
        }
    }
}
