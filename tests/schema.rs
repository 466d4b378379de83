//! The JSON Schema files in `schema/` (issue 18) checked against real
//! output: a private namespace with sockets in many states (a listener with
//! a connection nobody accepted, pairs, TIME_WAIT, CLOSE_WAIT, UDP, UNIX,
//! IPv6), every view run with `--json` or `--jsonl`, each document
//! validated with the `jsonschema` crate; the schemas themselves against
//! the 2020-12 meta-schema; and every field README's JSON tables name is in
//! some schema.

pub mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::run::sockscope;
use common::{Env, Sandbox, Scenario};
use serde_json::Value;

/// Every schema file, by its `$id`.
fn schemas() -> BTreeMap<String, Value> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema");
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).expect("schema/") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "json") {
            let text = std::fs::read_to_string(&path).expect("read schema");
            let value: Value = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{}: not JSON: {e}", path.display()));
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            out.insert(name, value);
        }
    }
    out
}

/// The schema directory served by `$id`: the schemas refer to each other
/// (`socket.schema.json#/$defs/owner`), and nothing is ever fetched.
struct Local(BTreeMap<String, Value>);

impl jsonschema::Retrieve for Local {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        self.0
            .values()
            .find(|s| s["$id"].as_str() == Some(uri.as_str()))
            .cloned()
            .ok_or_else(|| format!("no schema with $id {uri}").into())
    }
}

/// A validator for `name`, its references resolved in `schema/`.
fn validator(name: &str) -> jsonschema::Validator {
    let all = schemas();
    jsonschema::options()
        .with_retriever(Local(all.clone()))
        .build(&all[name])
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn check(name: &str, doc: &Value, what: &str) {
    let v = validator(name);
    let errors: Vec<String> = v
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} against {name}:\n{}",
        errors.join("\n")
    );
}

/// A view's one document; exit 1 (`why-bind`: busy) is an answer too.
fn run_json(env: &Env, args: &[&str]) -> Value {
    let out = common::run::command(env)
        .args(args)
        .output()
        .expect("run sockscope");
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: not one JSON document: {e}"))
}

fn run_jsonl(env: &Env, args: &[&str]) -> Vec<Value> {
    let out = sockscope(env, args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{args:?}: {e}: {l}")))
        .collect()
}

#[test]
fn a_wrong_document_is_refused() {
    let v = validator("socket.schema.json");
    let good: Value = serde_json::from_str(
        r#"{"proto":"tcp","family":"inet","state":"LISTEN","local":{"addr":"0.0.0.0","port":80},
            "remote":{"addr":"0.0.0.0","port":0},"recv_q":0,"send_q":128,"uid":0,"inode":1,
            "cookie":"0x1","owners":[{"pid":1,"comm":"init","fd":3}]}"#,
    )
    .unwrap();
    assert!(v.is_valid(&good));
    for (field, bad) in [
        ("state", serde_json::json!("LISTENING")),
        ("recv_q", serde_json::json!(-1)),
        ("cookie", serde_json::json!("12")),
        ("owners", serde_json::json!([{"pid": 1}])),
    ] {
        let mut doc = good.clone();
        doc[field] = bad;
        assert!(!v.is_valid(&doc), "{field} accepted: {doc}");
    }
}

#[test]
fn schemas_are_valid_2020_12_schemas() {
    for (name, schema) in schemas() {
        assert!(
            jsonschema::meta::is_valid(&schema),
            "{name} is not a valid JSON Schema"
        );
        assert_eq!(
            schema["$schema"], "https://json-schema.org/draft/2020-12/schema",
            "{name}"
        );
        let desc = schema["description"].as_str().unwrap_or("");
        assert!(desc.contains("never renamed or removed"), "{name}: {desc}");
    }
}

#[test]
fn every_view_s_output_follows_its_schema() {
    if !common::netns::is_root() {
        common::skip("schema: not root: the population needs a private namespace");
        return;
    }
    Sandbox::run(|env| {
        let mut sc = Scenario::new();
        let l4 = sc.listen_v4();
        let l6 = sc.listen_v6_loopback();
        sc.established_pair(l4);
        sc.established_pair(l6);
        sc.time_wait(l4);
        sc.close_wait_fin_wait2(l4);
        // Last on its listener: accept() is FIFO.
        sc.unaccepted(l4);
        sc.udp_bound_v4();
        sc.udp_pair_v4();
        let unix = std::os::unix::net::UnixListener::bind(format!(
            "/tmp/sockscope-schema-{}.sock",
            std::process::id()
        ));
        let port = l4.port().to_string();

        let listing = run_json(env, &["-tuaxpeoim", "--json"]);
        assert!(
            listing.as_array().is_some_and(|a| a.len() >= 10),
            "{listing}"
        );
        check("listing.schema.json", &listing, "-tuaxpeoim --json");
        for line in run_jsonl(env, &["-tanp", "--jsonl"]) {
            check("socket.schema.json", &line, "-tanp --jsonl");
        }
        for line in run_jsonl(env, &["-xa", "--jsonl"]) {
            check("unix-socket.schema.json", &line, "-xa --jsonl");
        }
        for line in run_jsonl(env, &["-0", "--jsonl"]) {
            check("other-socket.schema.json", &line, "-0 --jsonl");
        }
        check(
            "listeners.schema.json",
            &run_json(env, &["listeners", "--json"]),
            "listeners",
        );
        check(
            "who.schema.json",
            &run_json(env, &["who", &port, "--json"]),
            "who",
        );
        check(
            "why-bind.schema.json",
            &run_json(env, &["why-bind", &port, "--json"]),
            "why-bind",
        );
        check(
            "ports.schema.json",
            &run_json(env, &["ports", "--json"]),
            "ports",
        );
        check(
            "summary.schema.json",
            &run_json(env, &["-s", "--json"]),
            "-s",
        );
        // watch: a connection opened between two ticks is an `open` event.
        let watch = common::run::command(env)
            .args([
                "watch",
                "-tan",
                "--jsonl",
                "--count",
                "3",
                "--interval",
                "300ms",
            ])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("start watch");
        std::thread::sleep(std::time::Duration::from_millis(450));
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("listen");
        let out = watch.wait_with_output().expect("watch output");
        drop(l);
        let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect();
        assert!(!lines.is_empty(), "watch saw no event");
        for line in &lines {
            check("event.schema.json", line, "watch --jsonl");
        }
        // events: a connection closed while it listens is a `close` line.
        let events = common::run::command(env)
            .args(["events", "--jsonl", "--count", "1", "--duration", "10s"])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("start events");
        std::thread::sleep(std::time::Duration::from_millis(400));
        {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("listen");
            let c = std::net::TcpStream::connect(l.local_addr().unwrap()).expect("connect");
            let (a, _) = l.accept().expect("accept");
            drop((a, c, l));
        }
        let out = events.wait_with_output().expect("events output");
        let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect();
        assert_eq!(lines.len(), 1, "events --count 1");
        check("event.schema.json", &lines[0], "events --jsonl");
        drop(unix);
        let _ = std::fs::remove_file(format!("/tmp/sockscope-schema-{}.sock", std::process::id()));
    });
}

/// Every field README's JSON tables name (the first column's `name`s) is a
/// property somewhere in the schemas.
#[test]
fn every_field_readme_documents_is_in_a_schema() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let json_part = &readme[readme.find("## JSON output").expect("JSON section")..];
    let json_part = &json_part[..json_part.find("\n## Escaping").unwrap_or(json_part.len())];
    let all = serde_json::to_string(&schemas()).expect("serialise");
    let mut missing = Vec::new();
    for line in json_part.lines().filter(|l| l.starts_with("| `")) {
        let first = line.split('|').nth(1).unwrap_or("");
        for field in first.split('`').skip(1).step_by(2) {
            if !all.contains(&format!("\"{field}\"")) {
                missing.push(field.to_owned());
            }
        }
    }
    assert!(
        missing.is_empty(),
        "README fields missing from schema/: {missing:?}"
    );
}
