//! Shortcuts, when enabled in settings and no text field has focus: in the queue
//! J/K (or ↓/↑) move, Enter opens (and claims), N claims the next free item; on an
//! item Esc goes back to the queue.

use super::SuspenseView;
use crate::contract::ViewCtx;

fn pressed(ui: &egui::Ui, key: egui::Key) -> bool {
    ui.input(|i| i.key_pressed(key))
}

impl SuspenseView {
    /// Acts on this frame's key presses.
    pub(super) fn shortcuts(&mut self, ui: &egui::Ui, ctx: &mut ViewCtx<'_>) {
        if self.item.open.is_some() {
            if pressed(ui, egui::Key::Escape) {
                self.close_item();
            }
            return;
        }
        let rows = self.queue.rows().len();
        if (pressed(ui, egui::Key::J) || pressed(ui, egui::Key::ArrowDown)) && rows > 0 {
            self.queue.selected = (self.queue.selected + 1).min(rows - 1);
        } else if pressed(ui, egui::Key::K) || pressed(ui, egui::Key::ArrowUp) {
            self.queue.selected = self.queue.selected.saturating_sub(1);
        } else if pressed(ui, egui::Key::Enter) && self.queue.selected < rows {
            self.open_row(ctx, self.queue.selected);
        } else if pressed(ui, egui::Key::N) && ctx.abilities.suspense_resolve {
            self.claim_next(ctx.outbox);
        }
    }
}
