// SPDX-License-Identifier: Apache-2.0
import Foundation
import PeregrineTestSupport
import Testing

/// `peregrine -i --capture af_xdp` refuses what it cannot capture without losing frames, with one
/// line saying what failed and what to do, and a non-zero exit; never a sensor that runs and
/// captures nothing. Each case runs the real executable in a fresh network namespace.
@Suite struct LiveAFXDPErrorTests {
    func refusal(
        _ arguments: [String], prefix: [String] = [], queues: Int = 1, setUp: (VethNamespaces) throws -> Void = { _ in }
    ) throws -> (status: Int32, lines: [String])? {
        try LiveErrorTests().refusal(
            ["--capture", "af_xdp", "--bpf-dir", try BPFTestObjects.directory()] + arguments, prefix: prefix,
            queues: queues, namespacePrefix: "pgx", setUp: setUp)
    }

    @Test func aMissingInterfaceIsNamed() throws {
        guard let (status, lines) = try refusal(["-i", "pgxnosuch0"]) else { return }
        #expect(status != 0 && lines == ["peregrine: no such interface: pgxnosuch0"])
    }

    /// Two queues and one worker: a socket on one queue would miss the other's frames without a counter.
    @Test func queuesThatDoNotMatchTheWorkersAreRefusedWithTheFix() throws {
        guard let (status, lines) = try refusal(["-i", "prgcap0", "--workers", "1"], queues: 2) else { return }
        #expect(
            status != 0
                && lines == [
                    "peregrine: AF_XDP on prgcap0: 2 receive queues for 1 workers; run one worker per queue "
                        + "(--workers 2), or set the queue count to the workers (ethtool -L prgcap0 combined 1, "
                        + "tuning/nic.sh) or to 1 for the workers to share it, or capture with --capture af_packet"
                ], "\(lines)")
    }

    @Test func missingObjectsPointAtTheInstall() throws {
        guard let (status, lines) = try refusal(["-i", "prgcap0", "--bpf-dir", "/nonexistent/bpf"]) else { return }
        #expect(status != 0 && lines.count == 1, "\(lines)")
        #expect(
            lines.first?.hasPrefix(
                "peregrine: AF_XDP on prgcap0: BPF object /nonexistent/bpf/peregrine_xdp.bpf.o not found: build the "
                    + "programs with `make -C bpf` and install them") == true, "\(lines)")
    }

    /// An object the verifier refuses (an XDP program reading the packet without a bounds check):
    /// the line quotes the verifier's reason and says what to do.
    @Test func aVerifierRejectionIsQuoted() throws {
        guard VethNamespaces.skipReason == nil else { return }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("peregrine-bpf-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try """
        #include <linux/bpf.h>
        #include <bpf/bpf_helpers.h>
        #include "peregrine_bpf.h"
        const volatile struct peregrine_config peregrine_config SEC(".rodata.config") = {};
        SEC("xdp") int peregrine_xdp(struct xdp_md *ctx) { return *(unsigned char *)(long)ctx->data; }
        char LICENSE[] SEC("license") = "GPL";
        """.write(toFile: directory + "/bad.bpf.c", atomically: true, encoding: .utf8)
        try VethNamespaces.run(
            "clang", "-O2", "-target", "bpf", "-I/usr/include/x86_64-linux-gnu",
            "-I" + (try BPFTestObjects.directory()) + "/../include", "-c", directory + "/bad.bpf.c", "-o",
            directory + "/peregrine_xdp.bpf.o")
        guard let (status, lines) = try refusal(["-i", "prgcap0", "--bpf-dir", directory]) else { return }
        #expect(status != 0 && lines.count == 1, "\(lines)")
        let line = lines.first ?? ""
        #expect(line.hasPrefix("peregrine: AF_XDP on prgcap0: loading BPF object \(directory)/peregrine_xdp.bpf.o failed"), "\(line)")
        #expect(line.contains("verifier: ") && line.contains("rebuild the objects"), "\(line)")
    }

    /// Root without capabilities: the program cannot be loaded.
    @Test func missingCapabilitiesAreNamed() throws {
        guard
            let (status, lines) = try refusal(
                ["-i", "prgcap0"], prefix: ["setpriv", "--bounding-set=-all", "--inh-caps=-all"])
        else { return }
        #expect(status != 0 && lines.count == 1, "\(lines)")
        #expect(lines.first?.hasPrefix("peregrine: AF_XDP on prgcap0: ") == true, "\(lines)")
        #expect(lines.first?.contains("CAP_BPF and CAP_NET_ADMIN") == true, "\(lines)")
    }

    /// Without CAP_IPC_LOCK the UMEM (128 MiB by default) is charged to RLIMIT_MEMLOCK (8 MiB here).
    @Test func aUMEMOverTheMemlockLimitNamesTheLimit() throws {
        let kibibytes = try VethNamespaces.run("sh", "-c", "ulimit -l").trimmingCharacters(in: .whitespacesAndNewlines)
        guard let limit = Int(kibibytes), limit < 128 << 10 else {
            print("skipped: RLIMIT_MEMLOCK holds the 128 MiB UMEM here")
            return
        }
        guard
            let (status, lines) = try refusal(
                ["-i", "prgcap0"], prefix: ["setpriv", "--bounding-set=-ipc_lock", "--inh-caps=-ipc_lock"])
        else { return }
        #expect(status != 0 && lines.count == 1, "\(lines)")
        #expect(lines.first?.contains("RLIMIT_MEMLOCK without CAP_IPC_LOCK") == true, "\(lines)")
    }

    /// An interface whose XDP hook another program holds (attached here with iproute2).
    @Test func anotherXDPProgramAttachedIsNamed() throws {
        let object = try BPFTestObjects.directory() + "/peregrine_xdp.bpf.o"
        guard
            let (status, lines) = try refusal(["-i", "prgcap0"], setUp: { veth in
                try VethNamespaces.run(
                    "ip", "-n", veth.captureNamespace, "link", "set", "dev", "prgcap0", "xdpdrv", "obj", object, "sec", "xdp")
            })
        else { return }
        #expect(status != 0 && lines.count == 1, "\(lines)")
        #expect(
            lines.first?.hasPrefix("peregrine: AF_XDP on prgcap0: another XDP program is attached to the interface")
                == true, "\(lines)")
    }

    /// A second sensor on the same interface: the first one's sockets hold the queue.
    @Test func aSecondSensorOnTheInterfaceIsNamed() throws {
        guard let binary = PeregrineBinary.path, VethNamespaces.skipReason == nil else {
            print("skipped: needs root and the peregrine executable")
            return
        }
        let logs = FileManager.default.temporaryDirectory.appendingPathComponent("peregrine-first-\(UUID())").path
        try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: logs) }
        var first: PeregrineBinary.Running?
        defer { _ = first?.stop(timeout: 20) }
        guard
            let (status, lines) = try refusal(["-i", "prgcap0"], setUp: { veth in
                first = try PeregrineBinary.start(
                    ["ip", "netns", "exec", veth.captureNamespace, binary, "--logdir", logs, "-i", "prgcap0",
                     "--capture", "af_xdp", "--bpf-dir", try BPFTestObjects.directory()])
                for _ in 0..<100 {
                    let shown = try VethNamespaces.run("ip", "-n", veth.captureNamespace, "link", "show", "prgcap0")
                    if shown.contains("xdp") { return }
                    Thread.sleep(forTimeInterval: 0.1)
                }
            })
        else { return }
        #expect(status != 0 && lines.count == 1, "\(lines)")
        #expect(lines.first?.hasPrefix("peregrine: AF_XDP on prgcap0: xsk_socket__create") == true, "\(lines)")
        #expect(lines.first?.contains("another AF_XDP socket or UMEM is bound to this queue") == true, "\(lines)")
    }
}
