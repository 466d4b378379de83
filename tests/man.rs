//! man/sockscope.1 (and one page per subcommand, man/sockscope-who.1) are
//! generated from the clap definition and checked in. This test fails when
//! they are stale; `UPDATE_MAN=1 cargo test --test man` rewrites them.

use std::path::Path;

use clap::CommandFactory;

fn render(cmd: clap::Command) -> Vec<u8> {
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd)
        .render(&mut page)
        .expect("render man page");
    page
}

#[test]
fn man_pages_are_up_to_date() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
    let mut cmd = sockscope::cli::Cli::command();
    cmd.build();
    let mut pages = vec![("sockscope.1".to_owned(), render(cmd.clone()))];
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = format!("sockscope-{}", sub.get_name());
        let file = format!("{name}.1");
        pages.push((file, render(sub.clone().name(&*String::leak(name)))));
    }
    let update = std::env::var_os("UPDATE_MAN").is_some();
    for (file, page) in pages {
        let path = dir.join(&file);
        if update {
            std::fs::write(&path, &page).expect("write man page");
            continue;
        }
        let current = std::fs::read(&path).unwrap_or_default();
        assert!(
            current == page,
            "man/{file} is stale: run `UPDATE_MAN=1 cargo test --test man` and commit it"
        );
    }
}
