// SPDX-License-Identifier: Apache-2.0
import PeregrineAnalyzers
import PeregrineCore
import PeregrinePolicy
import PeregrineSessions

/// The SSL analyzer's glue: reassembled stream bytes and gaps in; confirmation (service `ssl`),
/// violation (the analyzer ignores the connection from then on), ssl.log and x509.log records out.
extension Worker {
    /// In-order bytes of one direction of an SSL connection.
    /// Zeek's SSL analyzer ignores connections picked up mid-stream (`IsPartial()`), whose first
    /// bytes need not start a record.
    func deliverSSL(slot: Int, data: UnsafeRawBufferPointer, isOriginator: Bool) {
        let c = flows.connection(at: slot)
        guard !c.pointee.tcp.reassemblyContext(isOriginator: isOriginator).isPartial else { return }
        deliverSSL(slot: slot, analyzerSlot: c.pointee.analyzerSlot, data: data, isOriginator: isOriginator)
    }

    /// Bytes for the SSL analyzer state in `analyzerSlot`: the connection's own analyzer, or the
    /// one SMTP's STARTTLS started (Worker+SMTP.swift).
    func deliverSSL(slot: Int, analyzerSlot: UInt32, data: UnsafeRawBufferPointer, isOriginator: Bool) {
        let c = flows.connection(at: slot)
        sslLog.begin(slot: analyzerSlot, now: now)
        let d = ssl.deliver(analyzerSlot, data: data, isOriginator: isOriginator, sink: &sslLog)
        if d.confirmed { c.pointee.services.insert(ServiceID.ssl.rawValue) }
        sslLog.afterDelivery(connection: c.pointee, logs: &logs)
        // A violation writes the record now (ssl/main.zeek's `analyzer_violation_info` handler
        // finishes it); the disabled analyzer ignores both directions until the connection goes.
        if d.violation != nil { sslLog.connectionEnded(slot: analyzerSlot, connection: c.pointee, logs: &logs) }
    }

    /// A content gap in one direction of an SSL connection: the analyzer parses nothing more.
    func gapSSL(slot: Int) {
        ssl.gap(flows.connection(at: slot).pointee.analyzerSlot)
    }

    /// The connection is logged or removed: an unwritten ssl.log record is written
    /// (`finalize_ssl`), and the slot goes back to the pool.
    func endSSL(connection c: inout Connection) {
        endSSL(analyzerSlot: c.analyzerSlot, connection: c)
        c.analyzer = 0
        c.analyzerSlot = 0
    }

    /// Writes what the SSL state in `analyzerSlot` still holds and frees the slot.
    func endSSL(analyzerSlot: UInt32, connection c: Connection) {
        sslLog.begin(slot: analyzerSlot, now: now)
        sslLog.connectionEnded(slot: analyzerSlot, connection: c, logs: &logs)
        ssl.detach(analyzerSlot)
    }
}
