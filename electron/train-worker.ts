// Bundle entry for the training worker thread in the desktop build; the worker starts its gradient
// helpers from this same file (core/train/worker.ts passes its own import.meta.url).
import '../core/train/worker';
