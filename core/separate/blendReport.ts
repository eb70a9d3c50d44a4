// How unsure Tilt was of a file's speech, from its windows' RNNoise blends: reported with the stems,
// since a recording the model and RNNoise disagree on is unlike the training data, and fine-tuning
// on such recordings is what would help.
import { RNNOISE_AUTO } from './defaults';
import type { WindowBlend } from './separate';

export interface BlendReport {
  /**
   * Share of the speech stem's energy in windows where the model's speech and RNNoise's disagreed
   * (agreement below RNNOISE_AUTO.agreementDb, where `auto` gives RNNoise most of its largest share).
   */
  unsure: number;
  /** RNNoise's share of the speech stem, averaged over the windows by their speech energy. */
  rnnoiseShare: number;
}

/** Adds up a separation's WindowBlends (pass `add` as SeparateOptions.onWindowBlend). */
export class BlendTally {
  private speech = 0;
  private unsureSpeech = 0;
  private sharedSpeech = 0;

  readonly add = ({ agreementDb, share, speechEnergy }: WindowBlend): void => {
    this.speech += speechEnergy;
    if (agreementDb < RNNOISE_AUTO.agreementDb) this.unsureSpeech += speechEnergy;
    this.sharedSpeech += share * speechEnergy;
  };

  /** The report, or null where no window was blended or the speech stem is silent. */
  report(): BlendReport | null {
    if (!(this.speech > 0)) return null;
    return { unsure: this.unsureSpeech / this.speech, rnnoiseShare: this.sharedSpeech / this.speech };
  }
}
