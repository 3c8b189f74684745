// SPDX-License-Identifier: Apache-2.0
import PeregrineAnalyzers
import PeregrineCore
import PeregrinePolicy
import PeregrineSessions

/// The HTTP analyzer's glue: reassembled stream bytes and gaps in; confirmation (service
/// `http`), violation (the analyzer is dropped for the connection), weirds, http.log and
/// files.log records out.
extension Worker {
    /// Points the HTTP policy at the connection holding `slot`.
    func beginHTTP(_ c: UnsafeMutablePointer<Connection>) {
        httpLog.begin(
            slot: c.pointee.analyzerSlot, uid: c.pointee.uid, originator: c.pointee.originator,
            originatorPort: c.pointee.originatorPort, responder: c.pointee.responder,
            responderPort: c.pointee.responderPort, startTime: c.pointee.startTime, now: now)
    }

    /// In-order bytes of one direction of an HTTP connection.
    /// Zeek's HTTP analyzer ignores connections picked up mid-stream (`IsPartial()`): their
    /// first bytes need not start a message.
    func deliverHTTP(slot: Int, data: UnsafeRawBufferPointer, isOriginator: Bool) {
        let c = flows.connection(at: slot)
        guard !c.pointee.tcp.reassemblyContext(isOriginator: isOriginator).isPartial else { return }
        beginHTTP(c)
        let d = http.deliver(c.pointee.analyzerSlot, data: data, isOriginator: isOriginator, sink: &httpLog)
        if d.confirmed { c.pointee.services.insert(ServiceID.http.rawValue) }
        if let w = d.violation { analyzerViolation(.http, reason: w.name, data: data, c) }
        // After a violation the analyzer ignores both directions (Zeek removes it); its slot
        // is returned when the connection goes, with the reassembly state.
        finishHTTPDelivery(c)
    }

    /// A content gap in one direction of an HTTP connection.
    func gapHTTP(slot: Int, length: UInt64, isOriginator: Bool) {
        let c = flows.connection(at: slot)
        guard !c.pointee.tcp.reassemblyContext(isOriginator: isOriginator).isPartial else { return }
        beginHTTP(c)
        http.gap(c.pointee.analyzerSlot, length: length, isOriginator: isOriginator, sink: &httpLog)
        finishHTTPDelivery(c)
    }

    /// The connection is logged or removed: open messages end, pending transactions and files
    /// are written, and the slot goes back to the pool.
    func endHTTP(connection c: inout Connection) {
        let slot = c.analyzerSlot
        httpLog.begin(
            slot: slot, uid: c.uid, originator: c.originator, originatorPort: c.originatorPort,
            responder: c.responder, responderPort: c.responderPort, startTime: c.startTime, now: now)
        http.finish(slot, sink: &httpLog)
        httpLog.connectionEnded(slot: slot)
        httpLog.flush(into: &logs)
        flushHTTPWeirds(c)
        http.detach(slot)
        c.analyzer = 0
        c.analyzerSlot = 0
    }

    func finishHTTPDelivery(_ c: UnsafeMutablePointer<Connection>) {
        httpLog.flush(into: &logs)
        flushHTTPWeirds(c.pointee)
    }

    func flushHTTPWeirds(_ c: Connection) {
        guard httpLog.weirds.count > 0 else { return }
        let scope = connectionScope(c)
        for i in 0..<httpLog.weirds.count { weird(httpLog.weirds[i], scope: scope) }
        httpLog.weirds.removeAll()
    }
}
