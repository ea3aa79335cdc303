//! Build script: generates Tauri context and permissions for the app's three commands.
fn main() {
    // Only the app's own commands get permissions; the capability grants exactly these.
    let manifest = tauri_build::AppManifest::new().commands(&["call", "ui_ready", "pick_file"]);
    if let Err(e) = tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest)) {
        panic!("tauri-build failed: {e:#}");
    }
}
