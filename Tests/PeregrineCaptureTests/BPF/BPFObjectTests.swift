// SPDX-License-Identifier: Apache-2.0
import CPeregrineBPF
import CPeregrineTestBPF
import Foundation
import PeregrineCapture
import PeregrineCore
import PeregrineTestSupport
import Testing

/// The loader's bad-input messages: each is one line saying what failed and what to do.
@Suite struct BPFObjectTests {
    @Test func aMissingObjectNamesThePathAndTheBuildCommand() {
        #expect {
            _ = try FanoutProgram(directory: "/nonexistent/peregrine-bpf", seed: 1)
        } throws: { error in
            let text = "\(error)"
            return text.contains("/nonexistent/peregrine-bpf/peregrine_fanout.bpf.o not found")
                && text.contains("make -C bpf") && text.contains("--bpf-dir") && !text.contains("\n")
        }
    }

    @Test func theDirectoryComesFromTheOptionFirst() {
        #expect(BPFObject.directory(explicit: "/opt/x") == "/opt/x")
        #expect(!BPFObject.directory(explicit: nil).isEmpty)
    }

    /// A program the verifier refuses (socket filters may not read packet memory directly): the
    /// message carries the verifier's own reason.
    @Test func aVerifierRejectionQuotesTheVerifier() throws {
        guard geteuid() == 0 else {
            print("skipped: needs root (CAP_BPF to load programs)")
            return
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("peregrine-bpf-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let include = try BPFTestObjects.directory() + "/../include"
        try """
        #include <linux/bpf.h>
        #include <bpf/bpf_helpers.h>
        #include "peregrine_bpf.h"
        const volatile struct peregrine_config peregrine_config SEC(".rodata.config") = {};
        SEC("socket") int peregrine_fanout(struct __sk_buff *skb) { return *(int *)(long)skb->data; }
        char LICENSE[] SEC("license") = "GPL";
        """.write(toFile: directory + "/bad.bpf.c", atomically: true, encoding: .utf8)
        try VethNamespaces.run(
            "clang", "-O2", "-target", "bpf", "-I/usr/include/x86_64-linux-gnu", "-I" + include, "-c",
            directory + "/bad.bpf.c", "-o", directory + "/" + BPFObject.fanoutFileName)
        #expect {
            _ = try FanoutProgram(directory: directory, seed: 1)
        } throws: { error in
            let text = "\(error)"
            print("verifier rejection: \(text)")
            return text.contains("loading BPF object") && text.contains("verifier: ")
                && text.contains("invalid bpf_context access") && !text.contains("\n")
        }
    }

    /// Without CAP_BPF (dropped on one thread only) the load fails with a message naming the
    /// capabilities needed.
    @Test func missingCapabilitiesAreNamed() throws {
        guard geteuid() == 0 else {
            print("skipped: needs root (to drop capabilities it has)")
            return
        }
        let directory = try BPFTestObjects.directory()
        // libbpf caches its kernel feature probes process-wide: probe them with the capabilities first.
        _ = try FanoutProgram(directory: directory, seed: 1)
        let outcome = Outcome()
        let thread = JoinableThread {
            guard CPeregrineTestBPF_dropBPFCapabilities() == 0 else {
                outcome.text = "capset failed: errno \(errno)"
                return
            }
            do {
                _ = try FanoutProgram(directory: directory, seed: 1)
                outcome.text = "loaded"
            } catch {
                outcome.text = "\(error)"
            }
        }
        thread.join()
        print("without CAP_BPF: \(outcome.text)")
        #expect(outcome.text.contains("Operation not permitted") && outcome.text.contains("needs CAP_BPF"))
        #expect(!outcome.text.contains("\n"))
    }

    final class Outcome: @unchecked Sendable {
        var text = ""
    }
}
