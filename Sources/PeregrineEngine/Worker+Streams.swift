// SPDX-License-Identifier: Apache-2.0
import PeregrineAnalyzers
import PeregrineCore
import PeregrineDecode
import PeregrinePolicy
import PeregrineSessions

/// TCP stream analysis: which analyzer a TCP connection gets, reassembly of its two directions,
/// and the dispatch of in-order bytes and gaps to the analyzer's glue (`Worker+<Protocol>.swift`).
///
/// Reassembly runs only for connections with an analyzer, as in Zeek (a connection nobody
/// analyses costs no copies). Per packet, after the state machine: the peer direction hears
/// the ACK, then the sender's direction gets the payload (Zeek's `TCPSessionAdapter::Process`).
extension Worker {
    /// Hands reassembled bytes to the connection's analyzer. A struct over an unowned worker, so
    /// the reassembler's generic calls specialise to direct calls with no reference counting.
    struct AnalyzerStream: TCPStreamConsumer {
        unowned(unsafe) let worker: Worker
        let slot: Int

        mutating func deliver(_ data: UnsafeRawBufferPointer, isOriginator: Bool) {
            worker.deliverStream(slot: slot, data: data, isOriginator: isOriginator)
        }

        mutating func gap(length: UInt64, isOriginator: Bool) {
            worker.streamGap(slot: slot, length: length, isOriginator: isOriginator)
        }
    }

    /// Chooses a new TCP connection's analyzer: one an analyzer announced for it (Zeek's
    /// `Analyzer::schedule_analyzer`, applied before port-based choices), else by its responder
    /// port (Zeek's `Analyzer::register_for_ports`); without one, content probing decides
    /// (Worker+DPD.swift).
    func attachStreamAnalyzer(_ conn: inout Connection) {
        if let kind = expected.analyzer(
            originator: conn.originator, responder: conn.responder, responderPort: conn.responderPort, now: now)
        {
            // FTP data: `scheduled_analyzer_applied` adds the service at once; the transfer's
            // bytes are followed into the files framework when FTP still remembers the channel.
            if let service = kind.service { conn.services.insert(service.rawValue) }
            if kind == .ftpData, let slot = ftpLog.attachTransfer(connection: conn, now: now) {
                conn.analyzer = kind.rawValue
                conn.analyzerSlot = slot
            }
            return
        }
        guard let kind = WellKnownPorts.tcpAnalyzer(responderPort: conn.responderPort) else {
            attachProbe(&conn)
            return
        }
        switch kind {
        case .dns:
            guard let analyzerSlot = dns.attach(at: now) else { return }
            dnsFramer.reset(analyzerSlot)
            conn.analyzer = kind.rawValue
            conn.analyzerSlot = analyzerSlot
        case .ntp, .dhcp, .pia:
            return  // UDP only; PIA is not a port analyzer
        case .http:
            guard let analyzerSlot = http.attach() else { return }
            conn.analyzer = kind.rawValue
            conn.analyzerSlot = analyzerSlot
        case .ssl:
            guard let analyzerSlot = ssl.attach() else { return }
            conn.analyzer = kind.rawValue
            conn.analyzerSlot = analyzerSlot
        case .ssh:
            guard let analyzerSlot = ssh.attach() else { return }
            conn.analyzer = kind.rawValue
            conn.analyzerSlot = analyzerSlot
        case .ftp:
            guard let analyzerSlot = ftp.attach() else { return }
            conn.analyzer = kind.rawValue
            conn.analyzerSlot = analyzerSlot
        case .smtp:
            guard let analyzerSlot = smtp.attach() else { return }
            conn.analyzer = kind.rawValue
            conn.analyzerSlot = analyzerSlot
        case .ftpData:
            return  // only when announced
        }
    }

    /// Feeds one TCP segment of a connection with an analyzer through reassembly.
    func reassemble(_ bytes: UnsafeRawBufferPointer, t: TransportLayer, slot: Int, isOriginator: inout Bool) {
        let c = flows.connection(at: slot)
        var consumer = AnalyzerStream(worker: self, slot: slot)
        if t.flags.contains(.ack),
            let ack = c.pointee.tcp.relativeAcknowledgement(t.acknowledgement, ofDataFrom: !isOriginator)
        {
            let context = c.pointee.tcp.reassemblyContext(isOriginator: !isOriginator)
            _ = isOriginator
                ? c.pointee.responderStream.ackReceived(ack, context: context, pool: &reassembly, consumer: &consumer)
                : c.pointee.originatorStream.ackReceived(ack, context: context, pool: &reassembly, consumer: &consumer)
        }
        if t.payloadLength > 0,
            let sequence = c.pointee.tcp.relativeDataSequence(t.sequence, flags: t.flags, isOriginator: isOriginator)
        {
            let payload = UnsafeRawBufferPointer(
                rebasing: bytes[t.payloadOffset..<(t.payloadOffset + t.capturedPayloadLength)])
            let context = c.pointee.tcp.reassemblyContext(isOriginator: isOriginator)
            // The analyzers called back during delivery queue their weirds in `weirds`, so the
            // reassembler gets its own queue (no overlapping access), merged afterwards.
            var segmentWeirds = WeirdQueue()
            _ = isOriginator
                ? c.pointee.originatorStream.dataSent(
                    sequence: sequence, payload: payload, length: t.payloadLength, flags: t.flags, context: context,
                    pool: &reassembly, consumer: &consumer, weirds: &segmentWeirds)
                : c.pointee.responderStream.dataSent(
                    sequence: sequence, payload: payload, length: t.payloadLength, flags: t.flags, context: context,
                    pool: &reassembly, consumer: &consumer, weirds: &segmentWeirds)
            for i in 0..<segmentWeirds.count { weirds.append(segmentWeirds[i]) }
        }
        if pendingStreamFlip {
            pendingStreamFlip = false
            c.pointee.flipRoles()
            c.pointee.tcp.flipRoles(history: &c.pointee.history)
            isOriginator.toggle()
        }
        releaseEndedProbe(c)
    }

    /// In-order bytes of one direction, to the connection's analyzer.
    func deliverStream(slot: Int, data: UnsafeRawBufferPointer, isOriginator: Bool) {
        switch AnalyzerKind(rawValue: flows.connection(at: slot).pointee.analyzer) {
        case .dns: deliverDNSStream(slot: slot, data: data, isOriginator: isOriginator)
        case .http: deliverHTTP(slot: slot, data: data, isOriginator: isOriginator)
        case .ssl: deliverSSL(slot: slot, data: data, isOriginator: isOriginator)
        case .ssh: deliverSSH(slot: slot, data: data, isOriginator: isOriginator)
        case .ftp: deliverFTP(slot: slot, data: data, isOriginator: isOriginator)
        case .smtp: deliverSMTP(slot: slot, data: data, isOriginator: isOriginator)
        case .pia: deliverProbe(slot: slot, data: data, isOriginator: isOriginator)
        case .ftpData:
            ftpLog.transferData(
                slot: flows.connection(at: slot).pointee.analyzerSlot, data: data, isOriginator: isOriginator, now: now)
        case .ntp, .dhcp, nil: break
        }
    }

    /// A content gap in one direction, to the connection's analyzer.
    func streamGap(slot: Int, length: UInt64, isOriginator: Bool) {
        switch AnalyzerKind(rawValue: flows.connection(at: slot).pointee.analyzer) {
        case .dns: gapDNSStream(slot: slot, isOriginator: isOriginator)
        case .http: gapHTTP(slot: slot, length: length, isOriginator: isOriginator)
        case .ssl: gapSSL(slot: slot)
        case .ssh: gapSSH(slot: slot)
        case .ftp: ftp.gap(flows.connection(at: slot).pointee.analyzerSlot, isOriginator: isOriginator)
        case .smtp: gapSMTP(slot: slot, isOriginator: isOriginator)
        case .pia: gapProbe(slot: slot)
        case .ftpData:
            ftpLog.transferGap(
                slot: flows.connection(at: slot).pointee.analyzerSlot, length: length, isOriginator: isOriginator,
                now: now)
        case .ntp, .dhcp, nil: break
        }
    }
}
