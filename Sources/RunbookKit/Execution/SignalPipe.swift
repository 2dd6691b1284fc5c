import CRunbookSpawn
import Glibc

/// Signals delivered to this process as bytes on a pipe, one byte (the
/// signal's number) per delivery, so a supervisor's poll loop can treat
/// Ctrl-C, SIGTERM or `runbook cancel` like any other event. The handler
/// has to be C (`rb_signal_pipe`): it may only call async-signal-safe code.
struct SignalPipe {
    private let signals: [Int32]
    /// The pipe's read end, nil when the handlers could not be installed.
    let descriptor: Int32?

    init(catching signals: [Int32]) {
        self.signals = signals
        var readEnd: Int32 = -1
        let result = signals.withUnsafeBufferPointer { rb_signal_pipe($0.baseAddress, Int32($0.count), &readEnd) }
        descriptor = result == 0 ? readEnd : nil
    }

    /// Gives the signals their default actions back, except the cancel
    /// request, which is ignored from then on: one that arrives as the job
    /// ends must not kill runbook.
    func restore() {
        _ = signals.withUnsafeBufferPointer { rb_signal_default($0.baseAddress, Int32($0.count)) }
        if signals.contains(JobCancellation.requestSignal) { signal(JobCancellation.requestSignal, SIG_IGN) }
    }
}
