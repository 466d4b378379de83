//! `who [ADDR]:PORT`: what holds a local port, and (as `lsof -i :PORT`)
//! the sockets of this host connected to it. Reads only the sockets whose
//! local or remote port is PORT; in each namespace of the run, and across
//! several, says which ones hold it. `--pids`: the owners' pids alone.

use std::io::Write;

use super::{CommandError, Context, Outcome};
use crate::analysis::{self, HostAddrs};
use crate::config::OutputFormat;
use crate::filter::LocalPort;
use crate::model::Socket;
use crate::output::{self, console};
use crate::pipeline::{Collect, Keep, RunReport};

/// One namespace's answer: the holders, then the clients.
type Sides = (Vec<Socket>, Vec<Socket>);

pub fn run(cx: &Context<'_>, target: &LocalPort, pids_only: bool) -> Result<Outcome, CommandError> {
    let config = cx.config;
    // A recorded source (--replay, --proc-root) is no host's: its sockets'
    // own addresses and loopback stand for it.
    let live = config.source.replay.is_none() && config.proc_root == std::path::Path::new("/proc");
    let mut report = RunReport::default();
    let across = cx.across(&cx.plan(Keep::Port(target.port)), |ns| {
        let mut found = Collect::default();
        report = ns.run(&mut found)?.after(std::mem::take(&mut report));
        // The interfaces of the namespace the thread is in; read through
        // another process's /proc, the sockets' own addresses and loopback
        // stand for the host.
        let interfaces = if ns.inside && live {
            crate::source::ifaces::host_addresses().unwrap_or_default()
        } else {
            Vec::new()
        };
        let host = HostAddrs::new(&interfaces, &found.sockets);
        Ok(analysis::split_clients(found.sockets, target, &host))
    })?;
    let report = cx.gathered(&across, report);
    let gathered = cx.elapsed();
    let mut out = cx.out();
    let protocols = &config.query.protocols;
    let rows: usize = across
        .each
        .iter()
        .map(|(_, (h, c))| h.len() + c.len())
        .sum();
    let held: Vec<&(_, Sides)> = across
        .each
        .iter()
        .filter(|(_, (h, c))| !h.is_empty() || !c.is_empty())
        .collect();
    let mut found = !held.is_empty();
    if pids_only {
        let groups: Vec<&[Socket]> = held
            .iter()
            .flat_map(|(_, (h, c))| [h.as_slice(), c.as_slice()])
            .collect();
        let pids = analysis::owner_pids(&groups);
        output::who::write_pids(&mut out, &pids)?;
        found = !pids.is_empty();
    } else if config.namespaces.tagged && !held.is_empty() {
        // One answer per namespace that holds the port.
        let opts = crate::output::TableOptions {
            netns: None,
            ..config.table.clone()
        };
        for (i, (place, (sockets, clients))) in held.iter().enumerate() {
            cx.answer(
                &mut out,
                place,
                i == 0,
                |out| output::who::write_text(out, target, protocols, sockets, clients, &opts),
                |out| output::who::write_json(out, target, protocols, sockets, clients),
            )?;
        }
    } else {
        let (sockets, clients): (&[Socket], &[Socket]) = held
            .first()
            .map_or((&[], &[]), |(_, (h, c))| (h.as_slice(), c.as_slice()));
        match config.format {
            OutputFormat::Table => {
                output::who::write_text(
                    &mut out,
                    target,
                    protocols,
                    sockets,
                    clients,
                    &config.table,
                )?;
                if config.namespaces.tagged {
                    writeln!(
                        out,
                        "(looked in {} network namespace{})",
                        across.each.len(),
                        crate::text::plural(across.each.len(), "", "s")
                    )?;
                }
            }
            _ => output::who::write_json(&mut out, target, protocols, sockets, clients)?,
        }
    }
    out.flush()?;
    cx.verbose(
        &report,
        console::Shown::After {
            rows,
            took: cx.elapsed() - gathered,
        },
    );
    Ok(if found {
        Outcome::Found
    } else {
        Outcome::NotFound
    })
}
