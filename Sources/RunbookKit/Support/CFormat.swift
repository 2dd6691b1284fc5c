import Glibc

extension String {
    /// `format` filled in by the C library's `vsnprintf`, as `String(format:)`
    /// does, without the Foundation (and CoreFoundation) it would bring into
    /// every start of runbook: `String(cFormat: "%.1fs", 2.25)`. Integers
    /// are passed as `Int`: use `%ld`.
    init(cFormat format: String, _ arguments: any CVarArg...) {
        var capacity = 64
        while true {
            var buffer = [CChar](repeating: 0, count: capacity)
            let length = withVaList(arguments) { vsnprintf(&buffer, capacity, format, $0) }
            guard length >= 0 else {
                self = format
                return
            }
            if Int(length) < capacity {
                self = String(decoding: buffer[0..<Int(length)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
                return
            }
            capacity = Int(length) + 1
        }
    }
}
