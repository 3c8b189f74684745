// SPDX-License-Identifier: Apache-2.0
#if canImport(Glibc)
import Glibc
#endif

/// An OS thread running one closure, joined explicitly: the writer thread and the offline workers
/// are long-lived loops that must be threads of their own (the packet path never awaits, so Swift
/// concurrency's cooperative pool is not the place for them).
public final class JoinableThread {
    private var thread: pthread_t
    private var joined = false

    /// Starts a thread running `body`. The corresponding C call is `pthread_create`.
    public init(_ body: @escaping @Sendable () -> Void) {
        let box = Unmanaged.passRetained(Box(body: body)).toOpaque()
        var handle = pthread_t()
        let rc = pthread_create(&handle, nil, { argument in
            // `argument` is the retained `Box` passed just below; never nil.
            let box = Unmanaged<Box>.fromOpaque(argument!).takeRetainedValue()
            box.body()
            return nil
        }, box)
        precondition(rc == 0, "pthread_create failed: \(rc)")
        thread = handle
    }

    deinit {
        assert(joined, "a JoinableThread was not joined")
    }

    /// Waits for the thread's closure to return. The corresponding C call is `pthread_join`.
    public func join() {
        precondition(!joined, "thread joined twice")
        let rc = pthread_join(thread, nil)
        precondition(rc == 0, "pthread_join failed: \(rc)")
        joined = true
    }

    private final class Box {
        let body: @Sendable () -> Void
        init(body: @escaping @Sendable () -> Void) {
            self.body = body
        }
    }
}
