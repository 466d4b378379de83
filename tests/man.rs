//! man/sockscope.1 is generated from the clap definition and checked in.
//! This test fails when it is stale; `UPDATE_MAN=1 cargo test --test man`
//! rewrites it.

use std::path::Path;

use clap::CommandFactory;

#[test]
fn man_page_is_up_to_date() {
    let mut page = Vec::new();
    clap_mangen::Man::new(sockscope::cli::Cli::command())
        .render(&mut page)
        .expect("render man page");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("man/sockscope.1");
    if std::env::var_os("UPDATE_MAN").is_some() {
        std::fs::write(&path, &page).expect("write man page");
        return;
    }
    let current = std::fs::read(&path).unwrap_or_default();
    assert!(
        current == page,
        "man/sockscope.1 is stale: run `UPDATE_MAN=1 cargo test --test man` and commit it"
    );
}
