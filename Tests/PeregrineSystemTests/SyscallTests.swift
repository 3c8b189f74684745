// SPDX-License-Identifier: Apache-2.0
import Glibc
import Testing

@testable import PeregrineSystem

/// The syscall funnel without the kernel: the body stands in for the C call (swift-system's
/// `FileOperationsTest`).
@Suite("Syscall")
struct SyscallTests {
    @Test("EINTR is retried until the call completes")
    func retriesInterrupted() throws {
        var calls = 0
        let result = try Syscall.run("poll", interface: "eth0") {
            calls += 1
            if calls < 3 {
                errno = EINTR
                return -1
            }
            return 7
        }
        #expect(result == 7)
        #expect(calls == 3)
    }

    @Test("any other errno is thrown once, naming the call and the interface")
    func throwsOtherErrors() {
        var calls = 0
        #expect(throws: SystemError.syscall(call: "setsockopt(SOL_PACKET, PACKET_FANOUT)", errno: EINVAL, interface: "eth0")) {
            try Syscall.run("setsockopt(SOL_PACKET, PACKET_FANOUT)", interface: "eth0") {
                calls += 1
                errno = EINVAL
                return -1
            }
        }
        #expect(calls == 1)
    }

    @Test("the call's description is built only on failure")
    func lazyDescription() throws {
        var built = false
        func name() -> String {
            built = true
            return "bind"
        }
        _ = try Syscall.run(name(), interface: nil) { 0 }
        #expect(!built)
    }
}
