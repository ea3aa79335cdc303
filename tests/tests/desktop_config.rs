//! The desktop shell's security settings: the page may call only the app's own
//! commands, and its CSP allows wasm but nothing remote.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;

fn read_json(relative: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(relative);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

#[test]
fn the_capability_grants_only_the_apps_commands() {
    let cap = read_json("src-tauri/capabilities/default.json");
    let permissions: Vec<&str> =
        cap["permissions"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
    assert_eq!(permissions, ["allow-call", "allow-ui-ready", "allow-pick-file"]);
    assert_eq!(cap["windows"], serde_json::json!(["main"]));
}

#[test]
fn the_csp_allows_wasm_and_nothing_remote() {
    let conf = read_json("src-tauri/tauri.conf.json");
    let csp = conf["app"]["security"]["csp"].as_str().unwrap();
    assert!(csp.contains("script-src 'self' 'wasm-unsafe-eval'"), "{csp}");
    assert!(csp.contains("default-src 'self'"), "{csp}");
    for directive in csp.split(';') {
        for source in directive.split_whitespace().skip(1) {
            let local = source.starts_with('\'')
                || source == "ipc:"
                || source == "data:"
                || source == "http://ipc.localhost";
            assert!(local, "remote source {source} in {directive}");
        }
    }
    assert!(!csp.contains(" 'unsafe-eval'"), "no general eval: {csp}");
}
