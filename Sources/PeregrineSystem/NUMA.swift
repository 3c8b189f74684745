// SPDX-License-Identifier: Apache-2.0
import CNuma

/// libnuma's view of the machine's NUMA nodes, for placing each live worker's memory on the node of
/// the CPU it is pinned to (architecture.md: "its memory from that node").
///
/// A worker thread sets its memory policy to prefer its CPU's node before it builds its flow table,
/// reassembly buffers and pools; the kernel then backs the pages the thread first touches from that
/// node (and from another node only when that one is full). On a machine with one node, or a kernel
/// without NUMA support, every call is harmless.
public enum NUMA {
    /// Whether the kernel supports NUMA policies. The corresponding C call is `numa_available`.
    public static var isAvailable: Bool { numa_available() >= 0 }

    /// The node `cpu` belongs to, or `nil` when NUMA is unavailable or the CPU unknown.
    /// The corresponding C call is `numa_node_of_cpu`.
    public static func node(ofCPU cpu: Int) -> Int? {
        guard isAvailable else { return nil }
        let node = numa_node_of_cpu(Int32(cpu))
        return node >= 0 ? Int(node) : nil
    }

    /// Makes the calling thread's later page allocations prefer `node` (`MPOL_PREFERRED`). Unlike
    /// `numa_run_on_node` it leaves the thread's CPU affinity alone (linux-capture-facts.md §4).
    /// Does nothing when NUMA is unavailable. The corresponding C call is `numa_set_preferred`.
    public static func preferNodeForCurrentThread(_ node: Int) {
        guard isAvailable else { return }
        numa_set_preferred(Int32(node))
    }

    /// The node the calling thread's allocations prefer (the local node when no preference is set),
    /// or `nil` when NUMA is unavailable. The corresponding C call is `numa_preferred`.
    public static var preferredNodeOfCurrentThread: Int? {
        guard isAvailable else { return nil }
        return Int(numa_preferred())
    }
}
