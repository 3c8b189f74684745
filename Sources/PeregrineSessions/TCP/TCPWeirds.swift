// SPDX-License-Identifier: Apache-2.0
import PeregrineCore

/// Weirds raised by the TCP and UDP session state machines, with Zeek's exact names
/// (TCPSessionAdapter.cc, TCP.cc, TCP_Reassembler.cc, UDPSessionAdapter.cc).
extension Weird {
    /// TCP.cc `ValidateChecksum`.
    public static let badTCPChecksum = Weird("bad_TCP_checksum", source: "TCP")
    /// UDPSessionAdapter::HandleBadChecksum.
    public static let badUDPChecksum = Weird("bad_UDP_checksum", source: "UDP")
    /// UpdateInactiveState: the originator's first packet is a SYN-ACK.
    public static let connectionOriginatorSYNAck = Weird("connection_originator_SYN_ack", source: "TCP")
    /// init_endpoint: a SYN with a new initial sequence number.
    public static let synSeqJump = Weird("SYN_seq_jump", source: "TCP")
    /// init_endpoint: a SYN after payload was counted.
    public static let synInsideConnection = Weird("SYN_inside_connection", source: "TCP")
    /// UpdateSYN_SentState: payload before the handshake completed.
    public static let dataBeforeEstablished = Weird("data_before_established", source: "TCP")
    /// init_peer: acking data of a peer never seen while our SYN went unanswered.
    public static let possibleSplitRouting = Weird("possible_split_routing", source: "TCP")
    /// Process: an ACK below the peer's initial sequence number.
    public static let tcpAckUnderflowOrMisorder = Weird("TCP_ack_underflow_or_misorder", source: "TCP")
    /// Process: a sequence number below the endpoint's initial one.
    public static let tcpSeqUnderflowOrMisorder = Weird("TCP_seq_underflow_or_misorder", source: "TCP")
    /// UpdateInactiveState: SYN-ACK whose ack is outside the peer's sequence range.
    public static let badSYNAck = Weird("bad_SYN_ack", source: "TCP")
    /// UpdateInactiveState: SYN from the responder while the originator also sent one.
    public static let simultaneousOpen = Weird("simultaneous_open", source: "TCP")
    /// UpdateInactiveState: SYN-ACK with no SYN seen.
    public static let unsolicitedSYNResponse = Weird("unsolicited_SYN_response", source: "TCP")
    /// UpdateInactiveState: FIN as a side's first packet.
    public static let spontaneousFIN = Weird("spontaneous_FIN", source: "TCP")
    /// UpdateInactiveState: RST as the first packet of both sides.
    public static let spontaneousRST = Weird("spontaneous_RST", source: "TCP")
    /// UpdateSYN_SentState: SYN-ACK repeated by the originator.
    public static let repeatedSYNWithAck = Weird("repeated_SYN_with_ack", source: "TCP")
    /// UpdateSYN_SentState: SYN without ACK repeated by the responder.
    public static let repeatedSYNReplyWithoutAck = Weird("repeated_SYN_reply_wo_ack", source: "TCP")
    /// UpdateSYN_SentState: FIN before the peer answered.
    public static let inappropriateFIN = Weird("inappropriate_FIN", source: "TCP")
    /// UpdateEstablishedState: SYN after a partial start.
    public static let synAfterPartial = Weird("SYN_after_partial", source: "TCP")
    /// UpdateClosedState.
    public static let synAfterClose = Weird("SYN_after_close", source: "TCP")
    /// UpdateClosedState: a second FIN moved the sequence forward.
    public static let finAdvancedLastSeq = Weird("FIN_advanced_last_seq", source: "TCP")
    /// UpdateResetState.
    public static let synAfterReset = Weird("SYN_after_reset", source: "TCP")
    /// UpdateResetState.
    public static let finAfterReset = Weird("FIN_after_reset", source: "TCP")
    /// UpdateResetState.
    public static let dataAfterReset = Weird("data_after_reset", source: "TCP")
    /// SynWeirds: SYN with RST.
    public static let tcpChristmas = Weird("TCP_christmas", source: "TCP")
    /// SynWeirds: SYN with URG.
    public static let baroqueSYN = Weird("baroque_SYN", source: "TCP")
    /// SynWeirds: SYN carrying payload.
    public static let synWithData = Weird("SYN_with_data", source: "TCP")
    /// TCP_Reassembler::DataSent: more than `tcp_max_above_hole_without_any_acks` bytes above a
    /// hole while nothing was acked.
    public static let aboveHoleDataWithoutAnyAcks = Weird("above_hole_data_without_any_acks", source: "TCP")
}

/// Weirds raised by TCP reassembly (TCP_Reassembler.cc, TCP_Endpoint.cc).
extension Weird {
    /// TCP_Endpoint::DataSent: the capture holds less payload than the IP header announces.
    public static let truncatedTCPPayload = Weird("truncated_tcp_payload", source: "TCP")
    /// TCP_Reassembler::DataSent: more than `tcp_excessive_data_without_further_acks` bytes wait
    /// for acks; reassembly of that direction stops.
    public static let excessiveDataWithoutFurtherAcks = Weird("excessive_data_without_further_acks", source: "TCP")
}
