// SPDX-License-Identifier: Apache-2.0
import PeregrineEngine
import Testing

@Suite struct SizingPlanTests {
    /// The case: 10 Gbit/s at 40 %, the benchmark's 966-byte packets.
    @Test func tenGigabitAtFortyPercent() throws {
        let plan = try SizingPlan(link: .init(bitsPerSecond: 10e9, utilization: 0.4))
        // 4e9 / (8 × 966) = 517,598 packets/s; one worker planned at 50 % of 1.03 M = 515,000.
        #expect(Int(plan.packetsPerSecond) == 517_598)
        #expect(plan.workers == 2)
        #expect(plan.cpus == 4)
        // 88 MiB for the first worker's process, 86 MiB for the second, two 128 MiB rings.
        #expect(plan.memoryBytes == Double((88 + 86 + 256) * 1_048_576))
        // 517,598 × 86,400 × 16.2 bytes.
        #expect(abs(plan.logBytesPerDay - 724_472_049_689) < 1_000)
        #expect(plan.zeekWorkers == 20)
        #expect(plan.report.contains("workers   2 "))
        #expect(plan.report.contains("disk/day  674.7 GiB"))
    }

    @Test func conversationHeavyLinksGrowTheFlowTables() throws {
        let plan = try SizingPlan(link: .init(bitsPerSecond: 10e9, utilization: 0.4, concurrentConnections: 2_000_000))
        // 2 M × 1.25 / 2 workers = 1.25 M per table, above the 262,144 default.
        #expect(plan.connectionsPerWorker == 1_250_000)
        let small = try SizingPlan(link: .init(bitsPerSecond: 10e9, utilization: 0.4))
        let extra = Double(2 * (1_250_000 - SizingPlan.defaultConnectionsPerWorker))
        #expect(plan.memoryBytes - small.memoryBytes == extra * Double(SizingPlan.flowTableBytesPerConnection))
    }

    @Test func connOnlyNeedsFewerWorkersAndLessDisk() throws {
        let full = try SizingPlan(link: .init(bitsPerSecond: 40e9, utilization: 0.5))
        let conn = try SizingPlan(link: .init(bitsPerSecond: 40e9, utilization: 0.5), connOnly: true)
        #expect(full.workers == 6)  // 2.59 M packets/s at 515,000 each
        #expect(conn.workers == 3)  // at 1.285 M each
        #expect(conn.logBytesPerDay < full.logBytesPerDay / 3)
    }

    @Test(arguments: [(0.0, 0.4, 966.0), (10e9, 0.0, 966.0), (10e9, 1.5, 966.0), (10e9, 0.4, 20.0)])
    func impossibleInputIsRefused(_ input: (Double, Double, Double)) {
        #expect(throws: SizingPlan.InvalidInput.self) {
            try SizingPlan(link: .init(bitsPerSecond: input.0, utilization: input.1, averagePacketBytes: input.2))
        }
    }
}
