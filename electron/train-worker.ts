// Bundle entry for the training worker thread in the desktop build.
import '../core/train/worker';
