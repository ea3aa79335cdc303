//! How the UI talks to the services: a request goes out with an id, its reply
//! comes back later through [`Backend::poll`]. Over Tauri IPC (wasm) the reply is
//! asynchronous; in process (the tests crate's `InProcessBackend`) it is ready at once.

use domain::{ApiError, Request, Response};

/// A reply to one request.
pub type Reply = Result<Response, ApiError>;

/// The UI's only way to reach the services.
pub trait Backend {
    /// Sends `request`; its reply will come back from [`poll`](Self::poll) tagged `id`.
    fn send(&mut self, id: u64, request: Request);
    /// Replies that have arrived since the last call.
    fn poll(&mut self) -> Vec<(u64, Reply)>;

    /// Opens the desktop's file dialog for a carrier file. Backends without one
    /// (tests) do nothing; the path is typed instead.
    fn pick_file(&mut self) {}

    /// The path chosen in the dialog, once.
    fn picked_file(&mut self) -> Option<String> {
        None
    }
}
