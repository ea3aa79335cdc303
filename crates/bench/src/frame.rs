//! UI cost per frame with the recycled-number queue open over the bench's cases:
//! the real `OpsApp` in a kittest harness (native, headless), the in-process
//! backend on the same database. CPU time is the UI thread's own
//! (`CLOCK_THREAD_CPUTIME_ID`), so database work on other threads is not counted.

use crate::percentile;
use e2e::backend::InProcessBackend;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use service::PiiVault;
use std::time::Duration;
use ui::OpsApp;

fn type_into(h: &mut Harness<'_, OpsApp>, label: &str, text: &str) {
    let node = h.get_by_label(label);
    node.focus();
    node.type_text(text);
    h.run();
}

/// Prints mean and p99 UI-thread CPU per frame: idle frames and frames moving the selection.
pub fn frames(kind: &str, url: &str, vault: PiiVault, frames: usize) -> Result<(), String> {
    let backend = InProcessBackend::open(url, vault, None).map_err(|e| e.to_string())?;
    let app = OpsApp::new(Box::new(backend));
    let mut h = Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .with_context_setup(|ctx| ui::fonts::install(ctx, ui::fonts::bundled()))
        .build_ui_state(|ui, app: &mut OpsApp| app.root_ui(ui), app);
    h.run();
    type_into(&mut h, "用户名", "cs1");
    type_into(&mut h, "密码", service::seed::DEMO_PASSWORD);
    h.get_by_label("登录").click();
    h.run();
    h.get_by_label("二次号审核").click();
    h.run();
    h.run();
    let rows = h.query_all_by_label("打开").count();
    let mut measure = |with_key: bool| -> Result<Vec<Duration>, String> {
        let mut times = Vec::with_capacity(frames);
        for i in 0..frames {
            if with_key {
                h.key_press(if i % 40 < 20 { egui::Key::J } else { egui::Key::K });
            }
            let before = cpu_time::ThreadTime::now();
            h.step();
            times.push(before.elapsed());
        }
        times.sort();
        Ok(times)
    };
    for (name, with_key) in [("idle", false), ("J/K each frame", true)] {
        let times = measure(with_key)?;
        let mean = times.iter().sum::<Duration>() / times.len().max(1) as u32;
        println!(
            "{kind}: UI frame CPU with the queue open ({rows} rows shown), {name:<14}: mean {:.3} ms  p50 {:.3} ms  p99 {:.3} ms over {} frames",
            mean.as_secs_f64() * 1e3,
            percentile(&times, 0.5).as_secs_f64() * 1e3,
            percentile(&times, 0.99).as_secs_f64() * 1e3,
            times.len()
        );
    }
    Ok(())
}
