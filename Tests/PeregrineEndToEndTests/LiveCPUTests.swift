// SPDX-License-Identifier: Apache-2.0
import Foundation
@testable import PeregrineEngine
import PeregrineTestSupport
import Testing

/// `--cpus` and the default worker placement (`LiveRun.workerCPUs`), and what the worker threads
/// look like from outside: named `peregrine-wN`, pinned to their CPU.
@Suite struct LiveCPUTests {
    /// The online CPUs (`/sys/devices/system/cpu/online`, "0-3,6"); the tests run unrestricted.
    static func usable() -> [Int] {
        let list = (try? String(contentsOfFile: "/sys/devices/system/cpu/online", encoding: .utf8)) ?? "0"
        return list.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",").flatMap { part -> [Int] in
            let bounds = part.split(separator: "-").compactMap { Int($0) }
            return bounds.count == 2 ? Array(bounds[0]...bounds[1]) : bounds
        }
    }

    @Test func aListGivesWorkerIItsIthCPU() throws {
        let cpus = Self.usable()
        #expect(try LiveRun.workerCPUs(list: "\(cpus.last!)", workers: 1, numaNode: nil) == [cpus.last!])
        #expect(try LiveRun.workerCPUs(list: "0-\(cpus.last!)", workers: cpus.count, numaNode: nil) == cpus)
    }

    @Test func cpusThatDoNotExistAreNamed() {
        #expect {
            _ = try LiveRun.workerCPUs(list: "0,1000-1001", workers: 1, numaNode: nil)
        } throws: { error in
            "\(error)".hasPrefix("--cpus 0,1000-1001: no such online CPU: 1000-1001 (this machine's CPUs: ")
        }
        #expect {
            _ = try LiveRun.workerCPUs(list: "2-x", workers: 1, numaNode: nil)
        } throws: { error in
            "\(error)".contains("--cpus: invalid CPU list '2-x'")
        }
    }

    @Test func fewerCPUsThanWorkersIsRefused() {
        #expect {
            _ = try LiveRun.workerCPUs(list: "0", workers: 2, numaNode: nil)
        } throws: { error in
            "\(error)" == "--cpus 0 names 1 CPU(s) for 2 workers: each worker needs a CPU of its own"
        }
    }

    /// Without a list: CPU 0 stays free when enough others remain; a box with fewer CPUs than
    /// workers leaves them to the kernel. Node 0's CPUs are this box's (one node, or the first).
    @Test func theDefaultSparesCPU0WhenItCan() throws {
        let cpus = Self.usable()
        let spared = cpus.filter { $0 != 0 }
        #expect(try LiveRun.workerCPUs(list: nil, workers: spared.count, numaNode: nil) == spared)
        #expect(try LiveRun.workerCPUs(list: nil, workers: cpus.count, numaNode: nil) == cpus)
        #expect(try LiveRun.workerCPUs(list: nil, workers: cpus.count + 1, numaNode: nil) == nil)
        #expect(try LiveRun.workerCPUs(list: nil, workers: 1, numaNode: 0)?.count == 1)
    }

    /// `peregrine -i --cpus`: the worker threads carry their names and are pinned to their CPU
    /// (seen from outside the process, in /proc, as tools and the live benchmark see them).
    @Test func workerThreadsAreNamedAndPinned() throws {
        if let reason = VethNamespaces.skipReason {
            print("skipped: \(reason)")
            return
        }
        guard let binary = PeregrineBinary.path else {
            print("skipped: the peregrine executable is not built next to the tests")
            return
        }
        let cpus = Self.usable(), workers = min(2, Self.usable().count)
        let veth = try VethNamespaces()
        defer { veth.tearDown() }
        let live = FileManager.default.temporaryDirectory.appendingPathComponent("peregrine-cpu-\(UUID())").path
        try FileManager.default.createDirectory(atPath: live, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: live) }
        let run = try PeregrineBinary.start([
            "ip", "netns", "exec", veth.captureNamespace, binary, "-i", veth.captureInterface,
            "--workers", "\(workers)", "--cpus", "0-\(cpus.last!)", "--logdir", live,
        ])
        Thread.sleep(forTimeInterval: 1.5)
        var placed: [String: String] = [:]
        for task in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(run.pid)/task")) ?? [] {
            let comm = (try? String(contentsOfFile: "/proc/\(run.pid)/task/\(task)/comm", encoding: .utf8)) ?? ""
            guard comm.hasPrefix("peregrine-w") else { continue }
            let status = (try? String(contentsOfFile: "/proc/\(run.pid)/task/\(task)/status", encoding: .utf8)) ?? ""
            let allowed = status.split(separator: "\n").first { $0.hasPrefix("Cpus_allowed_list:") }
            placed[comm.trimmingCharacters(in: .whitespacesAndNewlines)] =
                allowed.map { $0.dropFirst("Cpus_allowed_list:".count).trimmingCharacters(in: .whitespaces) }
        }
        let result = run.stop()
        #expect(result.status == 0, "\(result.output)")
        let expected = Dictionary(uniqueKeysWithValues: (0..<workers).map { ("peregrine-w\($0)", "\(cpus[$0])") })
        #expect(placed == expected)
    }
}
