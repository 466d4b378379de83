//! `trace`'s records: one TCP event as a tracepoint reported it
//! ([`TraceEvent`]: what happened, to which four-tuple, on which socket,
//! in which execution context), and what the view adds to it while it
//! runs ([`Traced`]: wall time, CPU, the process when there is one, and
//! the derived handshake and lifetime).

use std::net::SocketAddr;
use std::time::Duration;

use super::{Family, Stamp, TcpState, live::EventKind};

/// What the kernel did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceKind {
    /// sock:inet_sock_set_state.
    State { old: TcpState, new: TcpState },
    /// tcp:tcp_retransmit_skb, in the state the socket was in.
    Retransmit { state: TcpState },
    /// tcp:tcp_send_reset; `None` when no socket sent it (a reset that
    /// answers a packet for no socket).
    SendReset { state: Option<TcpState> },
    /// tcp:tcp_receive_reset.
    ReceiveReset,
}

impl TraceKind {
    pub fn event(self) -> EventKind {
        match self {
            TraceKind::State { .. } => EventKind::State,
            TraceKind::Retransmit { .. } => EventKind::Retransmit,
            TraceKind::SendReset { .. } => EventKind::SendReset,
            TraceKind::ReceiveReset => EventKind::ReceiveReset,
        }
    }

    /// The socket's state the event leaves it in, where the tracepoint
    /// says.
    pub fn state(self) -> Option<TcpState> {
        match self {
            TraceKind::State { new, .. } => Some(new),
            TraceKind::Retransmit { state } => Some(state),
            TraceKind::SendReset { state } => state,
            TraceKind::ReceiveReset => None,
        }
    }
}

/// The context an event ran in (include/linux/trace_events.h: the
/// TRACE_FLAG_* bits of common_flags). Only in [`ExecContext::Process`]
/// is the current task the one that acted; in the others it is whichever
/// task the interrupt happened to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecContext {
    Process,
    SoftIrq,
    HardIrq,
    Nmi,
}

/// One decoded tracepoint record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceEvent {
    pub kind: TraceKind,
    pub family: Family,
    pub local: SocketAddr,
    pub remote: SocketAddr,
    /// The kernel address of the socket: its identity within one run (an
    /// address is reused once the socket is freed). 0 when none.
    pub skaddr: u64,
    pub context: ExecContext,
    /// common_pid: the current task's id (a thread id).
    pub common_pid: u32,
}

/// The process an event ran for (process context only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceProcess {
    /// The thread group id (the pid `ps` shows).
    pub pid: u32,
    /// /proc/PID/comm when it could still be read.
    pub comm: Option<String>,
}

/// An event as `trace` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Traced {
    pub time: Stamp,
    pub cpu: u32,
    pub event: TraceEvent,
    /// `None` outside process context: never the interrupted task.
    pub process: Option<TraceProcess>,
    /// SYN_SENT → ESTABLISHED (client) or SYN_RECV → ESTABLISHED (server),
    /// when this run saw both transitions.
    pub handshake: Option<Duration>,
    /// At CLOSE: the time since the first transition this run saw for the
    /// socket.
    pub lifetime: Option<Duration>,
}
