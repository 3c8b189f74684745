// SPDX-License-Identifier: Apache-2.0
import PeregrineAnalyzers
import PeregrineCore
import PeregrinePolicy
import PeregrineSessions

/// Content-based detection's glue (Zeek's PIA_TCP): a TCP connection no analyzer took by port
/// is reassembled from its start and probed (`ProtocolDetector`); a matching `dpd.sig` signature
/// attaches the analyzer it enables, which then gets the buffered bytes of both directions in the
/// order they arrived, and the probe goes.
///
/// Zeek reassembles the beginning of every TCP connection for this (`dpd_reassemble_first_packets`).
/// Once probing ends without a match, reassembly stops here: nothing else reads the bytes.
extension Worker {
    /// Puts a probe on a new TCP connection without a port analyzer.
    func attachProbe(_ conn: inout Connection) {
        guard let probeSlot = detector.attach() else { return }
        conn.analyzer = AnalyzerKind.pia.rawValue
        conn.analyzerSlot = probeSlot
    }

    /// In-order bytes of one direction of a probed connection.
    func deliverProbe(slot: Int, data: UnsafeRawBufferPointer, isOriginator: Bool) {
        let c = flows.connection(at: slot)
        let probeSlot = c.pointee.analyzerSlot
        guard probeSlot != 0 else { return }  // probing already ended
        switch detector.deliver(probeSlot, data: data, isOriginator: isOriginator) {
        case .undecided:
            return
        case .exhausted:
            endProbe(c)
        case .activate(let kind):
            guard attachContentAnalyzer(kind, c) else {
                endProbe(c)
                return
            }
            detector.replay(probeSlot) { chunk, isOriginator in
                deliverStream(slot: slot, data: chunk, isOriginator: isOriginator)
            }
            detector.detach(probeSlot)
            deliverStream(slot: slot, data: data, isOriginator: isOriginator)
        }
    }

    /// A content gap ends probing.
    func gapProbe(slot: Int) {
        let c = flows.connection(at: slot)
        guard c.pointee.analyzerSlot != 0 else { return }
        detector.noteGap()
        endProbe(c)
    }

    /// Gives the probe back; the connection keeps `pia` with slot 0 until reassembly returns and
    /// `releaseEndedProbe` stops it (the reassembler is mid-call now).
    func endProbe(_ c: UnsafeMutablePointer<Connection>) {
        detector.detach(c.pointee.analyzerSlot)
        c.pointee.analyzerSlot = 0
    }

    /// After a reassembler call: a probe that ended leaves the connection without an analyzer,
    /// and its reassembly buffers go back to the pool.
    func releaseEndedProbe(_ c: UnsafeMutablePointer<Connection>) {
        guard c.pointee.analyzer == AnalyzerKind.pia.rawValue && c.pointee.analyzerSlot == 0 else { return }
        _ = c.pointee.originatorStream.release(pool: &reassembly)
        _ = c.pointee.responderStream.release(pool: &reassembly)
        c.pointee.analyzer = 0
    }

    /// Starts the analyzer a signature enabled, in place of the probe.
    /// - Returns: false when its pool is full (the connection stays unanalysed, as over a port).
    func attachContentAnalyzer(_ kind: AnalyzerKind, _ c: UnsafeMutablePointer<Connection>) -> Bool {
        switch kind {
        case .http, .ssl, .ssh:
            let slot = kind == .http ? http.attach() : kind == .ssl ? ssl.attach() : ssh.attach()
            guard let analyzerSlot = slot else { return false }
            c.pointee.analyzer = kind.rawValue
            c.pointee.analyzerSlot = analyzerSlot
            return true
        case .dns, .ntp, .dhcp, .pia, .ftp, .ftpData, .smtp:
            return false  // no `dpd.sig` row here enables them
        }
    }

    /// An analyzer reported a protocol violation: DPD's rules (`AnalyzerLog`) decide whether the
    /// connection loses the service and gets an analyzer.log line. The DNS and HTTP analyzers
    /// already stop themselves on a violation, so an `ignored` outcome (past 10 KiB) changes
    /// nothing for them.
    func analyzerViolation(
        _ kind: AnalyzerKind, reason: StaticString, data: UnsafeRawBufferPointer?, _ c: UnsafeMutablePointer<Connection>
    ) {
        _ = analyzerLog.violation(kind, reason: reason, data: data, connection: &c.pointee, now: now, logs: &logs)
    }
}
