// SPDX-License-Identifier: Apache-2.0
import PeregrineCapture

extension LiveRun {
    /// Loads `bpf/peregrine_fanout.bpf.c`'s program for `--fanout ebpf`, its hash seeded from the
    /// run's seed (tests fix it), else at random.
    /// - Throws: ``EngineError`` with the loader's one-line reason (missing object, verifier
    ///   rejection, missing CAP_BPF).
    static func loadFanoutProgram(_ configuration: Configuration) throws -> FanoutProgram {
        let seed = configuration.seed.map { UInt32(truncatingIfNeeded: $0) } ?? UInt32.random(in: .min ... .max)
        do {
            return try FanoutProgram(directory: BPFObject.directory(explicit: configuration.bpfDirectory), seed: seed)
        } catch {
            throw EngineError("--fanout ebpf: \(error)")
        }
    }
}
