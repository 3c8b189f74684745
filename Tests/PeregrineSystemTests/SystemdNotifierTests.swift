// SPDX-License-Identifier: Apache-2.0
import Glibc
import PeregrineSystem
import Testing

/// A datagram socket standing in for systemd's notification socket: bound to a path in a fresh
/// temporary directory, or to a name in the abstract namespace.
private final class NotifyListener {
    /// The value `NOTIFY_SOCKET` gets: the path, or `@name`.
    let name: String
    private let descriptor: Int32
    private let directory: String?

    init(abstract: Bool) throws {
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        try #require(descriptor >= 0)
        // A receive timeout, so a message that never comes fails the test instead of hanging it.
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes: [UInt8]
        if abstract {
            // Unique per listener: parameterised tests run in parallel.
            name = "@peregrine-notify-test-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
            directory = nil
            bytes = Array(name.utf8)
            bytes[0] = 0
        } else {
            var template = Array("/tmp/peregrine-notify.XXXXXX".utf8CString)
            guard let made = mkdtemp(&template) else {
                throw SystemError.syscall(call: "mkdtemp", errno: errno, interface: nil)
            }
            let dir = String(decoding: UnsafeRawBufferPointer(start: made, count: strlen(made)), as: UTF8.self)
            directory = dir
            name = "\(dir)/notify"
            bytes = Array(name.utf8) + [0]
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
        }
        try #require(bound == 0, "bind(\(name)): errno \(errno)")
    }

    deinit {
        close(descriptor)
        if let directory {
            unlink("\(directory)/notify")
            rmdir(directory)
        }
    }

    /// The next datagram, as text.
    func receive() throws -> String {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
        try #require(count >= 0, "recv: errno \(errno)")
        return String(decoding: buffer.prefix(count), as: UTF8.self)
    }
}

@Suite("SystemdNotifier")
struct SystemdNotifierTests {
    @Test("no NOTIFY_SOCKET: no notifier (not started by systemd)")
    func absent() throws {
        #expect(try SystemdNotifier(environment: [:], processID: getpid()) == nil)
        #expect(try SystemdNotifier(environment: ["NOTIFY_SOCKET": ""], processID: getpid()) == nil)
        #expect(try SystemdNotifier(environment: ["WATCHDOG_USEC": "1000000"], processID: getpid()) == nil)
    }

    @Test("sends each state as one datagram to a path or an abstract socket", arguments: [false, true])
    func sends(abstract: Bool) throws {
        let listener = try NotifyListener(abstract: abstract)
        let notifier = try #require(
            try SystemdNotifier(environment: ["NOTIFY_SOCKET": listener.name], processID: getpid()))
        #expect(notifier.socketName == listener.name)

        try notifier.ready()
        #expect(try listener.receive() == "READY=1")
        try notifier.ready(status: "capturing on eth1")
        #expect(try listener.receive() == "READY=1\nSTATUS=capturing on eth1")
        try notifier.status("two\nlines")
        #expect(try listener.receive() == "STATUS=two lines")
        try notifier.watchdog()
        #expect(try listener.receive() == "WATCHDOG=1")
        try notifier.stopping()
        #expect(try listener.receive() == "STOPPING=1")
        try notifier.send(["EXTEND_TIMEOUT_USEC=30000000"])
        #expect(try listener.receive() == "EXTEND_TIMEOUT_USEC=30000000")

        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        try notifier.reloading()
        let reloading = try listener.receive().split(separator: "\n")
        #expect(reloading.count == 2)
        #expect(reloading.first == "RELOADING=1")
        let stamp = try #require(reloading.last.flatMap { UInt64($0.dropFirst("MONOTONIC_USEC=".count)) })
        #expect(reloading.last?.hasPrefix("MONOTONIC_USEC=") == true)
        let before = UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1_000
        #expect(stamp >= before && stamp < before + 60_000_000)
    }

    @Test(
        "watchdog interval is half of WATCHDOG_USEC, only for this process",
        arguments: [
            (["WATCHDOG_USEC": "30000000"], Duration.seconds(15)),
            (["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "self"], Duration.seconds(15)),
            (["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"], nil),
            (["WATCHDOG_USEC": "0"], nil),
            (["WATCHDOG_USEC": "soon"], nil),
            ([:], nil),
        ] as [([String: String], Duration?)])
    func watchdogInterval(environment: [String: String], interval: Duration?) throws {
        var environment = environment
        environment["NOTIFY_SOCKET"] = "@peregrine-notify-unused"
        if environment["WATCHDOG_PID"] == "self" { environment["WATCHDOG_PID"] = "\(getpid())" }
        let notifier = try #require(try SystemdNotifier(environment: environment, processID: getpid()))
        #expect(notifier.watchdogInterval == interval)
    }

    @Test("a NOTIFY_SOCKET that is neither a path nor @name, or too long, is refused with the reason")
    func invalidSocketName() {
        #expect(
            throws: SystemError.invalidValue(
                what: "NOTIFY_SOCKET", value: "run/notify", reason: "neither an absolute path nor @name")
        ) { try SystemdNotifier(environment: ["NOTIFY_SOCKET": "run/notify"], processID: getpid()) }
        let long = "/" + String(repeating: "x", count: 200)
        #expect(
            throws: SystemError.invalidValue(
                what: "NOTIFY_SOCKET", value: long, reason: "longer than a socket address holds (108 bytes)")
        ) { try SystemdNotifier(environment: ["NOTIFY_SOCKET": long], processID: getpid()) }
    }

    @Test("sending to a socket nobody listens on throws, naming the socket")
    func nobodyListens() throws {
        let name = "/tmp/peregrine-notify-missing-\(getpid())"
        let notifier = try #require(try SystemdNotifier(environment: ["NOTIFY_SOCKET": name], processID: getpid()))
        #expect(throws: SystemError.syscall(call: "sendto(NOTIFY_SOCKET \(name))", errno: ENOENT, interface: nil)) {
            try notifier.ready()
        }
    }

    @Test("status line of a live run: packets, drops and their share")
    func captureStatus() {
        #expect(
            SystemdNotifier.captureStatus(interfaces: ["eth1", "eth2"], workers: 4, packets: 999_000, dropped: 1_000)
                == "capturing on eth1,eth2 with 4 workers: 999000 packets, 1000 dropped (0.100%)")
        #expect(
            SystemdNotifier.captureStatus(interfaces: ["eth1"], workers: 1, packets: 0, dropped: 0)
                == "capturing on eth1 with 1 worker: 0 packets, 0 dropped (0.000%)")
        #expect(
            SystemdNotifier.captureStatus(interfaces: ["eth1"], workers: 2, packets: 1, dropped: 3)
                == "capturing on eth1 with 2 workers: 1 packets, 3 dropped (75.000%)")
    }
}
