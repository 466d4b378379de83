//! `completions SHELL`: the script, as generated, to stdout (issue 18,
//! install).

use std::io::{self, Write};

/// Writes the completion script.
pub fn script(out: &mut impl Write, script: &[u8]) -> io::Result<()> {
    out.write_all(script)
}
