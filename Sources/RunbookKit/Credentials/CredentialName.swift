/// The naming rules of credentials: section and field names, and the
/// environment variable a field becomes.
public enum CredentialName {
    /// Names of sections and fields: 1-64 of `A-Z a-z 0-9 - _`.
    public static let maximumLength = 64

    /// The suffix of a section that a test run prefers: `[crm@test]`.
    public static let testSuffix = "@test"

    /// Whether `name` can name a credential or a field.
    public static func isValid(_ name: some StringProtocol) -> Bool {
        let bytes = name.utf8
        guard !bytes.isEmpty, bytes.count <= maximumLength else { return false }
        return bytes.allSatisfy { isNameByte($0) }
    }

    /// Whether `name` can name a variable in `env:VAR`: a letter or `_`,
    /// then letters, digits and `_`.
    public static func isValidVariable(_ name: some StringProtocol) -> Bool {
        guard let first = name.utf8.first, !(0x30...0x39).contains(first) else { return false }
        return name.utf8.allSatisfy { isLetterOrDigit($0) || $0 == UInt8(ascii: "_") }
    }

    /// The variable a field is injected as: `NAME_FIELD`, upper-cased, and
    /// every character outside `A-Z 0-9 _` turned into `_` (so `[my-api]`
    /// `client.id` becomes `MY_API_CLIENT_ID`).
    public static func variable(credential: String, field: String) -> String {
        sanitized(credential) + "_" + sanitized(field)
    }

    /// The variable holding the path of a multi-line field's file: `NAME_FIELD_FILE`.
    public static func fileVariable(credential: String, field: String) -> String {
        variable(credential: credential, field: field) + "_FILE"
    }

    private static func sanitized(_ text: String) -> String {
        String(decoding: text.uppercased().utf8.map { isLetterOrDigit($0) || $0 == UInt8(ascii: "_") ? $0 : UInt8(ascii: "_") },
               as: UTF8.self)
    }

    static func isNameByte(_ byte: UInt8) -> Bool {
        isLetterOrDigit(byte) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
    }

    static func isLetterOrDigit(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x5a).contains(byte) || (0x61...0x7a).contains(byte)
    }
}
