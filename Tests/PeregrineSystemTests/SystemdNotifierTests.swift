// SPDX-License-Identifier: Apache-2.0
import Glibc
import PeregrineSystem
import PeregrineTestSupport
import Testing

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
