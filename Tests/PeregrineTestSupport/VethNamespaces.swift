// SPDX-License-Identifier: Apache-2.0
import CPeregrineLinux
import Foundation

/// Two network namespaces joined by a veth pair, for live-capture tests (xdp-tutorial `testenv.sh`,
/// linux-capture-facts.md §5, §7). Names are unique per process and pair, so tests may run in parallel;
/// `tearDown()` deletes both namespaces, which destroys the veth with them.
///
/// Both namespaces have IPv6 disabled and no addresses before the links come up, so neither kernel sends
/// anything of its own (router solicitations, DAD, MLD) that a capture would count.
public final class VethNamespaces: Sendable {
    /// Why privileged tests cannot run here, or `nil` when they can.
    public static var skipReason: String? {
        if geteuid() != 0 { return "needs root (network namespaces, AF_PACKET sockets)" }
        for tool in ["ip", "tcpreplay"] where which(tool) == nil { return "needs \(tool) (scripts/install-deps.sh)" }
        return nil
    }

    nonisolated(unsafe) private static var counter = 0
    private static let counterLock = NSLock()

    /// The sender's namespace and its veth end.
    public let senderNamespace: String
    public let senderInterface = "prgsend0"
    /// The capturing namespace and its veth end.
    public let captureNamespace: String
    public let captureInterface = "prgcap0"

    /// Creates the namespaces and a veth pair whose two ends have `queues` active transmit and receive
    /// queues each (a plain veth has one active; the sender's transmit queue, picked by flow hash, is
    /// the queue a frame arrives on at the peer). `prefix` starts the namespaces' names, so that a
    /// suite's leftovers can be told apart (`ip netns list`).
    public init(queues: Int = 1, prefix: String = "prg") throws {
        let serial = Self.counterLock.withLock {
            Self.counter += 1
            return Self.counter
        }
        let tag = "\(getpid())-\(serial)"
        senderNamespace = "\(prefix)-send-\(tag)"
        captureNamespace = "\(prefix)-cap-\(tag)"
        do {
            try Self.run("ip", "netns", "add", senderNamespace)
            try Self.run("ip", "netns", "add", captureNamespace)
            let queueArguments = queues > 1 ? ["numtxqueues", "\(queues)", "numrxqueues", "\(queues)"] : []
            try Self.run(
                ["ip", "link", "add", senderInterface, "netns", senderNamespace] + queueArguments
                    + ["type", "veth", "peer", "name", captureInterface, "netns", captureNamespace] + queueArguments)
            for (namespace, interface) in [(senderNamespace, senderInterface), (captureNamespace, captureInterface)] {
                try Self.run(
                    "ip", "netns", "exec", namespace, "sh", "-c",
                    "echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6; echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6")
                try Self.run("ip", "-n", namespace, "link", "set", interface, "up")
            }
            // Loopback, for services a live run offers inside the namespace (the metrics endpoint).
            try Self.run("ip", "-n", captureNamespace, "link", "set", "lo", "up")
        } catch {
            tearDown()
            throw error
        }
    }

    /// Deletes both namespaces (and with them the veth pair); safe to call more than once.
    public func tearDown() {
        _ = try? Self.run("ip", "netns", "del", senderNamespace)
        _ = try? Self.run("ip", "netns", "del", captureNamespace)
    }

    /// Runs `body` on the calling thread inside the capturing namespace, then moves the thread back.
    /// Sockets created in `body` stay in that namespace for their whole life.
    public func inCaptureNamespace<R>(_ body: () throws -> R) throws -> R {
        let original = open("/proc/thread-self/ns/net", O_RDONLY)
        let target = open("/var/run/netns/\(captureNamespace)", O_RDONLY)
        defer {
            close(original)
            close(target)
        }
        guard original >= 0, target >= 0 else { throw Failure("cannot open namespace files: errno \(errno)") }
        guard CPeregrineLinux_setns(target, CPeregrineLinux_CLONE_NEWNET) == 0 else {
            throw Failure("setns(\(captureNamespace)) failed: errno \(errno)")
        }
        defer { precondition(CPeregrineLinux_setns(original, CPeregrineLinux_CLONE_NEWNET) == 0, "setns back failed") }
        return try body()
    }

    /// Replays `traces` (in order) out of the sender's veth end as fast as possible; returns the number of
    /// packets tcpreplay reports sent, after checking that none failed.
    @discardableResult
    public func replay(_ traces: [String]) throws -> Int {
        let output = try Self.run(
            ["ip", "netns", "exec", senderNamespace, "tcpreplay", "--topspeed", "-i", senderInterface] + traces)
        guard let sent = Self.number(after: "Successful packets:", in: output),
            let failed = Self.number(after: "Failed packets:", in: output)
        else { throw Failure("unexpected tcpreplay output: \(output)") }
        guard failed == 0 else { throw Failure("tcpreplay failed to send \(failed) packets: \(output)") }
        return sent
    }

    /// Like `replay(_:)`, and returns tcpreplay's "Rated:" line (its achieved send rate).
    public func replayReportingRate(_ traces: [String]) throws -> String {
        let output = try Self.run(
            ["ip", "netns", "exec", senderNamespace, "tcpreplay", "--topspeed", "-i", senderInterface] + traces)
        guard Self.number(after: "Failed packets:", in: output) == 0 else { throw Failure("tcpreplay: \(output)") }
        let rated = output.split(separator: "\n").first { $0.contains("Rated:") }
        return rated.map { $0.trimmingCharacters(in: .whitespaces) } ?? output
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    @discardableResult
    public static func run(_ arguments: String...) throws -> String { try run(arguments) }

    /// Runs a tool found on PATH, waits, and returns stdout+stderr; a non-zero exit throws with the output.
    @discardableResult
    public static func run(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = (environment["PATH"] ?? "") + ":/usr/sbin:/sbin:/usr/bin:/bin"
        process.environment = environment
        // Output goes to a file, read after the exit: Foundation reads a pipe with `try!` and traps when
        // the read fails with EINTR, which the SIGCHLD of the tool's exit can cause while capture
        // threads keep the other threads busy.
        let outputURL = FileManager.default.temporaryDirectory.appendingPathComponent("peregrine-run-\(UUID().uuidString)")
        guard FileManager.default.createFile(atPath: outputURL.path, contents: nil) else {
            throw Failure("cannot create \(outputURL.path)")
        }
        defer { try? FileManager.default.removeItem(at: outputURL) }
        let handle = try FileHandle(forWritingTo: outputURL)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        process.waitUntilExit()
        try handle.close()
        let output = String(decoding: try Data(contentsOf: outputURL), as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw Failure("\(arguments.joined(separator: " ")) exited \(process.terminationStatus): \(output)")
        }
        return output
    }

    private static func which(_ tool: String) -> String? {
        for dir in ["/usr/sbin", "/sbin", "/usr/bin", "/bin", "/usr/local/bin"]
        where FileManager.default.isExecutableFile(atPath: "\(dir)/\(tool)") {
            return "\(dir)/\(tool)"
        }
        return nil
    }

    private static func number(after label: String, in text: String) -> Int? {
        guard let range = text.range(of: label) else { return nil }
        return Int(text[range.upperBound...].prefix { $0 == " " || $0.isNumber }.trimmingCharacters(in: .whitespaces))
    }
}
