// Bundle entry for the engine's worker thread in the desktop build.
import '../core/engine/worker';
