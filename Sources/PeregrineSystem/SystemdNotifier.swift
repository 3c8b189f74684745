// SPDX-License-Identifier: Apache-2.0
// SOCK_DGRAM and SOCK_CLOEXEC (<sys/socket.h>) come through the shim: the whole-module release build
// does not see them through Glibc.
import CPeregrineLinux
import Glibc

/// systemd's service notification protocol (sd_notify(3)) without libsystemd: newline-separated
/// `NAME=value` assignments sent as one datagram to the `AF_UNIX` socket named by `NOTIFY_SOCKET`.
///
/// `systemd/peregrine.service` runs Peregrine as `Type=notify` with `WatchdogSec=`, so the live run
/// (LiveRun in the executable) is meant to:
/// - create one notifier at start with ``fromProcessEnvironment()``; it is `nil` when systemd did not
///   start the process (a shell, a test), and every call site does nothing then;
/// - call ``ready(status:)`` once, when **every** worker's socket is open, bound, in its fanout group and
///   capturing (systemd holds `systemctl start` and units ordered after Peregrine until then);
/// - from the manager (stats) thread, call ``watchdog()`` every ``watchdogInterval`` and ``status(_:)``
///   with ``captureStatus(interfaces:workers:packets:dropped:lostLogRecords:logWritesFailing:)`` after each stats interval, so that
///   `systemctl status peregrine` shows packets and drops. A hung manager stops the pings and systemd
///   restarts the service (`Restart=on-failure`);
/// - call ``reloading()`` on SIGHUP before the logs are reopened, then ``ready(status:)`` again;
/// - call ``stopping()`` on SIGTERM/SIGINT before draining the rings.
///
/// The socket is a path (`/run/systemd/notify`) or, with a leading `@`, a name in the abstract
/// namespace. With `NotifyAccess=main` systemd accepts messages from any thread of the main process.
/// Sending never blocks (a full receive queue refuses the message); no worker calls it.
public final class SystemdNotifier: Sendable {
    /// `NOTIFY_SOCKET` as systemd gave it: a path, or `@name` for the abstract namespace.
    public let socketName: String
    /// How often to call ``watchdog()``: half of `WATCHDOG_USEC`, as sd_watchdog_enabled(3) advises;
    /// `nil` when the unit has no watchdog or `WATCHDOG_PID` names another process.
    public let watchdogInterval: Duration?

    private let descriptor: Int32
    private let address: sockaddr_un
    private let addressLength: socklen_t

    /// The notifier for this process, from its environment (`NOTIFY_SOCKET`, `WATCHDOG_USEC`,
    /// `WATCHDOG_PID`); `nil` when not started by systemd with `Type=notify`.
    /// - Throws: `SystemError` when `NOTIFY_SOCKET` is set but unusable (see ``init(environment:processID:)``).
    public static func fromProcessEnvironment() throws(SystemError) -> SystemdNotifier? {
        var environment: [String: String] = [:]
        for name in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"] {
            if let value = getenv(name) { environment[name] = String(cString: value) }
        }
        return try SystemdNotifier(environment: environment, processID: getpid())
    }

    /// A notifier for the socket and watchdog that `environment` describes; `nil` without `NOTIFY_SOCKET`.
    ///
    /// The corresponding C call is `socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC)`.
    /// - Parameters:
    ///   - environment: `NOTIFY_SOCKET`, and optionally `WATCHDOG_USEC` (microseconds) and `WATCHDOG_PID`.
    ///   - processID: this process's id, compared with `WATCHDOG_PID`.
    /// - Throws: `SystemError.invalidValue` when `NOTIFY_SOCKET` is neither an absolute path nor `@name`,
    ///   or does not fit `sockaddr_un`; `.syscall` when the socket cannot be created.
    public init?(environment: [String: String], processID: pid_t) throws(SystemError) {
        guard let name = environment["NOTIFY_SOCKET"], !name.isEmpty else { return nil }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        // An abstract name starts with a NUL byte in place of the '@' and is not NUL-terminated; a
        // path is (unix(7)).
        let abstract = name.hasPrefix("@")
        guard abstract || name.hasPrefix("/") else {
            throw .invalidValue(what: "NOTIFY_SOCKET", value: name, reason: "neither an absolute path nor @name")
        }
        var bytes = Array(name.utf8)
        if abstract { bytes[0] = 0 } else { bytes.append(0) }
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count <= capacity else {
            throw .invalidValue(
                what: "NOTIFY_SOCKET", value: name, reason: "longer than a socket address holds (\(capacity) bytes)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        self.address = address
        // sun_path follows the 2-byte sun_family (unix(7)); the length counts only the bytes used.
        self.addressLength = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count)
        self.socketName = name
        self.watchdogInterval = Self.watchdogInterval(environment: environment, processID: processID)
        self.descriptor = try Syscall.run("socket(AF_UNIX, SOCK_DGRAM)", interface: nil) {
            socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        }
    }

    deinit {
        close(descriptor)
    }

    /// Half of `WATCHDOG_USEC`, or `nil` when it is absent, not a positive number, or `WATCHDOG_PID`
    /// is set to another process (sd_watchdog_enabled(3)).
    static func watchdogInterval(environment: [String: String], processID: pid_t) -> Duration? {
        guard let text = environment["WATCHDOG_USEC"], let microseconds = UInt64(text), microseconds > 0 else {
            return nil
        }
        if let pid = environment["WATCHDOG_PID"], pid_t(pid) != processID { return nil }
        return .microseconds(Int64(clamping: microseconds / 2))
    }

    /// `READY=1`: start-up is complete; with `status`, also the status line.
    public func ready(status: String? = nil) throws(SystemError) {
        try send(["READY=1"] + (status.map { ["STATUS=\(Self.oneLine($0))"] } ?? []))
    }

    /// `STATUS=…`: the free-form line `systemctl status` shows (newlines become spaces).
    public func status(_ text: String) throws(SystemError) {
        try send(["STATUS=\(Self.oneLine(text))"])
    }

    /// `WATCHDOG=1`: the keep-alive ping, due every ``watchdogInterval``.
    public func watchdog() throws(SystemError) {
        try send(["WATCHDOG=1"])
    }

    /// `RELOADING=1` with `MONOTONIC_USEC`, the time systemd matches the next `READY=1` against
    /// (required by `Type=notify-reload`, accepted by `Type=notify`). Send ``ready(status:)`` when done.
    public func reloading() throws(SystemError) {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let microseconds = UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1_000
        try send(["RELOADING=1", "MONOTONIC_USEC=\(microseconds)"])
    }

    /// `STOPPING=1`: shutdown has begun (the rings are being drained and the logs closed).
    public func stopping() throws(SystemError) {
        try send(["STOPPING=1"])
    }

    /// Sends `assignments` (`NAME=value`, no newlines) as one datagram.
    ///
    /// Never blocks: when the receiver's queue is full (`net.unix.max_dgram_qlen`, 10 datagrams by
    /// default) the message is refused with `EAGAIN` rather than holding the caller, so a stalled
    /// receiver can never hold up a stop.
    ///
    /// The corresponding C call is `sendto(MSG_NOSIGNAL | MSG_DONTWAIT)` to the `NOTIFY_SOCKET` address.
    /// - Throws: `SystemError.syscall` (`ECONNREFUSED`/`ENOENT` when nobody listens on the socket,
    ///   `EAGAIN` when its queue is full).
    public func send(_ assignments: [String]) throws(SystemError) {
        var message = Array(assignments.joined(separator: "\n").utf8)
        var address = self.address
        let length = addressLength
        _ = try Syscall.run("sendto(NOTIFY_SOCKET \(socketName))", interface: nil) {
            let sent = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { target in
                    message.withUnsafeMutableBytes {
                        sendto(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT), target, length)
                    }
                }
            }
            return Int32(clamping: sent)
        }
    }

    /// The status line of a live run: interfaces, workers, packets received and dropped by the kernel
    /// (the sums of stats.log's `pkts_proc` and `pkts_dropped` over the workers), and the drop share.
    public static func captureStatus(
        interfaces: [String], workers: Int, packets: UInt64, dropped: UInt64, lostLogRecords: UInt64 = 0,
        logWritesFailing: Bool = false
    ) -> String {
        let seen = packets + dropped
        let thousandthsOfPercent = seen == 0 ? 0 : dropped * 100_000 / seen
        let share = "\(thousandthsOfPercent / 1000).\(String(thousandthsOfPercent % 1000 + 1000).dropFirst())%"
        var line =
            "capturing on \(interfaces.joined(separator: ",")) with \(workers) worker\(workers == 1 ? "" : "s"): "
            + "\(packets) packets, \(dropped) dropped (\(share))"
        if logWritesFailing {
            line += "; LOG WRITES FAILING, \(lostLogRecords) records lost"
        } else if lostLogRecords > 0 {
            line += "; \(lostLogRecords) log records lost"
        }
        return line
    }

    private static func oneLine(_ text: String) -> String {
        String(text.map { $0 == "\n" || $0 == "\r\n" || $0 == "\r" ? " " : $0 })
    }
}
