//! The bundled CJK font (Noto Sans SC subset: CJK Unified Ideographs with
//! Extension A, so rare name characters such as 䶮 and 堃 render).

use egui::epaint::text::{FontInsert, FontPriority, InsertFontFamily};
use egui::{FontData, FontFamily};

/// Path of the font inside the web bundle (served by Tauri).
pub const WEB_PATH: &str = "fonts/NotoSansSC-ops.otf";

/// The font bytes, compiled in for native builds (tests, tools).
#[cfg(not(target_arch = "wasm32"))]
pub fn bundled() -> Vec<u8> {
    include_bytes!("../../assets/fonts/NotoSansSC-ops.otf").to_vec()
}

/// Adds the CJK font as a fallback after egui's Latin fonts.
pub fn install(ctx: &egui::Context, bytes: Vec<u8>) {
    ctx.add_font(FontInsert {
        name: "noto-sans-sc".into(),
        data: FontData::from_owned(bytes),
        families: vec![
            InsertFontFamily { family: FontFamily::Proportional, priority: FontPriority::Lowest },
            InsertFontFamily { family: FontFamily::Monospace, priority: FontPriority::Lowest },
        ],
    });
}
