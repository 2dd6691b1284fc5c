/// A credential value. It prints as `***` everywhere (`description`,
/// `debugDescription`, string interpolation, `dump`, mirrors), and is
/// deliberately not `Codable`, so it cannot end up in a job record or
/// `--json` output by accident. The only way to the value is `reveal()`,
/// which the job's environment and the masker call and nothing else should.
public struct Secret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    private let value: String

    /// What every secret prints as.
    public static let redacted = "***"

    public init(_ value: String) { self.value = value }

    /// The value itself. Call it only to hand the value to a job (its
    /// environment or a private file) or to the masker.
    public func reveal() -> String { value }

    /// The value's length in characters; printing this is harmless.
    public var count: Int { value.count }

    /// Whether the value spans lines (a key, a certificate): such a value is
    /// also offered to the job as a file.
    public var isMultiline: Bool { value.utf8.contains(0x0a) }

    public var description: String { Self.redacted }
    public var debugDescription: String { Self.redacted }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}
