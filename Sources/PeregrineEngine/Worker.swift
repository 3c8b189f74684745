// SPDX-License-Identifier: Apache-2.0
import PeregrineAnalyzers
import PeregrineCore
import PeregrineDecode
import PeregrineLogs
import PeregrinePolicy
import PeregrineSessions

/// One worker: decodes each frame, keeps its connections and tunnels, and writes their records.
///
/// This is the per-packet path (style.md §4): decoders are inlined static functions over the
/// borrowed frame, connection state lives in the preallocated `FlowTable`, and nothing on the way
/// allocates for an ordinary packet. Weirds, new tunnels and finished connections (per connection
/// or rarer) are where records get built. A worker belongs to one thread.
final class Worker {
    let config: Configuration
    let flows: FlowTable
    let fragments = FragmentReassembler()
    var uids: UIDGenerator
    var logs: LogStreams
    var weirdPolicy = WeirdPolicy()
    let verifyChecksums: Bool
    let timeouts: FlowTable.Timeouts
    let likelyServerPorts: Set<UInt32>
    /// Network time: the current packet's timestamp.
    var now = Timestamp.zero
    var nextExpiryCheck = Timestamp.zero
    var weirds = WeirdQueue()
    /// IP-in-IP and GRE tunnels by unordered address pair: their uid and first endpoints
    /// (Zeek's `IPTunnelAnalyzer::ip_tunnels`, forgotten after `Tunnel.ipTunnelTimeoutSeconds`).
    var ipTunnels: [AddressPair: IPTunnelEntry] = [:]
    /// Tunnels already written as DISCOVER (Zeek's `Tunnel::active`), by uid.
    var activeTunnels: Set<ConnectionUID> = []
    /// The DNS analyzer's per-connection pool, its reusable message event, and dns.log's policy.
    let dns: DNSAnalyzer
    var dnsMessage = DNSMessage()
    var dnsLog: DNSLog
    /// ntp.log's policy.
    var ntpLog = NTPLog()
    var dhcpLog = DHCPLog()
    /// Length-prefix framing of DNS over TCP, per DNS slot.
    let dnsFramer: DNSStreamFramer
    /// The HTTP analyzer's per-connection pool and http.log/files.log's policy.
    let http: HTTPAnalyzer
    /// A `var` so the analyzer takes it `inout` (no reference counting per delivery).
    var httpLog: HTTPLog
    /// The SSL analyzer's per-connection pool and ssl.log/x509.log's policy (`inout` sink).
    let ssl: TLSAnalyzer
    var sslLog: SSLLog
    /// The SSH analyzer's per-connection pool and ssh.log's policy (`inout` sink).
    let ssh: SSHAnalyzer
    var sshLog: SSHLog
    /// The FTP analyzer's pool, ftp.log's policy, and the data connections FTP announced.
    let ftp: FTPAnalyzer
    let ftpLog: FTPLog
    var expected = ExpectedConnections()
    /// The SMTP analyzer's pool and smtp.log's policy.
    let smtp: SMTPAnalyzer
    let smtpLog: SMTPLog
    /// Per SMTP slot, the SSL analyzer slot STARTTLS started (0 = none).
    var smtpTLS: [UInt32]
    /// DPD's reaction to violations, and analyzer.log.
    var analyzerLog = AnalyzerLog()
    /// Content probes of TCP connections no analyzer took by port (Zeek's PIA_TCP).
    let detector: ProtocolDetector
    /// Out-of-order TCP data of every connection with an analyzer (Zeek's reassembler blocks).
    var reassembly = ReassemblyPool()
    /// A role flip an analyzer asked for while reassembly was delivering to it; applied once the
    /// reassembler call returned, since the flip swaps the two directions' reassemblers.
    var pendingStreamFlip = false
    /// Shunting (Worker+Shunt.swift): nil unless a live run turned it on.
    var shunting: WorkerShunting?

    /// Counters for stats (`decode.*`, `flows.*`).
    var packets: UInt64 = 0
    var nonIPFrames: UInt64 = 0
    /// stats.log and capture_loss.log: plain counters and their schedule (Worker+Stats.swift).
    var statistics = WorkerStatistics()
    var reporting: WorkerReporting

    struct AddressPair: Hashable {
        var low: IPAddress
        var high: IPAddress
    }

    struct IPTunnelEntry {
        var uid: ConnectionUID
        var source: IPAddress
        var destination: IPAddress
        var kind: TunnelKind
        var lastSeen: Timestamp
    }

    /// The `ServiceID` a UDP tunnel confirms (IP-in-IP and GRE have no connection to confirm on).
    @inline(__always)
    static func serviceID(_ kind: TunnelKind) -> UInt8 {
        let id: ServiceID? =
            switch kind {
            case .vxlan: .vxlan
            case .geneve: .geneve
            case .teredo: .teredo
            case .ayiya: .ayiya
            case .gtpv1: .gtpv1
            case .ip, .gre: nil
            }
        return id?.rawValue ?? 0
    }

    /// Teredo's per-connection confirmation bits in `Connection.tunnelState` (Zeek's
    /// `valid_orig`/`valid_resp`), and the bit for an analyzer violation.
    static let tunnelValidOriginator: UInt8 = 1
    static let tunnelValidResponder: UInt8 = 2
    static let tunnelViolated: UInt8 = 4

    init(config: Configuration, logs: LogStreams, seed: UInt64) {
        self.config = config
        self.logs = logs
        uids = UIDGenerator(seed: seed)
        flows = FlowTable(capacity: config.maxConnections, seed: seed ^ 0x5EED)
        verifyChecksums = !config.ignoreChecksums
        timeouts = FlowTable.Timeouts(
            tcp: config.timeouts.tcpInactivity, udp: config.timeouts.udpInactivity,
            icmp: config.timeouts.icmpInactivity, other: TCPTimeouts.udpInactivityTimeout,
            dns: DNSAnalyzer.sessionTimeout, closing: config.timeouts.closeDelay)
        // With every analyzer off the pools stay minimal: they would only cost start-up time and
        // memory (about 70 M instructions and 40 MB on real-mix.pcap).
        let off = config.disableAllAnalyzers
        let dnsSlots = off ? 1 : config.maxDNSConnections, httpSlots = off ? 1 : config.maxHTTPConnections
        let sslSlots = off ? 1 : config.maxSSLConnections, sshSlots = off ? 1 : config.maxSSHConnections
        let ftpSlots = off ? 1 : config.maxFTPConnections, smtpSlots = off ? 1 : config.maxSMTPConnections
        dns = DNSAnalyzer(capacity: dnsSlots)
        dnsLog = DNSLog(capacity: dnsSlots)
        dnsFramer = DNSStreamFramer(capacity: dnsSlots, bufferCount: off ? 1 : DNSStreamFramer.defaultBufferCount)
        http = HTTPAnalyzer(capacity: httpSlots)
        detector = ProtocolDetector(capacity: off ? 1 : config.maxProbingConnections)
        httpLog = HTTPLog(capacity: httpSlots, files: FilesLog(seed: seed ^ 0xF11E5))
        ssl = TLSAnalyzer(capacity: sslSlots)
        sslLog = SSLLog(capacity: sslSlots)
        ssh = SSHAnalyzer(capacity: sshSlots)
        sshLog = SSHLog(capacity: sshSlots)
        ftp = FTPAnalyzer(capacity: ftpSlots)
        ftpLog = FTPLog(capacity: ftpSlots, files: httpLog.files)
        smtp = SMTPAnalyzer(capacity: smtpSlots)
        smtpLog = SMTPLog(capacity: smtpSlots)
        smtpTLS = [UInt32](repeating: 0, count: smtpSlots + 1)
        likelyServerPorts = RoleDecision.defaultLikelyServerPorts
        reporting = WorkerReporting(config: config)
    }

    // MARK: - Frames

    /// Processes one captured frame.
    @inline(__always)
    func process(bytes: UnsafeRawBufferPointer, wireLength: Int, timestamp: Timestamp, linkType: LinkType) {
        packets &+= 1
        statistics.bytes &+= UInt64(wireLength)
        if timestamp > now { now = timestamp }
        if now >= nextExpiryCheck { expireConnections() }
        var link = LinkLayer()
        switch LinkDecoder.decode(bytes, linkType: linkType, into: &link) {
        case .stop(let w):
            if let w { weird(w, scope: .network) }
            return
        case .ok: break
        }
        if let a = link.anomaly { weird(a, scope: .network) }
        guard link.etherType == 0x0800 || link.etherType == 0x86DD else {
            nonIPFrames &+= 1
            return
        }
        processIP(
            bytes, wireLength: wireLength, offset: link.networkOffset, etherType: link.etherType, vlan: link.vlan,
            innerVlan: link.innerVlan, encapsulation: .none)
    }

    func processIP(
        _ bytes: UnsafeRawBufferPointer, wireLength: Int, offset: Int, etherType: UInt16, vlan: UInt16,
        innerVlan: UInt16, encapsulation: Encapsulation
    ) {
        var ip = IPLayer()
        switch IPDecoder.decode(
            bytes, wireLength: wireLength, offset: offset, etherType: etherType, verifyChecksum: verifyChecksums,
            into: &ip)
        {
        case .stop(let w):
            if let w { weird(w, scope: ip.version != 0 ? .flow(source: ip.source, destination: ip.destination) : .network) }
            return
        case .ok: break
        }
        if let a = ip.anomaly { weird(a, scope: .flow(source: ip.source, destination: ip.destination)) }
        if ip.isFragment {
            if ip.capturedPayloadLength == ip.payloadLength {
                let result = fragments.add(frame: bytes, ip: ip, timestamp: now)
                for i in 0..<fragments.weirdCount {
                    weird(fragments.weird(at: i), scope: .flow(source: ip.source, destination: ip.destination))
                }
                switch result {
                case .incomplete: return
                case .dropped(let w):
                    if let w { weird(w, scope: .flow(source: ip.source, destination: ip.destination)) }
                    return
                case .complete(let packet):
                    processIP(
                        packet, wireLength: packet.count, offset: 0, etherType: ip.version == 6 ? 0x86DD : 0x0800,
                        vlan: vlan, innerVlan: innerVlan, encapsulation: encapsulation)
                    return
                }
            } else if ip.fragmentOffset != 0 {
                return
            }
        }
        switch ip.transportProtocol {
        case 6, 17, 1, 58:
            var t = TransportLayer()
            switch TransportDecoder.decode(bytes, ip: ip, verifyChecksum: verifyChecksums, into: &t) {
            case .stop(let w):
                if let w { weird(w, scope: .flow(source: ip.source, destination: ip.destination)) }
                return
            case .ok: break
            }
            processSession(bytes, ip: ip, t: t, vlan: vlan, innerVlan: innerVlan, encapsulation: encapsulation)
        case 4, 41:
            ipTunnel(bytes, ip: ip, kind: .ip, outcome: IPInIP.parse(bytes, offset: ip.payloadOffset, length: ip.capturedPayloadLength), vlan: vlan, innerVlan: innerVlan, encapsulation: encapsulation)
        case 47:
            ipTunnel(bytes, ip: ip, kind: .gre, outcome: GRE.parse(bytes, offset: ip.payloadOffset, length: ip.capturedPayloadLength), vlan: vlan, innerVlan: innerVlan, encapsulation: encapsulation)
        case 2:
            if verifyChecksums, let w = IGMPDecoder.validate(bytes, ip: ip) {
                weird(w, scope: .flow(source: ip.source, destination: ip.destination))
            }
        default:
            break
        }
    }

    // MARK: - Connections

    func processSession(
        _ bytes: UnsafeRawBufferPointer, ip: IPLayer, t: TransportLayer, vlan: UInt16, innerVlan: UInt16,
        encapsulation: Encapsulation
    ) {
        let proto = ip.transportProtocol
        var sourcePort = t.sourcePort, destinationPort = t.destinationPort
        var oneWay = false
        if proto == 1 || proto == 58 {
            let c = proto == 1
                ? ICMPRoles.counterpartV4(type: t.icmpType, code: t.icmpCode)
                : ICMPRoles.counterpartV6(type: t.icmpType, code: t.icmpCode)
            sourcePort = UInt16(t.icmpType)
            destinationPort = c.port
            oneWay = c.oneWay
        }
        let key = oneWay
            ? FlowKey(directionalSource: ip.source, sourcePort: sourcePort, destination: ip.destination,
                      destinationPort: destinationPort, transportProtocol: proto)
            : FlowKey(source: ip.source, sourcePort: sourcePort, destination: ip.destination,
                      destinationPort: destinationPort, transportProtocol: proto)
        let hash = flows.hash(key)
        var found = flows.find(key, hash: hash)
        if let slot = found, proto == 6, isReuse(flows.connection(at: slot), flags: t.flags) {
            finish(slot: slot)
            found = nil
        }
        // Zeek runs the DNS expiry timer before a later packet; a connection it removes makes
        // this packet start a new one.
        if let slot = found, proto == 17, flows.connection(at: slot).pointee.analyzer == AnalyzerKind.dns.rawValue,
            dns.timerExpired(flows.connection(at: slot).pointee.analyzerSlot,
                             lastActivity: flows.connection(at: slot).pointee.lastTime, now: now)
        {
            finish(slot: slot)
            found = nil
        }
        let slot = found
            ?? newConnection(
                ip: ip, t: t, key: key, hash: hash, sourcePort: sourcePort, destinationPort: destinationPort,
                oneWay: oneWay, vlan: vlan, innerVlan: innerVlan)
        let c = flows.connection(at: slot)
        if c.pointee.shunt != .none { shuntedPacket(c, flags: t.flags) }
        // A new connection, or one whose innermost tunnel changed (Zeek's `tunnel_changed`), gains
        // the tunnel as a parent, and tunnels not yet logged get their DISCOVER line.
        // `depth` first: the common untunnelled packet then never calls `innermost`, which the
        // optimiser does not always inline (callgrind: 34 instructions per packet when it did not).
        if encapsulation.depth > 0, let inner = encapsulation.innermost, !c.pointee.tunnelParents.contains(inner.uid) {
            c.pointee.tunnelParents.insert(inner.uid)
            discoverTunnels(encapsulation)
        }
        var isOrig = ip.source == c.pointee.originator && sourcePort == c.pointee.originatorPort
        weirds.removeAll()
        var list = FlowTable.ExpiryClass.other
        switch proto {
        case 6:
            let result = c.pointee.tcp.process(
                isOriginator: isOrig, flags: t.flags, sequence: t.sequence, acknowledgement: t.acknowledgement,
                payloadLength: t.payloadLength, window: t.window, checksumValid: t.checksumValid,
                history: &c.pointee.history, weirds: &weirds)
            if result.ackEvent {
                statistics.acks &+= 1
                if result.gapEvent { statistics.gaps &+= 1 }
            }
            if result.flippedRoles {
                c.pointee.flipRoles()
                isOrig.toggle()
            }
            if result.updatesLastTime { c.pointee.lastTime = now }
            count(c, isOrig: isOrig, ip: ip)
            if c.pointee.analyzer != 0 && t.checksumValid && !c.pointee.shunt.stopsInspection {
                reassemble(bytes, t: t, slot: slot, isOriginator: &isOrig)
            }
            if result.closeComplete || c.pointee.tcp.originator.state == .reset
                || c.pointee.tcp.responder.state == .reset
            {
                flows.markClosing(slot: slot, time: c.pointee.lastTime)
            } else if result.armAttemptTimer {
                flows.reassign(slot: slot, list: .other, time: now)
            } else {
                let established = flows.list(of: slot) == .tcp || result.handshakeFinished
                    || !(c.pointee.tcp.originator.state == .synSent || c.pointee.tcp.originator.state == .synAckSent)
                list = established ? .tcp : .other
                if result.handshakeFinished { flows.reassign(slot: slot, list: .tcp, time: now) }
            }
        case 17:
            if c.pointee.udp.process(
                isOriginator: isOrig, udpLength: t.payloadLength &+ 8, checksumValid: t.checksumValid,
                history: &c.pointee.history, weirds: &weirds)
            {
                c.pointee.lastTime = now
            }
            // NTP may swap the roles; Zeek counts the datagram after its analyzers ran, in the
            // direction it arrived with (see Worker+NTP.swift).
            if c.pointee.analyzer == AnalyzerKind.ntp.rawValue && t.checksumValid && t.capturedPayloadLength > 0 {
                deliverNTP(bytes, t: t, slot: slot, isOriginator: isOrig)
            } else if c.pointee.analyzer == AnalyzerKind.dhcp.rawValue && t.checksumValid && t.capturedPayloadLength > 0 {
                deliverDHCP(bytes, t: t, slot: slot, isOriginator: isOrig)
            }
            count(c, isOrig: isOrig, ip: ip)
            // A DNS connection's expiry is the analyzer's timer, not activity: `.other` leaves
            // its list position alone.
            list = c.pointee.analyzer == AnalyzerKind.dns.rawValue && !dns.isDisabled(c.pointee.analyzerSlot)
                ? .other : .udp
            if c.pointee.analyzer == AnalyzerKind.dns.rawValue && t.checksumValid && t.capturedPayloadLength > 0 {
                deliverDNS(bytes, t: t, slot: slot, isOriginator: &isOrig)
            }
        default:
            count(c, isOrig: isOrig, ip: ip)
            list = .icmp
            if !t.checksumValid {
                weirds.append(.badICMPChecksum)
            } else {
                c.pointee.lastTime = now
                let len = Int64(t.payloadLength)
                if isOrig {
                    c.pointee.icmpOriginatorLength = max(c.pointee.icmpOriginatorLength, 0) &+ len
                } else {
                    c.pointee.icmpResponderLength = max(c.pointee.icmpResponderLength, 0) &+ len
                }
            }
        }
        if shunting != nil && c.pointee.shunt == .none { considerShunt(c) }
        if flows.list(of: slot) != .closing && list != .other { flows.touch(slot: slot, list: list, time: now) }
        if weirds.count > 0 { flushConnectionWeirds(c.pointee) }
        if proto == 17 && t.checksumValid {
            udpTunnel(bytes, t: t, slot: slot, isOriginator: isOrig, vlan: vlan, innerVlan: innerVlan,
                      encapsulation: encapsulation)
        }
    }

    /// Zeek's `TCPSessionAdapter::IsReuse`: a new SYN (no ACK) on a connection one of whose
    /// endpoints is closed or reset starts a new connection with the same 5-tuple.
    @inline(__always)
    func isReuse(_ c: UnsafeMutablePointer<Connection>, flags: TCPFlags) -> Bool {
        guard flags.contains(.syn), !flags.contains(.ack) else { return false }
        let o = c.pointee.tcp.originator.state, r = c.pointee.tcp.responder.state
        return o == .closed || o == .reset || r == .closed || r == .reset
    }

    func newConnection(
        ip: IPLayer, t: TransportLayer, key: FlowKey, hash: UInt64, sourcePort: UInt16, destinationPort: UInt16,
        oneWay: Bool, vlan: UInt16, innerVlan: UInt16
    ) -> Int {
        var conn = Connection(
            uid: uids.nextUID(), originator: ip.source, originatorPort: sourcePort, responder: ip.destination,
            responderPort: destinationPort, transportProtocol: ip.transportProtocol, oneWayICMP: oneWay, time: now,
            vlan: vlan, innerVlan: innerVlan)
        let broadcast = ip.destination.isIPv4 && ip.destination.ipv4Value == 0xFFFF_FFFF
        if !broadcast
            && RoleDecision.shouldFlip(
                transportProtocol: ip.transportProtocol, flags: t.flags, sourcePort: sourcePort,
                destinationPort: destinationPort, likelyServerPorts: likelyServerPorts)
        {
            conn.flipRoles()
            switch ip.transportProtocol {
            case 6: conn.tcp.flipRoles(history: &conn.history)
            case 17: conn.udp.flipRoles(history: &conn.history)
            default: conn.history.flip()
            }
        }
        var list: FlowTable.ExpiryClass
        switch ip.transportProtocol {
        case 6:
            list = .other
            statistics.tcpCreated &+= 1
        case 17:
            list = .udp
            statistics.udpCreated &+= 1
        default:
            list = .icmp
            statistics.icmpCreated &+= 1
        }
        if config.disableAllAnalyzers {
            // conn.log only: no analyzer, no reassembly.
        } else if ip.transportProtocol == 17, let kind = WellKnownPorts.udpAnalyzer(responderPort: conn.responderPort) {
            switch kind {
            case .dns:
                if let analyzerSlot = dns.attach(at: now) {
                    conn.analyzer = kind.rawValue
                    conn.analyzerSlot = analyzerSlot
                    list = .dns
                }
            case .ntp, .dhcp:
                conn.analyzer = kind.rawValue
                conn.analyzerSlot = 0
            case .http, .ssl, .ssh, .ftp, .ftpData, .smtp, .pia:
                break  // TCP only
            }
        } else if ip.transportProtocol == 6 {
            attachStreamAnalyzer(&conn)
        }
        return flows.insert(conn, key: key, hash: hash, list: list, time: now) { evicted in
            log(&evicted)
        }
    }

    @inline(__always)
    func count(_ c: UnsafeMutablePointer<Connection>, isOrig: Bool, ip: IPLayer) {
        if isOrig {
            c.pointee.originatorPackets &+= 1
            c.pointee.originatorIPBytes &+= UInt64(ip.totalLength)
        } else {
            c.pointee.responderPackets &+= 1
            c.pointee.responderIPBytes &+= UInt64(ip.totalLength)
        }
    }

    /// Removes a connection now, logging it.
    func finish(slot: Int) {
        log(&flows.connection(at: slot).pointee)
        flows.remove(slot: slot)
    }

    func log(_ c: inout Connection) {
        if c.shunt == .active { endShunt(&c) }
        switch c.transportProtocol {
        case 6: statistics.tcpRemoved &+= 1
        case 17: statistics.udpRemoved &+= 1
        default: statistics.icmpRemoved &+= 1
        }
        if c.analyzer != 0 && c.transportProtocol == 6 {
            c.originatorStream.release(pool: &reassembly)
            c.responderStream.release(pool: &reassembly)
        }
        if c.analyzer == AnalyzerKind.dns.rawValue {
            if c.transportProtocol == 6 { dnsFramer.reset(c.analyzerSlot) }
            dnsLog.connectionEnded(slot: c.analyzerSlot, connection: c, logs: &logs)
            dns.detach(c.analyzerSlot)
            c.analyzer = 0
        }
        if c.analyzer == AnalyzerKind.http.rawValue { endHTTP(connection: &c) }
        if c.analyzer == AnalyzerKind.ssl.rawValue { endSSL(connection: &c) }
        if c.analyzer == AnalyzerKind.ssh.rawValue { endSSH(connection: &c) }
        if c.analyzer == AnalyzerKind.ftp.rawValue { endFTP(connection: &c) }
        if c.analyzer == AnalyzerKind.ftpData.rawValue { endFTPData(connection: &c) }
        if c.analyzer == AnalyzerKind.smtp.rawValue { endSMTP(connection: &c) }
        if c.analyzer == AnalyzerKind.pia.rawValue {
            if c.analyzerSlot != 0 { detector.detach(c.analyzerSlot) }
            c.analyzer = 0
            c.analyzerSlot = 0
        }
        logs.logConnection(c) { ServiceID.name(of: $0) }
        if c.tunnelKind != 0, let kind = TunnelKind(rawValue: c.tunnelKind - 1) {
            logs.logTunnel(
                uid: c.uid, originator: c.originator, originatorPort: c.originatorPort, responder: c.responder,
                responderPort: c.responderPort, kind: kind, close: true, at: now)
        }
    }

    /// Expires connections whose timers ran out, at most once per second of network time.
    /// Network time between two expiry passes.
    static let expiryInterval = Interval.seconds(1)

    /// Moves network time to `time` without a packet, running the expiry pass if one is due: the
    /// offline reader's clock records (`FrameDispatch`), so every worker expires on one schedule.
    func advanceClock(to time: Timestamp) {
        if time > now { now = time }
        if now >= nextExpiryCheck { expireConnections() }
    }

    func expireConnections() {
        nextExpiryCheck = now.adding(Self.expiryInterval)
        flows.expire(now: now, timeouts: timeouts) { c, list in
            // A shunted connection's packets stay in the kernel: its count there says whether it lives.
            if c.shunt == .active && (list == .tcp || list == .udp) && self.shuntKeepsAlive(&c) {
                return .keep(list, now)
            }
            // A TCP attempt that got an answer in time stays; one that did not is removed
            // (Zeek's `AttemptTimer`); everything else due is removed.
            if list == .dns && !self.dns.timerExpired(c.analyzerSlot, lastActivity: c.lastTime, now: now) {
                return .keep(.dns, self.dns.timerDue(c.analyzerSlot).adding(Interval(nanoseconds: -timeouts.dns.nanoseconds)))
            }
            if list == .other && c.transportProtocol == 6 {
                let o = c.tcp.originator.state, r = c.tcp.responder.state
                let attempt = (o == .synSent || o == .synAckSent) && r == .inactive
                if !attempt && c.lastTime.adding(timeouts.tcp) > now { return .keep(.tcp, c.lastTime) }
            }
            log(&c)
            return .remove
        }
        dhcpLog.expire(now: now, logs: &logs)
        if ipTunnels.count > 0 {
            ipTunnels = ipTunnels.filter { now.since($0.value.lastSeen) < .seconds(Int64(Tunnel.ipTunnelTimeoutSeconds)) }
        }
        reportIfDue()
    }

    /// End of input: every open connection is logged (Zeek's `Drain` at termination).
    func finishAll() {
        flows.removeAll { c in log(&c) }
        httpLog.files.endAll()
        httpLog.flush(into: &logs)
        dhcpLog.flushAll(logs: &logs)
        reportFinal()
    }

    // MARK: - Weirds

    func weird(_ w: Weird, scope: WeirdScope) {
        if weirdPolicy.shouldLog(w, scope: scope, at: now) { logs.logWeird(w, scope: scope, at: now) }
    }

    /// A connection weird with Zeek's `addl` text (none when empty).
    func weird(_ w: Weird, addl: [UInt8], scope: WeirdScope) {
        guard weirdPolicy.shouldLog(w, scope: scope, at: now) else { return }
        if addl.isEmpty {
            logs.logWeird(w, scope: scope, at: now)
        } else {
            addl.withUnsafeBytes { logs.logWeird(w, scope: scope, at: now, addl: $0) }
        }
    }

    func flushConnectionWeirds(_ c: Connection) {
        let scope = WeirdScope.connection(
            uid: c.uid, originator: c.originator, originatorPort: c.originatorPort, responder: c.responder,
            responderPort: c.responderPort)
        for i in 0..<weirds.count { weird(weirds[i], scope: scope) }
        weirds.removeAll()
    }

    // MARK: - Tunnels

    func discoverTunnels(_ e: Encapsulation) {
        for i in 0..<e.depth {
            guard let entry = e[i], !activeTunnels.contains(entry.uid) else { continue }
            activeTunnels.insert(entry.uid)
            logs.logTunnel(
                uid: entry.uid, originator: entry.originator, originatorPort: entry.originatorPort,
                responder: entry.responder, responderPort: entry.responderPort, kind: entry.kind, close: false, at: now)
            // The uid check guards against the outer connection having been evicted (full table)
            // by the insertion of the inner one, and its slot reused.
            if let slot = entry.connectionSlot, flows.connection(at: slot).pointee.uid == entry.uid {
                flows.connection(at: slot).pointee.tunnelKind = entry.kind.rawValue + 1
            }
        }
    }

    func ipTunnel(
        _ bytes: UnsafeRawBufferPointer, ip: IPLayer, kind: TunnelKind, outcome: TunnelOutcome, vlan: UInt16,
        innerVlan: UInt16, encapsulation: Encapsulation
    ) {
        if let w = outcome.weird { weird(w, scope: .flow(source: ip.source, destination: ip.destination)) }
        guard let payload = outcome.payload else { return }
        guard encapsulation.depth < Tunnel.maxDepth else {
            weird(kind.depthExceededWeird, scope: .flow(source: ip.source, destination: ip.destination))
            return
        }
        let pair = ip.source < ip.destination
            ? AddressPair(low: ip.source, high: ip.destination) : AddressPair(low: ip.destination, high: ip.source)
        let entry: IPTunnelEntry
        if var existing = ipTunnels[pair] {
            existing.lastSeen = now
            ipTunnels[pair] = existing
            entry = existing
        } else {
            entry = IPTunnelEntry(uid: uids.nextUID(), source: ip.source, destination: ip.destination, kind: kind, lastSeen: now)
            ipTunnels[pair] = entry
        }
        let inner = encapsulation.pushing(
            .init(uid: entry.uid, kind: entry.kind, originator: entry.source, responder: entry.destination,
                  originatorPort: 0, responderPort: 0, connectionSlot: nil))
        decapsulate(bytes, payload: payload, vlan: vlan, innerVlan: innerVlan, encapsulation: inner)
    }

    func udpTunnel(
        _ bytes: UnsafeRawBufferPointer, t: TransportLayer, slot: Int, isOriginator: Bool, vlan: UInt16, innerVlan: UInt16, encapsulation: Encapsulation
    ) {
        let offset = t.payloadOffset, length = t.capturedPayloadLength
        guard length > 0 else { return }
        let c = flows.connection(at: slot)
        var kind = TunnelKind.udpKind(responderPort: c.pointee.responderPort)
        if kind == nil {
            if Teredo.detect(bytes, offset: offset, length: length) {
                kind = .teredo
            } else if AYIYA.detect(bytes, offset: offset, length: length) {
                kind = .ayiya
            }
        }
        guard let kind, c.pointee.tunnelState & Self.tunnelViolated == 0 else { return }
        guard encapsulation.depth < Tunnel.maxDepth else {
            weird(kind.depthExceededWeird, scope: connectionScope(c.pointee))
            return
        }
        if kind == .gtpv1, encapsulation.innermost?.kind == .gtpv1 { return }
        let outcome: TunnelOutcome
        switch kind {
        case .vxlan: outcome = VXLAN.parse(bytes, offset: offset, length: length)
        case .geneve: outcome = Geneve.parse(bytes, offset: offset, length: length)
        case .teredo: outcome = Teredo.parse(bytes, offset: offset, length: length)
        case .ayiya: outcome = AYIYA.parse(bytes, offset: offset, length: length)
        case .gtpv1: outcome = GTPv1.parse(bytes, offset: offset, length: length)
        case .ip, .gre: return
        }
        let confirmed = c.pointee.services.contains(Self.serviceID(kind))
        switch outcome.verdict {
        case .violation:
            c.pointee.tunnelState |= Self.tunnelViolated
        case .valid:
            if kind.confirmationNeedsBothDirections {
                c.pointee.tunnelState |= isOriginator ? Self.tunnelValidOriginator : Self.tunnelValidResponder
                if c.pointee.tunnelState & 3 == 3 { c.pointee.services.insert(Self.serviceID(kind)) }
            } else {
                c.pointee.services.insert(Self.serviceID(kind))
            }
        case .none: break
        }
        if let w = outcome.weird, !outcome.weirdOnlyIfConfirmed || confirmed {
            weird(w, scope: connectionScope(c.pointee))
        }
        guard let payload = outcome.payload else { return }
        if kind == .teredo && Teredo.isBubble(bytes, payload: payload) { return }
        let inner = encapsulation.pushing(
            .init(uid: c.pointee.uid, kind: kind, originator: c.pointee.originator, responder: c.pointee.responder,
                  originatorPort: c.pointee.originatorPort, responderPort: c.pointee.responderPort, connectionSlot: slot))
        decapsulate(bytes, payload: payload, vlan: vlan, innerVlan: innerVlan, encapsulation: inner)
    }

    func connectionScope(_ c: Connection) -> WeirdScope {
        .connection(uid: c.uid, originator: c.originator, originatorPort: c.originatorPort, responder: c.responder,
                    responderPort: c.responderPort)
    }

    /// Decodes a tunnel's payload as a new packet.
    func decapsulate(
        _ bytes: UnsafeRawBufferPointer, payload: TunnelPayload, vlan: UInt16, innerVlan: UInt16,
        encapsulation: Encapsulation
    ) {
        guard payload.offset >= 0, payload.length > 0, payload.offset + payload.length <= bytes.count else { return }
        let inner = UnsafeRawBufferPointer(rebasing: bytes[payload.offset..<(payload.offset + payload.length)])
        switch payload.kind {
        case .ethernet:
            var link = LinkLayer()
            guard case .ok = LinkDecoder.decode(inner, linkType: .ethernet, into: &link),
                link.etherType == 0x0800 || link.etherType == 0x86DD
            else { return }
            processIP(inner, wireLength: inner.count, offset: link.networkOffset, etherType: link.etherType,
                      vlan: vlan, innerVlan: innerVlan, encapsulation: encapsulation)
        case .rawIP, .ipv4, .ipv6:
            let etherType: UInt16 = payload.kind == .ipv6 || (payload.kind == .rawIP && inner[0] >> 4 == 6) ? 0x86DD : 0x0800
            processIP(inner, wireLength: inner.count, offset: 0, etherType: etherType, vlan: vlan,
                      innerVlan: innerVlan, encapsulation: encapsulation)
        case .arp, .ieee80211:
            return
        }
    }
}
