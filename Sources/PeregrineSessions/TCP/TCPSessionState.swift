// SPDX-License-Identifier: Apache-2.0
import PeregrineCore
import PeregrineDecode

/// Zeek's TCP timing options (init-bare.zeek defaults).
public enum TCPTimeouts {
    /// `tcp_SYN_timeout`: first expire check after creation.
    public static let synTimeout = Interval.seconds(5)
    /// `tcp_session_timer`: expire re-check after a one-sided close.
    public static let sessionTimer = Interval.seconds(6)
    /// `tcp_connection_linger`.
    public static let connectionLinger = Interval.seconds(5)
    /// `tcp_attempt_delay`: an unanswered SYN is removed after this.
    public static let attemptDelay = Interval.seconds(5)
    /// `tcp_close_delay`: after a complete close the state is flushed at `last_time` + this.
    public static let closeDelay = Interval.seconds(5)
    /// `tcp_reset_delay`.
    public static let resetDelay = Interval.seconds(5)
    /// `tcp_partial_close_delay`.
    public static let partialCloseDelay = Interval.seconds(3)
    /// `tcp_inactivity_timeout`, installed when the handshake finishes.
    public static let inactivityTimeout = Interval.seconds(300)
    /// `udp_inactivity_timeout` (also what TCPAnalyzer::MakeSessionAdapter installs first).
    public static let udpInactivityTimeout = Interval.seconds(60)
    /// `icmp_inactivity_timeout`.
    public static let icmpInactivityTimeout = Interval.seconds(60)
    /// `tcp_max_above_hole_without_any_acks`.
    public static let maxAboveHoleWithoutAnyAcks: UInt64 = 16384
}

/// What one TCP packet asks of the flow table.
@frozen
public struct TCPPacketResult: Sendable, Equatable {
    /// `Conn()->SetLastTime(t)` ran: extend the duration to this packet. False once both sides
    /// did_close, and for bad-checksum packets.
    public var updatesLastTime = false
    /// The roles flipped while processing this packet (swap orig/resp addresses; history has `^`).
    public var flippedRoles = false
    /// Arm the attempt timer at `t + tcp_attempt_delay` (removes the connection if the SYN is
    /// still unanswered: orig SYN_SENT/SYN_ACK_SENT and resp INACTIVE).
    public var armAttemptTimer = false
    /// The handshake finished: set the inactivity timeout to `tcp_inactivity_timeout`.
    public var handshakeFinished = false
    /// Close complete (`ConnectionClosed`): cancel other timers and remove the connection at
    /// `last_time + tcp_close_delay`.
    public var closeComplete = false
    /// One side closed, the other active: re-check at `last_time + tcp_session_timer`
    /// (`ExpireTimer`: removed once `last_time + tcp_connection_linger < t` and both closed,
    /// one reset or one inactive).
    public var armExpireTimer = false
    /// A side reset after it had closed: Zeek arms `ResetTimer` at `t + tcp_reset_delay` when a
    /// `connection_reset` handler exists.
    public var armResetTimer = false
    /// An ACK of this packet covered new sequence space of an established connection: one of
    /// Zeek's `tot_ack_events` (`TCP_Reassembler::AckReceived`, the `acks` of capture_loss.log).
    public var ackEvent = false
    /// That ACK covered bytes never seen: one of Zeek's `tot_gap_events` (capture_loss.log `gaps`).
    public var gapEvent = false
    @inlinable public init() {}
}

/// Zeek's TCP session state machine (TCPSessionAdapter.cc / TCP.cc `DeliverPacket`) for one
/// connection, as a value type: both endpoints, history letters, weirds, payload sizes from
/// sequence space and content-gap (`missed_bytes`) accounting.
@frozen
public struct TCPSessionState: Sendable {
    /// The current originator's endpoint.
    public var originator: TCPEndpoint
    /// The current responder's endpoint.
    public var responder: TCPEndpoint
    /// conn.log `missed_bytes` (sum of `content_gap` lengths reported).
    public var missedBytes: UInt64 = 0
    @usableFromInline var isPartial = false
    @usableFromInline var firstPacketSeen: UInt8 = 0
    @usableFromInline var didWeird = false

    /// A fresh connection (both endpoints inactive).
    @inlinable
    public init() {
        originator = TCPEndpoint(isOrig: true)
        responder = TCPEndpoint(isOrig: false)
    }

    /// conn.log `orig_bytes`.
    @inlinable public var originatorBytes: UInt64 { originator.size(peerState: responder.state) }
    /// conn.log `resp_bytes`.
    @inlinable public var responderBytes: UInt64 { responder.size(peerState: originator.state) }
    /// Zeek's `conn_state` for this connection.
    public func connState(history: ConnectionHistory) -> StaticString {
        ConnectionState.tcp(
            orig: originator.state, resp: responder.state, origSize: originatorBytes, respSize: responderBytes,
            history: history)
    }
    /// `BothClosed()`.
    @inlinable public var bothClosed: Bool { originator.didClose && responder.didClose }

    /// `Connection::FlipRoles` + `TCPSessionAdapter::FlipRoles`: swaps the endpoints and appends
    /// `^`. The engine calls this right after creation when ``RoleDecision`` says to flip.
    @inlinable
    public mutating func flipRoles(history: inout ConnectionHistory) {
        swap(&originator, &responder)
        originator.isOrig = true
        responder.isOrig = false
        firstPacketSeen = ((firstPacketSeen & 1) != 0 ? 2 : 0) | ((firstPacketSeen & 2) != 0 ? 1 : 0)
        isPartial = false
        history.flip()
    }

    @inlinable
    mutating func weird(_ w: Weird, _ weirds: inout WeirdQueue) {
        didWeird = true
        weirds.append(w)
    }

    @inlinable
    mutating func setState(_ s: TCPEndpointState, orig: Bool, result: inout TCPPacketResult) {
        let current = orig ? originator.state : responder.state
        guard s != current else { return }
        let peerState = orig ? responder.state : originator.state
        func handshake(_ x: TCPEndpointState) -> Bool { x == .inactive || x == .synSent || x == .synAckSent }
        if !handshake(s) && handshake(current) && handshake(peerState) { result.handshakeFinished = true }
        if orig {
            originator.previousState = current
            originator.state = s
        } else {
            responder.previousState = current
            responder.state = s
        }
    }

    /// Processes one TCP segment. `isOriginator` is relative to the roles before the call;
    /// `payloadLength` is the TCP payload length from the IP header. A bad checksum only adds
    /// `C`/`c` (scaled) and `bad_TCP_checksum` (TCP.cc `ValidateChecksum` returns early).
    @inlinable
    public mutating func process(
        isOriginator isOrigIn: Bool, flags: TCPFlags, sequence baseSeq: UInt32, acknowledgement ackSeq: UInt32,
        payloadLength len: Int, window: UInt16, checksumValid: Bool, history: inout ConnectionHistory,
        weirds: inout WeirdQueue
    ) -> TCPPacketResult {
        var result = TCPPacketResult()
        var isOrig = isOrigIn
        if !checksumValid {
            weird(.badTCPChecksum, &weirds)
            if isOrig {
                history.addScaled(UInt8(ascii: "C"), isOriginator: originator.isOrig, counter: &originator.checksumCounter)
            } else {
                history.addScaled(UInt8(ascii: "C"), isOriginator: responder.isOrig, counter: &responder.checksumCounter)
            }
            return result
        }
        let syn = flags.contains(.syn), fin = flags.contains(.fin), rst = flags.contains(.rst), ack = flags.contains(.ack)

        // Zeek PR #2191: a connection that began with a SYN-ACK from its originator is flipped on
        // the first ACK or data segment after it (stealth scans never send those); the history
        // is rewritten to start with `^`.
        if originator.state == .synAckSent && responder.state == .inactive && !syn && !fin && !rst && (ack || len > 0) {
            swap(&originator, &responder)
            originator.isOrig = true
            responder.isOrig = false
            responder.previousState = responder.state
            responder.state = .established
            isPartial = false
            firstPacketSeen = 2
            history.flipRewritingPast()
            isOrig.toggle()
            result.flippedRoles = true
        }

        // SetPartialStatus
        if isOrig {
            if firstPacketSeen & 1 == 0 { isPartial = !syn || ack }
        } else if firstPacketSeen & 2 == 0 && !isPartial {
            isPartial = !syn
        }

        var segLen = len
        if syn { segLen += 1 }
        if fin { segLen += 1 }
        if rst { segLen -= len }
        let seqOnePast = baseSeq &+ UInt32(truncatingIfNeeded: segLen)

        let step = isOrig
            ? Self.endpointStep(
                &originator, &responder, flags: flags, syn: syn, fin: fin, rst: rst, ack: ack, baseSeq: baseSeq,
                ackSeq: ackSeq, len: len, segLen: segLen, seqOnePast: seqOnePast, window: window, didWeird: &didWeird,
                history: &history, weirds: &weirds)
            : Self.endpointStep(
                &responder, &originator, flags: flags, syn: syn, fin: fin, rst: rst, ack: ack, baseSeq: baseSeq,
                ackSeq: ackSeq, len: len, segLen: segLen, seqOnePast: seqOnePast, window: window, didWeird: &didWeird,
                history: &history, weirds: &weirds)
        let relSeq = step.relSeq, seqUnderflow = step.seqUnderflow, relAck = step.relAck, deltaLast = step.deltaLast
        if step.updatesLastTime { result.updatesLastTime = true }
        var doClose = false
        updateStateMachine(
            isOrig: isOrig, flags: flags, baseSeq: baseSeq, ackSeq: ackSeq, len: len, deltaLast: deltaLast,
            doClose: &doClose, result: &result, history: &history, weirds: &weirds)

        if ack {
            let events = ackReceived(orig: !isOrig, relAck, history: &history)
            result.ackEvent = events.ack
            result.gapEvent = events.gap
        }
        if len > 0 && !rst && !seqUnderflow {
            dataSent(orig: isOrig, syn ? relSeq &+ 1 : relSeq, UInt64(len), weirds: &weirds)
        }
        if isOrig { firstPacketSeen |= 1 } else { firstPacketSeen |= 2 }
        if doClose { connectionClosed(orig: isOrig, result: &result) }
        return result
    }

    /// What the in-place endpoint step tells the rest of ``process``.
    @usableFromInline
    struct EndpointStep {
        @usableFromInline var relSeq: UInt64
        @usableFromInline var seqUnderflow: Bool
        @usableFromInline var relAck: UInt64
        @usableFromInline var deltaLast: Int32
        /// Not both endpoints closed: the packet counts towards the connection's last time.
        @usableFromInline var updatesLastTime: Bool

        @inlinable
        init(relSeq: UInt64, seqUnderflow: Bool, relAck: UInt64, deltaLast: Int32, updatesLastTime: Bool) {
            self.relSeq = relSeq
            self.seqUnderflow = seqUnderflow
            self.relAck = relAck
            self.deltaLast = deltaLast
            self.updatesLastTime = updatesLastTime
        }
    }

    /// The part of ``process`` that updates the sending endpoint `ep` and its peer: Zeek's
    /// `init_endpoint`, `update_history`, `update_window`, FIN/RST counts, the ACK bookkeeping
    /// and `update_last_seq`. It works on the two endpoints in place (`inout` to two distinct
    /// stored properties): copying them in and out cost a `memcpy` of two ~180-byte structs per
    /// packet (callgrind on real-mix.pcap).
    @inlinable
    static func endpointStep(
        _ ep: inout TCPEndpoint, _ peer: inout TCPEndpoint, flags: TCPFlags, syn: Bool, fin: Bool, rst: Bool,
        ack: Bool, baseSeq: UInt32, ackSeq: UInt32, len: Int, segLen: Int, seqOnePast: UInt32, window: UInt16,
        didWeird: inout Bool, history: inout ConnectionHistory, weirds: inout WeirdQueue
    ) -> EndpointStep {
        @inline(__always)
        func note(_ w: Weird, _ weirds: inout WeirdQueue) {
            didWeird = true
            weirds.append(w)
        }
        // init_endpoint
        switch ep.state {
        case .inactive:
            if syn { ep.initSequences(start: baseSeq, last: seqOnePast) } else { ep.initSequences(start: baseSeq &- 1, last: baseSeq) }
        case .synSent, .synAckSent:
            if syn && baseSeq != ep.startSeq {
                note(.synSeqJump, &weirds)
                ep.initSequences(start: baseSeq, last: seqOnePast)
            }
        case .established, .partial:
            if syn {
                if ep.size(peerState: peer.state) > 0 { note(.synInsideConnection, &weirds) }
                if baseSeq != ep.startSeq { note(.synSeqJump, &weirds) }
                ep.initSequences(start: baseSeq, last: seqOnePast)
            }
        case .reset:
            if syn && ep.previousState == .inactive { ep.initSequences(start: baseSeq, last: seqOnePast) }
        case .closed:
            break
        }

        var seqUnderflow = false
        let relSeq = Self.relativeSeq(ep, baseSeq, ep.lastSeq, ep.seqWraps, &seqUnderflow)
        if seqUnderflow && !rst { note(.tcpSeqUnderflowOrMisorder, &weirds) }

        // update_history
        let letterOrig = ep.isOrig
        let bits = (syn ? 1 : 0) + (fin ? 1 : 0) + (rst ? 1 : 0)
        if bits > 1 {
            if fin && rst {
                history.checkOnce(UInt8(ascii: "I"), mask: .finRst, isOriginator: letterOrig)
            } else {
                history.checkOnce(UInt8(ascii: "Q"), mask: .multiFlag, isOriginator: letterOrig)
            }
        } else if bits == 1 {
            if syn {
                let code = ack ? UInt8(ascii: "H") : UInt8(ascii: "S")
                if history.checkOnce(code, mask: .syn, isOriginator: letterOrig) && relSeq != ep.histLastSYN {
                    history.append(code, isOriginator: letterOrig)
                }
                ep.histLastSYN = relSeq
            }
            if fin {
                let finEnd = relSeq &+ UInt64(len)
                if history.checkOnce(UInt8(ascii: "F"), mask: .fin, isOriginator: letterOrig) && finEnd != ep.histLastFIN {
                    history.append(UInt8(ascii: "F"), isOriginator: letterOrig)
                }
                ep.histLastFIN = finEnd
            }
            if rst {
                if history.checkOnce(UInt8(ascii: "R"), mask: .rst, isOriginator: letterOrig) && relSeq != ep.histLastRST {
                    history.append(UInt8(ascii: "R"), isOriginator: letterOrig)
                }
                ep.histLastRST = relSeq
            }
        } else if len > 0 {
            history.checkOnce(UInt8(ascii: "D"), mask: .data, isOriginator: letterOrig)
        } else if ack {
            history.checkOnce(UInt8(ascii: "A"), mask: .ack, isOriginator: letterOrig)
        }

        // update_window: zero windows (scaling never turns a non-zero window into zero).
        if window == 0 && !rst && peer.state != .closed && ep.state != .reset {
            history.addScaled(UInt8(ascii: "W"), isOriginator: letterOrig, counter: &ep.zeroWindowCounter)
        }

        let updatesLastTime = !ep.didClose || !peer.didClose

        if syn {
            if rst { note(.tcpChristmas, &weirds) }
            if flags.contains(.urg) { note(.baroqueSYN, &weirds) }
            if len > 0 { note(.synWithData, &weirds) }
        }
        if fin {
            ep.finCount &+= 1
            ep.finSeq = relSeq &+ UInt64(segLen)
        }
        if rst { ep.rstCount &+= 1 }

        var relAck: UInt64 = 0
        if ack {
            if peer.state == .inactive {
                relAck = 1
                if !syn && !fin && !rst && (ep.state == .synSent || ep.state == .synAckSent || ep.state == .established) {
                    if !didWeird { note(.possibleSplitRouting, &weirds) }
                }
                peer.startSeq = ackSeq &- 1
                peer.ackSeq = ackSeq &- 1
                peer.lastSeq = ackSeq &- 1
            } else {
                var ackUnderflow = false
                relAck = Self.relativeSeq(peer, ackSeq, peer.ackSeq, peer.ackWraps, &ackUnderflow)
                if ackUnderflow {
                    relAck = 0
                    note(.tcpAckUnderflowOrMisorder, &weirds)
                } else if !rst {
                    let deltaAck = seqDelta(ackSeq, peer.ackSeq)
                    if !(ackSeq == 0 && deltaAck > 1_048_576) && deltaAck > 0 { peer.updateAckSeq(ackSeq) }
                }
            }
        }

        // update_last_seq
        let deltaLast = seqDelta(seqOnePast, ep.lastSeq)
        if (syn || rst) && (deltaLast > 1_048_576 || deltaLast < -1_048_576) {
        } else if fin && ep.lastSeq == ep.startSeq &+ 1 {
            ep.updateLastSeq(seqOnePast)
        } else if ep.state == .reset {
        } else if deltaLast > 0 {
            ep.updateLastSeq(seqOnePast)
        } else if len > 0 {
            history.addScaled(UInt8(ascii: "T"), isOriginator: letterOrig, counter: &ep.retransmitCounter)
        }

        return EndpointStep(
            relSeq: relSeq, seqUnderflow: seqUnderflow, relAck: relAck, deltaLast: deltaLast,
            updatesLastTime: updatesLastTime)
    }

    @inlinable
    static func relativeSeq(_ e: TCPEndpoint, _ cur: UInt32, _ last: UInt32, _ wrapsIn: UInt32, _ underflow: inout Bool) -> UInt64 {
        var wraps = wrapsIn
        let delta = seqDelta(cur, last)
        if delta < 0 {
            if wraps > 0 && cur > last { wraps -= 1 }
        } else if delta > 0 {
            if cur < last { wraps += 1 }
        }
        if wraps == 0 {
            let d = seqDelta(cur, e.startSeq)
            if d < 0 { underflow = true }
            return UInt64(bitPattern: Int64(d))
        }
        return e.relative(cur, wraps)
    }

    @inlinable
    mutating func updateStateMachine(
        isOrig: Bool, flags: TCPFlags, baseSeq: UInt32, ackSeq: UInt32, len: Int, deltaLast: Int32,
        doClose: inout Bool, result: inout TCPPacketResult, history: inout ConnectionHistory, weirds: inout WeirdQueue
    ) {
        let syn = flags.contains(.syn), fin = flags.contains(.fin), rst = flags.contains(.rst), ack = flags.contains(.ack)
        let meState = isOrig ? originator.state : responder.state
        let meDidClose = isOrig ? originator.didClose : responder.didClose
        let peerState = isOrig ? responder.state : originator.state
        switch meState {
        case .inactive:
            var isOrig = isOrig
            if syn {
                if isOrig {
                    if ack {
                        weird(.connectionOriginatorSYNAck, &weirds)
                        setState(.synAckSent, orig: true, result: &result)
                    } else {
                        setState(.synSent, orig: true, result: &result)
                    }
                    result.armAttemptTimer = true
                } else {
                    if ack {
                        if originator.state != .inactive && originator.state != .partial
                            && !seqBetween(ackSeq, originator.startSeq, originator.lastSeq)
                        {
                            weird(.badSYNAck, &weirds)
                        }
                    } else if originator.state == .synAckSent && baseSeq == responder.startSeq {
                        isPartial = false
                        flipRoles(history: &history)
                        result.flippedRoles = true
                        isOrig = true
                        setState(.established, orig: false, result: &result)
                        firstPacketSeen |= 1
                    } else {
                        weird(.simultaneousOpen, &weirds)
                    }
                    let peerNow = isOrig ? responder.state : originator.state
                    if peerNow == .synSent {
                        setState(.established, orig: !isOrig, result: &result)
                    } else if peerNow == .inactive {
                        weird(.unsolicitedSYNResponse, &weirds)
                    }
                    setState(.established, orig: isOrig, result: &result)
                }
            }
            let peerNow = isOrig ? responder.state : originator.state
            if fin {
                setState(.closed, orig: isOrig, result: &result)
                doClose = true
                if peerNow != .partial && !syn { weird(.spontaneousFIN, &weirds) }
            }
            if rst {
                setState(.reset, orig: isOrig, result: &result)
                let isReject = isOrig ? peerNow == .established : (peerNow == .synSent || peerNow == .synAckSent)
                doClose = true
                if !isReject && peerNow == .inactive { weird(.spontaneousRST, &weirds) }
            }
            if (isOrig ? originator.state : responder.state) == .inactive {
                if !isOrig && len == 0 && originator.state == .synSent {
                } else if ack && peerNow == .established {
                    setState(.established, orig: isOrig, result: &result)
                    isPartial = false
                    firstPacketSeen |= isOrig ? 1 : 2
                } else {
                    setState(.partial, orig: isOrig, result: &result)
                }
            }
        case .synSent, .synAckSent:
            if syn {
                if isOrig {
                    if ack && !fin && !rst && meState != .synAckSent { weird(.repeatedSYNWithAck, &weirds) }
                } else if !ack && meState != .synSent {
                    weird(.repeatedSYNReplyWithoutAck, &weirds)
                }
            }
            if fin {
                if peerState == .inactive || peerState == .synSent { weird(.inappropriateFIN, &weirds) }
                setState(.closed, orig: isOrig, result: &result)
                doClose = true
            }
            if rst {
                setState(.reset, orig: isOrig, result: &result)
                doClose = true
            } else if len > 0 {
                weird(.dataBeforeEstablished, &weirds)
            }
        case .established, .partial:
            if syn && meState == .partial && peerState == .inactive && !ack {
                weird(.synAfterPartial, &weirds)
                setState(.synSent, orig: isOrig, result: &result)
            }
            if fin && !rst {
                setState(.closed, orig: isOrig, result: &result)
                let peerState = isOrig ? responder.state : originator.state
                let peerPrevious = isOrig ? responder.previousState : originator.previousState
                if peerState == .reset && peerPrevious == .closed { setState(.closed, orig: !isOrig, result: &result) }
                doClose = true
            }
            if rst {
                setState(.reset, orig: isOrig, result: &result)
                doClose = true
            }
        case .closed:
            if syn { weird(.synAfterClose, &weirds) }
            if fin && deltaLast > 0 { weird(.finAdvancedLastSeq, &weirds) }
            if rst && peerState != .closed {
                setState(.reset, orig: isOrig, result: &result)
                if !meDidClose { doClose = true }
                result.armResetTimer = true
            }
        case .reset:
            if syn { weird(.synAfterReset, &weirds) }
            if fin { weird(.finAfterReset, &weirds) }
            if len > 0 && !rst { weird(.dataAfterReset, &weirds) }
        }
    }

    @inlinable
    static func isClean(_ e: TCPEndpoint) -> Bool {
        e.state == .established || (e.state == .closed && e.previousState == .established)
    }

    /// `TCP_Endpoint::AckReceived` → `TCP_Reassembler::AckReceived`/`TrimToSeq`/`Undelivered`.
    ///
    /// - Returns: whether the ACK counts in Zeek's content-gap statistics (`get_gap_stats()`):
    ///   `ack` when it covered new sequence space while both endpoints were ESTABLISHED and
    ///   deliveries were not skipped (`test_active`, with `report_gaps_for_partial` at its default
    ///   F), and `gap` when, in addition, some of the covered bytes were never seen (`TrimToSeq`'s
    ///   `num_missing > 0`).
    @inlinable
    @discardableResult
    mutating func ackReceived(orig: Bool, _ seqIn: UInt64, history: inout ConnectionHistory) -> (ack: Bool, gap: Bool) {
        var e = orig ? originator : responder
        let p = orig ? responder : originator
        var seq = seqIn
        if e.finCount > 0 && seq >= e.finSeq { seq = e.finSeq &- 1 }
        guard seq > e.trimSeq else { return (false, false) }
        let counted = !e.skipDeliveries && e.state == .established && p.state == .established
        // `TrimToSeq` measures the hole before it fills it in: below the first block above the
        // contiguous edge, or up to the ACK when no block is buffered.
        let missing = e.holes.count > 0 ? e.holes.range(0).0 > e.lastReassembled : seq > e.lastReassembled
        if seq > e.lastReassembled {
            if seq <= 2 && isPartial {
                // Zeek's Undelivered returns without moving last_reassem_seq.
            } else {
                let clean = Self.isClean(e) && Self.isClean(p)
                if !e.skipDeliveries {
                    while e.holes.count > 0 {
                        let (lo, up) = e.holes.range(0)
                        if lo >= seq { break }
                        if lo > e.lastReassembled {
                            gap(&e, lo - e.lastReassembled, clean: clean, history: &history)
                        }
                        e.lastReassembled = max(e.lastReassembled, up)
                        e.holes.removeFirst()
                    }
                    if seq > e.lastReassembled { gap(&e, seq - e.lastReassembled, clean: clean, history: &history) }
                }
                if seq > e.lastReassembled { e.lastReassembled = seq }
            }
        }
        e.trimSeq = seq
        if orig { originator = e } else { responder = e }
        return (counted, counted && missing)
    }

    @inlinable
    mutating func gap(_ e: inout TCPEndpoint, _ length: UInt64, clean: Bool, history: inout ConnectionHistory) {
        guard clean else { return }
        history.addScaled(UInt8(ascii: "G"), isOriginator: e.isOrig, counter: &e.gapCounter)
        missedBytes &+= length
    }

    /// `TCP_Reassembler::DataSent` without buffering: advance the contiguous edge, remember
    /// ranges above a hole.
    @inlinable
    mutating func dataSent(orig: Bool, _ seqIn: UInt64, _ lenIn: UInt64, weirds: inout WeirdQueue) {
        var e = orig ? originator : responder
        defer { if orig { originator = e } else { responder = e } }
        guard !e.skipDeliveries else { return }
        var seq = seqIn
        let upper = seqIn &+ lenIn
        let acked = e.relative(e.ackSeq, e.ackWraps)
        if seq < acked {
            if upper <= acked { return }
            seq = acked
        }
        if seq <= e.lastReassembled {
            if upper > e.lastReassembled { e.lastReassembled = upper }
            while e.holes.count > 0 {
                let (lo, up) = e.holes.range(0)
                if lo > e.lastReassembled { break }
                e.lastReassembled = max(e.lastReassembled, up)
                e.holes.removeFirst()
            }
        } else {
            e.holes.insert(seq, upper)
        }
        if e.holes.count > 0 && e.noDataAcked {
            let (_, top) = e.holes.range(e.holes.count - 1)
            if top - e.lastReassembled > TCPTimeouts.maxAboveHoleWithoutAnyAcks {
                weird(.aboveHoleDataWithoutAnyAcks, &weirds)
                e.holes = TCPBlockList()
                e.skipDeliveries = true
            }
        }
    }

    /// `TCPSessionAdapter::ConnectionClosed` (no pending data: nothing is buffered).
    @inlinable
    mutating func connectionClosed(orig: Bool, result: inout TCPPacketResult) {
        let e = orig ? originator : responder
        let p = orig ? responder : originator
        if e.didClose { return }
        if orig { originator.didClose = true } else { responder.didClose = true }
        if e.state == .reset || p.didClose || p.state == .inactive {
            result.closeComplete = true
        } else if e.previousState != .inactive {
            result.armExpireTimer = true
        }
    }
}
