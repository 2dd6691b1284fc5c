import FoundationEssentials
import Glibc

/// Where a command writes: standard output for results, standard error for
/// progress and problems. Tests give it buffers instead of descriptors.
public struct Console: Sendable {
    public var writeOut: @Sendable (String) -> Void
    public var writeErr: @Sendable (String) -> Void
    /// Whether standard output is a terminal (for colour and alignment).
    public var isTerminal: Bool

    public init(writeOut: @escaping @Sendable (String) -> Void, writeErr: @escaping @Sendable (String) -> Void, isTerminal: Bool) {
        self.writeOut = writeOut
        self.writeErr = writeErr
        self.isTerminal = isTerminal
    }

    /// The process's own standard output and error.
    public static var standard: Console {
        Console(writeOut: { Console.write($0, to: 1) }, writeErr: { Console.write($0, to: 2) }, isTerminal: isatty(1) == 1)
    }

    public func out(_ line: String) { writeOut(line + "\n") }
    public func err(_ line: String) { writeErr(line + "\n") }

    static func write(_ text: String, to descriptor: Int32) {
        var text = text
        text.withUTF8 { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                // EPIPE (a reader such as `head` went away) just ends the output.
                if written < 0 { if errno == EINTR { continue }; return }
                offset += written
            }
        }
    }
}
