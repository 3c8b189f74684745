// SPDX-License-Identifier: Apache-2.0
import Foundation
import PeregrineConfig
import PeregrineSystem
import Testing

/// The checks against the machine: CPUs, memory, the log directory.
@Suite("SettingsCheck")
struct SettingsCheckTests {
    @Test("a CPU list naming a CPU that cannot exist is refused at its line")
    func impossibleCPU() {
        #expect(
            problems(parse("capture:\n  interfaces: [eth1]\n  cpus: 0,4096\n")) == [
                "test.yaml:3: capture.cpus: invalid CPU list '0,4096': CPU 4096 is beyond 1023"
            ]
        )
    }

    @Test("a CPU list naming CPUs that are not online is refused at its line")
    func offlineCPU() {
        #expect(
            problems(parse("capture:\n  cpus: 6-9\n  workers: 2\n")) == [
                "test.yaml:2: capture.cpus: CPU list '6-9' names 8-9, which are not online (online: 0-7)"
            ]
        )
    }

    @Test("more workers than listed CPUs is refused at the workers line")
    func moreWorkersThanListedCPUs() {
        #expect(
            problems(parse("capture:\n  cpus: \"2-3\"\n  workers: 3\n")) == [
                "test.yaml:3: capture.workers: 3 workers but the CPU list '2-3' names only 2 CPUs (one worker per CPU)"
            ]
        )
    }

    @Test("more workers than online CPUs is refused without a CPU list")
    func moreWorkersThanOnlineCPUs() {
        #expect(
            problems(parse("capture:\n  workers: 9\n")) == [
                "test.yaml:2: capture.workers: 9 workers but only 8 CPUs are online (0-7)"
            ]
        )
    }

    @Test("rings larger than physical memory are refused at the af_packet section")
    func ringTooLarge() {
        let yaml = "capture:\n  interfaces: [eth1, eth2]\n  workers: 4\n  af_packet:\n    block_count: 65536\n"
        #expect(
            problems(parse(yaml)) == [
                "test.yaml:4: capture.af_packet: TPACKET_V3 rings (block_size × block_count) need 512 GiB "
                    + "for 4 workers × 2 interfaces, more than the 64 GiB of physical memory"
            ]
        )
    }

    @Test("rings larger than this machine's MemTotal are refused")
    func ringTooLargeForThisMachine() throws {
        let system = SystemFacts.current()
        let memory = try #require(system.memoryBytes, "/proc/meminfo has MemTotal")
        let found = problems(
            parse(
                "capture:\n  af_packet:\n    block_size: 1GiB\n    block_count: \((memory >> 30) + 1)\n",
                system: system
            )
        )
        #expect(found.count == 1)
        #expect(found.first?.hasPrefix("test.yaml:2: capture.af_packet: TPACKET_V3 rings") == true, "\(found)")
    }

    @Test("AF_XDP UMEM shapes the kernel refuses are reported in af_xdp mode")
    func umemShape() {
        let yaml = "capture:\n  mode: af_xdp\n  af_xdp:\n    frame_size: 3000\n    rx_ring_size: 1000\n"
        #expect(
            problems(parse(yaml)) == [
                "test.yaml:3: capture.af_xdp: frame_size 3000 must be a power of two from 2048 to the page size 4096",
                "test.yaml:3: capture.af_xdp: rx_ring_size 1000 must be a power of two",
            ]
        )
    }

    @Test("a log directory under a regular file can never be created, even by root")
    func logDirectoryUnderAFile() throws {
        let dir = try temporaryDirectory()
        let file = dir + "/file"
        #expect(FileManager.default.createFile(atPath: file, contents: Data("x".utf8)))
        #expect(
            problems(parse("logs:\n  directory: \(file)/logs\n")) == [
                "test.yaml:2: logs.directory: '\(file)/logs' cannot be created: '\(file)' is not a directory"
            ]
        )
        #expect(
            problems(parse("logs:\n  directory: \(file)\n")) == [
                "test.yaml:2: logs.directory: '\(file)' is not a directory"
            ]
        )
    }

    @Test("a missing log directory whose parent is writable is accepted")
    func logDirectoryToCreate() throws {
        let dir = try temporaryDirectory()
        #expect(problems(parse("logs:\n  directory: \(dir)/a/b\n")) == [])
    }

    @Test("compression and retention need rotation")
    func compressionWithoutRotation() {
        #expect(
            problems(parse("logs:\n  directory: .\n  compression: zstd\n  retention:\n    max_age: 7d\n")) == [
                "test.yaml:3: logs.compression: zstd compresses rotated files; set logs.rotation_interval",
                "test.yaml:4: logs.retention: retention deletes rotated files; set logs.rotation_interval",
            ]
        )
    }
}
