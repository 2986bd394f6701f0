// Process-wide ONNX Runtime settings that must be in place before the process's first session is created.
import { isMainThread } from 'node:worker_threads';

/**
 * Turns off onnxruntime's telemetry for this process. Since 1.29 its Linux/macOS builds log a ProcessInfo
 * event when the (per-process) ORT environment is created, and redact /proc/self/cmdline for it with
 * libstdc++ std::regex, which recurses about once per character: measured here, ~290 bytes of native stack
 * per byte of argv, so a worker thread (4 MB stack) dies with SIGSEGV from ~14.4 kB of command line and the
 * main thread (8 MB) from ~29 kB. A bigger stack only moves the limit (argv may hold 2 MB); switching the
 * telemetry off removes the code path (and its device-id file, offline cache and upload).
 * ORT reads the variable with getenv(), so it has to be in the process environment: only the main thread's
 * process.env writes through to it (a worker's is a copy), which is why loadRuntime and the pool call this before
 * any session or worker exists. Overrides an explicit ORT_DISABLE_TELEMETRY=0: the crash is not the user's to opt into.
 */
export function prepareOrtProcess(): void {
  if (isMainThread) process.env.ORT_DISABLE_TELEMETRY = '1';
}
