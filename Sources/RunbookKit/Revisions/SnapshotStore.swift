import FoundationEssentials

/// Immutable file contents by SHA-256, under `STATE/snapshots/ab/abcdef...`.
/// Writing the same content twice stores it once; a stored file is never
/// changed (it is written to a temporary name, made read-only, then renamed).
public struct SnapshotStore: Sendable {
    public var directory: URL

    public init(directory: URL) { self.directory = directory }

    public func file(for hash: String) -> URL {
        directory.appendingPathComponent(String(hash.prefix(2))).appendingPathComponent(hash)
    }

    public func contains(_ hash: String) -> Bool {
        FileManager.default.fileExists(atPath: file(for: hash).path)
    }

    /// Stores `data` and returns its hash.
    @discardableResult
    public func store(_ data: Data) throws -> String {
        let hash = SHA256.hex(of: data)
        let target = file(for: hash)
        if FileManager.default.fileExists(atPath: target.path) { return hash }
        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        // Jobs starting at once on several threads may fetch the same
        // revision from a shared database together: AtomicFile's temporary
        // names are their own.
        do { try AtomicFile.write(data, to: target, mode: 0o444) } catch {
            throw RunError("cannot store a snapshot in \(directory.path): \(error)")
        }
        return hash
    }

    /// The content of a stored snapshot.
    /// - Throws: when the file is missing or no longer matches its hash.
    public func content(of hash: String) throws -> Data {
        guard let data = FileManager.default.contents(atPath: file(for: hash).path) else {
            throw RunError("snapshot \(hash.prefix(12)) is missing from \(directory.path): the state directory was changed by hand; restore it from a backup")
        }
        guard SHA256.hex(of: data) == hash else {
            throw RunError("snapshot \(hash.prefix(12)) in \(directory.path) is damaged (its content no longer matches its hash); restore it from a backup")
        }
        return data
    }
}
