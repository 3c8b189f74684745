// SPDX-License-Identifier: Apache-2.0
import PeregrineAnalyzers
import PeregrineCore
import PeregrinePolicy
import PeregrineSessions

/// The SSH analyzer's glue: reassembled stream bytes and gaps in; confirmation (service `ssh`),
/// violation or successful authentication (the analyzer ignores the connection from then on),
/// weirds and ssh.log records out.
extension Worker {
    /// `ssh_unknown_kex_algorithm` (SSH's `update_kex`).
    static let sshUnknownKexAlgorithm = Weird("ssh_unknown_kex_algorithm", source: "SSH")

    /// In-order bytes of one direction of an SSH connection. Zeek's SSH analyzer ignores
    /// connections picked up mid-stream (`IsPartial()`).
    func deliverSSH(slot: Int, data: UnsafeRawBufferPointer, isOriginator: Bool) {
        let c = flows.connection(at: slot)
        guard !c.pointee.tcp.reassemblyContext(isOriginator: isOriginator).isPartial else { return }
        let analyzerSlot = c.pointee.analyzerSlot
        sshLog.begin(slot: analyzerSlot, now: now)
        let d = ssh.deliver(analyzerSlot, data: data, isOriginator: isOriginator, sink: &sshLog)
        if d.confirmed { c.pointee.services.insert(ServiceID.ssh.rawValue) }
        if sshLog.afterDelivery(connection: c.pointee, logs: &logs) { ssh.disable(analyzerSlot) }
        if sshLog.pendingUnknownKex > 0 {
            let scope = connectionScope(c.pointee)
            for _ in 0..<sshLog.pendingUnknownKex { weird(Self.sshUnknownKexAlgorithm, scope: scope) }
            sshLog.pendingUnknownKex = 0
        }
    }

    /// A content gap in one direction of an SSH connection: the analyzer parses nothing more.
    func gapSSH(slot: Int) {
        ssh.gap(flows.connection(at: slot).pointee.analyzerSlot)
    }

    /// The connection is logged or removed: an unwritten ssh.log record is written
    /// (`finalize_ssh`), and the slot goes back to the pool.
    func endSSH(connection c: inout Connection) {
        sshLog.begin(slot: c.analyzerSlot, now: now)
        sshLog.connectionEnded(slot: c.analyzerSlot, connection: c, logs: &logs)
        ssh.detach(c.analyzerSlot)
        c.analyzer = 0
        c.analyzerSlot = 0
    }
}
