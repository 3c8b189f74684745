// SPDX-License-Identifier: Apache-2.0
import Foundation
import PeregrineTestSupport
import Testing

/// `peregrine -i` refuses bad input with one line naming what is wrong and a non-zero exit: a
/// missing interface, CPUs that do not exist, a link type it cannot decode, no permission. Each
/// case runs the real executable inside a fresh network namespace.
@Suite struct LiveErrorTests {
    /// Runs `peregrine ARGUMENTS` in the capture namespace of a fresh veth pair with `queues` queues
    /// (`prefix` goes before the executable, e.g. a capability-dropping wrapper); `setUp` runs there first.
    func refusal(
        _ arguments: [String], prefix: [String] = [], queues: Int = 1, namespacePrefix: String = "prg",
        setUp: (VethNamespaces) throws -> Void = { _ in }
    ) throws -> (status: Int32, lines: [String])? {
        if let reason = VethNamespaces.skipReason {
            print("skipped: \(reason)")
            return nil
        }
        guard let binary = PeregrineBinary.path else {
            print("skipped: the peregrine executable is not built next to the tests")
            return nil
        }
        let veth = try VethNamespaces(queues: queues, prefix: namespacePrefix)
        defer { veth.tearDown() }
        try setUp(veth)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("peregrine-err-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let run = try PeregrineBinary.start(
            ["ip", "netns", "exec", veth.captureNamespace] + prefix + [binary, "--logdir", directory] + arguments)
        // A run that did not refuse would capture until stopped.
        let result = run.stop(timeout: 20)
        return (result.status, result.output.split(separator: "\n").map(String.init))
    }

    @Test func aMissingInterfaceIsNamed() throws {
        guard let (status, lines) = try refusal(["-i", "prgnosuch0"]) else { return }
        #expect(status != 0 && lines == ["peregrine: no such interface: prgnosuch0"])
    }

    @Test func cpusThatDoNotExistAreNamed() throws {
        guard let (status, lines) = try refusal(["-i", "prgcap0", "--cpus", "0,1000-1001"]) else { return }
        #expect(status != 0 && lines.count == 1, "\(lines)")
        #expect(lines.first?.hasPrefix("peregrine: --cpus 0,1000-1001: no such online CPU: 1000-1001 (") == true)
    }

    @Test func moreWorkersThanListedCPUsIsRefused() throws {
        guard let (status, lines) = try refusal(["-i", "prgcap0", "--workers", "2", "--cpus", "0"]) else { return }
        #expect(status != 0 && lines == ["peregrine: --cpus 0 names 1 CPU(s) for 2 workers: each worker needs a CPU of its own"])
    }

    /// A tun device carries bare IP packets (ARPHRD_NONE): no Ethernet header to decode.
    @Test func aLinkTypeWithoutEthernetHeadersIsNamed() throws {
        guard
            let (status, lines) = try refusal(["-i", "prgtun0"], setUp: { veth in
                try VethNamespaces.run("ip", "-n", veth.captureNamespace, "tuntap", "add", "dev", "prgtun0", "mode", "tun")
            })
        else { return }
        #expect(status != 0 && lines.count == 1, "\(lines)")
        #expect(lines.first?.hasPrefix("peregrine: interface prgtun0 has link type 65534 (ARPHRD_NONE") == true)
    }

    /// Without CAP_NET_RAW (root with an empty capability bounding set) the socket is refused.
    @Test func noPermissionNamesTheCapability() throws {
        guard
            let (status, lines) = try refusal(
                ["-i", "prgcap0"], prefix: ["setpriv", "--bounding-set=-all", "--inh-caps=-all"])
        else { return }
        #expect(status != 0 && lines.count == 1, "\(lines)")
        #expect(lines.first?.hasPrefix("peregrine: capturing on prgcap0 needs CAP_NET_RAW") == true)
    }
}
