// SPDX-License-Identifier: Apache-2.0
import CPeregrineBPF

/// The `PACKET_FANOUT_EBPF` program of `bpf/peregrine_fanout.bpf.c`, loaded: it picks a group's
/// socket by the project's symmetric flow hash (`SymmetricFlowHash`), so both directions of a flow,
/// on every interface whose group has as many sockets, reach the same socket index.
///
/// Keep it alive while any socket uses it; one program serves every group of a run.
public final class FanoutProgram {
    /// The loaded object.
    public let object: BPFObject
    /// The program's descriptor, for `AFPacketConfiguration.fanoutProgramDescriptor`.
    public let descriptor: CInt

    /// Loads `peregrine_fanout.bpf.o` from `directory` with the hash seeded by `seed`.
    /// - Throws: `BPFError` (missing object, verifier rejection, missing privileges), whose
    ///   description is the one-line message to show.
    public init(directory: String, seed: UInt32) throws(BPFError) {
        var configuration = peregrine_config()
        configuration.hash_seed = seed
        object = try BPFObject(path: directory + "/" + BPFObject.fanoutFileName, configuration: configuration)
        descriptor = try object.programDescriptor(named: BPFObject.fanoutProgramName)
    }
}
