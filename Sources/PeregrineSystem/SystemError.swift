// SPDX-License-Identifier: Apache-2.0
import Glibc

/// A failed setup step of a socket, mapping, interface or CPU set (style.md §5: setup failures throw).
///
/// Each case names the call, and where one is involved the interface, so the command-line tool can print
/// `description` as its one-line error.
public enum SystemError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A system call failed: `call` spells it as the C code would (`setsockopt(SOL_PACKET, PACKET_RX_RING)`),
    /// `errno` is the error it set.
    case syscall(call: String, errno: Int32, interface: String?)
    /// libpcap could not compile the capture filter expression.
    case invalidFilter(expression: String, reason: String, interface: String?)
    /// A value read or given for setup is malformed (a CPU list, a sysfs file).
    case invalidValue(what: String, value: String, reason: String)

    /// One line naming the call, the interface and the reason.
    public var description: String {
        switch self {
        case .syscall(let call, let code, let interface):
            let on = interface.map { " on \($0)" } ?? ""
            return "\(call)\(on) failed: \(String(cString: strerror(code))) (errno \(code))"
        case .invalidFilter(let expression, let reason, let interface):
            let on = interface.map { " for \($0)" } ?? ""
            return "invalid capture filter '\(expression)'\(on): \(reason)"
        case .invalidValue(let what, let value, let reason):
            return "invalid \(what) '\(value)': \(reason)"
        }
    }
}

/// The one funnel for system calls (NIO `System.swift`): retries EINTR, turns -1 into `SystemError`.
enum Syscall {
    /// Runs `body` until it does not fail with EINTR and returns its non-negative result.
    ///
    /// `@inline(never)` so that no retain/release between the call and the `errno` read can clobber
    /// `errno` (the reason NIO gives in `System.swift`).
    @inline(never)
    static func run(
        _ call: @autoclosure () -> String, interface: String?, _ body: () -> Int32
    ) throws(SystemError) -> Int32 {
        while true {
            let result = body()
            if result >= 0 { return result }
            let code = errno
            if code == EINTR { continue }
            throw .syscall(call: call(), errno: code, interface: interface)
        }
    }
}
