// SPDX-License-Identifier: Apache-2.0
import PeregrineAnalyzers
import PeregrineCore
import PeregrinePolicy
import PeregrineSessions

/// The SMTP analyzer's glue: stream bytes and gaps in; confirmation (service `smtp`), smtp.log
/// records and weirds out.
///
/// STARTTLS: once the server accepts it (`SMTPAnalyzer.tlsStarted`), the SMTP parser stops and the
/// connection's further bytes go to an SSL analyzer started for it, as Zeek adds SSL as a child
/// of SMTP: ssl.log and x509.log get the handshake, smtp.log keeps `tls` = T, and conn.log's
/// `service` gains `ssl`. The SSL state's slot is kept per SMTP slot in `smtpTLS`.
extension Worker {
    /// In-order bytes of one direction of an SMTP connection.
    func deliverSMTP(slot: Int, data: UnsafeRawBufferPointer, isOriginator: Bool) {
        let c = flows.connection(at: slot)
        let analyzerSlot = c.pointee.analyzerSlot
        if smtp.tlsStarted(analyzerSlot) {
            if smtpTLS[Int(analyzerSlot)] == 0, let tlsSlot = ssl.attach() { smtpTLS[Int(analyzerSlot)] = tlsSlot }
            let tlsSlot = smtpTLS[Int(analyzerSlot)]
            if tlsSlot != 0 { deliverSSL(slot: slot, analyzerSlot: tlsSlot, data: data, isOriginator: isOriginator) }
            return
        }
        smtpLog.begin(slot: analyzerSlot, connection: c.pointee, now: now)
        var sink = smtpLog
        if smtp.deliver(analyzerSlot, data: data, isOriginator: isOriginator, sink: &sink) {
            c.pointee.services.insert(ServiceID.smtp.rawValue)
        }
        if smtpLog.disableAnalyzer {
            smtpLog.disableAnalyzer = false
            smtp.stop(analyzerSlot)
        }
        finishSMTPDelivery(c.pointee)
    }

    /// A content gap in one direction of an SMTP connection.
    func gapSMTP(slot: Int, isOriginator: Bool) {
        let c = flows.connection(at: slot)
        smtpLog.begin(slot: c.pointee.analyzerSlot, connection: c.pointee, now: now)
        var sink = smtpLog
        smtp.gap(c.pointee.analyzerSlot, isOriginator: isOriginator, sink: &sink)
        finishSMTPDelivery(c.pointee)
    }

    /// The connection is logged or removed: an open message ends, the open transaction is
    /// written, and the slot is freed.
    func endSMTP(connection c: inout Connection) {
        let slot = c.analyzerSlot
        smtpLog.begin(slot: slot, connection: c, now: now)
        var sink = smtpLog
        smtp.finish(slot, sink: &sink)
        smtpLog.connectionEnded(slot: slot)
        finishSMTPDelivery(c)
        if smtpTLS[Int(slot)] != 0 {
            endSSL(analyzerSlot: smtpTLS[Int(slot)], connection: c)
            smtpTLS[Int(slot)] = 0
        }
        smtp.detach(slot)
        c.analyzer = 0
        c.analyzerSlot = 0
    }

    func finishSMTPDelivery(_ c: Connection) {
        smtpLog.flush(into: &logs)
        guard !smtpLog.weirds.isEmpty else { return }
        let scope = connectionScope(c)
        for (w, addl) in smtpLog.weirds {
            let text = Array(UnsafeRawBufferPointer(start: addl.utf8Start, count: addl.utf8CodeUnitCount))
            weird(w, addl: text, scope: scope)
        }
        smtpLog.weirds.removeAll(keepingCapacity: true)
    }
}
