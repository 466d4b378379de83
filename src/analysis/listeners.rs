//! `listeners`: each LISTEN socket's accept queue against its backlog, its
//! half-open (SYN_RECV) requests and its unaccepted connections, and the
//! marks that follow (full, 80 % full, backlog clamped to somaxconn).

use std::collections::HashMap;

use super::Level;
use crate::model::NetKnobs;
use crate::model::{Protocol, QueueKind, Socket, TcpState};

/// The accept queue's fill, in percent, from which a listener is marked
/// [`Level::Warn`] ("80% full").
pub const WARN_PERCENT: u32 = 80;

/// One LISTEN socket and its two queues.
#[derive(Debug, Clone)]
pub struct ListenerHealth<'a> {
    pub socket: &'a Socket,
    /// Connections completed and waiting for accept() (Recv-Q).
    pub accept_queue: u32,
    /// The backlog (Send-Q); `None` from /proc.
    pub backlog: Option<u32>,
    /// accept_queue / backlog, in percent.
    pub percent: Option<u32>,
    /// sk_acceptq_is_full(): more waiting than the backlog; new handshakes
    /// are then dropped (ListenOverflows).
    pub full: bool,
    pub level: Level,
    /// SYN_RECV request sockets in this listener's queue (in an
    /// SO_REUSEPORT group, those that may be in it: the kernel does not say
    /// which member a request socket belongs to).
    pub half_open: usize,
    /// Completed connections nobody accept()ed: the accept queue's length
    /// (the kernel keeps them as ESTABLISHED sockets without a descriptor).
    pub waiting: usize,
    /// The backlog equals net.core.somaxconn: listen() asked for at least
    /// that and the kernel clamped it.
    pub at_somaxconn: bool,
}

/// Queue health of every LISTEN socket (TCP) in `sockets`, whose queued
/// connections must already be attributed (pipeline::queues::attribute_queues).
pub fn listeners<'a>(sockets: &'a [Socket], knobs: &NetKnobs) -> Vec<ListenerHealth<'a>> {
    // Request sockets per listener (by inode); one an SO_REUSEPORT group
    // holds counts for each member that may hold it.
    let mut half: HashMap<u64, usize> = HashMap::new();
    for s in sockets {
        if let Some(q) = &s.queue
            && q.kind == QueueKind::Syn
        {
            for inode in &q.listener_inodes {
                *half.entry(*inode).or_default() += 1;
            }
        }
    }
    sockets
        .iter()
        .filter(|s| s.proto == Protocol::Tcp && s.state == TcpState::Listen)
        .map(|s| {
            let accept_queue = s.recv_q;
            let backlog = s.send_q;
            let percent = backlog.map(|b| {
                if b == 0 {
                    if accept_queue > 0 { 100 } else { 0 }
                } else {
                    ((u64::from(accept_queue) * 100) / u64::from(b)) as u32
                }
            });
            let full = backlog.is_some_and(|b| accept_queue > b);
            let level = if full {
                Level::Critical
            } else if percent.is_some_and(|p| p >= WARN_PERCENT) {
                Level::Warn
            } else {
                Level::Ok
            };
            ListenerHealth {
                socket: s,
                accept_queue,
                backlog,
                percent,
                full,
                level,
                half_open: half.get(&s.inode).copied().unwrap_or(0),
                // The connections attributed to it agree with this count
                // (pipeline::queues::Listeners::resolve checks them against it).
                waiting: accept_queue as usize,
                at_somaxconn: backlog.is_some() && backlog == knobs.somaxconn,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Attribution, Queued};

    fn tcp(state: TcpState, local: &str, remote: &str) -> Socket {
        Socket::test_tcp(state, local, remote)
    }

    fn knobs() -> NetKnobs {
        NetKnobs {
            somaxconn: Some(4096),
            ..Default::default()
        }
    }

    #[test]
    fn full_listener_and_queues() {
        let mut l = tcp(TcpState::Listen, "127.0.0.1:80", "0.0.0.0:0");
        l.recv_q = 3;
        l.send_q = Some(2);
        let mut q = tcp(TcpState::Established, "127.0.0.1:80", "127.0.0.1:5000");
        q.inode = 0;
        q.queue = Some(Box::new(Queued {
            kind: QueueKind::Accept,
            listener: "127.0.0.1:80".parse().unwrap(),
            listener_owners: vec![],
            attribution: Attribution::Sure,
            listener_inodes: vec![1],
        }));
        let mut h = q.clone();
        h.state = TcpState::SynRecv;
        h.queue.as_mut().unwrap().kind = QueueKind::Syn;
        let socks = vec![l, q, h];
        let v = listeners(&socks, &knobs());
        assert_eq!(v.len(), 1);
        assert!(v[0].full);
        assert_eq!(v[0].level, Level::Critical);
        assert_eq!(
            (v[0].percent, v[0].waiting, v[0].half_open),
            (Some(150), 3, 1),
            "unaccepted is the accept queue's length"
        );
        assert!(!v[0].at_somaxconn);
    }
}
