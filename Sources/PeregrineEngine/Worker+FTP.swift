// SPDX-License-Identifier: Apache-2.0
import PeregrineAnalyzers
import PeregrineCore
import PeregrinePolicy
import PeregrineSessions

/// The FTP analyzer's glue: control-connection bytes in; confirmation (service `ftp`),
/// ftp.log records, weirds, and the data connections FTP announces (to
/// ``ExpectedConnections``, so they get service `ftp-data`) out. Data-connection bytes go to
/// `FTPLog`'s transfers, which feed the files framework.
extension Worker {
    /// In-order bytes of one direction of an FTP control connection.
    func deliverFTP(slot: Int, data: UnsafeRawBufferPointer, isOriginator: Bool) {
        let c = flows.connection(at: slot)
        let analyzerSlot = c.pointee.analyzerSlot
        ftpLog.begin(slot: analyzerSlot, connection: c.pointee, now: now)
        var sink = ftpLog
        if ftp.deliver(analyzerSlot, data: data, isOriginator: isOriginator, sink: &sink) {
            c.pointee.services.insert(ServiceID.ftp.rawValue)
        }
        finishFTPDelivery(c.pointee)
    }

    /// The connection is logged or removed: pending commands are written and the slot freed.
    func endFTP(connection c: inout Connection) {
        let slot = c.analyzerSlot
        ftpLog.begin(slot: slot, connection: c, now: now)
        var sink = ftpLog
        let closed = c.tcp.originator.state == .closed
        ftp.finish(slot, originatorClosed: closed, sink: &sink)
        ftpLog.connectionEnded(slot: slot)
        finishFTPDelivery(c)
        ftp.detach(slot)
        c.analyzer = 0
        c.analyzerSlot = 0
    }

    /// A followed data connection is logged or removed: its files end and are written.
    func endFTPData(connection c: inout Connection) {
        ftpLog.transferEnded(slot: c.analyzerSlot)
        ftpLog.files.flush(into: &logs)
        c.analyzer = 0
        c.analyzerSlot = 0
    }

    func finishFTPDelivery(_ c: Connection) {
        for channel in ftpLog.expectations {
            expected.expect(
                originator: channel.originator, responder: channel.responder, responderPort: channel.responderPort,
                kind: .ftpData, now: now)
        }
        ftpLog.expectations.removeAll(keepingCapacity: true)
        ftpLog.flush(into: &logs)
        guard !ftpLog.weirds.isEmpty else { return }
        let scope = connectionScope(c)
        for (w, addl) in ftpLog.weirds { weird(w, addl: addl, scope: scope) }
        ftpLog.weirds.removeAll(keepingCapacity: true)
    }
}
