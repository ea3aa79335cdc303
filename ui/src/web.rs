//! The wasm entry point and the Tauri IPC backend.

use crate::backend::{Backend, Reply};
use crate::{OpsApp, fonts};
use domain::{ApiError, Request, Response};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// Sends requests through `window.__TAURI__.core.invoke("call", { request })`.
struct TauriBackend {
    ctx: egui::Context,
    replies: Rc<RefCell<Vec<(u64, Reply)>>>,
    picked: Rc<RefCell<Option<String>>>,
}

fn invoke_fn() -> Result<js_sys::Function, JsValue> {
    let window = web_sys::window().ok_or("no window")?;
    let tauri = js_sys::Reflect::get(&window, &"__TAURI__".into())?;
    let core = js_sys::Reflect::get(&tauri, &"core".into())?;
    js_sys::Reflect::get(&core, &"invoke".into())?.dyn_into::<js_sys::Function>()
}

async fn invoke(command: &str, args: JsValue) -> Result<JsValue, JsValue> {
    let promise = invoke_fn()?.call2(&JsValue::NULL, &command.into(), &args)?;
    JsFuture::from(js_sys::Promise::from(promise)).await
}

fn ipc_error(message: String) -> ApiError {
    ApiError::Unavailable { message }
}

async fn call(request: Request) -> Reply {
    // JSON both ways keeps serde's representation exactly as the Rust side expects.
    let json = serde_json::to_string(&request).map_err(|e| ipc_error(e.to_string()))?;
    let args = js_sys::Object::new();
    let parsed = js_sys::JSON::parse(&json).map_err(|e| ipc_error(format!("{e:?}")))?;
    js_sys::Reflect::set(&args, &"request".into(), &parsed).map_err(|e| ipc_error(format!("{e:?}")))?;
    let stringify =
        |v: &JsValue| js_sys::JSON::stringify(v).ok().and_then(|s| s.as_string()).unwrap_or_default();
    match invoke("call", args.into()).await {
        Ok(value) => {
            serde_json::from_str::<Response>(&stringify(&value)).map_err(|e| ipc_error(e.to_string()))
        }
        Err(err) => {
            Err(serde_json::from_str::<ApiError>(&stringify(&err))
                .unwrap_or_else(|_| ipc_error(stringify(&err))))
        }
    }
}

impl Backend for TauriBackend {
    fn send(&mut self, id: u64, request: Request) {
        let replies = Rc::clone(&self.replies);
        let ctx = self.ctx.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let reply = call(request).await;
            replies.borrow_mut().push((id, reply));
            ctx.request_repaint();
        });
    }

    fn poll(&mut self) -> Vec<(u64, Reply)> {
        std::mem::take(&mut *self.replies.borrow_mut())
    }

    fn pick_file(&mut self) {
        let picked = Rc::clone(&self.picked);
        let ctx = self.ctx.clone();
        wasm_bindgen_futures::spawn_local(async move {
            match invoke("pick_file", js_sys::Object::new().into()).await {
                Ok(value) => {
                    if let Some(path) = value.as_string() {
                        *picked.borrow_mut() = Some(path);
                        ctx.request_repaint();
                    }
                }
                Err(e) => web_sys::console::error_1(&e),
            }
        });
    }

    fn picked_file(&mut self) -> Option<String> {
        self.picked.borrow_mut().take()
    }
}

struct WebApp {
    app: OpsApp,
    first_frame_reported: bool,
}

impl eframe::App for WebApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.app.root_ui(ui);
        if !self.first_frame_reported {
            self.first_frame_reported = true;
            // Lets the host measure cold start to first frame.
            wasm_bindgen_futures::spawn_local(async {
                let _ = invoke("ui_ready", js_sys::Object::new().into()).await;
            });
        }
    }
}

async fn fetch_bytes(url: &str) -> Result<Vec<u8>, JsValue> {
    let window = web_sys::window().ok_or("no window")?;
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str(url)).await?.dyn_into()?;
    let buffer = JsFuture::from(response.array_buffer()?).await?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

/// Starts the console on the `<canvas id="ops_canvas">`.
#[wasm_bindgen]
pub async fn start() -> Result<(), JsValue> {
    let document = web_sys::window().and_then(|w| w.document()).ok_or("no document")?;
    let canvas = document
        .get_element_by_id("ops_canvas")
        .ok_or("no #ops_canvas")?
        .dyn_into::<web_sys::HtmlCanvasElement>()?;
    // Fetched before the first frame so Chinese text never renders as boxes.
    let font = fetch_bytes(fonts::WEB_PATH).await;
    eframe::WebRunner::new()
        .start(
            canvas,
            eframe::WebOptions::default(),
            Box::new(move |cc| {
                match font {
                    Ok(bytes) => fonts::install(&cc.egui_ctx, bytes),
                    Err(e) => web_sys::console::error_1(&e),
                }
                let backend =
                    TauriBackend { ctx: cc.egui_ctx.clone(), replies: Rc::default(), picked: Rc::default() };
                Ok(Box::new(WebApp { app: OpsApp::new(Box::new(backend)), first_frame_reported: false }))
            }),
        )
        .await
}
