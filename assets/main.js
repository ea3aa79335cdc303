// Loads the wasm UI built by `./dev build` into pkg/ and starts it on the canvas.
import init, { start } from "./pkg/ui.js";

await init();
await start();
