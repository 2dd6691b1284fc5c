import Dispatch
import Glibc

/// A thread of its own for blocking work, as Foundation's `Thread` gives
/// one, from pthreads (Foundation would come into every start of runbook
/// with it).
enum DetachedThread {
    /// Runs `body` on a new detached thread with a stack of `stackSize`
    /// bytes; on a global dispatch queue instead if no thread can be made
    /// (the process is at its thread limit), so `body` always runs.
    static func start(stackSize: Int, _ body: @escaping @Sendable () -> Void) {
        let context = Unmanaged.passRetained(Body(body)).toOpaque()
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setstacksize(&attributes, stackSize)
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        var thread = pthread_t()
        let started = pthread_create(&thread, &attributes, { context in
            guard let context else { return nil }
            Unmanaged<Body>.fromOpaque(context).takeRetainedValue().run()
            return nil
        }, context)
        if started != 0 {
            let body = Unmanaged<Body>.fromOpaque(context).takeRetainedValue()
            DispatchQueue.global().async { body.run() }
        }
    }

    /// The closure, boxed to cross pthread_create's untyped context.
    private final class Body: Sendable {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }
}
