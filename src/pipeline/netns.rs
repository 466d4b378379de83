//! The namespace loop: one [`super::run`] per network namespace, each
//! inside its namespace, all sharing one /proc walk (socket inodes are
//! unique on the machine, so one index of owners serves every namespace).
//!
//! The run's thread enters each namespace in turn (setns, [`Entered`]) and
//! comes back after: a netlink socket made inside answers for that
//! namespace, and so do `/proc/thread-self/net/*` (sockets, sockstat,
//! TcpExt counters) and `/proc/sys/net/*` (the sysctls), which is what
//! every reader below uses. A namespace that cannot be entered (no
//! CAP_SYS_ADMIN) is read from `/proc/PID/net` of a process living in it,
//! as osquery and netls do: no backlog, no tcp_info, no kernel filter, no
//! sysctls; one without a visible process is reported, never fatal. One
//! that vanished since it was listed is skipped with a note.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{OwnerOptions, Plan, RunError, RunReport, Sink, run_with, walk};
use crate::model::{Container, NetKnobs, Netns};
use crate::source::SourceKind;
use crate::source::netns::{Entered, NetnsError, NsFile};
use crate::source::owners::OwnerIndex;
use crate::source::sysctl;

/// How a namespace is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// The run thread's own: nothing to enter.
    Current,
    /// Entered through the first of these files that still names it; when
    /// entering is refused, read from `/proc/PID/net` of `pid`.
    Enter {
        paths: Vec<PathBuf>,
        pid: Option<u32>,
    },
}

/// One namespace to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetnsTarget {
    pub netns: Arc<Netns>,
    pub reach: Reach,
}

/// Which namespaces a run reads, and what the output needs to tag them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Namespaces {
    pub targets: Vec<NetnsTarget>,
    /// More than one namespace is read, or one that is not sockscope's own
    /// was asked for: rows say which.
    pub tagged: bool,
    /// What could not be looked at while choosing them (said on stderr).
    pub notes: Vec<String>,
    /// The container of each process known to run in one (owners' rows
    /// are tagged with their owner's container).
    pub containers: Arc<HashMap<u32, Arc<Container>>>,
    /// `--container`: only rows of these containers' processes (or, for a
    /// row without owners, of a namespace that is theirs).
    pub only_containers: Vec<String>,
    /// The namespaces were named one by one (`-N`): one that cannot be
    /// read fails the run instead of being reported.
    pub named: bool,
}

impl Namespaces {
    /// sockscope's own namespace, untagged: the listing of old.
    pub fn current(netns: Netns) -> Namespaces {
        Namespaces {
            targets: vec![NetnsTarget {
                netns: Arc::new(netns),
                reach: Reach::Current,
            }],
            tagged: false,
            notes: Vec::new(),
            containers: Arc::default(),
            only_containers: Vec::new(),
            named: false,
        }
    }
}

/// Where the records handed to a sink come from ([`Sink::enter`]).
#[derive(Debug, Clone)]
pub struct Place {
    pub netns: Arc<Netns>,
    /// Process → container (shared by every namespace of the run).
    pub containers: Arc<HashMap<u32, Arc<Container>>>,
}

impl Place {
    /// The container of a row: its first owner's with one, else its
    /// namespace's.
    pub fn container_of(&self, owners: Option<&[crate::model::Owner]>) -> Option<&Arc<Container>> {
        owners
            .into_iter()
            .flatten()
            .find_map(|o| self.containers.get(&o.pid))
            .or(self.netns.container.as_ref())
    }
}

/// One namespace's turn: its plan (reading inside it), the shared owners.
pub struct NsRun<'a> {
    pub place: Place,
    /// `--container`: only rows of these containers.
    only: &'a [String],
    pub plan: Plan,
    walked: Option<&'a OwnerIndex>,
    /// The thread is inside the namespace (or it is the thread's own):
    /// its sysctls can be read.
    pub inside: bool,
    proc_root: PathBuf,
}

impl NsRun<'_> {
    /// The pipeline, in this namespace, into `sink`.
    pub fn run(&self, sink: &mut dyn Sink) -> Result<RunReport, RunError> {
        self.run_plan(&self.plan, sink)
    }

    /// The pipeline with `plan` (made from [`NsRun::plan`]), in this
    /// namespace, into `sink`.
    pub fn run_plan(&self, plan: &Plan, sink: &mut dyn Sink) -> Result<RunReport, RunError> {
        sink.enter(&self.place);
        if self.only.is_empty() {
            return run_with(plan, self.walked, sink);
        }
        let mut only = OnlyContainers {
            inner: sink,
            place: &self.place,
            wants: self.only,
        };
        run_with(plan, self.walked, &mut only)
    }

    /// The directory of this namespace's /proc/net tables and counters.
    pub fn proc_net(&self) -> &Path {
        &self.plan.source.proc_net
    }

    /// This namespace's network sysctls, `None` when they cannot be read
    /// from here (read through another process's /proc).
    pub fn knobs(&self) -> Option<NetKnobs> {
        self.inside.then(|| sysctl::read_knobs(&self.proc_root))
    }
}

/// What the loop did besides each namespace's answer.
#[derive(Debug, Default)]
pub struct Across<T> {
    /// Each namespace read, in order, and its answer.
    pub each: Vec<(Place, T)>,
    /// Namespaces skipped or read another way, for stderr.
    pub notes: Vec<String>,
    /// The one walk's report, when it was made here.
    pub walk: Option<(std::time::Duration, crate::source::owners::WalkStats)>,
}

/// Why the loop stopped.
#[derive(Debug, thiserror::Error)]
pub enum AcrossError<E> {
    #[error(transparent)]
    Run(#[from] RunError),
    /// The thread could not get back to its own namespace, or a namespace
    /// named with -N could not be read.
    #[error(transparent)]
    Return(NetnsError),
    #[error(transparent)]
    Each(E),
}

/// Runs `each` once per namespace of `namespaces`, inside it.
pub fn across<T, E>(
    plan: &Plan,
    namespaces: &Namespaces,
    proc_root: &Path,
    mut each: impl FnMut(&NsRun<'_>) -> Result<T, E>,
) -> Result<Across<T>, AcrossError<E>> {
    let mut out = Across {
        each: Vec::new(),
        notes: namespaces.notes.clone(),
        walk: None,
    };
    // One walk for every namespace; a single namespace of its own keeps the
    // run's own walk (overlapping its dump).
    let single = namespaces.targets.len() == 1 && namespaces.targets[0].reach == Reach::Current;
    let walked = match &plan.owners {
        Some(opts) if !single => Some(walk_once(opts, &mut out)?),
        _ => None,
    };
    let mut denied: Vec<String> = Vec::new();
    for target in &namespaces.targets {
        let place = Place {
            netns: Arc::clone(&target.netns),
            containers: Arc::clone(&namespaces.containers),
        };
        let mut ns_plan = plan.clone();
        // `netns NAME` and `container NAME` are decided here, before the
        // namespace is entered: one the filter rules out is not read.
        if let Some(expr) = plan.select.expr.as_ref().filter(|e| e.names_place()) {
            let netns = &target.netns;
            let placed = expr.place(
                &|name| netns.label() == name || netns.id.inode.to_string() == name,
                &|name| netns.container.as_ref().is_some_and(|c| c.matches(name)),
            );
            if placed.decided() == Some(false) {
                continue;
            }
            ns_plan.select.expr = Some(placed);
        }
        let label = crate::text::escape(&target.netns.label()).into_owned();
        let entered = match &target.reach {
            Reach::Current => None,
            Reach::Enter { paths, pid } => match enter_first(paths, target.netns.id) {
                Ok(entered) => {
                    ns_plan.source.proc_net = proc_root.join("thread-self/net");
                    Some(entered)
                }
                Err(e) if e.is_gone() => {
                    out.notes.push(format!(
                        "network namespace {label} vanished since it was listed; skipped"
                    ));
                    continue;
                }
                Err(e) => match pid {
                    Some(pid) if e.is_permission() => {
                        ns_plan.source.kind = SourceKind::Proc;
                        ns_plan.source.proc_net = proc_root.join(pid.to_string()).join("net");
                        ns_plan.query.bytecode = None;
                        out.notes.push(format!(
                            "network namespace {label}: read from /proc/{pid}/net, \
                             not entered ({e}): no backlog, queues or sysctls"
                        ));
                        None
                    }
                    _ if namespaces.named => return Err(AcrossError::Return(e)),
                    _ if e.is_permission() => {
                        denied.push(label);
                        continue;
                    }
                    _ => {
                        out.notes
                            .push(format!("network namespace {label} could not be read: {e}"));
                        continue;
                    }
                },
            },
        };
        let inside = entered.is_some() || target.reach == Reach::Current;
        if target.reach != Reach::Current {
            rebind_filter(&mut ns_plan, entered.is_some(), proc_root);
        }
        let turn = NsRun {
            place: place.clone(),
            only: &namespaces.only_containers,
            plan: ns_plan,
            walked: walked.as_ref(),
            inside,
            proc_root: proc_root.to_owned(),
        };
        let answer = each(&turn);
        if let Some(entered) = entered {
            entered.leave().map_err(AcrossError::Return)?;
        }
        out.each.push((place, answer.map_err(AcrossError::Each)?));
    }
    if !denied.is_empty() {
        out.notes.push(format!(
            "{} network namespace{} could not be entered, and no process in {} could be \
             seen (run as root to read {}): {}",
            denied.len(),
            crate::text::plural(denied.len(), "", "s"),
            crate::text::plural(denied.len(), "it", "them"),
            crate::text::plural(denied.len(), "it", "them"),
            denied.join(", ")
        ));
    }
    Ok(out)
}

/// A filter's `dev NAME` and `autobound` for the namespace the thread is
/// in: its interface of that name, its ephemeral range (when it was
/// entered: its sysctls are readable). The kernel filter was made for
/// sockscope's own namespace: when a term changes it is left out here, and
/// user space filters alone.
fn rebind_filter(plan: &mut Plan, inside: bool, proc_root: &Path) {
    let Some(expr) = plan.select.expr.as_ref().filter(|e| e.needs_netlink()) else {
        return;
    };
    let interfaces = if inside {
        crate::source::ifaces::Interfaces::read().ok()
    } else {
        None
    };
    let ifindex = |name: &str| interfaces.as_ref().and_then(|i| i.index(name));
    let range = inside.then(|| sysctl::read_knobs(proc_root).port_range());
    if let Some(new) = expr.rebind(&ifindex, range) {
        plan.select.expr = Some(new);
        plan.query.bytecode = None;
    }
}

/// The one walk, its time and counts into `out`.
fn walk_once<T>(opts: &OwnerOptions, out: &mut Across<T>) -> Result<OwnerIndex, RunError> {
    let (index, took) = walk(opts);
    let index = index?;
    out.walk = Some((took, index.stats.clone()));
    Ok(index)
}

/// Opens the first path still naming `id` and enters it.
fn enter_first(paths: &[PathBuf], id: crate::model::NetnsId) -> Result<Entered, NetnsError> {
    let mut last = None;
    for path in paths {
        match NsFile::open_expecting(path, id) {
            Ok(file) => return Entered::enter(&file),
            Err(e) if e.is_gone() => last = Some(e),
            // It was a namespace when listed: unmounted since (`ip netns
            // delete` at work).
            Err(NetnsError::NotNetns { path }) => last = Some(NetnsError::Changed { path }),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or(NetnsError::Changed {
        path: PathBuf::from("(no path)"),
    }))
}

/// `--container`: passes on the rows whose container (their owner's, else
/// their namespace's) is one of those asked for.
struct OnlyContainers<'s> {
    inner: &'s mut dyn Sink,
    place: &'s Place,
    wants: &'s [String],
}

impl OnlyContainers<'_> {
    fn keeps(&self, owners: Option<&[crate::model::Owner]>) -> bool {
        self.place
            .container_of(owners)
            .is_some_and(|c| self.wants.iter().any(|w| c.matches(w)))
    }
}

impl Sink for OnlyContainers<'_> {
    fn delivery(&self) -> super::Delivery {
        self.inner.delivery()
    }
    fn enter(&mut self, place: &Place) {
        self.inner.enter(place);
    }
    fn socket(&mut self, s: &crate::model::Socket) -> std::io::Result<()> {
        if self.keeps(s.owners.as_deref()) {
            self.inner.socket(s)?;
        }
        Ok(())
    }
    fn sockets(&mut self, mut sockets: Vec<crate::model::Socket>) -> std::io::Result<()> {
        sockets.retain(|s| self.keeps(s.owners.as_deref()));
        self.inner.sockets(sockets)
    }
    fn unix(&mut self, mut unix: Vec<crate::model::UnixSocket>) -> std::io::Result<()> {
        unix.retain(|u| self.keeps(u.owners.as_deref()));
        self.inner.unix(unix)
    }
}
