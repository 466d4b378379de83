//! What an unknown option gets instead of clap's answer: a message naming
//! the option and the nearest sockscope way, for the habits of netstat,
//! lsof and older ss users. clap's own tip ("to pass '-O' as a value, use
//! '-- -O'") leads to a second error, so it is never shown.

use clap::error::{ContextKind, ContextValue, ErrorKind};

/// Options other tools have, and what a sockscope user types instead.
/// Checked by `every_hint_names_an_unknown_option` below: none of these may
/// be a sockscope option.
pub const HINTS: &[(&str, &str)] = &[
    (
        "-P",
        "ports are numeric unless -r asks for service names (lsof -P)",
    ),
    (
        "--numeric-hosts",
        "addresses are numeric unless -r (netstat --numeric-hosts)",
    ),
    (
        "--numeric-ports",
        "ports are numeric unless -r (netstat --numeric-ports)",
    ),
    (
        "--numeric-users",
        "uids are numeric unless -r (netstat --numeric-users)",
    ),
    (
        "--program",
        "-p shows the processes that own each socket (netstat --program)",
    ),
    ("--timers", "-o shows the timers (netstat --timers)"),
    (
        "-g",
        "multicast group memberships: ip maddr show (netstat -g)",
    ),
    (
        "--groups",
        "multicast group memberships: ip maddr show (netstat -g)",
    ),
    ("-C", "routes: ip route show (netstat -C/-r)"),
    ("-R", "routes: ip route show (netstat -r)"),
    ("--route", "routes: ip route show (netstat -r)"),
    (
        "--interfaces",
        "interface counters: ip -s link (netstat -i); sockscope -i shows TCP internals as ss -i",
    ),
    ("-I", "interface counters: ip -s link (netstat -I)"),
    ("-U", "-x lists UNIX sockets (lsof -U)"),
    (
        "--statistics",
        "-s prints the summary; nstat shows every counter (netstat -s)",
    ),
    ("--masquerade", "NAT connections: conntrack -L (netstat -M)"),
    ("-L", "listening sockets: -l (lsof -L is link counts)"),
];

/// The message for an unknown option, from clap's error: the option, then
/// the hint for it, or clap's suggestion of a similar option, and where the
/// list of options is. `None` when the error is not an unknown argument.
pub fn unknown_option(err: &clap::Error) -> Option<String> {
    if err.kind() != ErrorKind::UnknownArgument {
        return None;
    }
    let ContextValue::String(arg) = err.get(ContextKind::InvalidArg)? else {
        return None;
    };
    // A bare word clap calls unexpected (who 80 81) is no option: its own
    // message says that well.
    if !arg.starts_with('-') {
        return None;
    }
    // `--wide=1`: the option is the part before `=`.
    let name = arg.split('=').next().unwrap_or(arg);
    let mut text = format!(
        "unknown option '{}'",
        crate::text::escape(name).into_owned()
    );
    if let Some((_, hint)) = HINTS.iter().find(|(flag, _)| *flag == name) {
        text.push_str(&format!(": {hint}"));
    } else if let Some(ContextValue::Strings(similar)) = err.get(ContextKind::SuggestedArg) {
        if let Some(first) = similar.first() {
            text.push_str(&format!(": did you mean '{first}'?"));
        }
    } else if let Some(ContextValue::String(similar)) = err.get(ContextKind::SuggestedArg) {
        text.push_str(&format!(": did you mean '{similar}'?"));
    }
    text.push_str("\n\n  tip: sockscope --help lists every option");
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::cli::Cli;
    use clap::{CommandFactory, Parser};

    fn message(args: &[&str]) -> String {
        let mut argv = vec!["sockscope"];
        argv.extend_from_slice(args);
        let err = Cli::try_parse_from(argv).unwrap_err();
        unknown_option(&err).unwrap_or_else(|| err.to_string())
    }

    #[test]
    fn every_hint_names_an_unknown_option() {
        for (flag, _) in HINTS {
            let err = Cli::try_parse_from(["sockscope", flag]).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::UnknownArgument, "{flag} is known");
        }
        // And the hints' own advice is made of known options.
        let cmd = Cli::command();
        for short in ['p', 'o', 'x', 's', 'l', 'i', 'r'] {
            assert!(cmd.get_arguments().any(|a| a.get_short() == Some(short)));
        }
    }

    #[test]
    fn a_habit_gets_its_hint_and_never_clap_s_dash_dash_tip() {
        // (-W was one, netstat's: it is sockscope's own since issue 18.)
        let m = message(&["-tanP"]);
        assert!(m.starts_with("unknown option '-P'"), "{m}");
        assert!(m.contains("ports are numeric"), "{m}");
        assert!(!m.contains("-- -P"), "{m}");
        let m = message(&["--program=1"]);
        assert!(m.starts_with("unknown option '--program'"), "{m}");
    }

    #[test]
    fn a_typo_gets_the_similar_option() {
        let m = message(&["--listen"]);
        assert!(m.contains("did you mean '--listening'?"), "{m}");
    }

    #[test]
    fn hostile_option_names_are_escaped() {
        let m = message(&["--\x1b[2Jx"]);
        assert!(!m.contains('\x1b'), "{m:?}");
    }
}
