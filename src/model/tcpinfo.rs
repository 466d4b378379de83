//! The per-socket TCP records of sock_diag answers: `struct tcp_info`
//! ([`TcpInfo`], INET_DIAG_INFO) and the SK_MEMINFO_* array ([`SkMemInfo`],
//! INET_DIAG_SKMEMINFO), as `source::tcpinfo` parses them. `None` marks a
//! field the kernel's struct is too short to hold.

use serde::Serialize;

/// struct tcp_info as sent in INET_DIAG_INFO (include/uapi/linux/tcp.h), parsed with length checks:
/// older kernels send a shorter struct (104, 192, 232 bytes...), newer ones a longer one; every field
/// the blob is too short to hold is None. Never panics on any input.
///
/// Units are in the JSON names: `_us` microseconds, `_ms` milliseconds,
/// `_bps` bits per second (the kernel's bytes per second times 8).
/// Checked against a real 6.18 kernel: a 100000-byte loopback transfer
/// reads back as bytes_acked 100001 (the SYN counts) and bytes_sent 100000,
/// exactly as getsockopt(TCP_INFO) and `ss -ti` report them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TcpInfo {
    /// TCP_ESTABLISHED = 1 ... TCP_LISTEN = 10 (include/net/tcp_states.h).
    pub state: Option<u8>,
    /// TCP_CA_Open = 0, Disorder, CWR, Recovery, Loss.
    pub ca_state: Option<u8>,
    pub retransmits: Option<u8>,
    pub probes: Option<u8>,
    pub backoff: Option<u8>,
    pub options: Option<TcpOptions>,
    pub snd_wscale: Option<u8>,
    pub rcv_wscale: Option<u8>,
    pub app_limited: Option<bool>,
    pub rto_us: Option<u32>,
    pub ato_us: Option<u32>,
    pub snd_mss: Option<u32>,
    pub rcv_mss: Option<u32>,
    /// For a listener: the accept queue's length.
    pub unacked: Option<u32>,
    /// For a listener: the accept queue's limit (the listen() backlog).
    pub sacked: Option<u32>,
    pub lost: Option<u32>,
    pub retrans: Option<u32>,
    pub fackets: Option<u32>,
    pub last_data_sent_ms: Option<u32>,
    pub last_ack_sent_ms: Option<u32>,
    pub last_data_recv_ms: Option<u32>,
    pub last_ack_recv_ms: Option<u32>,
    pub pmtu: Option<u32>,
    pub rcv_ssthresh: Option<u32>,
    pub rtt_us: Option<u32>,
    pub rttvar_us: Option<u32>,
    pub snd_ssthresh: Option<u32>,
    pub snd_cwnd: Option<u32>,
    pub advmss: Option<u32>,
    pub reordering: Option<u32>,
    pub rcv_rtt_us: Option<u32>,
    pub rcv_space: Option<u32>,
    pub total_retrans: Option<u32>,
    /// u64::MAX when pacing is unlimited (the kernel sends ~0).
    pub pacing_rate_bps: Option<u64>,
    /// u64::MAX when no SO_MAX_PACING_RATE is set (the kernel sends ~0).
    pub max_pacing_rate_bps: Option<u64>,
    pub bytes_acked: Option<u64>,
    pub bytes_received: Option<u64>,
    pub segs_out: Option<u32>,
    pub segs_in: Option<u32>,
    pub notsent_bytes: Option<u32>,
    /// u32::MAX until a first RTT sample exists.
    pub min_rtt_us: Option<u32>,
    pub data_segs_in: Option<u32>,
    pub data_segs_out: Option<u32>,
    pub delivery_rate_bps: Option<u64>,
    pub busy_time_us: Option<u64>,
    pub rwnd_limited_us: Option<u64>,
    pub sndbuf_limited_us: Option<u64>,
    pub delivered: Option<u32>,
    pub delivered_ce: Option<u32>,
    pub bytes_sent: Option<u64>,
    pub bytes_retrans: Option<u64>,
    pub dsack_dups: Option<u32>,
    pub reord_seen: Option<u32>,
    pub rcv_ooopack: Option<u32>,
    pub snd_wnd: Option<u32>,
    pub rcv_wnd: Option<u32>,
    pub rehash: Option<u32>,
    pub total_rto: Option<u16>,
    pub total_rto_recoveries: Option<u16>,
    pub total_rto_time_ms: Option<u32>,
}

/// The options negotiated on the connection: the TCPI_OPT_* bits of
/// tcpi_options (include/uapi/linux/tcp.h).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TcpOptions {
    /// TCPI_OPT_TIMESTAMPS (1).
    pub ts: bool,
    /// TCPI_OPT_SACK (2).
    pub sack: bool,
    /// TCPI_OPT_WSCALE (4): snd_wscale and rcv_wscale mean something.
    pub wscale: bool,
    /// TCPI_OPT_ECN (8): ECN negotiated at connection setup.
    pub ecn: bool,
    /// TCPI_OPT_ECN_SEEN (16): at least one packet with ECT received.
    pub ecn_seen: bool,
    /// TCPI_OPT_SYN_DATA (32): data in the SYN was acked (TCP Fast Open).
    pub syn_data: bool,
}

/// INET_DIAG_SKMEMINFO: u32 array (include/uapi/linux/sock_diag.h SK_MEMINFO_*): r=rmem_alloc, rb=rcvbuf,
/// t=wmem_alloc, tb=sndbuf, f=fwd_alloc, w=wmem_queued, o=optmem, bl=backlog, d=drops (bl and d only on newer kernels).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SkMemInfo {
    pub r: u32,
    pub rb: u32,
    pub t: u32,
    pub tb: u32,
    pub f: u32,
    pub w: u32,
    pub o: u32,
    pub bl: Option<u32>,
    pub d: Option<u32>,
}
